"""Pilot helpers: an app on a real database, settings isolated from the developer's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clinic_tui.config import Settings
from clinic_tui.db.engine import Database
from clinic_tui.i18n import set_language
from clinic_tui.models import User
from clinic_tui.services.passwords import hash_password

PASSWORD = "long enough pw"


@pytest.fixture
def app_factory(db_url: str, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Build a ClinicApp on this test's database (or another URL); handles closed after."""
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


@pytest.fixture
def staff(db_url: str) -> Callable[..., User]:
    """Create a staff account directly in the test's database (committed)."""
    engine = create_engine(db_url)

    def make(
        email: str = "reception@clinic.vn",
        *,
        role: str = "RECEPTIONIST",
        full_name: str = "Nguyễn Thị Lan",
        locale: str = "en",
        active: bool = True,
    ) -> User:
        with Session(engine, expire_on_commit=False) as session:
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                full_name=full_name,
                role=role,
                locale=locale,
                is_active=active,
            )
            session.add(user)
            session.commit()
            return user

    return make


async def settle(app, pilot) -> None:
    """Let workers finish and the screen catch up."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if char == " " else char for char in text])


async def tick_checklist_and_check_in(app, pilot) -> None:
    """The check-in checklist is open: tick every item, then check in (Ctrl+S)."""
    from textual.widgets import Checkbox

    assert app.screen.__class__.__name__ == "ChecklistDialog", app.screen
    for box in app.screen.query(Checkbox):
        box.value = True
    await pilot.press("ctrl+s")
    await settle(app, pilot)


def screen_text(app: object) -> str:
    """Everything the current screen shows, as plain text (what a person reads)."""
    from textual.widgets import Button, Input, Label, Static

    screen = app.screen  # type: ignore[attr-defined]
    parts = []
    for widget in screen.query("*"):
        if isinstance(widget, Input):
            parts.append(widget.value)
        elif isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Label | Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)
