"""Catalog maintenance for `make i18n`: extract messages into locales/clinic_tui.pot and merge
them into each language's .po. Not imported by the app."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from clinic_tui.i18n import DOMAIN
from clinic_tui.resources import locales_dir

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "translate_to": (2,)}
SOURCE_DIR = Path(__file__).resolve().parent


def extract() -> Catalog:
    catalog = Catalog(
        project="clinic-tui",
        domain=DOMAIN,
        charset="utf-8",
        fuzzy=False,
        copyright_holder="clinic-tui",
    )
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE_DIR),
        method_map=method_map,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        if filename.startswith("i18n_tools"):
            continue
        catalog.add(
            message,
            None,
            [(f"src/clinic_tui/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def render_pot(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True, no_location=True)
    # The header's creation date changes on every run; keep the file stable.
    lines = [
        line
        for line in buffer.getvalue().split(b"\n")
        if not line.startswith(b'"POT-Creation-Date')
    ]
    return b"\n".join(lines)


def message_ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalog if message.id}


def update() -> None:
    template = extract()
    pot = locales_dir() / f"{DOMAIN}.pot"
    pot.write_bytes(render_pot(template))
    for language in ("vi",):
        po_file = locales_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po_file.exists():
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=DOMAIN)
        else:
            po_file.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, project="clinic-tui", charset="utf-8")
        catalog.update(template, update_header_comment=False, no_fuzzy_matching=True)
        catalog.fuzzy = False
        catalog.header_comment = f"# {language} translations of clinic-tui."
        catalog.project, catalog.version = "clinic-tui", ""
        catalog.copyright_holder = "clinic-tui"
        catalog.last_translator = catalog.language_team = "clinic-tui <clinic-tui@localhost>"
        catalog.obsolete.clear()
        buffer = io.BytesIO()
        write_po(
            buffer, catalog, width=100, sort_output=True, no_location=True, ignore_obsolete=True
        )
        lines = [
            line
            for line in buffer.getvalue().split(b"\n")
            if not line.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date'))
        ]
        po_file.write_bytes(b"\n".join(lines))
        untranslated = [m.id for m in catalog if m.id and not is_translated(m)]
        print(f"{language}: {len(catalog)} messages, {len(untranslated)} untranslated")


def is_translated(message: Message) -> bool:
    """A plural message has one string per plural form; an empty one is as missing as an
    empty singular (a tuple of empty strings is truthy, so `not message.string` misses it)."""
    if isinstance(message.string, str):
        return bool(message.string)
    return bool(message.string) and all(message.string)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinic_tui.i18n_tools")
    parser.add_argument("action", choices=["update"])
    parser.parse_args(argv)
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
