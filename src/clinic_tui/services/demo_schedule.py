"""Weekly templates, availability and appointments for the demo clinic.

Availability rows are generated from the templates in the database (not from the demo's own
list), minus whole-day and partial exceptions, so rerunning later fills new dates for every
doctor the same way. Appointments are laid out per doctor per day as consecutive,
non-overlapping slots inside availability, around whatever is already booked, with at most one
appointment per patient per day: the exclusion constraints can never fire.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Final

from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from clinic_tui.domain.vietnamese_names import WeightedChoice, pick
from clinic_tui.models import Appointment, DoctorAvailability, WeeklyScheduleTemplate
from clinic_tui.services.demo_load import table_of
from clinic_tui.services.demo_patients import PoolPatient

VIETNAM: Final = timezone(timedelta(hours=7))  # no daylight saving time
SLOT_MINUTES: Final = 30
MORNING: Final = (time(7, 30), time(11, 30))
AFTERNOON: Final = (time(13, 30), time(17, 0))
DAYS_BACK: Final = 14  # appointments reach two weeks back …
DAYS_AHEAD: Final = 14  # … and two weeks ahead
AVAILABILITY_DAYS: Final = 28  # availability is published four weeks ahead

# fmt: off
_REASONS: Final = {
    "musculoskeletal": ("Đau thắt lưng", "Đau cổ vai gáy", "Thoái hóa khớp gối",
                        "Viêm quanh khớp vai", "Thoát vị đĩa đệm cột sống thắt lưng",
                        "Hội chứng ống cổ tay", "Đau gót chân, viêm cân gan chân",
                        "Phục hồi sau gãy xương cổ tay"),
    "neurological": ("Phục hồi vận động sau tai biến mạch máu não", "Liệt dây thần kinh VII",
                     "Bệnh Parkinson: tập thăng bằng và dáng đi", "Tổn thương tủy sống",
                     "Đau thần kinh tọa"),
    "paediatric": ("Chậm phát triển vận động", "Vẹo cổ bẩm sinh", "Bàn chân bẹt",
                   "Bại não: tập vận động", "Vẹo cột sống ở trẻ em"),
    "sports": ("Phục hồi sau mổ tái tạo dây chằng chéo trước", "Bong gân cổ chân",
               "Viêm gân gót", "Viêm điểm bám gân khuỷu (tennis elbow)", "Căng cơ đùi sau"),
    "geriatric": ("Tập thăng bằng, phòng ngã", "Phục hồi sau thay khớp háng",
                  "Thoái hóa cột sống", "Loãng xương: tập tăng sức mạnh cơ"),
    "cardiopulmonary": ("Phục hồi chức năng hô hấp sau COVID-19", "Bệnh phổi tắc nghẽn mạn tính",
                        "Phục hồi tim mạch sau đặt stent", "Tập thở sau phẫu thuật lồng ngực"),
}
_CANCEL_REASONS: Final = ("Bệnh nhân bận việc gia đình", "Bệnh nhân bị sốt",
                          "Đổi lịch sang tuần sau", "Mưa lớn, không đến được",
                          "Bệnh nhân đi công tác")
_TYPES: Final = WeightedChoice(("INITIAL_EVALUATION", "FOLLOW_UP", "RE_EVALUATION", "DISCHARGE"),
                               (15, 65, 12, 8))
_PAST: Final = WeightedChoice(("COMPLETED", "NO_SHOW", "CANCELLED"), (80, 8, 12))
_FUTURE: Final = WeightedChoice(("SCHEDULED", "CANCELLED"), (95, 5))
# fmt: on


@dataclass(frozen=True, slots=True)
class Visit:
    """A completed appointment, as billing needs it."""

    id: uuid.UUID
    patient: PoolPatient
    doctor_id: uuid.UUID
    day: date
    end: time
    kind: str
    is_referred: bool


def template_rows(
    doctor_id: uuid.UUID, weekdays: Iterable[int], valid_from: date, *, mornings: bool = True
) -> list[dict[str, Any]]:
    blocks = (MORNING, AFTERNOON) if mornings else (AFTERNOON,)
    return [
        {
            "doctor_id": doctor_id,
            "weekday": weekday,
            "start_time": start,
            "end_time": end,
            "slot_minutes": SLOT_MINUTES,
            "valid_from": valid_from,
        }
        for weekday in weekdays
        for start, end in blocks
    ]


def doctors_with_templates(session: Session, doctor_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    table = table_of(WeeklyScheduleTemplate)
    query = select(table.c.doctor_id).where(table.c.doctor_id.in_(doctor_ids)).distinct()
    return set(session.execute(query).scalars())


def _overlaps(a_start: time, a_end: time, b_start: time | None, b_end: time | None) -> bool:
    if b_start is None or b_end is None:  # a whole-day exception
        return True
    return a_start < b_end and b_start < a_end


def publish_availability(
    session: Session, doctor_ids: Sequence[uuid.UUID], first: date, days: int
) -> int:
    """One row per template block per date, minus exceptions; existing rows are kept (the
    unique (doctor, date, start) makes a rerun add nothing). Returns the rows added."""
    if not doctor_ids:
        return 0
    last = first + timedelta(days=days - 1)
    templates = session.execute(
        text(
            "SELECT doctor_id, weekday, start_time, end_time FROM weekly_schedule_templates"
            " WHERE doctor_id = ANY(:ids) AND valid_from <= :last"
            " AND (valid_to IS NULL OR valid_to >= :first)"
        ),
        {"ids": list(doctor_ids), "first": first, "last": last},
    ).all()
    # Holidays and leave: a row without a doctor closes the whole clinic.
    closed: dict[tuple[uuid.UUID | None, date], list[tuple[time | None, time | None]]] = (
        defaultdict(list)
    )
    for exception in session.execute(
        text(
            "SELECT doctor_id, exception_date, start_time, end_time FROM schedule_exceptions"
            " WHERE kind <> 'EXTRA_HOURS' AND exception_date BETWEEN :first AND :last"
        ),
        {"first": first, "last": last},
    ):
        closed[(exception.doctor_id, exception.exception_date)].append(
            (exception.start_time, exception.end_time)
        )
    rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for doctor_id, weekday, start, end in templates:
            if weekday != day.isoweekday():
                continue
            blocked = closed.get((doctor_id, day), []) + closed.get((None, day), [])
            if any(_overlaps(start, end, b_start, b_end) for b_start, b_end in blocked):
                continue
            rows.append(
                {"doctor_id": doctor_id, "date": day, "start_time": start, "end_time": end,
                 "is_available": True, "source": "TEMPLATE"}
            )  # fmt: skip
    if not rows:
        return 0
    statement = (
        pg_insert(table_of(DoctorAvailability))
        .on_conflict_do_nothing(constraint="uq_doctor_availabilities_doctor_date_start")
        .returning(table_of(DoctorAvailability).c.id)
    )
    return len(session.execute(statement, rows).all())


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def book_appointments(
    session: Session,
    rng: random.Random,
    doctors: Sequence[tuple[uuid.UUID, str]],
    pool: Sequence[PoolPatient],
    today: date,
    created_by: uuid.UUID | None,
) -> tuple[int, list[Visit]]:
    """Fill part of each doctor's availability from two weeks back to two weeks ahead with
    the pool's patients. Returns how many were booked, and the completed visits (to bill)."""
    if not pool or not doctors:
        return 0, []
    first, last = today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)
    ids = [doctor_id for doctor_id, _ in doctors]
    params = {"ids": ids, "first": first, "last": last}
    blocks = session.execute(
        text(
            "SELECT doctor_id, date, start_time, end_time FROM doctor_availabilities"
            " WHERE doctor_id = ANY(:ids) AND date BETWEEN :first AND :last AND is_available"
            " ORDER BY date, doctor_id, start_time"
        ),
        params,
    ).all()
    # What is already booked stays booked: new appointments go around it.
    taken: dict[tuple[uuid.UUID, date], list[tuple[int, int]]] = defaultdict(list)
    for booked in session.execute(
        text(
            "SELECT doctor_id, appointment_date, start_time, end_time FROM appointments"
            " WHERE doctor_id = ANY(:ids) AND appointment_date BETWEEN :first AND :last"
            " AND status NOT IN ('CANCELLED', 'NO_SHOW')"
        ),
        params,
    ):
        taken[(booked.doctor_id, booked.appointment_date)].append(
            (_minutes(booked.start_time), _minutes(booked.end_time))
        )
    speciality = dict(doctors)
    children = [p for p in pool if p.age < 16]
    adults = [p for p in pool if p.age >= 16]
    busy_days: set[tuple[uuid.UUID, date]] = set()
    rows: list[dict[str, Any]] = []
    visits: list[Visit] = []
    for doctor_id, day, block_start, block_end in blocks:
        kind = speciality[doctor_id]
        child_share = 0.85 if kind == "paediatric" else 0.03
        occupied = taken[(doctor_id, day)]
        minute, end = _minutes(block_start), _minutes(block_end)
        while minute + SLOT_MINUTES <= end:
            length = SLOT_MINUTES
            appointment_type = _TYPES.draw(rng)
            if appointment_type == "INITIAL_EVALUATION" and minute + 2 * SLOT_MINUTES <= end:
                length = 2 * SLOT_MINUTES  # an assessment takes an hour
            clash = any(minute < b_end and b_start < minute + length for b_start, b_end in occupied)
            if clash or rng.random() > (0.6 if day < today else 0.45):
                minute += SLOT_MINUTES
                continue
            group = children if children and rng.random() < child_share else adults
            patient = _free_patient(rng, group or children, day, busy_days)
            if patient is None:
                minute += SLOT_MINUTES
                continue
            busy_days.add((patient.id, day))
            row = _appointment(rng, patient, doctor_id, kind, day, minute, length, today)
            row.update(appointment_type=appointment_type, created_by=created_by)
            rows.append(row)
            occupied.append((minute, minute + length))
            if row["status"] == "COMPLETED":
                visits.append(
                    Visit(row["id"], patient, doctor_id, day, row["end_time"], appointment_type,
                          row["is_referred"])
                )  # fmt: skip
            minute += length
    for start in range(0, len(rows), 1000):
        session.execute(insert(table_of(Appointment)), rows[start : start + 1000])
    return len(rows), visits


def _free_patient(
    rng: random.Random, group: Sequence[PoolPatient], day: date, busy: set[tuple[uuid.UUID, date]]
) -> PoolPatient | None:
    # One appointment per patient per day keeps the per-patient exclusion constraint quiet.
    for _ in range(8):
        patient = pick(rng, group)
        if (patient.id, day) not in busy:
            return patient
    return None


def _appointment(
    rng: random.Random,
    patient: PoolPatient,
    doctor_id: uuid.UUID,
    kind: str,
    day: date,
    minute: int,
    length: int,
    today: date,
) -> dict[str, Any]:
    start, end = _clock(minute), _clock(minute + length)
    begins = datetime.combine(day, start, VIETNAM)
    status = (_PAST if day < today else _FUTURE).draw(rng)
    row: dict[str, Any] = {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "patient_id": patient.id,
        "doctor_id": doctor_id,
        "appointment_date": day,
        "start_time": start,
        "end_time": end,
        "status": status,
        "reason": pick(rng, _REASONS.get(kind, _REASONS["musculoskeletal"])),
        "is_referred": rng.random() < 0.2,
        "checked_in_at": None,
        "completed_at": None,
        "cancelled_at": None,
        "cancel_reason": None,
    }
    if status == "COMPLETED":
        row["checked_in_at"] = begins - timedelta(minutes=rng.randint(3, 15))
        row["completed_at"] = datetime.combine(day, end, VIETNAM)
    elif status == "CANCELLED":
        # Called off before the visit, and never later than this morning.
        latest = min(begins, datetime.combine(today, time(7), VIETNAM))
        row["cancelled_at"] = latest - timedelta(hours=rng.randint(2, 48))
        row["cancel_reason"] = pick(rng, _CANCEL_REASONS)
    return row
