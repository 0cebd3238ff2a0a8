"""Every message has a Vietnamese translation, none fuzzy, and the .pot matches the code."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from clinic_tui import i18n
from clinic_tui.i18n_tools import extract, is_translated, message_ids, render_pot
from clinic_tui.resources import locales_dir

PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _vi_catalog():
    with i18n.po_path("vi").open("rb") as handle:
        return read_po(handle, locale="vi", domain=i18n.DOMAIN)


def test_pot_is_up_to_date_with_the_code() -> None:
    pot = (locales_dir() / "clinic_tui.pot").read_bytes()
    assert pot == render_pot(extract()), "run `make i18n` and translate the new messages"


def test_every_message_is_translated_and_not_fuzzy() -> None:
    catalog = _vi_catalog()
    wanted = message_ids(extract())
    assert wanted, "no messages extracted"
    missing = sorted(str(m) for m in wanted if not is_translated(catalog.get(m) or Message(m)))
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    assert missing == []
    assert fuzzy == []


def test_translations_keep_placeholders_and_are_nfc() -> None:
    for message in _vi_catalog():
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source
        assert unicodedata.is_normalized("NFC", target), source


def test_language_switch_changes_translation() -> None:
    try:
        i18n.set_language("vi")
        assert i18n._("Quit") == "Thoát"
        i18n.set_language("en")
        assert i18n._("Quit") == "Quit"
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("language", "money", "day"),
    [("vi", "250.000\xa0₫", "22/11/2026"), ("en", "₫250,000", "11/22/2026")],
)
def test_money_and_dates_follow_the_locale(language: str, money: str, day: str) -> None:
    assert i18n.format_money(Decimal(250000), language) == money
    assert i18n.format_date(date(2026, 11, 22), language) == day
