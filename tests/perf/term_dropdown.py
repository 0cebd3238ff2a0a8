"""Keystroke to updated term dropdown, in a Pilot-driven app on the seeded vocabulary.

Each sample starts as a key is sent on the medical-terms screen (F6) and ends when the
dropdown's rows are those of the database's answer for the text as it now is: the key's
handling, the thread worker's `search_terms`, the answer message and the dropdown's rebuild
(the paint follows on the next frame). The widget's cache is emptied before each query, so
every keystroke asks the database. Figures, not assertions: `make test` never runs this.

Run: ``.venv/bin/python -m tests.perf.term_dropdown [postgresql+psycopg://…]``; without a URL
it builds a throwaway embedded server in a temporary directory.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# What a person types, key by key: English and Vietnamese, with and without accents, codes.
QUERIES = ["low back", "đau vai", "thoai hoa", "M54.5", "shoulder", "dau co", "knee oa",
           "lumbago", "gối", "stroke", "M17"]  # fmt: skip
TARGET_P95_MS = 50.0
EMAIL, PASSWORD = "bench-terms@clinic.vn", "benchmark pw"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _add_user(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from clinic_tui.models import User
    from clinic_tui.services.passwords import hash_password

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            session.add(User(email=EMAIL, password_hash=hash_password(PASSWORD),
                             full_name="Benchmark", role="DOCTOR", locale="en"))  # fmt: skip
            session.commit()
    finally:
        engine.dispose()


def _send_key(app: Any, char: str) -> None:
    """A key through the driver, as `Pilot.press` sends it, without the Pilot's waits for
    idle (about 60 ms a key on their own, which no person sees)."""
    from textual import events
    from textual.keys import _character_to_key

    event = events.Key(char if char.isalnum() else _character_to_key(char), char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _drive(url: str, data_dir: Path) -> list[float]:
    from clinic_tui.config import Settings
    from clinic_tui.db.engine import Database
    from clinic_tui.ui.app import ClinicApp
    from clinic_tui.ui.widgets.term_input import TermInput

    database = Database(url)
    app = ClinicApp(Settings(database_url=url, data_dir=data_dir, lang="en"), database=database)
    samples: list[float] = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:

            async def idle() -> None:
                await app.workers.wait_for_complete()
                await pilot.pause()

            async def type_(text: str) -> None:
                await pilot.press(*["space" if ch == " " else ch for ch in text])

            await idle()
            app.screen.query_one("#email").focus()
            await type_(EMAIL)
            await pilot.press("enter")
            await type_(PASSWORD)
            await pilot.press("enter")
            await idle()
            await pilot.press("f6")
            await idle()
            box = app.screen.query_one("#term-query", TermInput)
            for query in QUERIES:
                box.value = ""
                box.forget()  # no answer from the cache: each keystroke asks the database
                box.focus()
                await idle()
                for at, char in enumerate(query, 1):
                    started = time.perf_counter()
                    _send_key(app, char)
                    deadline = started + 5
                    while (
                        box.value != query[:at] or box.shown_for != box.value
                    ) and time.perf_counter() < deadline:
                        await asyncio.sleep(0.0002)
                    samples.append((time.perf_counter() - started) * 1000)
                await idle()
    finally:
        database.close()
    return samples


def run(url: str | None = None) -> dict[str, Any]:
    """Time every keystroke of `QUERIES` against the database at `url` (migrated and
    seeded), or against a throwaway embedded server."""
    with tempfile.TemporaryDirectory(prefix="clinic-bench-dropdown-") as scratch:
        server = None
        if url is None:
            from clinic_tui.db import migrations
            from clinic_tui.db.embedded import EmbeddedServer

            server = EmbeddedServer(Path(scratch) / "pg", durable=False)
            server.acquire()
            url = server.sqlalchemy_url()
            migrations.upgrade(url)
        try:
            _add_user(url)
            samples = asyncio.run(_drive(url, Path(scratch) / "data"))
        finally:
            if server is not None:
                server.release()
    return {
        "keystrokes": len(samples),
        "p50_ms": statistics.median(samples),
        "p95_ms": _percentile(samples, 0.95),
        "max_ms": max(samples),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    figures = run(args[0] if args else None)
    print(f"keystroke → updated term dropdown ({figures['keystrokes']} keystrokes, Pilot): "
          f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms; target p95 ≤ {TARGET_P95_MS:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
