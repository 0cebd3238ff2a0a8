"""The database goes away with a form filled in (registration, booking, invoice): saving says
so and keeps every entry, the header shows the state, and once the server is back the same
save succeeds without retyping. A private server per test, so stopping it harms no one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from textual.widgets import Input

from clinic_tui.config import Settings
from clinic_tui.db import migrations
from clinic_tui.db.embedded import EmbeddedServer
from clinic_tui.db.engine import Database
from clinic_tui.ui.app import ClinicApp
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_invoicing import _add, _seed_patient
from tests.ui.test_patients import _fill, _new_patient_form
from tests.ui.test_schedule import build_clinic, go_to, open_grid, pick_patient, sign_in

KEPT = "your entries are kept"


class Server:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.embedded = EmbeddedServer(directory, durable=False)
        self.embedded.acquire()
        self.url = self.embedded.sqlalchemy_url()

    def stop(self) -> None:
        self.embedded.stop()

    def start(self) -> None:
        self.embedded = EmbeddedServer(self.directory, durable=False)
        self.embedded.acquire()

    def close(self) -> None:
        self.embedded.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    own = Server(tmp_path / "own-server")
    migrations.upgrade(own.url)
    yield own
    own.close()


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


async def _wait_state(app, pilot, state: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if app.db_state == state:
            return
        await asyncio.sleep(0.1)
        await pilot.pause()
    raise AssertionError(f"header stayed {app.db_state!r}, expected {state!r}")


def _app(server: Server, tmp_path: Path) -> ClinicApp:
    settings = Settings(database_url=server.url, data_dir=tmp_path / "data", lang="en")
    return ClinicApp(settings, database=Database(server.url))


async def _save_while_down_then_again(app, pilot, server: Server, save) -> str:
    """Stop the server, save (refused, entries kept), start it, save again. Returns what the
    screen said while it was down."""
    server.stop()
    await _wait_state(app, pilot, "unavailable")
    framed = next(screen for screen in reversed(app.screen_stack) if screen.query("#clinic-header"))
    assert "Database unavailable" in str(framed.query_one("#clinic-header").render())
    await save()
    said = screen_text(app)
    server.start()
    await _wait_state(app, pilot, "connected")
    await save()
    return said


async def test_registration_survives_a_lost_connection(server: Server, tmp_path: Path) -> None:
    build_clinic(server.url, patients=())  # its patients' codes would meet the counter's
    app = _app(server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        await _new_patient_form(app, pilot)
        values = {"full_name": "Hồ Thị Lan", "date_of_birth": "07/07/1977", "phone": "0912345600"}
        await _fill(pilot, app, {**values, "gender": "FEMALE"})

        async def save() -> None:
            await pilot.press("ctrl+s")
            await settle(app, pilot)

        said = await _save_while_down_then_again(app, pilot, server, save)
        assert "cannot be reached" in said and "Traceback" not in said
        for field_id, value in values.items():
            assert app.screen.query_one(f"#{field_id}", Input).value == value
        assert "Saved" in screen_text(app)
        app.database.close()
    assert _count(server.url, "SELECT count(*) FROM patients WHERE full_name = 'Hồ Thị Lan'") == 1


async def test_booking_survives_a_lost_connection(server: Server, tmp_path: Path) -> None:
    from clinic_tui.ui.screens.booking import BookingScreen

    desk = build_clinic(server.url)
    app = _app(server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(9, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, BookingScreen)
        await pick_patient(app, pilot, "do thi mai")
        reason = app.screen.query_one("#booking-reason", Input)
        reason.focus()
        await type_text(pilot, "tái khám")
        dialog = app.screen
        kept: list[str] = []

        async def save() -> None:
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            if app.screen is dialog:
                kept.append(dialog.query_one("#booking-reason", Input).value)

        said = await _save_while_down_then_again(app, pilot, server, save)
        assert KEPT in said or "cannot be reached" in said, said
        assert kept == ["tái khám"]  # still typed after the refusal; the retry then booked
        assert app.screen.id == "schedule"
        app.database.close()
    doctor = desk.doctors["Nguyễn Thị Lan"]
    booked = f"SELECT count(*) FROM appointments WHERE doctor_id = '{doctor}'"
    assert _count(server.url, booked) == 1


async def test_invoice_survives_a_lost_connection(server: Server, tmp_path: Path) -> None:
    from clinic_tui.ui.screens.invoicing import InvoicingScreen

    build_clinic(server.url)
    patient_id = _seed_patient(server.url)
    app = _app(server, tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await sign_in(app, pilot)
        app.push_screen(InvoicingScreen(patient_id=patient_id))
        await settle(app, pilot)
        screen = app.screen
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        assert len(screen.draft.lines) == 2

        async def save() -> None:
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            if app.screen.__class__.__name__ == "ConfirmScreen":
                await pilot.click("#answer-issue")
                await settle(app, pilot)

        said = await _save_while_down_then_again(app, pilot, server, save)
        assert "cannot be reached" in said or KEPT in said, said
        assert screen.invoice is not None and screen.invoice.invoice_number
        app.database.close()
    assert _count(server.url, "SELECT count(*) FROM invoices") == 1
