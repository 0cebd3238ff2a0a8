"""Today (F1): the landing screen, the day's list by time with status and card, the c / x / d
keys, the actions dialog, moving from the list, and a therapist's own list."""

from __future__ import annotations

from datetime import time, timedelta

from textual.widgets import DataTable

from clinic_tui.services import scheduling as sched
from tests.ui.conftest import screen_text, settle, tick_checklist_and_check_in
from tests.ui.test_schedule import (
    build_clinic,
    committed,
    go_to,
    insert_appointment,
    rows,
    sign_in,
    status_of,
)


def _today():
    from clinic_tui.ui.widgets.schedule_text import clinic_today

    return clinic_today()


def _list(app) -> list[list[str]]:
    table = app.screen.query_one("#today-list", DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def _select(app, pilot, patient: str) -> None:
    table = app.screen.query_one("#today-list", DataTable)
    names = [row[2] for row in _list(app)]
    table.move_cursor(row=names.index(patient))
    await pilot.pause()


def _day(desk, db_url):
    """Three appointments today, one of them already checked in, one cancelled."""
    today = _today()
    ids = {
        "an": insert_appointment(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", today,
                                 time(0, 0), time(0, 30)),
        "mai": insert_appointment(db_url, desk, "Đỗ Thị Mai", "Trần Văn Bình", today,
                                  time(0, 30), time(1, 0), status="CHECKED_IN"),
        "nam": insert_appointment(db_url, desk, "Lê Hoàng Nam", "Phạm Minh Tuấn", today,
                                  time(0, 0), time(0, 30), status="CANCELLED"),
    }  # fmt: skip
    return today, ids


async def test_today_is_the_landing_screen_and_lists_by_time(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    _day(desk, db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        assert app.screen.id == "today"
        listed = _list(app)
        assert [(r[0], r[1], r[2], r[3]) for r in listed] == [
            ("00:00–00:30", "■ Booked", "Nguyễn Văn An", "Nguyễn Thị Lan"),
            ("00:00–00:30", "✗ Cancelled", "Lê Hoàng Nam", "Phạm Minh Tuấn"),
            ("00:30–01:00", "✓ Checked in", "Đỗ Thị Mai", "Trần Văn Bình"),
        ]
        assert [r[5] for r in listed] == ["✓ valid", "— no card", "✗ expired 12/31/2020"]
        title = str(app.screen.query_one("#today-title").render())
        assert "Today" in title and "2 appointments" in title and "1 checked in" in title


async def test_check_in_no_show_and_complete_keys(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    _day_shown, ids = _day(desk, db_url)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot)
        await _select(app, pilot, "Đỗ Thị Mai")
        await pilot.press("c")  # already checked in: refused, explained
        await settle(app, pilot)
        assert (
            "Only a booked appointment can be checked in; this one is Checked in."
            in screen_text(app)
        )
        await pilot.press("d")
        await settle(app, pilot)
        assert "Completed: Đỗ Thị Mai." in screen_text(app)
        await _select(app, pilot, "Nguyễn Văn An")
        await pilot.press("c")
        await settle(app, pilot)
        await tick_checklist_and_check_in(app, pilot)
        assert "Checked in: Nguyễn Văn An." in screen_text(app)
        statuses = {row[2]: row[1] for row in _list(app)}
        assert statuses == {"Nguyễn Văn An": "✓ Checked in", "Đỗ Thị Mai": "✔ Completed",
                            "Lê Hoàng Nam": "✗ Cancelled"}  # fmt: skip
        await pilot.press("x")  # no-show of a checked-in visit: refused
        await settle(app, pilot)
        assert "Only a booked appointment can be marked no-show" in screen_text(app)
    assert status_of(db_url, ids["an"])[0] == "CHECKED_IN"
    assert status_of(db_url, ids["mai"])[0] == "COMPLETED"


async def test_no_show_and_other_days(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    today = _today()
    past = insert_appointment(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", today,
                              time(0, 0), time(0, 30))  # fmt: skip
    insert_appointment(db_url, desk, "Lê Hoàng Nam", "Nguyễn Thị Lan", today + timedelta(days=1),
                       time(9, 0), time(9, 30))  # fmt: skip
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        await pilot.press("x")
        await settle(app, pilot)
        assert "Marked no-show: Nguyễn Văn An." in screen_text(app)
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert "Appointments" in str(app.screen.query_one("#today-title").render())
        assert [r[2] for r in _list(app)] == ["Lê Hoàng Nam"]
        await pilot.press("x")
        await settle(app, pilot)
        assert "Too early for a no-show: the appointment starts at 09:00" in screen_text(app)
        await pilot.press("t")
        await settle(app, pilot)
        assert [r[1] for r in _list(app)] == ["∅ No-show"]
    assert status_of(db_url, past)[0] == "NO_SHOW"


async def test_enter_opens_the_actions_and_a_move_returns_here(app_factory, db_url) -> None:
    from clinic_tui.ui.screens.appointment_actions import AppointmentActionsScreen

    desk = build_clinic(db_url)
    tomorrow = _today() + timedelta(days=1)
    booked = insert_appointment(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", tomorrow,
                                time(9, 0), time(9, 30))  # fmt: skip
    with committed(db_url) as session:  # tomorrow's hours for the move
        sched.add_hours(session, desk.admin, doctor_id=desk.doctors["Phạm Minh Tuấn"],
                        day=tomorrow, start=time(18, 0), end=time(19, 0))  # fmt: skip
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        await pilot.press("pagedown")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AppointmentActionsScreen)
        await pilot.press("m")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
        grid = app.screen.query_one("#schedule-grid")
        await go_to(pilot, grid, "Phạm Minh Tuấn", time(18, 30))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # confirm the move
        await settle(app, pilot)
        assert app.screen.id == "today"
        await settle(app, pilot)
        listed = _list(app)
        assert [(r[0], r[1], r[3]) for r in listed] == [
            ("09:00–09:30", "✗ Cancelled", "Nguyễn Thị Lan"),
            ("18:30–19:00", "■ Booked", "Phạm Minh Tuấn"),
        ]
    assert status_of(db_url, booked) == ("CANCELLED", "rescheduled")


async def test_a_therapist_sees_their_own_list_first(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    _day(desk, db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot, "doctor@clinic.vn")
        assert app.screen.id == "today"
        assert [r[2] for r in _list(app)] == ["Nguyễn Văn An"]
        assert "my appointments" in str(app.screen.query_one("#today-title").render())
        assert not app.screen.check_action("act", ("check_in",))
        await pilot.press("c")  # not a therapist's key: nothing happens
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        assert [r[2] for r in _list(app)] == ["Nguyễn Văn An", "Lê Hoàng Nam", "Đỗ Thị Mai"]
        assert "all therapists" in str(app.screen.query_one("#today-title").render())
    assert rows(db_url, "SELECT count(*) FROM appointments WHERE status = 'CHECKED_IN'") == [(1,)]


async def test_a_therapist_completing_a_visit_is_asked_for_its_session(app_factory, db_url):
    from clinic_tui.ui.screens.clinical_session_dialog import SessionDialog

    desk = build_clinic(db_url)
    insert_appointment(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", _today(),
                       time(0, 0), time(0, 30), status="CHECKED_IN")  # fmt: skip
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot, "doctor@clinic.vn")
        assert app.screen.id == "today"
        await _select(app, pilot, "Nguyễn Văn An")
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, SessionDialog)
        await pilot.press("escape")  # recorded later, or not at all: the visit stays completed
        await settle(app, pilot)
        assert app.screen.id == "today"
        assert "Completed: Nguyễn Văn An." in screen_text(app)
