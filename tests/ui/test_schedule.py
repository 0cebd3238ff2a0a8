"""Availability (F4) and booking, through Pilot on a real database: navigation keys, booking
from a free cell, the lost race, first available, moving, cancelling, checking in, editing
hours, and what a therapist may do.

The clinic is built with the services (templates, then `generate_availability`) on a Monday
a few weeks ahead, so nothing is "in the past"; the grid is opened on that day with `g`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session
from textual.widgets import Input

from clinic_tui.i18n import format_date
from clinic_tui.models import Doctor, InsuranceInfo, Patient, User, WeeklyScheduleTemplate
from clinic_tui.services import appointments as appts
from clinic_tui.services import scheduling as sched
from clinic_tui.services.access import Actor, Role
from clinic_tui.services.passwords import hash_password
from clinic_tui.ui.widgets.schedule_grid import ScheduleGrid
from tests.ui.conftest import (
    PASSWORD,
    screen_text,
    settle,
    tick_checklist_and_check_in,
    type_text,
)

_soon = date.today() + timedelta(days=21)
MONDAY = _soon - timedelta(days=_soon.weekday())
DOCTORS = (  # name, specialization, linked to the therapist's account
    ("Nguyễn Thị Lan", "musculoskeletal", True),
    ("Phạm Minh Tuấn", "musculoskeletal", False),
    ("Trần Văn Bình", "neurological", False),
)
PATIENTS = (  # name, card valid to (None: no card)
    ("Nguyễn Văn An", date(2099, 12, 31)),
    ("Đỗ Thị Mai", date(2020, 12, 31)),
    ("Lê Hoàng Nam", None),
)
HOURS = ((time(8, 0), time(12, 0)), (time(13, 30), time(17, 0)))


@dataclass
class Desk:
    admin: Actor
    reception: Actor
    therapist: Actor
    doctors: dict[str, uuid.UUID] = field(default_factory=dict)
    patients: dict[str, uuid.UUID] = field(default_factory=dict)


def _add(session: Session, model: Any, **values: Any) -> uuid.UUID:
    table = model.__table__
    return session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


def _account(session: Session, email: str, role: Role, name: str, locale: str) -> Actor:
    user_id = _add(session, User, email=email, password_hash=hash_password(PASSWORD),
                   full_name=name, role=role.value, locale=locale)  # fmt: skip
    return Actor(user_id, email, name, role, locale)


def build_clinic(
    url: str, day: date = MONDAY, *, doctors=DOCTORS, patients=PATIENTS, locale: str = "en"
) -> Desk:
    """Accounts, therapists working Mon–Sat 08:00–12:00 and 13:30–17:00, availability for the
    week of ``day`` and the next, and a few patients (committed)."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            desk = Desk(
                admin=_account(session, "admin@clinic.vn", Role.ADMIN, "Võ Minh Quân", locale),
                reception=_account(session, "reception@clinic.vn", Role.RECEPTIONIST,
                                   "Lê Thị Thu", locale),
                therapist=_account(session, "doctor@clinic.vn", Role.DOCTOR, "Nguyễn Thị Lan",
                                   locale),
            )  # fmt: skip
            monday = day - timedelta(days=day.weekday())
            for index, (name, speciality, linked) in enumerate(doctors):
                doctor_id = _add(session, Doctor, full_name=name, email=f"d{index}@clinic.vn",
                                 specialization=speciality,
                                 user_id=desk.therapist.user_id if linked else None)  # fmt: skip
                desk.doctors[name] = doctor_id
                for weekday in range(1, 7):
                    for start, end in HOURS:
                        _add(session, WeeklyScheduleTemplate, doctor_id=doctor_id,
                             weekday=weekday, start_time=start, end_time=end,
                             valid_from=monday - timedelta(days=7))  # fmt: skip
            sched.generate_availability(session, desk.admin, date_from=monday,
                                        date_to=monday + timedelta(days=13))  # fmt: skip
            for index, (name, valid_to) in enumerate(patients):
                patient_id = _add(session, Patient, patient_code=f"BN-2026-{index + 1:06d}",
                                  full_name=name, date_of_birth=date(1980, 5, 17),
                                  gender="OTHER", phone=f"09120000{index:02d}")  # fmt: skip
                desk.patients[name] = patient_id
                if valid_to is not None:
                    _add(session, InsuranceInfo, patient_id=patient_id, provider_type="BHYT",
                         bhyt_card_number=f"DN47912345678{index:02d}",
                         valid_from=date(2020, 1, 1), valid_to=valid_to,
                         is_primary=True)  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    return desk


@contextmanager
def committed(url: str) -> Iterator[Session]:
    """A session of "another terminal" on the test's database, committed at the end."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


def book(url: str, desk: Desk, patient: str, doctor: str, day: date, start: time,
         slots: int = 1, *, now: datetime | None = None) -> appts.AppointmentInfo:  # fmt: skip
    """Book from "another terminal": its own engine and session, committed."""
    with committed(url) as session:
        result = appts.book(session, desk.reception, patient_id=desk.patients[patient],
                            doctor_id=desk.doctors[doctor], day=day, start=start,
                            slots=slots, appointment_type="FOLLOW_UP", now=now)  # fmt: skip
    return result.appointment


def rows(url: str, sql: str, **params: object) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:  # committed: an INSERT … RETURNING goes through here too
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


async def sign_in(app, pilot, email: str = "reception@clinic.vn") -> None:
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, email)
    await pilot.press("enter")
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await settle(app, pilot)


async def open_grid(app, pilot, day: date = MONDAY) -> ScheduleGrid:
    await pilot.press("f4")
    await settle(app, pilot)
    assert app.screen.id == "schedule"
    await pilot.press("g")
    await pilot.pause()
    await type_text(pilot, format_date(day))
    await pilot.press("enter")
    await settle(app, pilot)
    return app.screen.query_one(ScheduleGrid)


async def go_to(pilot, grid: ScheduleGrid, doctor: str, start: time) -> None:
    column = list(grid.headers).index(doctor)
    row = list(grid.times).index(start)
    grid.move_to(column, row)
    await pilot.pause()


def cell(grid: ScheduleGrid, doctor: str, start: time) -> Any:
    return grid.cell(list(grid.headers).index(doctor), list(grid.times).index(start))


# --- the grid -----------------------------------------------------------------------------------


async def test_day_grid_shows_each_state_and_the_legend(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    book(db_url, desk, "Nguyễn Văn An", "Phạm Minh Tuấn", MONDAY, time(9, 0), 2)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        assert list(grid.headers) == ["Nguyễn Thị Lan", "Phạm Minh Tuấn", "Trần Văn Bình"]
        first = cell(grid, "Phạm Minh Tuấn", time(9, 0))
        assert grid.cell_text(first, 20).strip() == "■ An (N.V.)"
        assert grid.cell_text(cell(grid, "Phạm Minh Tuấn", time(9, 30)), 20).strip() == "■ ┆"
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(9, 0)), 20).strip() == "□"
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(12, 0)), 20).strip() == "·"
        shown = screen_text(app)
        assert "□ free  ■ booked  ✓ checked in  ✔ completed  · not available" in shown
        assert format_date(MONDAY) in shown


def insert_appointment(url: str, desk: Desk, patient: str, doctor: str, day: date, start: time,
                       end: time, status: str = "SCHEDULED") -> uuid.UUID:  # fmt: skip
    """An appointment written straight into the table (today's, whatever the clock says)."""
    found = rows(url, "INSERT INTO appointments (patient_id, doctor_id, appointment_date,"
                 " start_time, end_time, status, appointment_type) VALUES (:p, :d, :day, :s,"
                 " :e, :status, 'FOLLOW_UP') RETURNING id", p=desk.patients[patient],
                 d=desk.doctors[doctor], day=day, s=start, e=end, status=status)  # fmt: skip
    return found[0][0]


def status_of(url: str, appointment_id: uuid.UUID) -> tuple[Any, ...]:
    return rows(url, "SELECT status, cancel_reason FROM appointments WHERE id = :id",
                id=appointment_id)[0]  # fmt: skip


def active(url: str) -> list[tuple[Any, ...]]:
    return rows(url, "SELECT d.full_name, a.appointment_date, a.start_time, a.end_time,"
                " p.full_name FROM appointments a JOIN doctors d ON d.id = a.doctor_id"
                " JOIN patients p ON p.id = a.patient_id"
                " WHERE a.status = 'SCHEDULED' ORDER BY a.start_time")  # fmt: skip


async def pick_patient(app, pilot, query: str) -> None:
    from clinic_tui.ui.screens.booking import BookingScreen

    assert isinstance(app.screen, BookingScreen)
    await type_text(pilot, query)
    await pilot.pause(0.3)
    await settle(app, pilot)
    await pilot.press("enter")  # to the results
    await pilot.press("enter")  # pick the first
    await settle(app, pilot)


async def test_navigation_keys(app_factory, db_url) -> None:
    from clinic_tui.ui.widgets.schedule_text import clinic_today, day_title

    build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        title = app.screen.query_one("#schedule-title").render
        assert day_title(MONDAY) in str(title())
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert day_title(MONDAY + timedelta(days=1)) in str(title())
        await pilot.press("pageup", "pageup")
        await settle(app, pilot)
        assert day_title(MONDAY - timedelta(days=1)) in str(title())
        await pilot.press("t")
        await settle(app, pilot)
        assert day_title(clinic_today()) in str(title())
        grid = await open_grid(app, pilot)  # F4 again (already open), then `g`

        await go_to(pilot, grid, "Nguyễn Thị Lan", time(9, 0))
        await pilot.press("right", "down")
        cursor = str(app.screen.query_one("#schedule-cursor").render())
        assert "Phạm Minh Tuấn" in cursor and "09:30–10:00" in cursor and "□ free" in cursor

        await pilot.press("s")  # musculoskeletal only
        await settle(app, pilot)
        assert list(grid.headers) == ["Nguyễn Thị Lan", "Phạm Minh Tuấn"]
        await pilot.press("s")  # neurological
        await settle(app, pilot)
        assert list(grid.headers) == ["Trần Văn Bình"]
        await pilot.press("s")  # everyone again
        await settle(app, pilot)
        assert len(grid.headers) == 3

        await go_to(pilot, grid, "Phạm Minh Tuấn", time(9, 0))
        await pilot.press("w")
        await settle(app, pilot)
        assert "Week of Phạm Minh Tuấn" in str(title())
        assert len(grid.headers) == 7 and grid.headers[0].startswith("Mon")
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert format_date(MONDAY + timedelta(days=7)) in str(title())
        await pilot.press("escape")
        await settle(app, pilot)
        assert day_title(MONDAY + timedelta(days=7)) in str(title())
        assert "Phạm Minh Tuấn" in str(app.screen.query_one("#schedule-cursor").render())


async def test_go_to_date_explains_a_bad_date(app_factory, db_url) -> None:
    build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("g")
        await pilot.pause()
        await type_text(pilot, "31/31/2030")
        await pilot.press("enter")
        await pilot.pause()
        assert "Not a date: type it as mm/dd/yyyy." in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.id == "schedule"


async def test_booking_from_a_free_cell_with_warnings(app_factory, db_url) -> None:
    from clinic_tui.ui.screens.booking import BookingScreen

    desk = build_clinic(db_url)
    book(db_url, desk, "Đỗ Thị Mai", "Trần Văn Bình", MONDAY, time(14, 0))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(9, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, BookingScreen)
        assert "Nguyễn Thị Lan (Musculoskeletal)" in screen_text(app)
        await pick_patient(app, pilot, "do thi mai")
        shown = screen_text(app)
        assert "BHYT card expired on 12/31/2020" in shown
        assert "Already booked that day: 14:00–14:30" in shown
        await pilot.press("down", "down", "enter")  # length: open the list, two slots, pick
        await pilot.pause()
        app.screen.query_one("#booking-reason", Input).focus()
        await type_text(pilot, "dau lung")  # the medical-term field: accent-free finds it
        await settle(app, pilot)
        await pilot.press("tab")  # picks the first match
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
        status = str(app.screen.query_one("#schedule-status").render())
        assert "Booked: Đỗ Thị Mai, Nguyễn Thị Lan" in status and "09:00–10:00" in status
        assert "BHYT card expired" in status
        assert (
            grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(9, 0)), 20).strip() == "■ Mai (Đ.T.)"
        )
    assert rows(
        db_url,
        "SELECT start_time, end_time, reason, appointment_type, t.term_vi FROM appointments a"
        " JOIN vietnamese_medical_terms t ON t.id = a.medical_term_id WHERE doctor_id = :d",
        d=desk.doctors["Nguyễn Thị Lan"],
    ) == [(time(9, 0), time(10, 0), "Low back pain", "INITIAL_EVALUATION", "Đau thắt lưng")]


async def test_lost_race_says_the_slot_was_just_taken(app_factory, db_url) -> None:
    from clinic_tui.ui.screens.booking import BookingScreen

    desk = build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(10, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        await pick_patient(app, pilot, "nguyen van an")
        # Another terminal books that slot meanwhile.
        book(db_url, desk, "Lê Hoàng Nam", "Nguyễn Thị Lan", MONDAY, time(10, 0))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, BookingScreen)  # kept as typed
        assert "This slot was just taken." in screen_text(app)
        await pilot.pause(0.5)
        await settle(app, pilot)
        assert (
            grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(10, 0)), 20).strip() == "■ Nam (L.H.)"
        )
    assert [(r[0], r[4]) for r in active(db_url)] == [("Nguyễn Thị Lan", "Lê Hoàng Nam")]


async def test_database_error_keeps_the_dialog_for_a_retry(app_factory, db_url, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from clinic_tui.ui.screens.booking import BookingScreen

    build_clinic(db_url)
    real_book = appts.book

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Trần Văn Bình", time(11, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        await pick_patient(app, pilot, "le hoang nam")
        app.screen.query_one("#booking-reason", Input).value = "Tái khám"
        monkeypatch.setattr(appts, "book", broken)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, BookingScreen)
        assert "press Ctrl+S to try again" in screen_text(app)
        assert app.screen.query_one("#booking-reason", Input).value == "Tái khám"
        monkeypatch.setattr(appts, "book", real_book)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
    assert [(r[0], r[2], r[4]) for r in active(db_url)] == [
        ("Trần Văn Bình", time(11, 0), "Lê Hoàng Nam")]  # fmt: skip


async def test_first_available_is_booked_with_one_key(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    for start in (time(8, 0), time(8, 30)):
        book(db_url, desk, "Lê Hoàng Nam", "Nguyễn Thị Lan", MONDAY, start)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(15, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        await pick_patient(app, pilot, "nguyen van an")
        await pilot.press("f")  # this therapist, from the grid's day
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Enter books the highlighted slot." in shown
        offers = app.screen.offers
        assert [(o.doctor_name, o.day, o.start) for o in offers] == [
            ("Nguyễn Thị Lan", MONDAY, time(9, 0))]  # fmt: skip
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
    assert [(r[0], r[2], r[4]) for r in active(db_url)][-1] == (
        "Nguyễn Thị Lan", time(9, 0), "Nguyễn Văn An")  # fmt: skip


async def test_first_available_across_a_specialization(app_factory, db_url) -> None:
    from textual.widgets import Select

    desk = build_clinic(db_url)
    book(db_url, desk, "Lê Hoàng Nam", "Nguyễn Thị Lan", MONDAY, time(8, 0))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(15, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        scope = app.screen.query_one("#booking-scope", Select)
        scope.value = "specialization"
        scope.focus()  # `f` types into the patient field; from any other field it searches
        await pilot.press("f")
        await settle(app, pilot)
        offers = [(o.doctor_name, o.start) for o in app.screen.offers]
        assert offers == [("Phạm Minh Tuấn", time(8, 0)), ("Nguyễn Thị Lan", time(8, 30))]
        await pilot.press("enter")  # no patient yet: the slot is taken into the dialog
        await settle(app, pilot)
        assert "Slot chosen. Now find the patient." in screen_text(app)
        assert "Phạm Minh Tuấn (Musculoskeletal)" in screen_text(app)
        await pick_patient(app, pilot, "nguyen van an")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
    assert ("Phạm Minh Tuấn", MONDAY, time(8, 0), time(8, 30), "Nguyễn Văn An") in active(db_url)


async def test_reschedule_by_picking_a_free_cell(app_factory, db_url) -> None:
    from clinic_tui.ui.screens.appointment_actions import AppointmentActionsScreen

    desk = build_clinic(db_url)
    old = book(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", MONDAY, time(9, 0), 2)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(9, 30))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AppointmentActionsScreen)
        assert "Nguyễn Văn An" in screen_text(app)
        await pilot.press("m")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
        assert "Moving Nguyễn Văn An (09:00–10:00)" in screen_text(app)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(12, 0))  # not available: refused
        await pilot.press("enter")
        await pilot.pause()
        assert "Choose a free slot for the move." in screen_text(app)
        await go_to(pilot, grid, "Phạm Minh Tuấn", time(14, 0))
        await pilot.press("enter")
        await pilot.pause()
        assert "Move Nguyễn Văn An to Phạm Minh Tuấn" in screen_text(app)
        await pilot.press("enter")  # "Move" is focused
        await settle(app, pilot)
        assert "Moved: Nguyễn Văn An to Phạm Minh Tuấn" in screen_text(app)
        assert (
            grid.cell_text(cell(grid, "Phạm Minh Tuấn", time(14, 0)), 20).strip() == "■ An (N.V.)"
        )
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(9, 0)), 20).strip() == "□"
    assert status_of(db_url, old.id) == ("CANCELLED", "rescheduled")
    assert active(db_url) == [
        ("Phạm Minh Tuấn", MONDAY, time(14, 0), time(15, 0), "Nguyễn Văn An")]  # fmt: skip


async def test_cancel_needs_a_reason(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    booked = book(db_url, desk, "Lê Hoàng Nam", "Trần Văn Bình", MONDAY, time(8, 0))
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Trần Văn Bình", time(8, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        assert "Type the reason, then press Enter." in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "A reason is needed to cancel." in screen_text(app)
        await type_text(pilot, "Bệnh nhân bị sốt")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == "schedule"
        assert "Cancelled: Lê Hoàng Nam." in screen_text(app)
        assert grid.cell_text(cell(grid, "Trần Văn Bình", time(8, 0)), 20).strip() == "□"
    assert status_of(db_url, booked.id) == ("CANCELLED", "Bệnh nhân bị sốt")


async def test_refused_transitions_are_explained(app_factory, db_url) -> None:
    desk = build_clinic(db_url)
    book(db_url, desk, "Lê Hoàng Nam", "Trần Văn Bình", MONDAY, time(8, 0))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Trần Văn Bình", time(8, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        assert (
            f"Too early to check in: the appointment is on {format_date(MONDAY)}."
            in screen_text(app)
        )
        await pilot.press("x")
        await settle(app, pilot)
        assert "Too early for a no-show: the appointment starts at 08:00" in screen_text(app)
        await pilot.press("d")
        await settle(app, pilot)
        assert "Only a checked-in appointment can be completed; this one is Booked." in screen_text(
            app
        )


async def test_check_in_and_complete_from_the_grid(app_factory, db_url) -> None:
    from clinic_tui.ui.widgets.schedule_text import clinic_today

    desk = build_clinic(db_url)
    today = clinic_today()
    visit = insert_appointment(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", today,
                               time(7, 0), time(7, 30))  # fmt: skip
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot, today)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(7, 0))
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        await tick_checklist_and_check_in(app, pilot)
        assert "Checked in: Nguyễn Văn An." in screen_text(app)
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(7, 0)), 20).strip() == "✓ An (N.V.)"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(7, 0)), 20).strip() == "✔ An (N.V.)"
    assert status_of(db_url, visit)[0] == "COMPLETED"


async def test_hours_are_closed_and_opened_unless_appointments_stand(app_factory, db_url):
    desk = build_clinic(db_url)
    book(db_url, desk, "Lê Hoàng Nam", "Nguyễn Thị Lan", MONDAY, time(9, 0))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(9, 0))
        await pilot.press("u")
        await pilot.pause()
        assert app.screen.query_one("#hours-from", Input).value == "09:00"
        app.screen.query_one("#hours-to", Input).value = "10:30"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Refused: appointments stand in that range (09:00–09:30)." in screen_text(app)
        assert app.screen.query_one("#hours-to", Input).value == "10:30"  # kept to change
        await pilot.press("escape")
        await pilot.pause()
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(10, 0))
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Marked unavailable: Nguyễn Thị Lan" in screen_text(app)
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(10, 0)), 20).strip() == "·"
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(12, 0))
        await pilot.press("enter")
        await pilot.pause()
        assert "Not available at that time. Press h to add hours." in screen_text(app)
        await pilot.press("h")
        await pilot.pause()
        app.screen.query_one("#hours-to", Input).value = "11:00"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "The end must be after the start." in screen_text(app)
        app.screen.query_one("#hours-to", Input).value = "13:00"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Hours added: Nguyễn Thị Lan" in screen_text(app)
        assert grid.cell_text(cell(grid, "Nguyễn Thị Lan", time(12, 30)), 20).strip() == "□"
    kinds = rows(db_url, "SELECT kind, start_time, end_time FROM schedule_exceptions"
                 " ORDER BY created_at")  # fmt: skip
    assert kinds == [("LEAVE", time(10, 0), time(10, 30)),
                     ("EXTRA_HOURS", time(12, 0), time(13, 0))]  # fmt: skip


async def test_a_therapist_reads_their_own_column(app_factory, db_url) -> None:
    from clinic_tui.ui.screens.booking import BookingScreen

    build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot, "doctor@clinic.vn")
        grid = await open_grid(app, pilot)
        assert list(grid.headers) == ["Nguyễn Thị Lan"]
        assert "My column" in screen_text(app)
        await go_to(pilot, grid, "Nguyễn Thị Lan", time(9, 0))
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, BookingScreen)
        assert "Your role may not do this." in screen_text(app)
        await pilot.press("u", "h")
        await pilot.pause()
        assert app.screen.id == "schedule"  # no editing dialog: the keys are not there
        assert not app.screen.check_action("edit_hours", ("unavailable",))
        await pilot.press("s")
        await settle(app, pilot)
        assert len(grid.headers) == 3


async def test_grid_loads_and_draws_forty_therapists_quickly(app_factory, db_url) -> None:
    """40 therapists × 48 rows (a clinic open 07:00–19:00, 15-minute slots): load and draw,
    reported."""
    import time as clock

    from tests.conftest import report_figure

    doctors = tuple((f"Bác sĩ {n:02d}", "musculoskeletal", False) for n in range(40))
    desk = build_clinic(db_url, doctors=doctors)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE clinic_settings SET value = CAST(:hours AS jsonb)"
                 " WHERE key = 'opening_hours'"),
            {"hours": '{"from": "07:00", "to": "19:00"}'},
        )  # fmt: skip
    engine.dispose()
    app = app_factory()
    async with app.run_test(size=(200, 50)) as pilot:
        await sign_in(app, pilot)
        screen = await open_grid(app, pilot)
        started = clock.perf_counter()
        engine = create_engine(db_url)
        with Session(engine) as session:
            day = sched.day_grid(session, desk.reception, MONDAY, slot_minutes=15)
        engine.dispose()
        screen.set_grid([d.name for d in day.doctors], day.times, day.cells)
        lines = [screen.render_line(y) for y in range(screen.size.height)]
        elapsed = clock.perf_counter() - started
        assert len(day.doctors) == 40 and len(day.times) == 48 and lines
        report_figure(f"day grid 40 therapists × 48 slots, load + draw: {elapsed * 1000:.0f} ms")


async def test_f2_relabels_the_grid_and_keys_reach_the_palette(app_factory, db_url) -> None:
    from clinic_tui.i18n import _
    from clinic_tui.ui.widgets.schedule_dialogs import GoToDateDialog

    build_clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        grid = await open_grid(app, pilot)
        await go_to(pilot, grid, "Phạm Minh Tuấn", time(10, 0))
        await pilot.press("f2")
        await settle(app, pilot)
        title = str(app.screen.query_one("#schedule-title").render())
        assert title.startswith(_("Availability")) and _("free") in screen_text(app)
        assert (grid.cursor_column, grid.times[grid.cursor_row]) == (1, time(10, 0))
        await pilot.press("f2")
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "go to date")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GoToDateDialog)
