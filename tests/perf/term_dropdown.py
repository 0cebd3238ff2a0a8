"""Keystroke to updated term dropdown, in a Pilot-driven app on the benchmark database.

Each sample starts as a key is sent on the medical-terms screen (F6) and ends when the
dropdown's rows are those of the database's answer for the text as it now is: the key's
handling, the thread worker's `search_terms` over 100,000 terms, the answer message and the
dropdown's rebuild (the paint follows on the next frame). The widget's cache is emptied
before each query, so every keystroke asks the database. Figures, not assertions.

Run alone: ``.venv/bin/python -m tests.perf.term_dropdown``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from tests.perf import benchdb
from tests.perf.pilot import idle, signed_in
from tests.perf.report import Row, timings_row

# What a person types, key by key: English and Vietnamese, with and without accents, codes.
QUERIES = ["low back", "đau vai", "thoai hoa", "M54.5", "shoulder", "dau co", "knee oa",
           "lumbago", "gối", "stroke", "M17", "chronic left kn", "gay xuong"]  # fmt: skip
TARGET_P95_MS = 50.0


def _send_key(app: Any, char: str) -> None:
    """A key through the driver, as `Pilot.press` sends it, without the Pilot's waits for
    idle (about 60 ms a key on their own, which no person sees)."""
    from textual import events
    from textual.keys import _character_to_key

    event = events.Key(char if char.isalnum() else _character_to_key(char), char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _drive(url: str) -> list[float]:
    from clinic_tui.ui.widgets.term_input import TermInput

    samples: list[float] = []
    async with signed_in(url) as (app, pilot):
        await pilot.press("f6")
        await idle(app, pilot)
        box = app.screen.query_one("#term-query", TermInput)
        for query in QUERIES:
            box.value = ""
            box.forget()  # no answer from the cache: each keystroke asks the database
            box.focus()
            await idle(app, pilot)
            for at, char in enumerate(query, 1):
                started = time.perf_counter()
                _send_key(app, char)
                deadline = started + 5
                while (
                    box.value != query[:at] or box.shown_for != box.value
                ) and time.perf_counter() < deadline:
                    await asyncio.sleep(0.0002)
                samples.append((time.perf_counter() - started) * 1000)
            await idle(app, pilot)
    return samples


def run(url: str) -> list[Row]:
    """Time every keystroke of `QUERIES` against the database at ``url``."""
    samples = asyncio.run(_drive(url))
    return [
        timings_row(
            "keystroke → updated term dropdown (Pilot-driven app)", samples, target=TARGET_P95_MS
        )
    ]


def main(argv: list[str] | None = None) -> int:
    from tests.perf.pilot import isolate_user_dirs
    from tests.perf.report import text_table

    isolate_user_dirs()
    database = benchdb.ensure()
    try:
        rows = run(database.url)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
