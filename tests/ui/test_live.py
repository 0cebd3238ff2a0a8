"""Live updates: what another terminal books, moves or cancels appears on an open grid and day
list within a second or two (LISTEN/NOTIFY through `ui.live`), also after the listening
connection was dropped; the listener stops on sign-out."""

from __future__ import annotations

import time as clock
from datetime import date, time, timedelta

import psycopg

from clinic_tui.db.engine import libpq_url
from clinic_tui.services import appointments as appts
from clinic_tui.ui.live import RECONNECTED, ScheduleChanged
from tests.ui.conftest import settle
from tests.ui.test_schedule import MONDAY, book, build_clinic, cell, committed, open_grid, sign_in

DEADLINE = 2.0  # seconds


async def _shows(pilot, check) -> bool:
    """Wait (without touching the app) until ``check()`` holds, up to DEADLINE."""
    started = clock.monotonic()
    while clock.monotonic() - started < DEADLINE:
        if check():
            return True
        await pilot.pause(0.05)
    return bool(check())


async def _listening(app, pilot) -> None:
    listener = app._schedule_listener
    assert listener is not None
    assert listener.wait_ready(5)


async def test_grid_shows_what_another_terminal_books_and_cancels(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await _listening(app, pilot)

        def text_at(doctor: str, start: time):
            return grid.cell_text(cell(grid, doctor, start), 20).strip()

        assert text_at("Trần Văn Bình", time(10, 0)) == "□"
        booked = book(db_url, desk, "Nguyễn Văn An", "Trần Văn Bình", MONDAY, time(10, 0))
        assert await _shows(pilot, lambda: text_at("Trần Văn Bình", time(10, 0)) == "■ An (N.V.)")
        with committed(db_url) as session:
            appts.cancel(session, desk.reception, booked.id, reason="Đổi ý",
                         expected_version=booked.version)  # fmt: skip
        assert await _shows(pilot, lambda: text_at("Trần Văn Bình", time(10, 0)) == "□")


async def test_day_list_follows_another_terminal_after_a_reconnect(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        assert app.screen.id == "today"
        while app.screen.day < MONDAY:
            await pilot.press("pagedown")
        await settle(app, pilot)
        await _listening(app, pilot)
        listener = app._schedule_listener
        with psycopg.connect(libpq_url(db_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
        clock.sleep(0.3)
        assert listener.wait_ready(5)  # back by itself

        def patients() -> list[str]:
            return [entry.patient_name for entry in app.screen.entries]

        book(db_url, desk, "Lê Hoàng Nam", "Nguyễn Thị Lan", MONDAY, time(15, 0))
        assert await _shows(pilot, lambda: patients() == ["Lê Hoàng Nam"])


async def test_listener_stops_on_sign_out(app_factory, db_url) -> None:
    build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(app, pilot)
        listener = app._schedule_listener
        assert listener is not None and listener.wait_ready(5)
        await pilot.press("f8")
        await settle(app, pilot)
        assert app._schedule_listener is None
        assert not listener._thread.is_alive()


def test_which_changes_touch_a_view() -> None:
    monday, doctor = date(2030, 1, 7), "4c6f1f52-0000-4000-8000-000000000001"
    booked = ScheduleChanged({"day": "2030-01-07", "doctor_id": doctor, "action": "booked"})
    assert booked.touches(monday)
    assert not booked.touches(monday + timedelta(days=1))
    assert booked.touches(monday - timedelta(days=3), monday + timedelta(days=3), doctor)
    assert not booked.touches(monday, None, "another-doctor")
    spread = ScheduleChanged({"day": "2030-01-01", "until": "2030-01-31", "doctor_id": None,
                              "action": "availability"})  # fmt: skip
    assert spread.touches(monday, None, doctor)
    assert ScheduleChanged({"action": RECONNECTED}).full_refresh
    assert ScheduleChanged({"action": RECONNECTED}).touches(monday)
