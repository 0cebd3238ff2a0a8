"""Doctors' availability: generating it, editing it, reading it as grids (DESIGN §5.3,
issue 7). First available, booking, the status flow and the day's list are in `appointments`.

Availability rows are derived data. The truth is the weekly templates plus the exceptions,
applied in the order they were made; every edit made here (leave, extra hours) is stored as
an exception, so regenerating a day always reproduces it. Regeneration rewrites only the
doctor-days whose rows differ from what the truth says, which makes it idempotent, and it
keeps whatever existing availability lies under an active appointment: a holiday entered
after a booking shrinks the day around the booking, never from under it.

Writers of one doctor's schedule queue on a per-doctor advisory lock held to the end of the
transaction (bookings also on one per patient). An edit then never checks "no appointment
here" while a booking into that range is in flight. And two bookings that clash queue instead
of meeting inside the exclusion constraint: inserted at once, each would wait for the other's
row and PostgreSQL would break the tie with "deadlock detected", not the clear 23P01 that
says "this slot was just taken" (tests/db/test_booking_concurrency.py showed it). The
constraint still decides: the second insert runs after the first commits and is refused by
it. Nothing here commits; the caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, Final, cast

from sqlalchemy import Table, delete, func, insert, text
from sqlalchemy.orm import Session

from clinic_tui.domain import slots as slotmath
from clinic_tui.domain.slots import Adjustment, Block, Change
from clinic_tui.models import DoctorAvailability, ScheduleException
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, Role, require
from clinic_tui.services.settings import clinic_info

CLINIC_TZ: Final = timezone(timedelta(hours=7))  # Vietnam: no daylight saving time
CHANNEL: Final = "clinic_schedule"
ACTIVE_SQL: Final = "status NOT IN ('CANCELLED', 'NO_SHOW')"  # the exclusion constraints' WHERE

# Core tables, not ORM entities: rows come back as plain tuples, never objects to lazy-load.
_AVAILABILITY = cast(Table, DoctorAvailability.__table__)
_EXCEPTIONS = cast(Table, ScheduleException.__table__)


def nfc(value: str | None) -> str | None:
    """Typed text as stored (DESIGN §3): NFC, trimmed, None when blank."""
    from clinic_tui.forms.patient import clean_text  # control characters out (NUL breaks SQL)

    if value is None:
        return None
    return clean_text(value, multiline=True) or None


def clinic_now() -> datetime:
    """Now on the clinic's wall clock, naive like the appointments' times."""
    return datetime.now(CLINIC_TZ).replace(tzinfo=None)


def local(moment: datetime) -> datetime:
    """A moment on the clinic's wall clock: aware ones are converted, naive ones taken as is."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(CLINIC_TZ).replace(tzinfo=None)


# --- codes and refusals ---------------------------------------------------------------------


class CellState(StrEnum):
    UNAVAILABLE = "unavailable"
    FREE = "free"
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"


_CELL_OF_STATUS: Final = {
    "SCHEDULED": CellState.BOOKED,
    "CHECKED_IN": CellState.CHECKED_IN,
    "COMPLETED": CellState.COMPLETED,
}


class RefusalCode(StrEnum):
    """Why the schedule refused something; the UI translates the code."""

    OUTSIDE_AVAILABILITY = "OUTSIDE_AVAILABILITY"
    SLOT_TAKEN = "SLOT_TAKEN"
    PATIENT_BUSY = "PATIENT_BUSY"
    IN_THE_PAST = "IN_THE_PAST"
    APPOINTMENTS_STAND = "APPOINTMENTS_STAND"
    ALREADY_AVAILABLE = "ALREADY_AVAILABLE"


@dataclass(frozen=True, slots=True)
class AppointmentRef:
    """An appointment named in a refusal: enough to show it, nothing about the patient."""

    id: uuid.UUID
    doctor_id: uuid.UUID
    day: date
    start: time
    end: time
    status: str


class SchedulingError(Exception):
    """Base of every refusal here; ``code`` says which, for the UI's message."""

    code: str = ""


class ScheduleRefused(SchedulingError):
    """An availability edit refused: ``appointments`` are the bookings in the way."""

    def __init__(self, reason_code: RefusalCode, appointments: Sequence[AppointmentRef] = ()):
        super().__init__(f"{reason_code}: {len(appointments)} appointment(s)")
        self.code = self.reason_code = reason_code
        self.appointments = list(appointments)


class NotFound(LookupError):
    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"no {entity} {entity_id}")
        self.entity = entity
        self.entity_id = entity_id


# --- shared plumbing (appointments uses these too) ------------------------------------------


def _lock_key(namespace: bytes, key: uuid.UUID) -> int:
    digest = hashlib.blake2b(namespace + key.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _advisory_lock(session: Session, namespace: bytes, key: uuid.UUID) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(namespace, key)})


def lock_doctor(session: Session, doctor_id: uuid.UUID) -> None:
    """Hold the doctor's schedule lock until the transaction ends (see the module's doc)."""
    _advisory_lock(session, b"schedule.doctor:", doctor_id)


def lock_patient(session: Session, patient_id: uuid.UUID) -> None:
    """Taken after the doctor's: every booking locks in that order, so they never deadlock."""
    _advisory_lock(session, b"schedule.patient:", patient_id)


def lock_doctor_and_patient(session: Session, doctor_id: uuid.UUID, patient_id: uuid.UUID) -> None:
    """Both of a booking's locks in one round trip, the doctor's first: the function scan
    hands the keys to pg_advisory_xact_lock in the array's order."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key"),
        {"keys": [_lock_key(b"schedule.doctor:", doctor_id),
                  _lock_key(b"schedule.patient:", patient_id)]},
    )  # fmt: skip


def notify(
    session: Session,
    *,
    action: str,
    day: date | None,
    doctor_id: uuid.UUID | None,
    appointment_id: uuid.UUID | None = None,
    **extra: Any,
) -> None:
    """Tell other terminals, on commit (PostgreSQL holds NOTIFY until then; a rollback drops it)."""
    notice = schedule_notice(
        action=action, day=day, doctor_id=doctor_id, appointment_id=appointment_id, **extra
    )
    session.execute(text("SELECT pg_notify(:channel, :payload)"), notice)


def schedule_notice(
    *,
    action: str,
    day: date | None,
    doctor_id: uuid.UUID | None,
    appointment_id: uuid.UUID | None = None,
    **extra: Any,
) -> dict[str, str]:
    """The channel and payload of a schedule change's NOTIFY (see `notify`)."""
    payload = {
        "day": day.isoformat() if day else None,
        "doctor_id": str(doctor_id) if doctor_id else None,
        "appointment_id": str(appointment_id) if appointment_id else None,
        "action": action,
        **extra,
    }
    return {"channel": CHANNEL, "payload": json.dumps(payload, separators=(",", ":"))}


def available_blocks(
    session: Session, doctor_ids: Sequence[uuid.UUID], first: date, last: date
) -> dict[tuple[uuid.UUID, date], list[Block]]:
    """Each doctor-day's available blocks: rows marked available, minus rows marked not."""
    opened: dict[tuple[uuid.UUID, date], list[tuple[time, time]]] = defaultdict(list)
    closed: dict[tuple[uuid.UUID, date], list[tuple[time, time]]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT doctor_id, date, start_time, end_time, is_available FROM doctor_availabilities"
            " WHERE doctor_id = ANY(:ids) AND date BETWEEN :first AND :last"
        ),
        {"ids": list(doctor_ids), "first": first, "last": last},
    ):
        (opened if row.is_available else closed)[(row.doctor_id, row.date)].append(
            (row.start_time, row.end_time)
        )
    return {key: slotmath.subtract(blocks, closed.get(key, ())) for key, blocks in opened.items()}


def active_appointments(
    session: Session, doctor_id: uuid.UUID, day: date, start: time | None, end: time | None
) -> list[AppointmentRef]:
    """The doctor's active appointments that day touching ``[start, end)`` (None: all day)."""
    rows = session.execute(
        text(
            "SELECT id, doctor_id, appointment_date, start_time, end_time, status"
            " FROM appointments WHERE doctor_id = :doctor AND appointment_date = :day"
            f" AND {ACTIVE_SQL} AND start_time < :end AND end_time > :start ORDER BY start_time"
        ),
        {"doctor": doctor_id, "day": day, "start": start or time(0), "end": end or time.max},
    )
    return [AppointmentRef(*row) for row in rows]


def own_doctor_id(session: Session, actor: Actor) -> uuid.UUID | None:
    """The doctor row of a DOCTOR actor (doctors.user_id), for "my schedule" defaults."""
    if actor.role is not Role.DOCTOR:
        return None
    found: uuid.UUID | None = session.scalar(
        text("SELECT id FROM doctors WHERE user_id = :user"), {"user": actor.user_id}
    )
    return found


# --- generating availability ----------------------------------------------------------------


def days_between(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _rebuild(session: Session, doctor_ids: Sequence[uuid.UUID], first: date, last: date) -> int:
    """Make the availability rows of these doctor-days what templates and exceptions say,
    keeping existing availability under active appointments. Returns the rows written."""
    if not doctor_ids:
        return 0
    params = {"ids": list(doctor_ids), "first": first, "last": last}
    templates: dict[tuple[uuid.UUID, int], list[tuple[date, date | None, Block]]] = defaultdict(
        list
    )
    for row in session.execute(
        text(
            "SELECT doctor_id, weekday, start_time, end_time, valid_from, valid_to"
            " FROM weekly_schedule_templates WHERE doctor_id = ANY(:ids)"
            " AND valid_from <= :last AND (valid_to IS NULL OR valid_to >= :first)"
        ),
        params,
    ):
        templates[(row.doctor_id, row.weekday)].append(
            (row.valid_from, row.valid_to, Block(row.start_time, row.end_time))
        )
    # In the order they were made: a later exception overrides an earlier one.
    changes: dict[date, list[tuple[uuid.UUID | None, Adjustment]]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT doctor_id, exception_date, start_time, end_time, kind FROM schedule_exceptions"
            " WHERE (doctor_id = ANY(:ids) OR doctor_id IS NULL)"
            " AND exception_date BETWEEN :first AND :last ORDER BY created_at, id"
        ),
        params,
    ):
        if row.kind == "EXTRA_HOURS" and row.doctor_id is None:
            continue  # a clinic-wide row closes the clinic; who works extra is per doctor
        change = Change.OPEN if row.kind == "EXTRA_HOURS" else Change.CLOSE
        block = Block(row.start_time, row.end_time) if row.start_time is not None else None
        changes[row.exception_date].append((row.doctor_id, Adjustment(change, block)))
    existing: dict[tuple[uuid.UUID, date], list[Any]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT id, doctor_id, date, start_time, end_time, is_available, source"
            " FROM doctor_availabilities"
            " WHERE doctor_id = ANY(:ids) AND date BETWEEN :first AND :last"
        ),
        params,
    ):
        existing[(row.doctor_id, row.date)].append(row)
    booked: dict[tuple[uuid.UUID, date], list[tuple[time, time]]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT doctor_id, appointment_date, start_time, end_time FROM appointments"
            " WHERE doctor_id = ANY(:ids) AND appointment_date BETWEEN :first AND :last"
            f" AND {ACTIVE_SQL}"
        ),
        params,
    ):
        booked[(row.doctor_id, row.appointment_date)].append((row.start_time, row.end_time))

    stale: list[uuid.UUID] = []
    fresh: list[dict[str, Any]] = []
    for day in days_between(first, last):
        for doctor_id in doctor_ids:
            base = [
                block
                for valid_from, valid_to, block in templates.get((doctor_id, day.isoweekday()), ())
                if valid_from <= day and (valid_to is None or day <= valid_to)
            ]
            adjustments = [a for d, a in changes.get(day, ()) if d is None or d == doctor_id]
            rows = existing.get((doctor_id, day), [])
            if not base and not adjustments and not rows:
                continue
            wanted = slotmath.apply_adjustments(base, adjustments)
            had = [(r.start_time, r.end_time) for r in rows if r.is_available]
            kept = slotmath.intersect(had, booked.get((doctor_id, day), ()))
            final = slotmath.merge([*wanted, *kept])
            # Rows say where they came from: template hours, or hours added by hand.
            target = {(b.start, b.end, "TEMPLATE") for b in slotmath.intersect(final, base)}
            target |= {(b.start, b.end, "MANUAL") for b in slotmath.subtract(final, base)}
            current = {(r.start_time, r.end_time, r.source) for r in rows if r.is_available}
            if target == current and all(r.is_available for r in rows):
                continue
            stale.extend(r.id for r in rows)
            fresh.extend(
                {"doctor_id": doctor_id, "date": day, "start_time": s, "end_time": e,
                 "is_available": True, "source": source}
                for s, e, source in sorted(target)
            )  # fmt: skip
    if stale:
        session.execute(delete(_AVAILABILITY).where(_AVAILABILITY.c.id.in_(stale)))
    if fresh:
        session.execute(insert(_AVAILABILITY), fresh)
    return len(fresh)


def generate_availability(
    session: Session,
    actor: Actor,
    *,
    doctor_id: uuid.UUID | None = None,
    date_from: date,
    date_to: date,
) -> int:
    """Publish availability for the dates (inclusive) from templates minus exceptions, for
    one doctor or every active one. Rerunning changes nothing. Returns the rows written."""
    require(actor, Permission.SCHEDULE_WRITE)
    if date_to < date_from:
        raise ValueError("date_to is before date_from")
    if doctor_id is not None:
        doctor_ids = [doctor_id]
    else:
        doctor_ids = list(
            session.scalars(text("SELECT id FROM doctors WHERE is_active ORDER BY id"))
        )
    for one in sorted(doctor_ids):  # one order for everyone: no deadlock between generators
        lock_doctor(session, one)
    written = _rebuild(session, doctor_ids, date_from, date_to)
    if written:
        audit.record(
            session,
            "availability_generated",
            user_id=actor.user_id,
            entity="doctor" if doctor_id else None,
            entity_id=doctor_id,
            details={"from": date_from.isoformat(), "to": date_to.isoformat(), "rows": written},
        )
        notify(session, action="availability", day=date_from, doctor_id=doctor_id,
               until=date_to.isoformat())  # fmt: skip
    return written


def _edit(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    doctor_id: uuid.UUID,
    day: date,
    start: time | None,
    end: time | None,
    reason: str | None,
    now: datetime | None,
) -> list[Block]:
    require(actor, Permission.SCHEDULE_WRITE)
    if (start is None) != (end is None) or (start and end and end <= start):
        raise ValueError("give both start and end, end after start (or neither: the whole day)")
    if day < (now or clinic_now()).date():
        raise ScheduleRefused(RefusalCode.IN_THE_PAST)
    lock_doctor(session, doctor_id)
    if kind == "EXTRA_HOURS":
        if start is None or end is None:
            raise ValueError("extra hours need a start and an end")
        current = available_blocks(session, [doctor_id], day, day).get((doctor_id, day), [])
        if slotmath.fits(current, start, end):
            raise ScheduleRefused(RefusalCode.ALREADY_AVAILABLE)
    else:
        standing = active_appointments(session, doctor_id, day, start, end)
        if standing:
            raise ScheduleRefused(RefusalCode.APPOINTMENTS_STAND, standing)
    exception_id = session.execute(
        insert(_EXCEPTIONS)
        .values(
            doctor_id=doctor_id, exception_date=day, start_time=start, end_time=end, kind=kind,
            reason=nfc(reason),
            # Exceptions apply in the order made, and now() is one instant per transaction.
            created_at=func.clock_timestamp(),
        )
        .returning(_EXCEPTIONS.c.id)
    ).scalar_one()  # fmt: skip
    _rebuild(session, [doctor_id], day, day)
    action = "availability_added" if kind == "EXTRA_HOURS" else "availability_removed"
    audit.record(session, action, user_id=actor.user_id, entity="schedule_exception",
                 entity_id=exception_id, details={"doctor_id": str(doctor_id)})  # fmt: skip
    notify(session, action=action, day=day, doctor_id=doctor_id)
    return available_blocks(session, [doctor_id], day, day).get((doctor_id, day), [])


def set_unavailable(
    session: Session,
    actor: Actor,
    *,
    doctor_id: uuid.UUID,
    day: date,
    start: time | None,
    end: time | None,
    reason: str | None,
    now: datetime | None = None,
) -> list[Block]:
    """Take ``[start, end)`` (None, None: the whole day) out of the doctor's availability, as
    leave. Refused with the appointments standing there. Returns the day's blocks after."""
    return _edit(session, actor, kind="LEAVE", doctor_id=doctor_id, day=day, start=start,
                 end=end, reason=reason, now=now)  # fmt: skip


def add_hours(
    session: Session,
    actor: Actor,
    *,
    doctor_id: uuid.UUID,
    day: date,
    start: time,
    end: time,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Block]:
    """Open ``[start, end)`` for the doctor that day (extra hours; it also reopens leave).
    Refused when it is all available already. Returns the day's blocks after."""
    return _edit(session, actor, kind="EXTRA_HOURS", doctor_id=doctor_id, day=day, start=start,
                 end=end, reason=reason, now=now)  # fmt: skip


# --- the grids ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GridDoctor:
    id: uuid.UUID
    name: str
    specialization: str


@dataclass(frozen=True, slots=True)
class Cell:
    state: CellState
    appointment_id: uuid.UUID | None = None
    patient_short: str | None = None  # "An (N.V.)"
    starts_here: bool = False  # the appointment's first row: the screen writes the name here


_FREE: Final = Cell(CellState.FREE)
_UNAVAILABLE: Final = Cell(CellState.UNAVAILABLE)


@dataclass(frozen=True)
class DayGrid:
    day: date
    slot_minutes: int
    times: tuple[time, ...]  # the rows
    doctors: tuple[GridDoctor, ...]  # the columns
    cells: tuple[tuple[Cell, ...], ...]  # cells[column][row]

    def cell(self, column: int, row: int) -> Cell:
        return self.cells[column][row]


@dataclass(frozen=True)
class WeekGrid:
    doctor: GridDoctor
    slot_minutes: int
    days: tuple[date, ...]  # the columns, Monday first
    times: tuple[time, ...]  # the rows
    cells: tuple[tuple[Cell, ...], ...]  # cells[column][row]


def short_name(full_name: str) -> str:
    """A Vietnamese name as a grid cell fits it: the given name (last word, the one people are
    called by) and the initials of the rest: "Nguyễn Văn An" → "An (N.V.)"."""
    words = full_name.split()
    if len(words) < 2:
        return full_name.strip()
    initials = ".".join(word[0].upper() for word in words[:-1])
    return f"{words[-1]} ({initials}.)"


_Booked = tuple[time, time, uuid.UUID, str, str]  # start, end, id, status, patient name


def _column(rows: Sequence[time], minutes: int, blocks: list[Block], booked: list[_Booked]):
    covers = slotmath.cover(rows, minutes, blocks, [(b[0], b[1]) for b in booked])
    column: list[Cell] = []
    for place in covers:
        if place.busy_index is None:
            column.append(_FREE if place.available else _UNAVAILABLE)
            continue
        _s, _e, appointment_id, status, name = booked[place.busy_index]
        column.append(
            Cell(_CELL_OF_STATUS[status], appointment_id, short_name(name), place.starts_here)
        )
    return tuple(column)


@dataclass(frozen=True)
class _Frame:
    """The clinic's slot length and opening hours (its settings), which frame every grid."""

    slot_minutes: int
    opens: time
    closes: time


def _frame(session: Session, slot_minutes: int | None) -> _Frame:
    clinic = clinic_info(session)
    opens, closes = time.fromisoformat(clinic.opening_from), time.fromisoformat(clinic.opening_to)
    if closes <= opens:  # a setting the admin screen refuses; never an empty grid
        opens, closes = time(7, 30), time(17, 30)
    return _Frame(slot_minutes or clinic.slot_minutes, opens, closes)


def _rows(frame: _Frame, spans: Iterable[tuple[time, time]]) -> tuple[time, ...]:
    """The grid's rows: opening hours, stretched over anything outside them."""
    minutes = frame.slot_minutes
    starts, ends = [frame.opens], [frame.closes]
    for start, end in spans:
        starts.append(start)
        ends.append(end)
    return tuple(slotmath.day_grid(min(starts), max(ends), minutes))


_BOOKED_SQL: Final = (
    "SELECT a.doctor_id, a.appointment_date, a.start_time, a.end_time, a.id, a.status,"
    " p.full_name FROM appointments a JOIN patients p ON p.id = a.patient_id"
    f" JOIN doctors d ON d.id = a.doctor_id WHERE a.{ACTIVE_SQL}"
)


def day_grid(
    session: Session,
    actor: Actor,
    day: date,
    *,
    specialization: str | None = None,
    slot_minutes: int | None = None,
) -> DayGrid:
    """Active doctors (by name) × the day's slots: the clinic's slot length and opening hours
    unless ``slot_minutes`` is given. Every role that reads schedules sees every doctor; a
    therapist's screen starts on their own column (`own_doctor_id`)."""
    require(actor, Permission.SCHEDULE_READ)
    frame = _frame(session, slot_minutes)
    slot_minutes = frame.slot_minutes
    where = " AND d.specialization = :spec" if specialization else ""
    params = {"day": day, "spec": specialization}
    # Two set-based queries: doctors with the day's availability, and the day's bookings.
    doctors: dict[uuid.UUID, GridDoctor] = {}
    opened: dict[uuid.UUID, list[tuple[time, time]]] = defaultdict(list)
    closed: dict[uuid.UUID, list[tuple[time, time]]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT d.id, d.full_name, d.specialization, a.start_time, a.end_time, a.is_available"
            " FROM doctors d LEFT JOIN doctor_availabilities a"
            " ON a.doctor_id = d.id AND a.date = :day"
            f" WHERE d.is_active{where} ORDER BY d.full_name, d.id"
        ),
        params,
    ):
        doctors.setdefault(row.id, GridDoctor(row.id, row.full_name, row.specialization))
        if row.start_time is not None:
            (opened if row.is_available else closed)[row.id].append((row.start_time, row.end_time))
    booked: dict[uuid.UUID, list[_Booked]] = defaultdict(list)
    for row in session.execute(
        text(
            f"{_BOOKED_SQL} AND d.is_active AND a.appointment_date = :day{where}"
            " ORDER BY a.start_time"
        ),
        params,
    ):
        booked[row.doctor_id].append(
            (row.start_time, row.end_time, row.id, row.status, row.full_name)
        )
    blocks = {d: slotmath.subtract(opened[d], closed.get(d, ())) for d in doctors}
    spans = [b for d in doctors for b in blocks[d]] + [
        (b[0], b[1]) for d in doctors for b in booked.get(d, ())
    ]
    rows = _rows(frame, spans)
    cells = tuple(_column(rows, slot_minutes, blocks[d], booked.get(d, [])) for d in doctors)
    return DayGrid(day, slot_minutes, rows, tuple(doctors.values()), cells)


def week_grid(
    session: Session,
    actor: Actor,
    doctor_id: uuid.UUID,
    week_start: date,
    *,
    slot_minutes: int | None = None,
) -> WeekGrid:
    """One doctor × the seven days from ``week_start`` (the screen passes a Monday), framed
    like `day_grid`."""
    require(actor, Permission.SCHEDULE_READ)
    frame = _frame(session, slot_minutes)
    slot_minutes = frame.slot_minutes
    found = session.execute(
        text("SELECT id, full_name, specialization FROM doctors WHERE id = :id"),
        {"id": doctor_id},
    ).one_or_none()
    if found is None:
        raise NotFound("doctor", doctor_id)
    days = tuple(week_start + timedelta(days=n) for n in range(7))
    blocks = available_blocks(session, [doctor_id], days[0], days[-1])
    booked: dict[date, list[_Booked]] = defaultdict(list)
    for row in session.execute(
        text(
            f"{_BOOKED_SQL} AND a.doctor_id = :doctor"
            " AND a.appointment_date BETWEEN :first AND :last ORDER BY a.start_time"
        ),
        {"doctor": doctor_id, "first": days[0], "last": days[-1]},
    ):
        booked[row.appointment_date].append(
            (row.start_time, row.end_time, row.id, row.status, row.full_name)
        )
    per_day = {day: blocks.get((doctor_id, day), []) for day in days}
    spans = [b for day in days for b in per_day[day]] + [
        (b[0], b[1]) for day in days for b in booked.get(day, ())
    ]
    rows = _rows(frame, spans)
    cells = tuple(_column(rows, slot_minutes, per_day[d], booked.get(d, [])) for d in days)
    return WeekGrid(GridDoctor(*found), slot_minutes, days, rows, cells)
