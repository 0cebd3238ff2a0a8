"""Appointments: finding a free slot, booking, moving, the status flow, the day's list, and
the live feed other terminals listen to (DESIGN §5.3, issue 7).

The database forbids double booking: `book` checks what it can explain in advance (inside
availability, not in the past) and leaves overlap to the exclusion constraints, so a lost
race is an exclusion violation (SQLSTATE 23P01) turned into `SlotTaken` or `PatientBusy`.
Every insert runs in a savepoint, so a refusal leaves the caller's transaction usable.

A reschedule keeps history: the old appointment becomes CANCELLED with the reason
"rescheduled", and a new one points back to it (``rescheduled_from_id``), in one savepoint,
so either both happen or neither. Status changes are optimistic: the caller passes the
``version`` it saw, and a stale one raises `ScheduleConflict` without writing anything.
Every change is audited (ids only) and announced with NOTIFY, which PostgreSQL delivers on
commit; `ScheduleListener` receives it on another terminal.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final, cast

import psycopg
from psycopg import sql
from sqlalchemy import Table, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from clinic_tui.db.engine import libpq_url, normalise_url
from clinic_tui.domain import slots as slotmath
from clinic_tui.models import Appointment
from clinic_tui.models.scheduling import APPOINTMENT_TYPES
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, PermissionDenied, Role, require
from clinic_tui.services.scheduling import (
    ACTIVE_SQL,
    CHANNEL,
    AppointmentRef,
    NotFound,
    RefusalCode,
    SchedulingError,
    available_blocks,
    clinic_now,
    days_between,
    local,
    lock_doctor_and_patient,
    nfc,
    notify,
    own_doctor_id,
    schedule_notice,
)

log = logging.getLogger(__name__)
_APPOINTMENTS = cast(Table, Appointment.__table__)
RESCHEDULED: Final = "rescheduled"  # the cancel_reason of the old half of a reschedule


# --- refusals and results -------------------------------------------------------------------


class BookingRefused(SchedulingError):
    """A booking the schedule will not take; ``appointments`` are those in the way."""

    code: RefusalCode = RefusalCode.OUTSIDE_AVAILABILITY

    def __init__(self, appointments: Sequence[AppointmentRef] = ()) -> None:
        super().__init__(self.code.value)
        self.appointments = list(appointments)


class OutsideAvailability(BookingRefused):
    code = RefusalCode.OUTSIDE_AVAILABILITY


class SlotTaken(BookingRefused):
    """The doctor is booked there: most often a race just lost ("this slot was just taken")."""

    code = RefusalCode.SLOT_TAKEN


class PatientBusy(BookingRefused):
    """The patient has another active appointment overlapping this one."""

    code = RefusalCode.PATIENT_BUSY


class InThePast(BookingRefused):
    code = RefusalCode.IN_THE_PAST


class InvalidTransition(SchedulingError):
    """Not allowed from the appointment's status (``reason`` "status"), or not yet: a
    check-in before its day, a no-show before its start (``reason`` "not_yet")."""

    code = "INVALID_TRANSITION"

    def __init__(self, appointment_id: uuid.UUID, status: str, target: str, reason: str):
        super().__init__(f"{appointment_id}: {status} → {target} ({reason})")
        self.appointment_id, self.status, self.target, self.reason = (
            appointment_id, status, target, reason,
        )  # fmt: skip


class ScheduleConflict(SchedulingError):
    """The appointment changed since it was read: reload; nothing was written."""

    code = "CONFLICT"

    def __init__(self, appointment_id: uuid.UUID, current_version: int) -> None:
        super().__init__(f"appointment {appointment_id} is at version {current_version}")
        self.appointment_id = appointment_id
        self.current_version = current_version


class WarningCode(StrEnum):
    PATIENT_HAS_APPOINTMENT_THAT_DAY = "PATIENT_HAS_APPOINTMENT_THAT_DAY"
    CARD_EXPIRED = "CARD_EXPIRED"
    CARD_NOT_YET_VALID = "CARD_NOT_YET_VALID"
    CARD_NONE = "CARD_NONE"


class CardStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NONE = "none"  # no BHYT card: the patient pays in full


def card_status(
    has_card: bool, valid_from: date | None, valid_to: date | None, day: date
) -> CardStatus:
    if not has_card:
        return CardStatus.NONE
    if valid_to is not None and valid_to < day:
        return CardStatus.EXPIRED
    if valid_from is not None and day < valid_from:
        return CardStatus.NOT_YET_VALID
    return CardStatus.VALID


_CARD_WARNING: Final = {
    CardStatus.EXPIRED: WarningCode.CARD_EXPIRED,
    CardStatus.NOT_YET_VALID: WarningCode.CARD_NOT_YET_VALID,
    CardStatus.NONE: WarningCode.CARD_NONE,
}


@dataclass(frozen=True, slots=True)
class BookingWarning:
    """Said to the receptionist, not refused: ``appointments`` are the patient's others that
    day; ``card_valid_to`` the card's end for CARD_EXPIRED."""

    code: WarningCode
    appointments: tuple[AppointmentRef, ...] = ()
    card_valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class AppointmentInfo:
    id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID
    day: date
    start: time
    end: time
    status: str
    appointment_type: str
    reason: str | None
    version: int
    rescheduled_from_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class BookingResult:
    appointment: AppointmentInfo
    warnings: tuple[BookingWarning, ...]


_INFO_COLUMNS: Final = (
    "id", "patient_id", "doctor_id", "appointment_date", "start_time", "end_time", "status",
    "appointment_type", "reason", "version", "rescheduled_from_id",
)  # fmt: skip


def _info(row: Any) -> AppointmentInfo:
    return AppointmentInfo(*(getattr(row, column) for column in _INFO_COLUMNS))


def _load(session: Session, appointment_id: uuid.UUID, *, lock: bool = False) -> Any:
    row = session.execute(
        text(
            f"SELECT {', '.join(_INFO_COLUMNS)}, medical_term_id, is_referred FROM appointments"
            f" WHERE id = :id{' FOR UPDATE' if lock else ''}"
        ),
        {"id": appointment_id},
    ).one_or_none()
    if row is None:
        raise NotFound("appointment", appointment_id)
    return row


# --- first available ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    doctor_id: uuid.UUID
    doctor_name: str
    specialization: str
    day: date
    start: time
    end: time
    slots: int
    slot_minutes: int


def first_available(
    session: Session,
    actor: Actor,
    *,
    doctor_id: uuid.UUID | None = None,
    specialization: str | None = None,
    from_moment: datetime,
    slots: int = 1,
    slot_minutes: int = 30,
    horizon_days: int = 28,
    limit: int = 10,
    now: datetime | None = None,
) -> list[Offer]:
    """Each candidate doctor's first free start for ``slots`` slots from ``from_moment``
    (never before now) within ``horizon_days`` days, earliest first, at most ``limit``.
    Candidates: the doctor, or the active doctors of the specialization, or all active ones.
    It searches published availability (see `scheduling.generate_availability`)."""
    require(actor, Permission.SCHEDULE_READ)
    if slots < 1:
        raise ValueError("book at least one slot")
    moment = max(local(from_moment), now or clinic_now())
    first, last = moment.date(), moment.date() + timedelta(days=horizon_days - 1)
    conditions = ["is_active"]
    if doctor_id is not None:
        conditions.append("id = :doctor")
    if specialization:
        conditions.append("specialization = :spec")
    doctors = session.execute(
        text(
            "SELECT id, full_name, specialization FROM doctors"
            f" WHERE {' AND '.join(conditions)} ORDER BY full_name, id"
        ),
        {"doctor": doctor_id, "spec": specialization},
    ).all()
    if not doctors:
        return []
    ids = [row.id for row in doctors]
    blocks = available_blocks(session, ids, first, last)
    busy: dict[tuple[uuid.UUID, date], list[tuple[time, time]]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT doctor_id, appointment_date, start_time, end_time FROM appointments"
            " WHERE doctor_id = ANY(:ids) AND appointment_date BETWEEN :first AND :last"
            f" AND {ACTIVE_SQL}"
        ),
        {"ids": ids, "first": first, "last": last},
    ):
        busy[(row.doctor_id, row.appointment_date)].append((row.start_time, row.end_time))
    length = slots * slot_minutes
    offers: list[Offer] = []
    for doctor in doctors:
        for day in days_between(first, last):
            key = (doctor.id, day)
            if key not in blocks:
                continue
            earliest = moment.time() if day == first else time(0)
            found = slotmath.first_free(
                blocks[key], busy.get(key, ()), earliest=earliest, length=length, step=slot_minutes
            )
            end = None if found is None else slotmath.end_of(found, length)
            if found is not None and end is not None:
                offers.append(Offer(doctor.id, doctor.full_name, doctor.specialization, day,
                                    found, end, slots, slot_minutes))  # fmt: skip
                break
    offers.sort(key=lambda o: (o.day, o.start, o.doctor_name))
    return offers[:limit]


# --- booking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BookingFacts:
    """What a booking checks, read in one round trip under its locks."""

    doctor_active: bool | None  # None: no such doctor
    blocks: list[slotmath.Block]
    patient_found: bool
    has_card: bool
    card_valid_from: date | None
    card_valid_to: date | None
    same_day: tuple[AppointmentRef, ...]


_BOOKING_FACTS: Final = text(
    "SELECT (SELECT is_active FROM doctors WHERE id = :doctor) AS doctor_active,"
    " av.starts, av.ends, av.open, p.id IS NOT NULL AS patient_found,"
    " c.id IS NOT NULL AS has_card, c.valid_from, c.valid_to,"
    " sd.ids, sd.doctors, sd.starts AS sd_starts, sd.ends AS sd_ends, sd.statuses"
    " FROM (SELECT array_agg(start_time) AS starts, array_agg(end_time) AS ends,"
    "        array_agg(is_available) AS open FROM doctor_availabilities"
    "        WHERE doctor_id = :doctor AND date = :day) av"
    " CROSS JOIN (SELECT array_agg(id ORDER BY start_time) AS ids,"
    "        array_agg(doctor_id ORDER BY start_time) AS doctors,"
    "        array_agg(start_time ORDER BY start_time) AS starts,"
    "        array_agg(end_time ORDER BY start_time) AS ends,"
    "        array_agg(status ORDER BY start_time) AS statuses FROM appointments"
    "        WHERE patient_id = :patient AND appointment_date = :day"
    f"        AND {ACTIVE_SQL} AND id IS DISTINCT FROM :exclude) sd"
    " LEFT JOIN patients p ON p.id = :patient"
    " LEFT JOIN LATERAL (SELECT i.id, i.valid_from, i.valid_to FROM insurance_info i"
    "  WHERE i.patient_id = p.id AND i.provider_type = 'BHYT'"
    "  ORDER BY i.is_primary DESC, i.valid_to DESC NULLS FIRST LIMIT 1) c ON true"
)


def _booking_facts(
    session: Session,
    *,
    doctor_id: uuid.UUID,
    patient_id: uuid.UUID,
    day: date,
    exclude: uuid.UUID | None,
) -> _BookingFacts:
    row = session.execute(
        _BOOKING_FACTS,
        {"doctor": doctor_id, "patient": patient_id, "day": day, "exclude": exclude},
    ).one()
    rows = zip(row.starts or (), row.ends or (), row.open or (), strict=True)
    opened: list[tuple[time, time]] = []
    closed: list[tuple[time, time]] = []
    for begins, ends, is_open in rows:
        (opened if is_open else closed).append((begins, ends))
    same_day = tuple(
        AppointmentRef(appointment_id, doctor, day, begins, ends, status)
        for appointment_id, doctor, begins, ends, status in zip(
            row.ids or (), row.doctors or (), row.sd_starts or (), row.sd_ends or (),
            row.statuses or (), strict=True,
        )
    )  # fmt: skip
    return _BookingFacts(
        doctor_active=row.doctor_active,
        blocks=slotmath.subtract(opened, closed),
        patient_found=row.patient_found,
        has_card=row.has_card,
        card_valid_from=row.valid_from,
        card_valid_to=row.valid_to,
        same_day=same_day,
    )


def _warnings(facts: _BookingFacts, day: date) -> tuple[BookingWarning, ...]:
    warnings = []
    if facts.same_day:
        warnings.append(
            BookingWarning(WarningCode.PATIENT_HAS_APPOINTMENT_THAT_DAY, facts.same_day)
        )
    status = card_status(facts.has_card, facts.card_valid_from, facts.card_valid_to, day)
    if status in _CARD_WARNING:
        warnings.append(BookingWarning(_CARD_WARNING[status], card_valid_to=facts.card_valid_to))
    return tuple(warnings)


def _overlapping(
    session: Session, column: str, value: uuid.UUID, day: date, start: time, end: time
) -> list[AppointmentRef]:
    rows = session.execute(
        text(
            "SELECT id, doctor_id, appointment_date, start_time, end_time, status"
            f" FROM appointments WHERE {column} = :value AND appointment_date = :day"
            f" AND {ACTIVE_SQL} AND start_time < :end AND end_time > :start"
        ),
        {"value": value, "day": day, "start": start, "end": end},
    )
    return [AppointmentRef(*row) for row in rows]


def _place(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    doctor_id: uuid.UUID,
    day: date,
    start: time,
    slots: int,
    slot_minutes: int,
    now: datetime | None,
    exclude: uuid.UUID | None = None,
    **values: Any,
) -> BookingResult:
    """Check and insert one appointment (shared by `book` and `reschedule`)."""
    if slots < 1 or slot_minutes < 1:
        raise ValueError("book at least one slot of at least a minute")
    if values.get("appointment_type") not in APPOINTMENT_TYPES:
        raise ValueError(f"unknown appointment type {values.get('appointment_type')!r}")
    end = slotmath.end_of(start, slots * slot_minutes)
    if end is None:
        raise OutsideAvailability()
    # The slot under way may still be booked (a walk-in); one that has ended may not.
    if datetime.combine(day, start) + timedelta(minutes=slot_minutes) <= (now or clinic_now()):
        raise InThePast()
    lock_doctor_and_patient(session, doctor_id, patient_id)
    facts = _booking_facts(
        session, doctor_id=doctor_id, patient_id=patient_id, day=day, exclude=exclude
    )
    if facts.doctor_active is None:
        raise NotFound("doctor", doctor_id)
    if not facts.doctor_active or not slotmath.fits(facts.blocks, start, end):
        raise OutsideAvailability()
    if not facts.patient_found:
        raise NotFound("patient", patient_id)
    warnings = _warnings(facts, day)
    # The exclusion constraints decide. DO NOTHING turns their refusal into "no row" rather
    # than an error that would end the transaction (so no savepoint is needed around it);
    # appointments have no other unique constraint for it to swallow.
    statement = (
        pg_insert(_APPOINTMENTS)
        .values(
            patient_id=patient_id, doctor_id=doctor_id, appointment_date=day, start_time=start,
            end_time=end, status="SCHEDULED", created_by=actor.user_id, **values,
        )
        .on_conflict_do_nothing()
        .returning(*(_APPOINTMENTS.c[column] for column in _INFO_COLUMNS))
    )  # fmt: skip
    row = session.execute(statement).one_or_none()
    if row is None:
        taken = _overlapping(session, "doctor_id", doctor_id, day, start, end)
        busy = [] if taken else _overlapping(session, "patient_id", patient_id, day, start, end)
        raise PatientBusy(busy) if busy else SlotTaken(taken)
    return BookingResult(_info(row), warnings)


def book(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    doctor_id: uuid.UUID,
    day: date,
    start: time,
    slots: int,
    appointment_type: str,
    reason: str | None = None,
    medical_term_id: uuid.UUID | None = None,
    slot_minutes: int = 30,
    is_referred: bool = False,
    now: datetime | None = None,
) -> BookingResult:
    """Book ``slots`` slots from ``start``. Refusals raise (`OutsideAvailability`, `SlotTaken`,
    `PatientBusy`, `InThePast`); warnings come back with the result."""
    require(actor, Permission.APPOINTMENT_WRITE)
    result = _place(
        session, actor, patient_id=patient_id, doctor_id=doctor_id, day=day, start=start,
        slots=slots, slot_minutes=slot_minutes, now=now, appointment_type=appointment_type,
        reason=nfc(reason), medical_term_id=medical_term_id, is_referred=is_referred,
    )  # fmt: skip
    booked = result.appointment
    audit.record(
        session, "appointment_booked", user_id=actor.user_id, entity="appointment",
        entity_id=booked.id, details={"doctor_id": str(doctor_id), "patient_id": str(patient_id)},
        notice=schedule_notice(action="booked", day=day, doctor_id=doctor_id,
                               appointment_id=booked.id),
    )  # fmt: skip
    return result


def reschedule(
    session: Session,
    actor: Actor,
    appointment_id: uuid.UUID,
    *,
    day: date,
    start: time,
    slots: int,
    expected_version: int,
    doctor_id: uuid.UUID | None = None,
    slot_minutes: int = 30,
    now: datetime | None = None,
) -> BookingResult:
    """Move a SCHEDULED appointment (to another doctor too, given ``doctor_id``): the old one
    is cancelled as "rescheduled" and a new one made from it. The new time may overlap the
    old one (say 30 minutes later): the old is cancelled first, so it frees its slot."""
    require(actor, Permission.APPOINTMENT_WRITE)
    with session.begin_nested():  # both halves or neither
        old = _load(session, appointment_id, lock=True)
        if old.version != expected_version:
            raise ScheduleConflict(appointment_id, old.version)
        if old.status != "SCHEDULED":
            raise InvalidTransition(appointment_id, old.status, "CANCELLED", "status")
        session.execute(
            update(_APPOINTMENTS)
            .where(_APPOINTMENTS.c.id == appointment_id)
            .values(status="CANCELLED", cancel_reason=RESCHEDULED, cancelled_at=func.now(),
                    version=_APPOINTMENTS.c.version + 1)
        )  # fmt: skip
        result = _place(
            session, actor, patient_id=old.patient_id, doctor_id=doctor_id or old.doctor_id,
            day=day, start=start, slots=slots, slot_minutes=slot_minutes, now=now,
            exclude=appointment_id, appointment_type=old.appointment_type, reason=old.reason,
            medical_term_id=old.medical_term_id, is_referred=old.is_referred,
            rescheduled_from_id=appointment_id,
        )  # fmt: skip
    new = result.appointment
    audit.record(session, "appointment_rescheduled", user_id=actor.user_id, entity="appointment",
                 entity_id=new.id, details={"from": str(appointment_id)})  # fmt: skip
    notify(session, action="rescheduled_from", day=old.appointment_date, doctor_id=old.doctor_id,
           appointment_id=appointment_id)  # fmt: skip
    notify(session, action="rescheduled_to", day=new.day, doctor_id=new.doctor_id,
           appointment_id=new.id)  # fmt: skip
    return result


# --- the status flow ------------------------------------------------------------------------

# action: (statuses it may leave, status it reaches, timestamp column it sets)
_FLOW: Final = {
    "cancel": (("SCHEDULED",), "CANCELLED", "cancelled_at"),
    "no_show": (("SCHEDULED",), "NO_SHOW", None),
    "check_in": (("SCHEDULED",), "CHECKED_IN", "checked_in_at"),
    "complete": (("CHECKED_IN",), "COMPLETED", "completed_at"),
}


def _may(session: Session, actor: Actor, action: str, doctor_id: uuid.UUID | None) -> None:
    """The front desk moves every appointment; a therapist only completes their own visits
    (``doctor_id`` None: the appointment is not loaded yet, so only the role is checked)."""
    if actor is not None and actor.can(Permission.APPOINTMENT_WRITE):
        return
    therapist = actor is not None and actor.can(Permission.CLINICAL_WRITE)
    if (
        action == "complete"
        and therapist
        and (doctor_id is None or own_doctor_id(session, actor) == doctor_id)
    ):
        return
    raise PermissionDenied(actor, Permission.APPOINTMENT_WRITE)


def _transition(
    session: Session,
    actor: Actor,
    appointment_id: uuid.UUID,
    *,
    action: str,
    expected_version: int,
    now: datetime | None,
    **values: Any,
) -> AppointmentInfo:
    _may(session, actor, action, None)
    row = _load(session, appointment_id)
    _may(session, actor, action, row.doctor_id)
    if row.version != expected_version:
        raise ScheduleConflict(appointment_id, row.version)
    leaves, target, stamp = _FLOW[action]
    if row.status not in leaves:
        raise InvalidTransition(appointment_id, row.status, target, "status")
    moment = now or clinic_now()
    too_early = (action == "check_in" and row.appointment_date > moment.date()) or (
        action == "no_show" and datetime.combine(row.appointment_date, row.start_time) > moment
    )
    if too_early:
        raise InvalidTransition(appointment_id, row.status, target, "not_yet")
    if stamp:
        values[stamp] = func.now()
    saved = session.execute(
        update(_APPOINTMENTS)
        .where(_APPOINTMENTS.c.id == appointment_id, _APPOINTMENTS.c.version == expected_version)
        .values(status=target, version=_APPOINTMENTS.c.version + 1, **values)
        .returning(*(_APPOINTMENTS.c[column] for column in _INFO_COLUMNS))
    ).one_or_none()
    if saved is None:  # changed between our read and our write: the other one committed first
        raise ScheduleConflict(appointment_id, _load(session, appointment_id).version)
    audit.record(session, f"appointment_{target.lower()}", user_id=actor.user_id,
                 entity="appointment", entity_id=appointment_id)  # fmt: skip
    notify(session, action=target.lower(), day=row.appointment_date, doctor_id=row.doctor_id,
           appointment_id=appointment_id)  # fmt: skip
    return _info(saved)


def cancel(
    session: Session, actor: Actor, appointment_id: uuid.UUID, *, reason: str,
    expected_version: int,
) -> AppointmentInfo:  # fmt: skip
    """SCHEDULED → CANCELLED, with the reason; the slot is free again."""
    reason = nfc(reason) or ""
    if not reason:
        raise ValueError("a cancellation needs a reason")
    return _transition(session, actor, appointment_id, action="cancel", now=None,
                       expected_version=expected_version, cancel_reason=reason)  # fmt: skip


def mark_no_show(
    session: Session, actor: Actor, appointment_id: uuid.UUID, *, expected_version: int,
    now: datetime | None = None,
) -> AppointmentInfo:  # fmt: skip
    """SCHEDULED → NO_SHOW, once its start has passed; the slot is free again."""
    return _transition(session, actor, appointment_id, action="no_show", now=now,
                       expected_version=expected_version)  # fmt: skip


def check_in(
    session: Session, actor: Actor, appointment_id: uuid.UUID, *, expected_version: int,
    now: datetime | None = None,
) -> AppointmentInfo:  # fmt: skip
    """SCHEDULED → CHECKED_IN, on the day (or later, recording it after the fact)."""
    return _transition(session, actor, appointment_id, action="check_in", now=now,
                       expected_version=expected_version)  # fmt: skip


def complete(
    session: Session, actor: Actor, appointment_id: uuid.UUID, *, expected_version: int
) -> AppointmentInfo:
    """CHECKED_IN → COMPLETED; the front desk or the appointment's own therapist."""
    return _transition(session, actor, appointment_id, action="complete", now=None,
                       expected_version=expected_version)  # fmt: skip


# --- the day's list -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayListEntry:
    appointment_id: uuid.UUID
    version: int
    day: date
    start: time
    end: time
    status: str
    appointment_type: str
    reason: str | None
    patient_id: uuid.UUID
    patient_name: str
    patient_code: str
    doctor_id: uuid.UUID
    doctor_name: str
    card_status: CardStatus
    card_valid_to: date | None
    checked_in_at: datetime | None
    rescheduled_from_id: uuid.UUID | None


def day_list(
    session: Session,
    actor: Actor,
    day: date,
    *,
    doctor_id: uuid.UUID | None = None,
    active_only: bool = False,
) -> list[DayListEntry]:
    """The day's appointments by time, every status (``active_only``: without cancelled and
    no-show). A therapist's list is their own unless they ask for another doctor."""
    require(actor, Permission.SCHEDULE_READ)
    if doctor_id is None and actor.role is Role.DOCTOR:
        doctor_id = own_doctor_id(session, actor)
        if doctor_id is None:
            return []  # a therapist account not linked to a doctor row has no list
    where = " AND a.doctor_id = :doctor" if doctor_id else ""
    if active_only:
        where += f" AND a.{ACTIVE_SQL}"
    rows = session.execute(
        text(
            "SELECT a.id, a.version, a.appointment_date, a.start_time, a.end_time, a.status,"
            " a.appointment_type, a.reason, a.patient_id, p.full_name AS patient_name,"
            " p.patient_code, a.doctor_id, d.full_name AS doctor_name,"
            " c.id IS NOT NULL AS has_card, c.valid_from, c.valid_to, a.checked_in_at,"
            " a.rescheduled_from_id"
            " FROM appointments a JOIN patients p ON p.id = a.patient_id"
            " JOIN doctors d ON d.id = a.doctor_id"
            " LEFT JOIN LATERAL (SELECT i.id, i.valid_from, i.valid_to FROM insurance_info i"
            "  WHERE i.patient_id = a.patient_id AND i.provider_type = 'BHYT'"
            "  ORDER BY i.is_primary DESC, i.valid_to DESC NULLS FIRST LIMIT 1) c ON true"
            f" WHERE a.appointment_date = :day{where}"
            " ORDER BY a.start_time, d.full_name, p.full_name"
        ),
        {"day": day, "doctor": doctor_id},
    )
    return [_entry(row, day) for row in rows]


def _entry(r: Any, day: date) -> DayListEntry:
    return DayListEntry(
        r.id, r.version, r.appointment_date, r.start_time, r.end_time, r.status,
        r.appointment_type, r.reason, r.patient_id, r.patient_name, r.patient_code, r.doctor_id,
        r.doctor_name, card_status(r.has_card, r.valid_from, r.valid_to, day), r.valid_to,
        r.checked_in_at, r.rescheduled_from_id,
    )  # fmt: skip


# --- live updates ---------------------------------------------------------------------------


class ScheduleListener:
    """LISTEN on the schedule channel in a background thread; ``callback(payload)`` runs on
    that thread for every change committed anywhere (a Textual screen posts a message from
    it). A dropped connection is retried with backoff; ``on_lost()`` runs once when it drops
    (the header shows the database as unavailable) and ``on_reconnect()`` once it is back,
    because what was announced while away is lost and open grids must reload."""

    def __init__(
        self,
        url: str,
        callback: Callable[[dict[str, Any]], None],
        *,
        on_reconnect: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
        channel: str = CHANNEL,
        poll_seconds: float = 0.25,
        max_backoff: float = 2.0,
    ) -> None:
        self._conninfo = libpq_url(normalise_url(url))
        self._callback, self._on_reconnect = callback, on_reconnect
        self._on_lost = on_lost
        self._channel, self._poll, self._max_backoff = channel, poll_seconds, max_backoff
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.backend_pid: int | None = None  # of the listening connection (tests end it)
        self._thread = threading.Thread(target=self._run, name="schedule-listener", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Whether LISTEN is in place (so a change committed now will be heard)."""
        return self._ready.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        delay, connected_before = 0.1, False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self.backend_pid = conn.info.backend_pid
                    self._ready.set()
                    if connected_before and self._on_reconnect is not None:
                        self._safely(self._on_reconnect)
                    connected_before, delay = True, 0.1
                    while not self._stop.is_set():
                        # Wake up now and then to see whether close() was called.
                        for note in conn.notifies(timeout=self._poll):
                            self._deliver(note.payload)
            except psycopg.Error as error:
                if self._ready.is_set() and self._on_lost is not None:
                    self._safely(self._on_lost)
                self._ready.clear()
                log.warning("schedule listener lost its connection: %s", error)
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_backoff)

    def _deliver(self, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed schedule notification")
            return
        if isinstance(data, dict):
            self._safely(lambda: self._callback(data))

    @staticmethod
    def _safely(function: Callable[[], None]) -> None:
        try:
            function()
        except Exception:  # a screen's bug must not stop the feed for the others
            log.exception("schedule listener callback failed")
