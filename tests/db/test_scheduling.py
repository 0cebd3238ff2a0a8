"""Scheduling on a real database (services/scheduling.py, services/appointments.py; issue 7):
availability generation and edits, booking refusals and warnings, first available, the status
flow with optimistic locking, the grids, the day's list, permissions, and the live feed.

Dates are a Monday a few weeks ahead, so nothing here is "in the past" by accident; tests
about the clock pass ``now``.
"""

from __future__ import annotations

import threading
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.db.engine import libpq_url
from clinic_tui.models import (
    AuditEntry,
    Doctor,
    InsuranceInfo,
    Patient,
    ScheduleException,
    User,
    WeeklyScheduleTemplate,
)
from clinic_tui.services import appointments as appts
from clinic_tui.services import reference
from clinic_tui.services import scheduling as sched
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.appointments import (
    CardStatus,
    InThePast,
    InvalidTransition,
    OutsideAvailability,
    PatientBusy,
    ScheduleConflict,
    SlotTaken,
    WarningCode,
)
from clinic_tui.services.scheduling import CellState, RefusalCode, ScheduleRefused

_soon = date.today() + timedelta(days=21)
MONDAY = _soon - timedelta(days=_soon.weekday())
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = (
    MONDAY + timedelta(days=n) for n in range(1, 7)
)
ON_MONDAY = datetime.combine(MONDAY, time(7, 0))  # a `now` early on the Monday
MORNING = (time(7, 30), time(11, 30))
AFTERNOON = (time(13, 30), time(17, 0))


def t(text_: str) -> time:
    hours, minutes = text_.split(":")
    return time(int(hours), int(minutes))


# --- a small clinic ---------------------------------------------------------------------------


@dataclass
class Clinic:
    admin: Actor
    reception: Actor
    therapist: Actor  # the user of doctor `a`
    patient_user: Actor
    a: uuid.UUID  # musculoskeletal, Mon–Fri mornings and afternoons
    b: uuid.UUID  # musculoskeletal, same hours
    n: uuid.UUID  # neurological, same hours
    insured: uuid.UUID  # valid BHYT card
    expired: uuid.UUID  # card ended before MONDAY
    uninsured: uuid.UUID  # no card
    others: list[uuid.UUID]  # more patients, no card


def _add(session: Session, model: Any, **values: Any) -> uuid.UUID:
    table = model.__table__
    return session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


def _user(session: Session, role: Role, tag: str) -> Actor:
    email = f"{role.lower()}.{tag}@clinic.vn"
    user_id = _add(session, User, email=email, password_hash="x", full_name="Lê Thu Hà",
                   role=role.value)  # fmt: skip
    return Actor(user_id, email, "Lê Thu Hà", role)


def add_doctor(session: Session, name: str, specialization: str, tag: str, user=None) -> uuid.UUID:
    doctor_id = _add(session, Doctor, full_name=name, email=f"{uuid.uuid4().hex[:8]}.{tag}@c.vn",
                     specialization=specialization, user_id=user)  # fmt: skip
    for weekday in range(1, 6):
        for start, end in (MORNING, AFTERNOON):
            _add(session, WeeklyScheduleTemplate, doctor_id=doctor_id, weekday=weekday,
                 start_time=start, end_time=end, valid_from=MONDAY - timedelta(days=7))  # fmt: skip
    return doctor_id


def _patient(session: Session, name: str, card_valid_to: date | None = None) -> uuid.UUID:
    patient_id = _add(session, Patient, patient_code=f"T-{uuid.uuid4().hex[:12]}",
                      full_name=name, date_of_birth=date(1980, 5, 17), gender="MALE")  # fmt: skip
    if card_valid_to is not None:
        _add(session, InsuranceInfo, patient_id=patient_id, provider_type="BHYT",
             bhyt_card_number="DN4791234567890", valid_from=date(2020, 1, 1),
             valid_to=card_valid_to, is_primary=True)  # fmt: skip
    return patient_id


def make_clinic(session: Session, *, patients: int = 3) -> Clinic:
    tag = uuid.uuid4().hex[:8]
    admin = _user(session, Role.ADMIN, tag)
    therapist = _user(session, Role.DOCTOR, tag)
    a = add_doctor(session, "Nguyễn Thị Lan", "musculoskeletal", tag, user=therapist.user_id)
    b = add_doctor(session, "Phạm Minh Tuấn", "musculoskeletal", tag)
    n = add_doctor(session, "Trần Văn Bình", "neurological", tag)
    clinic = Clinic(
        admin=admin,
        reception=_user(session, Role.RECEPTIONIST, tag),
        therapist=therapist,
        patient_user=_user(session, Role.PATIENT, tag),
        a=a, b=b, n=n,
        insured=_patient(session, "Nguyễn Văn An", MONDAY + timedelta(days=365)),
        expired=_patient(session, "Đỗ Thị Mai", MONDAY - timedelta(days=1)),
        uninsured=_patient(session, "Lê Hoàng Nam"),
        others=[_patient(session, f"Võ Văn Khách {i}") for i in range(patients)],
    )  # fmt: skip
    for doctor in (a, b, n):
        sched.generate_availability(session, admin, doctor_id=doctor, date_from=MONDAY,
                                    date_to=SUNDAY)  # fmt: skip
    return clinic


@pytest.fixture
def clinic(db_session: Session) -> Clinic:
    return make_clinic(db_session)


def rows(session: Session, doctor: uuid.UUID, day: date) -> list[tuple[time, time, str]]:
    return [
        tuple(r)
        for r in session.execute(
            text(
                "SELECT start_time, end_time, source FROM doctor_availabilities"
                " WHERE doctor_id = :d AND date = :day AND is_available ORDER BY start_time"
            ),
            {"d": doctor, "day": day},
        )
    ]


def book(session: Session, clinic: Clinic, **overrides: Any) -> appts.BookingResult:
    values: dict[str, Any] = {
        "patient_id": clinic.insured, "doctor_id": clinic.a, "day": MONDAY, "start": t("9:00"),
        "slots": 1, "appointment_type": "FOLLOW_UP", "now": ON_MONDAY,
    }  # fmt: skip
    values.update(overrides)
    actor = values.pop("actor", clinic.reception)
    return appts.book(session, actor, **values)


# --- generating availability --------------------------------------------------------------------


def test_generation_follows_templates_and_is_idempotent(db_session: Session, clinic: Clinic):
    assert rows(db_session, clinic.a, MONDAY) == [(*MORNING, "TEMPLATE"), (*AFTERNOON, "TEMPLATE")]
    assert rows(db_session, clinic.a, FRIDAY) == rows(db_session, clinic.a, MONDAY)
    assert rows(db_session, clinic.a, SATURDAY) == []
    for doctor in (clinic.a, clinic.b, clinic.n):
        again = sched.generate_availability(
            db_session, clinic.admin, doctor_id=doctor, date_from=MONDAY, date_to=SUNDAY
        )
        assert again == 0


def test_generation_applies_exceptions_in_the_order_made(db_session: Session, clinic: Clinic):
    def exception(doctor, day, kind, start=None, end=None):
        _add(db_session, ScheduleException, doctor_id=doctor, exception_date=day, kind=kind,
             start_time=start, end_time=end, created_at=text("clock_timestamp()"))  # fmt: skip

    exception(None, TUESDAY, "HOLIDAY")  # the whole clinic
    exception(clinic.a, WEDNESDAY, "LEAVE")
    exception(clinic.a, THURSDAY, "LEAVE", t("9:00"), t("10:00"))
    exception(clinic.a, SATURDAY, "EXTRA_HOURS", t("8:00"), t("11:00"))
    exception(clinic.a, FRIDAY, "LEAVE", t("13:30"), t("17:00"))
    exception(clinic.a, FRIDAY, "EXTRA_HOURS", t("15:00"), t("16:00"))  # later: reopens
    written = sched.generate_availability(
        db_session, clinic.admin, date_from=MONDAY, date_to=SUNDAY
    )
    assert written > 0
    assert rows(db_session, clinic.a, TUESDAY) == rows(db_session, clinic.n, TUESDAY) == []
    assert rows(db_session, clinic.a, WEDNESDAY) == []
    assert rows(db_session, clinic.b, WEDNESDAY) == [
        (*MORNING, "TEMPLATE"), (*AFTERNOON, "TEMPLATE"),
    ]  # fmt: skip
    assert rows(db_session, clinic.a, THURSDAY) == [
        (t("7:30"), t("9:00"), "TEMPLATE"), (t("10:00"), t("11:30"), "TEMPLATE"),
        (*AFTERNOON, "TEMPLATE"),
    ]  # fmt: skip
    assert rows(db_session, clinic.a, FRIDAY) == [
        (*MORNING, "TEMPLATE"), (t("15:00"), t("16:00"), "TEMPLATE"),
    ]  # fmt: skip
    assert rows(db_session, clinic.a, SATURDAY) == [(t("8:00"), t("11:00"), "MANUAL")]
    assert sched.generate_availability(
        db_session, clinic.admin, date_from=MONDAY, date_to=SUNDAY
    ) == 0  # fmt: skip


def test_template_validity_dates_are_respected(db_session: Session, clinic: Clinic) -> None:
    db_session.execute(
        text("UPDATE weekly_schedule_templates SET valid_to = :d WHERE doctor_id = :a"),
        {"d": WEDNESDAY, "a": clinic.a},
    )
    sched.generate_availability(
        db_session, clinic.admin, doctor_id=clinic.a, date_from=MONDAY, date_to=SUNDAY
    )
    assert len(rows(db_session, clinic.a, WEDNESDAY)) == 2
    assert rows(db_session, clinic.a, THURSDAY) == []


def test_generation_never_removes_availability_under_a_booking(
    db_session: Session, clinic: Clinic
) -> None:
    booked = book(db_session, clinic, start=t("9:00"), slots=2).appointment
    _add(db_session, ScheduleException, doctor_id=None, exception_date=MONDAY, kind="HOLIDAY")
    sched.generate_availability(
        db_session, clinic.admin, doctor_id=clinic.a, date_from=MONDAY, date_to=MONDAY
    )
    assert rows(db_session, clinic.a, MONDAY) == [(t("9:00"), t("10:00"), "TEMPLATE")]
    assert rows(db_session, clinic.b, MONDAY) != []  # not regenerated yet: untouched
    assert sched.generate_availability(
        db_session, clinic.admin, doctor_id=clinic.a, date_from=MONDAY, date_to=MONDAY
    ) == 0  # fmt: skip
    appts.cancel(db_session, clinic.reception, booked.id, reason="Bệnh nhân bận",
                 expected_version=booked.version)  # fmt: skip
    sched.generate_availability(
        db_session, clinic.admin, doctor_id=clinic.a, date_from=MONDAY, date_to=MONDAY
    )
    assert rows(db_session, clinic.a, MONDAY) == []  # nothing booked any more: the holiday wins


# --- editing availability ---------------------------------------------------------------------


def test_set_unavailable_is_refused_where_appointments_stand(db_session: Session, clinic: Clinic):
    booked = book(db_session, clinic, start=t("9:30")).appointment
    with pytest.raises(ScheduleRefused) as refused:
        sched.set_unavailable(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                              start=t("9:00"), end=t("10:00"), reason="Họp")  # fmt: skip
    assert refused.value.reason_code is RefusalCode.APPOINTMENTS_STAND
    assert [ref.id for ref in refused.value.appointments] == [booked.id]
    with pytest.raises(ScheduleRefused):
        sched.set_unavailable(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                              start=None, end=None, reason="Nghỉ ốm")  # fmt: skip
    assert len(rows(db_session, clinic.a, MONDAY)) == 2  # nothing changed


def test_set_unavailable_cuts_the_range_and_regeneration_keeps_it(
    db_session: Session, clinic: Clinic
) -> None:
    blocks = sched.set_unavailable(db_session, clinic.reception, doctor_id=clinic.a,
                                   day=MONDAY, start=t("9:00"), end=t("10:00"),
                                   reason="Họp chuyên môn")  # fmt: skip
    assert blocks == [(t("7:30"), t("9:00")), (t("10:00"), t("11:30")), AFTERNOON]
    assert sched.generate_availability(
        db_session, clinic.admin, doctor_id=clinic.a, date_from=MONDAY, date_to=SUNDAY
    ) == 0  # fmt: skip
    with pytest.raises(OutsideAvailability):
        book(db_session, clinic, start=t("9:00"))
    whole_day = sched.set_unavailable(db_session, clinic.admin, doctor_id=clinic.b, day=MONDAY,
                                      start=None, end=None, reason="Nghỉ phép")  # fmt: skip
    assert whole_day == []


def test_add_hours_extends_reopens_and_refuses_what_is_open(db_session: Session, clinic: Clinic):
    sched.set_unavailable(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                          start=t("9:00"), end=t("10:00"), reason=None)  # fmt: skip
    blocks = sched.add_hours(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                             start=t("9:00"), end=t("10:00"))  # fmt: skip
    assert blocks == [MORNING, AFTERNOON]
    blocks = sched.add_hours(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                             start=t("17:00"), end=t("19:00"), reason="Ca tối")  # fmt: skip
    assert blocks == [MORNING, (t("13:30"), t("19:00"))]
    with pytest.raises(ScheduleRefused) as refused:
        sched.add_hours(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                        start=t("8:00"), end=t("9:00"))  # fmt: skip
    assert refused.value.reason_code is RefusalCode.ALREADY_AVAILABLE
    assert sched.generate_availability(
        db_session, clinic.admin, doctor_id=clinic.a, date_from=MONDAY, date_to=MONDAY
    ) == 0  # fmt: skip
    assert book(db_session, clinic, start=t("18:00"), slots=2).appointment.end == t("19:00")


def test_availability_edits_in_the_past_are_refused(db_session: Session, clinic: Clinic):
    later = datetime.combine(TUESDAY, time(8))
    with pytest.raises(ScheduleRefused) as refused:
        sched.set_unavailable(db_session, clinic.reception, doctor_id=clinic.a, day=MONDAY,
                              start=t("9:00"), end=t("10:00"), reason=None, now=later)  # fmt: skip
    assert refused.value.reason_code is RefusalCode.IN_THE_PAST


# --- booking -------------------------------------------------------------------------------------


def test_booking_returns_plain_data_and_is_audited_with_ids_only(
    db_session: Session, clinic: Clinic
) -> None:
    result = book(db_session, clinic, start=t("8:00"), slots=2, reason="Đau thắt lưng")
    booked = result.appointment
    assert (booked.start, booked.end, booked.status) == (t("8:00"), t("9:00"), "SCHEDULED")
    assert booked.version == 1 and result.warnings == ()
    entry = db_session.execute(
        select(AuditEntry).where(AuditEntry.action == "appointment_booked")
    ).scalar_one()
    assert entry.entity_id == str(booked.id) and entry.user_id == clinic.reception.user_id
    assert set(entry.details) == {"doctor_id", "patient_id"}
    assert "Đau" not in str(entry.details)
    decomposed = unicodedata.normalize("NFD", "  Thoái hóa khớp gối ")
    other = book(db_session, clinic, patient_id=clinic.uninsured, start=t("9:00"),
                 reason=decomposed).appointment  # fmt: skip
    assert other.reason == "Thoái hóa khớp gối"  # stored NFC and trimmed


def test_a_booking_takes_four_statements(db_session: Session, clinic: Clinic) -> None:
    """Throughput at a busy desk is round trips: the locks, the checks, the insert, and the
    audit entry with its notice. (No savepoint: the constraint's refusal is "no row".)"""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split())[:60])

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        book(db_session, clinic, start=t("8:00"))
        assert len(statements) == 4, statements
        statements.clear()
        with pytest.raises(appts.SlotTaken):  # a refusal costs one more: naming what is there
            book(db_session, clinic, patient_id=clinic.uninsured, start=t("8:00"))
        assert len(statements) == 4, statements
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]


def test_booking_warnings(db_session: Session, clinic: Clinic) -> None:
    expired = book(db_session, clinic, patient_id=clinic.expired, start=t("8:00"))
    assert [w.code for w in expired.warnings] == [WarningCode.CARD_EXPIRED]
    assert expired.warnings[0].card_valid_to == MONDAY - timedelta(days=1)
    none = book(db_session, clinic, patient_id=clinic.uninsured, start=t("8:30"))
    assert [w.code for w in none.warnings] == [WarningCode.CARD_NONE]
    first = book(db_session, clinic, start=t("9:00")).appointment
    second = book(db_session, clinic, doctor_id=clinic.b, start=t("14:00"))
    assert [w.code for w in second.warnings] == [WarningCode.PATIENT_HAS_APPOINTMENT_THAT_DAY]
    assert [ref.id for ref in second.warnings[0].appointments] == [first.id]


def test_booking_refusals(db_session: Session, clinic: Clinic) -> None:
    with pytest.raises(OutsideAvailability):
        book(db_session, clinic, day=SATURDAY)
    with pytest.raises(OutsideAvailability):
        book(db_session, clinic, start=t("11:00"), slots=2)  # runs into lunch
    with pytest.raises(OutsideAvailability):
        book(db_session, clinic, start=t("7:00"))
    taken = book(db_session, clinic, start=t("9:00"), slots=2).appointment
    with pytest.raises(SlotTaken) as lost:
        book(db_session, clinic, patient_id=clinic.uninsured, start=t("9:30"))
    assert lost.value.code is RefusalCode.SLOT_TAKEN
    assert [ref.id for ref in lost.value.appointments] == [taken.id]
    with pytest.raises(PatientBusy):
        book(db_session, clinic, doctor_id=clinic.b, start=t("9:30"))
    with pytest.raises(InThePast):
        book(db_session, clinic, start=t("9:00"), now=datetime.combine(MONDAY, time(9, 30)))
    # The slot under way may still take a walk-in.
    walk_in = book(db_session, clinic, patient_id=clinic.uninsured, start=t("10:00"),
                   now=datetime.combine(MONDAY, time(10, 10)))  # fmt: skip
    assert walk_in.appointment.start == t("10:00")
    # Every refusal left the transaction usable, and only the two bookings exist.
    count = db_session.scalar(
        text("SELECT count(*) FROM appointments WHERE doctor_id = :a"), {"a": clinic.a}
    )
    assert count == 2


@pytest.mark.parametrize("release", ["cancel", "no_show"])
def test_cancelled_and_no_show_free_the_slot(db_session: Session, clinic: Clinic, release: str):
    booked = book(db_session, clinic, start=t("9:00")).appointment
    if release == "cancel":
        appts.cancel(db_session, clinic.reception, booked.id, reason="Mưa lớn",
                     expected_version=booked.version)  # fmt: skip
    else:
        appts.mark_no_show(db_session, clinic.reception, booked.id,
                           expected_version=booked.version,
                           now=datetime.combine(MONDAY, time(9, 20)))  # fmt: skip
    again = book(db_session, clinic, patient_id=clinic.uninsured, start=t("9:00"))
    assert again.appointment.status == "SCHEDULED"


# --- first available --------------------------------------------------------------------------


def test_first_available_for_a_doctor(db_session: Session, clinic: Clinic) -> None:
    book(db_session, clinic, start=t("7:30"), slots=3)  # 7:30–9:00
    book(db_session, clinic, patient_id=clinic.uninsured, start=t("9:30"))  # 9:30–10:00
    from_monday = datetime.combine(MONDAY, time(6, 0))
    [one] = appts.first_available(db_session, clinic.reception, doctor_id=clinic.a,
                                  from_moment=from_monday, now=ON_MONDAY)  # fmt: skip
    assert (one.day, one.start, one.end) == (MONDAY, t("9:00"), t("9:30"))
    [two] = appts.first_available(db_session, clinic.reception, doctor_id=clinic.a,
                                  from_moment=from_monday, slots=2, now=ON_MONDAY)  # fmt: skip
    assert (two.start, two.end) == (t("10:00"), t("11:00"))
    [later] = appts.first_available(db_session, clinic.reception, doctor_id=clinic.a,
                                    from_moment=datetime.combine(MONDAY, time(11, 5)),
                                    now=ON_MONDAY)  # fmt: skip
    assert (later.day, later.start) == (MONDAY, t("13:30"))
    friday_late = datetime.combine(FRIDAY, time(16, 45))
    assert (
        appts.first_available(
            db_session, clinic.reception, doctor_id=clinic.a, from_moment=friday_late, now=ON_MONDAY
        )
        == []
    )  # not published
    next_monday = MONDAY + timedelta(days=7)
    sched.generate_availability(db_session, clinic.admin, doctor_id=clinic.a,
                                date_from=next_monday, date_to=next_monday)  # fmt: skip
    [weekend] = appts.first_available(db_session, clinic.reception, doctor_id=clinic.a,
                                      from_moment=friday_late, now=ON_MONDAY)  # fmt: skip
    assert (weekend.day, weekend.start) == (next_monday, t("7:30"))
    assert (
        appts.first_available(
            db_session,
            clinic.reception,
            doctor_id=clinic.a,
            from_moment=friday_late,
            horizon_days=3,
            now=ON_MONDAY,
        )
        == []
    )
    # `now` clamps a moment in the past: nothing before it is offered.
    [clamped] = appts.first_available(
        db_session, clinic.reception, doctor_id=clinic.a, from_moment=from_monday,
        now=datetime.combine(MONDAY, time(13, 40)),
    )  # fmt: skip
    assert clamped.start == t("14:00")


def test_first_available_by_specialization_is_earliest_first(
    db_session: Session, clinic: Clinic
) -> None:
    book(db_session, clinic, start=t("7:30"))
    book(db_session, clinic, doctor_id=clinic.n, patient_id=clinic.uninsured, start=t("7:30"))
    offers = appts.first_available(
        db_session, clinic.reception, specialization="musculoskeletal",
        from_moment=datetime.combine(MONDAY, time(7)), now=ON_MONDAY,
    )  # fmt: skip
    assert [(o.doctor_id, o.start) for o in offers] == [
        (clinic.b, t("7:30")),
        (clinic.a, t("8:00")),
    ]
    nobody = appts.first_available(db_session, clinic.reception, specialization="paediatric",
                                   from_moment=ON_MONDAY, now=ON_MONDAY)  # fmt: skip
    assert nobody == []
    anyone = appts.first_available(db_session, clinic.reception, from_moment=ON_MONDAY,
                                   now=ON_MONDAY, limit=100)  # fmt: skip
    ours = [(o.doctor_id, o.start) for o in anyone if o.doctor_id in (clinic.a, clinic.b, clinic.n)]
    assert ours == [(clinic.b, t("7:30")), (clinic.a, t("8:00")), (clinic.n, t("8:00"))]
    offer = offers[0]  # "book it with one key"
    booked = book(db_session, clinic, patient_id=clinic.expired, doctor_id=offer.doctor_id,
                  day=offer.day, start=offer.start, slots=offer.slots)  # fmt: skip
    assert booked.appointment.doctor_id == clinic.b


# --- reschedule and the status flow -------------------------------------------------------------


def test_reschedule_keeps_history(db_session: Session, clinic: Clinic) -> None:
    old = book(db_session, clinic, start=t("9:00"), slots=2, reason="Đau cổ vai gáy").appointment
    moved = appts.reschedule(db_session, clinic.reception, old.id, day=MONDAY, start=t("9:30"),
                             slots=2, expected_version=old.version, now=ON_MONDAY)  # fmt: skip
    new = moved.appointment
    assert new.rescheduled_from_id == old.id and new.reason == "Đau cổ vai gáy"
    assert (new.start, new.end, new.status) == (t("9:30"), t("10:30"), "SCHEDULED")
    # No PATIENT_HAS_APPOINTMENT_THAT_DAY warning about the appointment being moved.
    assert moved.warnings == ()
    status, reason = db_session.execute(
        text("SELECT status, cancel_reason FROM appointments WHERE id = :id"), {"id": old.id}
    ).one()
    assert (status, reason) == ("CANCELLED", "rescheduled")
    with pytest.raises(ScheduleConflict):  # the old version is stale now
        appts.reschedule(db_session, clinic.reception, old.id, day=TUESDAY, start=t("9:00"),
                         slots=1, expected_version=old.version, now=ON_MONDAY)  # fmt: skip
    with pytest.raises(InvalidTransition):
        appts.reschedule(db_session, clinic.reception, old.id, day=TUESDAY, start=t("9:00"),
                         slots=1, expected_version=old.version + 1, now=ON_MONDAY)  # fmt: skip


def test_reschedule_into_a_taken_slot_changes_nothing(db_session: Session, clinic: Clinic):
    mine = book(db_session, clinic, start=t("9:00")).appointment
    book(db_session, clinic, patient_id=clinic.uninsured, doctor_id=clinic.b, start=t("10:00"))
    with pytest.raises(SlotTaken):
        appts.reschedule(db_session, clinic.reception, mine.id, day=MONDAY, start=t("10:00"),
                         slots=1, doctor_id=clinic.b, expected_version=mine.version,
                         now=ON_MONDAY)  # fmt: skip
    status, version = db_session.execute(
        text("SELECT status, version FROM appointments WHERE id = :id"), {"id": mine.id}
    ).one()
    assert (status, version) == ("SCHEDULED", mine.version)


def test_status_flow(db_session: Session, clinic: Clinic) -> None:
    booked = book(db_session, clinic, start=t("9:00")).appointment
    on_the_day = datetime.combine(MONDAY, time(8, 50))
    with pytest.raises(InvalidTransition) as wrong:
        appts.complete(db_session, clinic.reception, booked.id, expected_version=booked.version)
    assert wrong.value.reason == "status"
    with pytest.raises(InvalidTransition) as early:
        appts.check_in(db_session, clinic.reception, booked.id, expected_version=booked.version,
                       now=datetime.combine(MONDAY - timedelta(days=1), time(9)))  # fmt: skip
    assert early.value.reason == "not_yet"
    with pytest.raises(InvalidTransition):  # 9:00 has not come yet
        appts.mark_no_show(db_session, clinic.reception, booked.id,
                           expected_version=booked.version, now=on_the_day)  # fmt: skip
    arrived = appts.check_in(db_session, clinic.reception, booked.id,
                             expected_version=booked.version, now=on_the_day)  # fmt: skip
    assert (arrived.status, arrived.version) == ("CHECKED_IN", booked.version + 1)
    for refused in (
        lambda v: appts.cancel(db_session, clinic.reception, booked.id, reason="x",
                               expected_version=v),
        lambda v: appts.mark_no_show(db_session, clinic.reception, booked.id,
                                     expected_version=v, now=on_the_day),
        lambda v: appts.check_in(db_session, clinic.reception, booked.id,
                                 expected_version=v, now=on_the_day),
    ):  # fmt: skip
        with pytest.raises(InvalidTransition):
            refused(arrived.version)
    with pytest.raises(ScheduleConflict) as stale:
        appts.complete(db_session, clinic.reception, booked.id, expected_version=booked.version)
    assert stale.value.current_version == arrived.version
    done = appts.complete(db_session, clinic.therapist, booked.id,
                          expected_version=arrived.version)  # fmt: skip
    assert done.status == "COMPLETED"
    stamps = db_session.execute(
        text("SELECT checked_in_at, completed_at FROM appointments WHERE id = :id"),
        {"id": booked.id},
    ).one()
    assert all(stamps)
    actions = set(db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(booked.id))
    ))  # fmt: skip
    assert actions == {"appointment_booked", "appointment_checked_in", "appointment_completed"}
    with pytest.raises(InvalidTransition):
        appts.cancel(db_session, clinic.reception, booked.id, reason="x",
                     expected_version=done.version)  # fmt: skip


def test_cancel_needs_a_reason_and_a_fresh_version(db_session: Session, clinic: Clinic):
    booked = book(db_session, clinic).appointment
    with pytest.raises(ValueError):
        appts.cancel(db_session, clinic.reception, booked.id, reason="  ",
                     expected_version=booked.version)  # fmt: skip
    with pytest.raises(ScheduleConflict):
        appts.cancel(db_session, clinic.reception, booked.id, reason="Sốt",
                     expected_version=booked.version + 3)  # fmt: skip
    with pytest.raises(sched.NotFound):
        appts.cancel(db_session, clinic.reception, uuid.uuid4(), reason="Sốt",
                     expected_version=1)  # fmt: skip
    cancelled = appts.cancel(db_session, clinic.reception, booked.id, reason="Sốt",
                             expected_version=booked.version)  # fmt: skip
    assert cancelled.status == "CANCELLED"


# --- grids and the day's list --------------------------------------------------------------------


def test_day_grid_states(db_session: Session, clinic: Clinic) -> None:
    on_the_day = datetime.combine(MONDAY, time(8))
    booked = book(db_session, clinic, start=t("8:00"), slots=2).appointment
    arrived = book(db_session, clinic, patient_id=clinic.uninsured, start=t("9:00")).appointment
    appts.check_in(db_session, clinic.reception, arrived.id, expected_version=1, now=on_the_day)
    done = book(db_session, clinic, patient_id=clinic.expired, start=t("10:00")).appointment
    appts.check_in(db_session, clinic.reception, done.id, expected_version=1, now=on_the_day)
    appts.complete(db_session, clinic.reception, done.id, expected_version=2)
    gone = book(db_session, clinic, patient_id=clinic.others[0], start=t("13:30")).appointment
    appts.cancel(db_session, clinic.reception, gone.id, reason="Bận", expected_version=1)

    grid = sched.day_grid(db_session, clinic.therapist, MONDAY, specialization="musculoskeletal")
    assert [d.id for d in grid.doctors] == [clinic.a, clinic.b]  # by name
    # The seeded opening hours, 07:30–17:30, in the seeded 30-minute slots.
    assert grid.slot_minutes == 30
    assert grid.times[0] == t("7:30") and grid.times[-1] == t("17:00")
    column = grid.cells[0]

    def at(clock: str) -> sched.Cell:
        return column[grid.times.index(t(clock))]

    assert at("7:30").state is CellState.FREE
    assert (at("8:00").state, at("8:00").appointment_id) == (CellState.BOOKED, booked.id)
    assert at("8:00").patient_short == "An (N.V.)" and at("8:00").starts_here
    assert at("8:30").state is CellState.BOOKED and not at("8:30").starts_here
    assert at("9:00").state is CellState.CHECKED_IN
    assert at("10:00").state is CellState.COMPLETED
    assert at("12:00").state is CellState.UNAVAILABLE
    assert at("13:30").state is CellState.FREE  # cancelled: free again
    assert all(cell.state is not CellState.BOOKED for cell in grid.cells[1])
    everyone = sched.day_grid(db_session, clinic.reception, MONDAY)
    assert {clinic.a, clinic.b, clinic.n} <= {d.id for d in everyone.doctors}


def test_the_clinics_slot_length_and_opening_hours_frame_the_grids(
    db_session: Session, clinic: Clinic
) -> None:
    reference.update_clinic_settings(
        db_session, clinic.admin, name="Phòng khám", address="", phone="", slot_minutes="20",
        opening_from=t("8:00"), opening_to=t("19:00"),
    )  # fmt: skip
    day = sched.day_grid(db_session, clinic.reception, MONDAY)
    week = sched.week_grid(db_session, clinic.reception, clinic.a, MONDAY)
    for grid in (day, week):
        assert grid.slot_minutes == 20
        # From 07:20, the row holding the first availability (07:30), stretched before the
        # opening; to 19:00, the closing, after the last availability (17:00).
        assert grid.times[0] == t("7:20") and grid.times[-1] == t("18:40")
        assert grid.times[1] == t("7:40")
    assert sched.day_grid(db_session, clinic.reception, MONDAY, slot_minutes=60).times[1] == t(
        "8:00"
    )


def test_the_admin_is_told_of_hours_between_the_rows_of_a_new_slot_length(
    db_session: Session, clinic: Clinic
) -> None:
    """The three therapists work 07:30–11:30 and 13:30–17:00: on the rows of 15 or 30 minutes,
    off those of 20 or 60 (07:30 falls inside a row). Hours no longer in force, and those of a
    therapist who left, do not count."""
    ended = add_doctor(db_session, "Hồ Văn Cũ", "musculoskeletal", "old")
    gone = add_doctor(db_session, "Lý Thị Đi", "musculoskeletal", "gone")
    db_session.execute(
        text("UPDATE weekly_schedule_templates SET start_time = '07:10', valid_to = :gone"
             " WHERE doctor_id = :d"),
        {"d": ended, "gone": MONDAY - timedelta(days=1)},
    )  # fmt: skip
    for statement in (
        "UPDATE weekly_schedule_templates SET start_time = '07:10' WHERE doctor_id = :d",
        "UPDATE doctors SET is_active = false WHERE id = :d",
    ):
        db_session.execute(text(statement), {"d": gone})
    found = {}
    for slot in ("15", "20", "30", "60"):
        reference.update_clinic_settings(
            db_session, clinic.admin, name="Phòng khám", address="", phone="", slot_minutes=slot,
            opening_from=t("7:00"), opening_to=t("19:00"),
        )  # fmt: skip
        found[slot] = reference.therapists_off_the_rows(db_session, clinic.admin, today=MONDAY)
    assert found == {"15": 0, "20": 3, "30": 0, "60": 3}


def test_week_grid(db_session: Session, clinic: Clinic) -> None:
    book(db_session, clinic, day=WEDNESDAY, start=t("14:00"))
    week = sched.week_grid(db_session, clinic.reception, clinic.a, MONDAY)
    assert week.days[0] == MONDAY and len(week.days) == 7
    row = week.times.index(t("14:00"))
    assert week.cells[2][row].state is CellState.BOOKED
    assert week.cells[1][row].state is CellState.FREE
    assert week.cells[5][row].state is CellState.UNAVAILABLE  # Saturday


def test_short_name() -> None:
    assert sched.short_name("Nguyễn Văn An") == "An (N.V.)"
    assert sched.short_name("Đỗ Thị Thu Hà") == "Hà (Đ.T.T.)"
    assert sched.short_name("An") == "An"


def test_day_list(db_session: Session, clinic: Clinic) -> None:
    book(db_session, clinic, patient_id=clinic.expired, start=t("10:00"))
    book(db_session, clinic, patient_id=clinic.uninsured, start=t("8:00"))
    book(db_session, clinic, doctor_id=clinic.b, start=t("9:00"))
    gone = book(db_session, clinic, doctor_id=clinic.b, patient_id=clinic.others[0],
                start=t("11:00")).appointment  # fmt: skip
    appts.cancel(db_session, clinic.reception, gone.id, reason="Bận", expected_version=1)

    everything = appts.day_list(db_session, clinic.reception, MONDAY)
    ours = [e for e in everything if e.doctor_id in (clinic.a, clinic.b)]
    assert [e.start for e in ours] == [t("8:00"), t("9:00"), t("10:00"), t("11:00")]
    by_patient = {e.patient_id: e for e in ours}
    assert by_patient[clinic.uninsured].card_status is CardStatus.NONE
    assert by_patient[clinic.expired].card_status is CardStatus.EXPIRED
    assert by_patient[clinic.insured].card_status is CardStatus.VALID
    assert by_patient[clinic.insured].patient_name == "Nguyễn Văn An"
    assert by_patient[clinic.insured].patient_code.startswith("T-")
    assert by_patient[clinic.others[0]].status == "CANCELLED"
    active = appts.day_list(db_session, clinic.reception, MONDAY, active_only=True)
    assert gone.id not in {e.appointment_id for e in active}
    own = appts.day_list(db_session, clinic.therapist, MONDAY)
    assert {e.doctor_id for e in own} == {clinic.a} and len(own) == 2
    other = appts.day_list(db_session, clinic.therapist, MONDAY, doctor_id=clinic.b)
    assert len(other) == 2


# --- permissions ------------------------------------------------------------------------------


def _operations(clinic: Clinic, session: Session) -> dict[str, Any]:
    def booked_id() -> tuple[uuid.UUID, int]:
        made = book(session, clinic, patient_id=clinic.others[1], start=t("16:00"))
        return made.appointment.id, made.appointment.version

    return {
        "read grid": lambda actor: sched.day_grid(session, actor, MONDAY),
        "read week": lambda actor: sched.week_grid(session, actor, clinic.a, MONDAY),
        "read list": lambda actor: appts.day_list(session, actor, MONDAY),
        "first available": lambda actor: appts.first_available(
            session, actor, doctor_id=clinic.a, from_moment=ON_MONDAY, now=ON_MONDAY
        ),
        "generate": lambda actor: sched.generate_availability(
            session, actor, doctor_id=clinic.a, date_from=MONDAY, date_to=MONDAY
        ),
        "close hours": lambda actor: sched.set_unavailable(
            session,
            actor,
            doctor_id=clinic.b,
            day=TUESDAY,
            start=t("8:00"),
            end=t("9:00"),
            reason=None,
        ),
        "book": lambda actor: book(session, clinic, actor=actor, start=t("15:00")),
        "cancel": lambda actor: appts.cancel(
            session, actor, *booked_id()[:1], reason="x", expected_version=1
        ),
    }


ALLOWED = {
    Role.ADMIN: {"read grid", "read week", "read list", "first available", "generate",
                 "close hours", "book", "cancel"},
    Role.RECEPTIONIST: {"read grid", "read week", "read list", "first available", "generate",
                        "close hours", "book", "cancel"},
    Role.DOCTOR: {"read grid", "read week", "read list", "first available"},
    Role.PATIENT: set(),
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_permissions_per_role(db_session: Session, clinic: Clinic, role: Role) -> None:
    actor = {
        Role.ADMIN: clinic.admin, Role.RECEPTIONIST: clinic.reception,
        Role.DOCTOR: clinic.therapist, Role.PATIENT: clinic.patient_user,
    }[role]  # fmt: skip
    for name, operation in _operations(clinic, db_session).items():
        if name in ALLOWED[role]:
            operation(actor)
        else:
            with pytest.raises(PermissionDenied):
                operation(actor)


def test_a_therapist_completes_only_their_own_visits(db_session: Session, clinic: Clinic):
    on_the_day = datetime.combine(MONDAY, time(9))
    own = book(db_session, clinic, start=t("9:00")).appointment
    theirs = book(db_session, clinic, doctor_id=clinic.b, patient_id=clinic.uninsured,
                  start=t("9:00")).appointment  # fmt: skip
    for booked in (own, theirs):
        appts.check_in(db_session, clinic.reception, booked.id, expected_version=1,
                       now=on_the_day)  # fmt: skip
    with pytest.raises(PermissionDenied):
        appts.check_in(db_session, clinic.therapist, own.id, expected_version=2, now=on_the_day)
    with pytest.raises(PermissionDenied):
        appts.complete(db_session, clinic.therapist, theirs.id, expected_version=2)
    assert appts.complete(db_session, clinic.therapist, own.id, expected_version=2).version == 3


# --- the live feed: two connections, a committed change, heard within a second -------------------


def test_listener_hears_a_booking_committed_elsewhere_and_reconnects(db_url: str) -> None:
    engine = create_engine(db_url)
    heard: list[dict[str, Any]] = []
    arrived = threading.Event()
    reconnected = threading.Event()

    def on_change(payload: dict[str, Any]) -> None:
        heard.append(payload)
        arrived.set()

    try:
        with Session(engine) as session:
            clinic = make_clinic(session)
            session.commit()
        listener = appts.ScheduleListener(db_url, on_change, on_reconnect=reconnected.set)
        try:
            assert listener.wait_ready(5)
            arrived.clear()
            heard.clear()
            with Session(engine) as session:
                booked = book(session, clinic).appointment
                assert not arrived.wait(0.3)  # nothing is announced before the commit
                session.commit()
            assert arrived.wait(1.0)
            assert heard[-1] == {
                "day": MONDAY.isoformat(), "doctor_id": str(clinic.a),
                "appointment_id": str(booked.id), "action": "booked",
            }  # fmt: skip

            # The server drops the listening connection; the listener comes back by itself.
            with psycopg.connect(libpq_url(db_url), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
            assert reconnected.wait(5) and listener.wait_ready(5)
            arrived.clear()
            with Session(engine) as session:
                appts.cancel(session, clinic.reception, booked.id, reason="Sốt",
                             expected_version=booked.version)  # fmt: skip
                session.commit()
            assert arrived.wait(1.0)
            assert heard[-1]["action"] == "cancelled"
        finally:
            listener.close()
    finally:
        engine.dispose()
