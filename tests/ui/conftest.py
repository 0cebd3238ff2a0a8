"""Pilot helpers: an app on a real database, settings isolated from the developer's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clinic_tui.config import Settings
from clinic_tui.db.engine import Database
from clinic_tui.i18n import set_language


@pytest.fixture
def app_factory(db_url: str, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Build a ClinicApp on this test's database; the database handle is closed afterwards."""
    from clinic_tui.ui.app import ClinicApp

    databases: list[Database] = []

    def make(*, lang: str = "en", url: str | None = None) -> ClinicApp:
        settings = Settings(database_url=url or db_url, data_dir=tmp_path / "data", lang=lang)
        database = Database(settings.database_url or db_url)
        databases.append(database)
        return ClinicApp(settings, database=database)

    yield make
    for database in databases:
        database.close()
    set_language("en")


def screen_text(app: object) -> str:
    """Everything the current screen shows, as plain text (what a person reads)."""
    from textual.widgets import Static

    screen = app.screen  # type: ignore[attr-defined]
    parts = []
    for widget in screen.query(Static):
        parts.append(str(widget.render()))
    return "\n".join(parts)
