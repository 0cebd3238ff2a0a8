"""Load a demo clinic: staff accounts, therapists with schedules, patients, bookings, bills.

Offered on first run ("load a demo clinic") and used for benchmarks with a million patients.
The caller owns the transaction: everything here runs through ``session.execute`` and the
caller commits (or rolls back, leaving nothing behind).

Rerunning is safe. Accounts and doctors are matched by e-mail and only missing ones are added
(an existing account keeps its password). Demo patients carry codes ``BN-DEMO-000001``,
``BN-DEMO-000002``, … (see `demo_patients`); a rerun counts them and adds only the shortfall up
to ``patients``, continuing the numbering. Appointments and invoices are made only for the
patients added by this run, so a rerun that adds no patients adds no bookings either.
Availability is published from the weekly templates for the coming 28 days (and the past two
weeks that the sample appointments use); rows that exist are kept.

From `COPY_THRESHOLD` new patients on, patients and insurance go in with PostgreSQL COPY; from
`REBUILD_THRESHOLD` on, the secondary indexes of those two tables are also dropped and built
again at the end (see `demo_load.indexes_deferred`). Bookings and invoices then use a
sample of the new patients.
"""

from __future__ import annotations

import random
import time as clock
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.i18n import N_
from clinic_tui.models import Doctor, User, WeeklyScheduleTemplate
from clinic_tui.services import demo_billing, demo_load, demo_patients, demo_schedule
from clinic_tui.services.demo_load import table_of
from clinic_tui.services.demo_patients import PoolPatient
from clinic_tui.services.passwords import hash_password

__all__ = [
    "COPY_THRESHOLD",
    "DEMO_ACCOUNTS",
    "DEMO_DOCTORS",
    "DEMO_PASSWORD",
    "REBUILD_THRESHOLD",
    "DemoSummary",
    "build_demo_clinic",
]

DEMO_PASSWORD: Final = "demo-clinic"
DEMO_ACCOUNTS: Final = (
    ("admin@demo.clinic", "ADMIN"),
    ("reception@demo.clinic", "RECEPTIONIST"),
    ("doctor@demo.clinic", "DOCTOR"),
)
_ACCOUNT_NAMES: Final = {
    "admin@demo.clinic": "Trần Quốc Bảo",
    "reception@demo.clinic": "Lê Thị Mỹ Duyên",
    "doctor@demo.clinic": "Phạm Minh Khoa",
}
COPY_THRESHOLD: Final = 5_000
REBUILD_THRESHOLD: Final = 100_000
_POOL_SIZE: Final = 400  # patients that get bookings; enough to fill seven therapists' weeks


@dataclass(frozen=True)
class DemoDoctor:
    email: str
    full_name: str
    specialization: str  # an English key, translated where it is shown
    experience_years: int
    consultation_fee: int  # whole dong
    rating: str
    phone: str
    weekdays: tuple[int, ...]  # ISO: Monday = 1
    bio: str
    mornings: bool = True


_WEEK: Final = (1, 2, 3, 4, 5)
# fmt: off
DEMO_DOCTORS: Final = (
    DemoDoctor("doctor@demo.clinic", "Phạm Minh Khoa", "musculoskeletal", 12, 350_000, "4.80",
               "0903123456", (*_WEEK, 6),
               "Thạc sĩ vật lý trị liệu, chuyên điều trị đau cột sống và thoái hóa khớp."),
    DemoDoctor("bs.hoa@demo.clinic", "Nguyễn Thị Hoa", "neurological", 15, 400_000, "4.90",
               "0912234567", _WEEK,
               "Phục hồi chức năng sau tai biến mạch máu não, Parkinson và tổn thương tủy sống."),
    DemoDoctor("bs.duc@demo.clinic", "Trần Văn Đức", "sports", 8, 300_000, "4.60",
               "0988345678", (*_WEEK, 6),
               "Từng làm việc với đội tuyển điền kinh; phục hồi sau chấn thương dây chằng."),
    DemoDoctor("bs.lan@demo.clinic", "Lê Ngọc Lan", "paediatric", 10, 300_000, "4.70",
               "0934456789", (*_WEEK, 6),
               "Vật lý trị liệu nhi: chậm phát triển vận động, vẹo cổ, bại não."),
    DemoDoctor("bs.son@demo.clinic", "Hoàng Thanh Sơn", "geriatric", 20, 350_000, "4.50",
               "0977567890", _WEEK,
               "Phục hồi chức năng người cao tuổi, phòng ngã, sau thay khớp háng và khớp gối."),
    DemoDoctor("bs.mai@demo.clinic", "Võ Thị Tuyết Mai", "cardiopulmonary", 6, 250_000, "4.20",
               "0909678901", _WEEK,
               "Phục hồi chức năng tim phổi, tập thở sau phẫu thuật và bệnh phổi mạn tính."),
    DemoDoctor("bs.quang@demo.clinic", "Đặng Hữu Quang", "musculoskeletal", 4, 200_000, "3.90",
               "0868789012", (1, 3, 5, 6),
               "Kỹ thuật viên trẻ, làm buổi chiều: kéo giãn, siêu âm trị liệu, tập vận động.",
               mornings=False),
)
# fmt: on


@dataclass(frozen=True)
class DemoSummary:
    """What one run added (``*_created``) and what the demo holds now."""

    accounts_created: int
    doctors_created: int
    templates_created: int
    availabilities_created: int
    patients_created: int
    insurance_created: int
    appointments_created: int
    invoices_created: int
    payments_created: int
    demo_patients: int  # demo patients in the database after the run
    used_copy: bool
    seconds: float


Progress = Callable[[str, float], None]


def _today() -> date:
    return datetime.now(demo_schedule.VIETNAM).date()


def build_demo_clinic(
    session: Session,
    *,
    patients: int = 200,
    seed: int = 20261122,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create (or complete) the demo clinic; the caller commits. Same seed, same people."""
    started = clock.perf_counter()
    report: Progress = progress or (lambda _message, _fraction: None)
    today = today or _today()

    report(N_("Creating demo accounts"), 0.0)
    accounts, users = _ensure_accounts(session)
    report(N_("Creating therapists and their schedules"), 0.03)
    doctors_created, doctors = _ensure_doctors(session, users.get("doctor@demo.clinic"))
    templates = _ensure_templates(session, doctors, today)
    first = today - timedelta(days=demo_schedule.DAYS_BACK)
    days = demo_schedule.DAYS_BACK + demo_schedule.AVAILABILITY_DAYS
    published = demo_schedule.publish_availability(session, list(doctors.values()), first, days)

    existing, highest = demo_patients.existing_demo_patients(session)
    missing = max(0, patients - existing)
    use_copy = missing >= COPY_THRESHOLD
    report(N_("Creating patients"), 0.06)
    created = (0, 0)
    pool: list[PoolPatient] = []
    if missing:
        created = _add_patients(session, seed, today, highest + 1, missing, pool, report)

    report(N_("Booking appointments"), 0.9)
    rng = random.Random(f"demo-schedule:{seed}:{highest + 1}")
    specialities = [(doctors[d.email], d.specialization) for d in DEMO_DOCTORS]
    booked, visits = demo_schedule.book_appointments(
        session, rng, specialities, pool, today, users.get("reception@demo.clinic")
    )
    report(N_("Issuing invoices"), 0.96)
    invoices, payments = (0, 0)
    if visits:
        invoices, payments = demo_billing.issue_invoices(
            session, rng, visits, users.get("reception@demo.clinic")
        )
    report(N_("Demo clinic ready"), 1.0)
    return DemoSummary(
        accounts_created=accounts,
        doctors_created=doctors_created,
        templates_created=templates,
        availabilities_created=published,
        patients_created=created[0],
        insurance_created=created[1],
        appointments_created=booked,
        invoices_created=invoices,
        payments_created=payments,
        demo_patients=existing + created[0],
        used_copy=use_copy and missing > 0,
        seconds=round(clock.perf_counter() - started, 3),
    )


def _ensure_accounts(session: Session) -> tuple[int, dict[str, uuid.UUID]]:
    """The three demo logins; returns (accounts added, e-mail → user id)."""
    table = table_of(User)
    emails = [email for email, _role in DEMO_ACCOUNTS]
    found = dict(
        session.execute(select(table.c.email, table.c.id).where(table.c.email.in_(emails))).all()
    )
    missing = [(email, role) for email, role in DEMO_ACCOUNTS if email not in found]
    if missing:
        password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow by design: hash once
        rows = [
            {"id": uuid.uuid4(), "email": email, "password_hash": password_hash,
             "full_name": _ACCOUNT_NAMES[email], "role": role, "locale": "vi", "is_demo": True}
            for email, role in missing
        ]  # fmt: skip
        session.execute(insert(table), rows)
        found.update({row["email"]: row["id"] for row in rows})
    return len(missing), found


def _ensure_doctors(
    session: Session, doctor_user: uuid.UUID | None
) -> tuple[int, dict[str, uuid.UUID]]:
    """The demo therapists; returns (doctors added, e-mail → doctor id)."""
    table = table_of(Doctor)
    emails = [doctor.email for doctor in DEMO_DOCTORS]
    found = dict(
        session.execute(select(table.c.email, table.c.id).where(table.c.email.in_(emails))).all()
    )
    linked = (
        doctor_user is not None
        and session.execute(select(table.c.id).where(table.c.user_id == doctor_user)).first()
    )
    rows: list[dict[str, Any]] = []
    for doctor in DEMO_DOCTORS:
        if doctor.email in found:
            continue
        # The doctor@demo.clinic login sees its own schedule through this link.
        user_id = doctor_user if doctor.email == "doctor@demo.clinic" and not linked else None
        rows.append(
            {"id": uuid.uuid4(), "user_id": user_id, "full_name": doctor.full_name,
             "email": doctor.email, "phone": doctor.phone,
             "specialization": doctor.specialization,
             "experience_years": doctor.experience_years,
             "consultation_fee": Decimal(doctor.consultation_fee),
             "rating": Decimal(doctor.rating), "bio": doctor.bio}
        )  # fmt: skip
    if rows:
        session.execute(insert(table), rows)
        found.update({row["email"]: row["id"] for row in rows})
    return len(rows), found


def _ensure_templates(session: Session, doctors: dict[str, uuid.UUID], today: date) -> int:
    """Weekly templates for demo doctors that have none (an edited schedule is kept)."""
    have = demo_schedule.doctors_with_templates(session, list(doctors.values()))
    rows = []
    valid_from = today - timedelta(days=demo_schedule.DAYS_BACK + 14)
    for doctor in DEMO_DOCTORS:
        doctor_id = doctors[doctor.email]
        if doctor_id not in have:
            rows += demo_schedule.template_rows(
                doctor_id, doctor.weekdays, valid_from, mornings=doctor.mornings
            )
    if rows:
        session.execute(insert(table_of(WeeklyScheduleTemplate)), rows)
    return len(rows)


def _add_patients(
    session: Session,
    seed: int,
    today: date,
    first_number: int,
    count: int,
    pool: list[PoolPatient],
    report: Progress,
) -> tuple[int, int]:
    # The stream depends on where the numbering resumes, so a top-up run makes new people
    # instead of replaying the first run's.
    rng = random.Random(f"demo-patients:{seed}:{first_number}")
    reference = demo_patients.load_reference(session)
    factory = demo_patients.PatientFactory(rng, today, reference)
    rows = demo_patients.generate(factory, first_number, count)

    def step(done: int) -> None:
        report(N_("Creating patients"), 0.06 + 0.8 * done / count)

    if count < COPY_THRESHOLD:
        return demo_load.insert_batched(session, factory, rows, pool, _POOL_SIZE, step)
    if count < REBUILD_THRESHOLD:
        return demo_load.copy_rows(session, factory, rows, pool, _POOL_SIZE, step)
    with demo_load.indexes_deferred(session):
        created = demo_load.copy_rows(session, factory, rows, pool, _POOL_SIZE, step)
        report(N_("Building search indexes"), 0.86)
    # Fresh statistics, so the first searches of the new million rows use the indexes.
    session.execute(text("ANALYZE patients, insurance_info"))
    return created
