"""The app under a Pilot, on the benchmark database, signed in: for the in-process UI timings."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.perf import benchdb


def isolate_user_dirs() -> None:
    """Settings, cache and data of this process (and the apps it starts) in a scratch
    directory, never the developer's own."""
    home = Path(tempfile.mkdtemp(prefix="clinic-bench-home-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        os.environ[name] = str(home / name.lower())
    for name in ("CLINIC_DATABASE_URL", "CLINIC_LANG", "CLINIC_DATA_DIR"):
        os.environ.pop(name, None)


async def idle(app: Any, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if char == " " else char for char in text])


@asynccontextmanager
async def signed_in(
    url: str, email: str = benchdb.RECEPTION, size: tuple[int, int] = (120, 40)
) -> AsyncIterator[tuple[Any, Any]]:
    """(app, pilot): a ClinicApp on ``url`` in English, ``email`` signed in."""
    from clinic_tui.config import Settings
    from clinic_tui.db.engine import Database
    from clinic_tui.ui.app import ClinicApp

    database = Database(url)
    with tempfile.TemporaryDirectory(prefix="clinic-bench-app-") as scratch:
        settings = Settings(database_url=url, data_dir=Path(scratch), lang="en")
        app = ClinicApp(settings, database=database)
        try:
            async with app.run_test(size=size) as pilot:
                await idle(app, pilot)
                app.screen.query_one("#email").focus()
                await type_text(pilot, email)
                await pilot.press("enter")
                await type_text(pilot, benchdb.PASSWORD)
                await pilot.press("enter")
                await idle(app, pilot)
                yield app, pilot
        finally:
            database.close()
