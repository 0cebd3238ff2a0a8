"""Every rule the database enforces, broken on purpose: PostgreSQL must refuse it.

Each refusal runs inside a savepoint (`refused`), so the test's session stays usable and the
passing counterpart can follow in the same test. A refusal is checked by its SQLSTATE and, for
constraints, by the constraint that fired, so a row refused for some other reason does not
count as proof.

Constraint names: the models name a check "ck_<table>_<rule>" and the revisions write that
full name with `op.f()`, so the naming convention does not apply it twice. `db_names` also
accepts the doubled spelling "ck_<table>_ck_<table>_<rule>" (cut to 63 characters with a hash)
that an early draft of the revisions produced.

`test_every_constraint_has_a_refusal_test` keeps the list complete: every check, unique and
exclusion constraint of the models and of the migrated database must be proven here.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    CheckConstraint,
    Table,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from clinic_tui.models import Base
from tests.db.populate import ALL_TABLES, populate_every_table, table_counts

CHECK_VIOLATION = "23514"
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
RESTRICT_VIOLATION = "23001"  # ON DELETE RESTRICT
EXCLUSION_VIOLATION = "23P01"
VALUE_TOO_LONG = "22001"
DATA_EXCEPTION = "22000"
INSUFFICIENT_PRIVILEGE = "42501"

TABLES: dict[str, Table] = {table.name: table for table in Base.metadata.sorted_tables}
ICT = timezone(timedelta(hours=7))
DAY = date(2025, 3, 10)  # a Monday


# --- which constraint is which -----------------------------------------------------------


def _model_constraints() -> dict[str, str]:
    """Model constraint name -> table name, for checks, uniques and exclusions."""
    found: dict[str, str] = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint | UniqueConstraint | ExcludeConstraint):
                found[str(constraint.name)] = table.name
    return found


MODEL_CONSTRAINTS = _model_constraints()
PROVEN: set[str] = set()


def proves(*constraints: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a test as the refusal test of these (model-named) constraints."""
    unknown = [name for name in constraints if name not in MODEL_CONSTRAINTS]
    assert not unknown, f"no such constraint in the models: {unknown}"
    PROVEN.update(constraints)
    return lambda test: test


def _postgres_identifier(name: str) -> str:
    """SQLAlchemy's cut of a name longer than PostgreSQL's 63 characters."""
    if len(name) <= 63:
        return name
    return name[:55] + "_" + hashlib.md5(name.encode()).hexdigest()[-4:]


def db_names(model_name: str) -> set[str]:
    """The names a model constraint may carry in the migrated database (see module doc)."""
    names = {model_name}
    if model_name.startswith("ck_"):
        names.add(_postgres_identifier(f"ck_{MODEL_CONSTRAINTS[model_name]}_{model_name}"))
    return names


@contextmanager
def refused(session: Session, sqlstate: str, *constraints: str) -> Iterator[None]:
    """The statements inside must be refused with `sqlstate` (by one of `constraints`)."""
    with pytest.raises(DBAPIError) as caught, session.begin_nested():
        yield
    error = caught.value.orig
    assert error is not None
    assert error.sqlstate == sqlstate, f"refused with {error.sqlstate}, not {sqlstate}: {error}"
    if sqlstate.startswith("23"):
        assert isinstance(caught.value, IntegrityError)
    if constraints:
        fired = error.diag.constraint_name
        accepted = set().union(*(db_names(name) for name in constraints))
        assert fired in accepted, f"refused by {fired}, expected one of {sorted(constraints)}"


# --- rows ----------------------------------------------------------------------------------

_serial = itertools.count(1)
PATIENT_NAMES = (
    "Nguyễn Thị Thu Hà",
    "Trần Văn Hùng",
    "Lê Hoàng Phúc",
    "Phạm Thị Thanh Hương",
    "Hoàng Đức Thắng",
    "Đặng Thị Diễm My",
    "Bùi Quang Huy",
    "Võ Thị Kim Oanh",
    "Đỗ Minh Khôi",
    "Huỳnh Ngọc Trâm",
)
DOCTOR_NAMES = ("BS. Phan Thị Lan", "ThS. BS. Ngô Văn Tài", "BS. Dương Minh Tuấn")


def vi(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def tag(length: int = 8) -> str:
    return uuid.uuid4().hex[:length]


def at(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


def add(session: Session, table: str, values: dict[str, Any]) -> Any:
    """Insert one row with a Core statement; return its primary key."""
    target = TABLES[table]
    key = next(iter(target.primary_key.columns))
    return session.execute(insert(target).values(values).returning(key)).scalar_one()


def make(session: Session, table: str, **overrides: Any) -> Any:
    return add(session, table, {**VALID[table](session), **overrides})


def row_of(session: Session, table: str, key: Any) -> Any:
    target = TABLES[table]
    primary = next(iter(target.primary_key.columns))
    return session.execute(select(target).where(primary == key)).one()


def _user(session: Session) -> dict[str, Any]:
    return {
        "email": f"le.thi.mai.{tag()}@phongkham.vn",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$bm90LWEtcmVhbC1oYXNo",
        "full_name": vi("Lê Thị Mai"),
        "role": "RECEPTIONIST",
        "locale": "vi",
    }


def _doctor(session: Session) -> dict[str, Any]:
    number = next(_serial)
    return {
        "user_id": make(session, "users", role="DOCTOR"),
        "full_name": vi(DOCTOR_NAMES[number % len(DOCTOR_NAMES)]),
        "email": f"bs.{tag()}@phongkham.vn",
        "phone": "0903123456",
        "specialization": vi("Vật lý trị liệu cơ xương khớp"),
        "experience_years": 8,
        "consultation_fee": Decimal("300000"),
        "rating": Decimal("4.50"),
    }


def _patient(session: Session) -> dict[str, Any]:
    number = next(_serial)
    return {
        "patient_code": f"BN{tag().upper()}",
        "full_name": vi(PATIENT_NAMES[number % len(PATIENT_NAMES)]),
        "date_of_birth": date(1970, 1, 1) + timedelta(days=97 * number),
        "gender": ("FEMALE", "MALE", "OTHER")[number % 3],
        "phone": "0912345678",
        "national_id": "079178001234",
    }


def _insurance(session: Session) -> dict[str, Any]:
    return {
        "patient_id": make(session, "patients"),
        "provider_type": "BHYT",
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2025, 12, 31),
        "bhyt_card_number": "DN4791234567890",
        "bhyt_prefix_code": "DN",
        "bhyt_benefit_level": 4,
        "bhyt_coverage_percent": Decimal("80"),
        "bhyt_copay_rate": Decimal("20"),
        "province_code": "79",
    }


def _appointment(session: Session) -> dict[str, Any]:
    return {
        "patient_id": make(session, "patients"),
        "doctor_id": make(session, "doctors"),
        "appointment_date": DAY,
        "start_time": at("09:00"),
        "end_time": at("09:30"),
        "status": "SCHEDULED",
        "appointment_type": "FOLLOW_UP",
        "reason": vi("Đau thắt lưng"),
    }


def _service_code(session: Session) -> dict[str, Any]:
    return {
        "code": f"X{tag()}",
        "name_en": "Therapeutic ultrasound",
        "name_vi": vi("Siêu âm trị liệu"),
        "category": "modality",
        "unit_price": Decimal("150000"),
        "bhyt_price": Decimal("120000"),
        "duration_minutes": 15,
    }


def _invoice(session: Session) -> dict[str, Any]:
    return {
        "invoice_number": f"HD2025-{tag(10)}",
        "patient_id": make(session, "patients"),
        "service_date": DAY,
        "status": "DRAFT",
        "coverage_percent": Decimal("80"),
        "total_amount": Decimal("250000"),
        "insurance_amount": Decimal("160000"),
        "patient_amount": Decimal("90000"),
    }


def _line(session: Session) -> dict[str, Any]:
    # 250,000 charged; insured up to the BHYT price 200,000, at 80 % = 160,000.
    return {
        "invoice_id": make(session, "invoices"),
        "service_code_id": make(session, "pt_service_codes"),
        "description": vi("Châm kim khô"),
        "quantity": 1,
        "unit_price": Decimal("250000"),
        "bhyt_price": Decimal("200000"),
        "line_total": Decimal("250000"),
        "insured_base": Decimal("200000"),
        "insurance_amount": Decimal("160000"),
        "patient_amount": Decimal("90000"),
    }


def _payment(session: Session) -> dict[str, Any]:
    invoice = row_of(session, "invoices", make(session, "invoices"))
    return {
        "invoice_id": invoice.id,
        "patient_id": invoice.patient_id,
        "amount": Decimal("90000"),
        "method": "cash",
        "receipt_number": f"PT-{tag(12)}",
    }


def _plan(session: Session) -> dict[str, Any]:
    return {
        "patient_id": make(session, "patients"),
        "diagnosis": vi("Thoát vị đĩa đệm L4-L5"),
        "diagnosis_icd10": "M51.2",
        "sessions_per_week": 3,
        "start_date": DAY,
        "planned_end_date": DAY + timedelta(weeks=8),
        "status": "ACTIVE",
    }


def _library(session: Session) -> dict[str, Any]:
    return {
        "code": f"T{tag()}",
        "name_en": "Pain score",
        "name_vi": vi("Điểm đau"),
        "body_region": "general",
        "min_score": Decimal("0"),
        "max_score": Decimal("10"),
        "unit": "points",
        "higher_is_better": False,
        "mcid": Decimal("2"),
    }


def _protocol(session: Session) -> dict[str, Any]:
    return {
        "code": f"TEST-{tag()}",
        "name_en": "Knee osteoarthritis",
        "name_vi": vi("Thoái hóa khớp gối"),
        "category": "musculoskeletal",
        "target_icd10_codes": ["M17.0"],
        "duration_weeks": 8,
        "sessions_per_week": 3,
        "goals": [{"vi": vi("Giảm đau khi đi lại")}],
        "exercises": [{"name_vi": vi("Duỗi gối"), "sets": 3}],
        "progression_criteria": {"intermediate": "pain < 4"},
    }


def _free(session: Session, column: Any, candidates: Iterator[str]) -> str:
    taken = set(session.execute(select(column)).scalars())
    return next(code for code in candidates if code not in taken)


def _rule(session: Session) -> dict[str, Any]:
    letters = "ZYXWVUTSRQPONMLKJIHGFEDCBA"
    code = _free(
        session,
        TABLES["bhyt_validation_rules"].c.object_code,
        (a + b for a in letters for b in letters),
    )
    return {
        "object_code": code,
        "usual_level": 4,
        "meaning_vi": vi("Mã thử nghiệm"),
        "meaning_en": "Test code",
        "is_confirmed": False,
    }


def _province(session: Session) -> dict[str, Any]:
    code = _free(session, TABLES["bhyt_provinces"].c.code, (f"{n:02d}" for n in range(99, 0, -1)))
    return {"code": code, "name_vi": vi("Tỉnh thử nghiệm"), "name_en": "Test province"}


def _checklist_item(session: Session) -> dict[str, Any]:
    template = add(
        session,
        "visit_checklist_templates",
        {"name_en": "Check-in", "name_vi": vi("Tiếp đón")},
    )
    return {
        "template_id": template,
        "label_en": "BHYT card checked",
        "label_vi": vi("Đã kiểm tra thẻ BHYT"),
    }


def _discharge_plan(session: Session) -> dict[str, Any]:
    return {"patient_id": make(session, "patients"), "status": "DRAFT"}


def _discharge_summary(session: Session) -> dict[str, Any]:
    plan = row_of(session, "discharge_plans", make(session, "discharge_plans"))
    return {
        "discharge_plan_id": plan.id,
        "patient_id": plan.patient_id,
        "discharged_on": DAY,
        "summary_en": "Goals met.",
        "summary_vi": vi("Đạt mục tiêu điều trị."),
    }


def _video_session(session: Session) -> dict[str, Any]:
    return {
        "appointment_id": make(session, "appointments"),
        "room_name": f"visit-{tag(12)}",
        "room_sid": f"RM{uuid.uuid4().hex}",
        "status": "COMPLETED",
        "started_at": datetime(2025, 3, 10, 9, 0, tzinfo=ICT),
        "ended_at": datetime(2025, 3, 10, 9, 25, tzinfo=ICT),
        "duration_seconds": 1500,
    }


# One valid row per table (parents made on the way). bhyt_benefit_levels has none: its key
# is the level 1–5 and the seed holds all five.
VALID: dict[str, Callable[[Session], dict[str, Any]]] = {
    "users": _user,
    "doctors": _doctor,
    "patients": _patient,
    "insurance_info": _insurance,
    "appointments": _appointment,
    "pt_service_codes": _service_code,
    "invoices": _invoice,
    "invoice_line_items": _line,
    "payments": _payment,
    "treatment_plans": _plan,
    "outcome_measures_library": _library,
    "clinical_protocols": _protocol,
    "bhyt_validation_rules": _rule,
    "bhyt_provinces": _province,
    "visit_checklist_items": _checklist_item,
    "discharge_plans": _discharge_plan,
    "discharge_summaries": _discharge_summary,
    "video_call_sessions": _video_session,
    "invoice_counters": lambda s: {"year": 3000 + next(_serial), "last_number": 0},
    "dated_settings": lambda s: {
        "key": f"test_{tag()}",
        "effective_from": date(2027, 1, 1),
        "value": Decimal("2700000"),
    },
    "vietnamese_medical_terms": lambda s: {
        "term_en": "Frozen shoulder",
        "term_vi": vi("Viêm quanh khớp vai"),
        "category": "condition",
        "aliases": [vi("đông cứng khớp vai")],
    },
    "bhyt_object_code_levels": lambda s: {
        "object_code": "DN",
        "level": 4,
        "meaning_en": "Employee of an enterprise",
        "meaning_vi": vi("Người lao động trong doanh nghiệp"),
        "is_confirmed": True,
        "is_current": False,
    },
    "treatment_sessions": lambda s: {
        "treatment_plan_id": make(s, "treatment_plans"),
        "session_date": DAY,
        "pain_level": 5,
        "minutes": 30,
    },
    "weekly_schedule_templates": lambda s: {
        "doctor_id": make(s, "doctors"),
        "weekday": 1,
        "start_time": at("08:00"),
        "end_time": at("12:00"),
        "slot_minutes": 30,
        "valid_from": date(2025, 1, 1),
    },
    "schedule_exceptions": lambda s: {
        "doctor_id": make(s, "doctors"),
        "exception_date": DAY,
        "start_time": at("13:00"),
        "end_time": at("17:00"),
        "kind": "LEAVE",
        "reason": vi("Nghỉ phép buổi chiều"),
    },
    "doctor_availabilities": lambda s: {
        "doctor_id": make(s, "doctors"),
        "date": DAY,
        "start_time": at("08:00"),
        "end_time": at("12:00"),
    },
    "patient_protocols": lambda s: {
        "patient_id": make(s, "patients"),
        "protocol_id": make(s, "clinical_protocols"),
        "start_date": DAY,
        "current_phase": "initial",
        "progress_status": "NOT_STARTED",
    },
    "visit_checklist_responses": lambda s: {
        "appointment_id": make(s, "appointments"),
        "item_id": make(s, "visit_checklist_items"),
        "is_checked": True,
    },
    "outcome_measures": lambda s: {
        "measured_on": DAY,
        "patient_id": make(s, "patients"),
        "library_id": make(s, "outcome_measures_library"),
        "score": Decimal("6"),
    },
    "audit_log": lambda s: {"action": "patient.view", "entity": "patients", "entity_id": "1"},
}


def make_doctor(session: Session) -> Any:
    return make(session, "doctors")


def make_patient(session: Session) -> Any:
    return make(session, "patients")


def make_appointment(
    session: Session,
    doctor_id: Any,
    patient_id: Any,
    start: str,
    end: str,
    *,
    day: date = DAY,
    status: str = "SCHEDULED",
) -> Any:
    return add(
        session,
        "appointments",
        {
            "doctor_id": doctor_id,
            "patient_id": patient_id,
            "appointment_date": day,
            "start_time": at(start),
            "end_time": at(end),
            "status": status,
        },
    )


def set_status(session: Session, appointment_id: Any, status: str) -> None:
    appointments = TABLES["appointments"]
    session.execute(
        update(appointments).where(appointments.c.id == appointment_id).values(status=status)
    )


def status_of(session: Session, appointment_id: Any) -> str:
    return str(row_of(session, "appointments", appointment_id).status)


# --- users, doctors, patients ------------------------------------------------------------


@proves("ck_users_role")
def test_user_role_must_be_a_known_role(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_users_role"):
        make(db_session, "users", role="NURSE")
    for role in ("ADMIN", "RECEPTIONIST", "DOCTOR", "PATIENT"):
        make(db_session, "users", role=role)


@proves("uq_users_email", "uq_doctors_email")
def test_emails_of_users_and_of_doctors_are_unique(db_session: Session) -> None:
    user = row_of(db_session, "users", make(db_session, "users"))
    with refused(db_session, UNIQUE_VIOLATION, "uq_users_email"):
        make(db_session, "users", email=user.email)
    doctor = row_of(db_session, "doctors", make_doctor(db_session))
    with refused(db_session, UNIQUE_VIOLATION, "uq_doctors_email"):
        make(db_session, "doctors", email=doctor.email)
    # The same address may be a user's login and a doctor's contact: separate tables.
    make(db_session, "doctors", email=user.email)


@proves("ck_users_email_lower_case")
def test_user_email_is_stored_in_lower_case(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_users_email_lower_case"):
        make(db_session, "users", email=f"Le.Thi.Mai.{tag()}@PhongKham.vn")


@proves("ck_patients_gender")
def test_patient_gender_must_be_male_female_or_other(db_session: Session) -> None:
    for gender in ("F", "female", "UNKNOWN", ""):
        with refused(db_session, CHECK_VIOLATION, "ck_patients_gender"):
            make(db_session, "patients", gender=gender)
    for gender in ("MALE", "FEMALE", "OTHER"):
        make(db_session, "patients", gender=gender)


@proves("uq_patients_patient_code")
def test_patient_code_is_unique(db_session: Session) -> None:
    first = row_of(db_session, "patients", make_patient(db_session))
    with refused(db_session, UNIQUE_VIOLATION, "uq_patients_patient_code"):
        make(db_session, "patients", patient_code=first.patient_code)
    make(db_session, "patients", full_name=first.full_name, date_of_birth=first.date_of_birth)


def test_patient_name_keeps_its_accents_and_gets_an_accent_free_search_key(
    db_session: Session,
) -> None:
    key = make(db_session, "patients", full_name=vi("Đoàn Thị Ngọc Ánh"))
    patient = row_of(db_session, "patients", key)
    assert patient.full_name == vi("Đoàn Thị Ngọc Ánh")
    assert patient.search_key == "doan thi ngoc anh"


@proves("ck_doctors_rating")
@pytest.mark.parametrize("rating", ["-0.01", "-1", "5.01", "6"])
def test_doctor_rating_above_5_or_below_0_is_refused(db_session: Session, rating: str) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_doctors_rating"):
        make(db_session, "doctors", rating=Decimal(rating))


@pytest.mark.parametrize("rating", ["0", "4.75", "5"])
def test_doctor_rating_from_0_to_5_is_accepted(db_session: Session, rating: str) -> None:
    key = make(db_session, "doctors", rating=Decimal(rating))
    assert row_of(db_session, "doctors", key).rating == Decimal(rating)


@proves("uq_doctors_user_id")
def test_a_login_belongs_to_one_doctor_at_most(db_session: Session) -> None:
    doctor = row_of(db_session, "doctors", make_doctor(db_session))
    with refused(db_session, UNIQUE_VIOLATION, "uq_doctors_user_id"):
        make(db_session, "doctors", user_id=doctor.user_id)
    make(db_session, "doctors", user_id=None)
    make(db_session, "doctors", user_id=None)


# --- BHYT card on insurance_info ---------------------------------------------------------


@proves("ck_insurance_info_bhyt_card_format")
@pytest.mark.parametrize(
    ("card", "sqlstate"),
    [
        pytest.param("DN479123456789", CHECK_VIOLATION, id="14-characters"),
        pytest.param("DN47912345678901", VALUE_TOO_LONG, id="16-characters"),
        pytest.param("dn4791234567890", CHECK_VIOLATION, id="lower-case"),
        pytest.param("Dn4791234567890", CHECK_VIOLATION, id="mixed-case"),
        pytest.param("DN0791234567890", CHECK_VIOLATION, id="level-0"),
        pytest.param("DN6791234567890", CHECK_VIOLATION, id="level-6"),
        pytest.param("D14791234567890", CHECK_VIOLATION, id="digit-in-object-code"),
        pytest.param("DN47912345678O0", CHECK_VIOLATION, id="letter-O-in-number"),
        pytest.param("DN479 123456789", CHECK_VIOLATION, id="space-inside"),
        pytest.param("ĐN4791234567890", CHECK_VIOLATION, id="vietnamese-letter"),
        pytest.param("DN4001234567890", CHECK_VIOLATION, id="province-00"),
    ],
)
def test_bhyt_card_not_in_normalised_form_is_refused(
    db_session: Session, card: str, sqlstate: str
) -> None:
    constraints = ("ck_insurance_info_bhyt_card_format",) if sqlstate == CHECK_VIOLATION else ()
    with refused(db_session, sqlstate, *constraints):
        make(db_session, "insurance_info", bhyt_card_number=card)


@pytest.mark.parametrize("card", ["DN4791234567890", "HT1011234567890", "TE5961234567890"])
def test_bhyt_card_in_normalised_form_is_accepted(db_session: Session, card: str) -> None:
    key = make(db_session, "insurance_info", bhyt_card_number=card, bhyt_prefix_code=card[:2])
    assert row_of(db_session, "insurance_info", key).bhyt_card_number == card


@proves("ck_insurance_info_bhyt_card_required")
def test_bhyt_insurance_needs_a_card_private_insurance_does_not(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_insurance_info_bhyt_card_required"):
        make(db_session, "insurance_info", bhyt_card_number=None)
    make(
        db_session,
        "insurance_info",
        provider_type="PRIVATE",
        provider_name=vi("Bảo Việt"),
        policy_number="BV-2025-000123",
        bhyt_card_number=None,
        bhyt_prefix_code=None,
        bhyt_benefit_level=None,
        bhyt_coverage_percent=None,
        bhyt_copay_rate=None,
        province_code=None,
    )


@proves("ck_insurance_info_bhyt_coverage_percent")
@pytest.mark.parametrize("percent", ["-1", "100.01", "101"])
def test_bhyt_coverage_percent_outside_0_to_100_is_refused(
    db_session: Session, percent: str
) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_insurance_info_bhyt_coverage_percent"):
        make(db_session, "insurance_info", bhyt_coverage_percent=Decimal(percent))


@pytest.mark.parametrize("percent", ["0", "80", "95", "100"])
def test_bhyt_coverage_percent_from_0_to_100_is_accepted(db_session: Session, percent: str) -> None:
    key = make(
        db_session,
        "insurance_info",
        bhyt_coverage_percent=Decimal(percent),
        bhyt_copay_rate=100 - Decimal(percent),
    )
    assert row_of(db_session, "insurance_info", key).bhyt_coverage_percent == Decimal(percent)


# --- appointments: status and the exclusion constraints ----------------------------------


@proves("ck_appointments_status")
def test_appointment_status_must_be_a_known_status(db_session: Session) -> None:
    for status in ("PENDING", "scheduled", "DONE"):
        with refused(db_session, CHECK_VIOLATION, "ck_appointments_status"):
            make(db_session, "appointments", status=status)
    for status in ("SCHEDULED", "CHECKED_IN", "COMPLETED", "CANCELLED", "NO_SHOW"):
        make(db_session, "appointments", status=status)


@proves("ck_appointments_time_order")
def test_appointment_must_end_after_it_starts(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_appointments_time_order"):
        make(db_session, "appointments", start_time=at("10:00"), end_time=at("10:00"))
    # Ending before it starts fails even earlier: the generated `during` range is invalid.
    with refused(db_session, DATA_EXCEPTION):
        make(db_session, "appointments", start_time=at("10:00"), end_time=at("09:30"))


@proves("ex_appointments_doctor_overlap")
@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("09:15", "09:45", id="overlaps-the-end-by-15-minutes"),
        pytest.param("08:45", "09:15", id="overlaps-the-start-by-15-minutes"),
        pytest.param("09:00", "09:30", id="same-slot"),
        pytest.param("09:10", "09:20", id="inside"),
        pytest.param("08:00", "10:00", id="around"),
    ],
)
def test_doctor_cannot_have_two_overlapping_appointments(
    db_session: Session, start: str, end: str
) -> None:
    doctor = make_doctor(db_session)
    make_appointment(db_session, doctor, make_patient(db_session), "09:00", "09:30")
    with refused(db_session, EXCLUSION_VIOLATION, "ex_appointments_doctor_overlap"):
        make_appointment(db_session, doctor, make_patient(db_session), start, end)


def test_doctor_back_to_back_appointments_are_accepted(db_session: Session) -> None:
    doctor = make_doctor(db_session)
    make_appointment(db_session, doctor, make_patient(db_session), "09:00", "09:30")
    make_appointment(db_session, doctor, make_patient(db_session), "09:30", "10:00")
    make_appointment(db_session, doctor, make_patient(db_session), "08:30", "09:00")
    # The same hour on another day, and another doctor at the same hour, are free too.
    make_appointment(
        db_session, doctor, make_patient(db_session), "09:00", "09:30", day=DAY + timedelta(days=1)
    )
    make_appointment(
        db_session, make_doctor(db_session), make_patient(db_session), "09:00", "09:30"
    )


@proves("ex_appointments_patient_overlap")
def test_patient_cannot_see_two_doctors_at_overlapping_times(db_session: Session) -> None:
    patient = make_patient(db_session)
    make_appointment(db_session, make_doctor(db_session), patient, "09:00", "09:30")
    with refused(db_session, EXCLUSION_VIOLATION, "ex_appointments_patient_overlap"):
        make_appointment(db_session, make_doctor(db_session), patient, "09:15", "09:45")
    make_appointment(db_session, make_doctor(db_session), patient, "09:30", "10:00")


@pytest.mark.parametrize("freeing_status", ["CANCELLED", "NO_SHOW"])
def test_cancelled_or_no_show_appointment_frees_its_slot(
    db_session: Session, freeing_status: str
) -> None:
    doctor, patient = make_doctor(db_session), make_patient(db_session)
    first = make_appointment(db_session, doctor, patient, "09:00", "09:30")
    set_status(db_session, first, freeing_status)

    second = make_appointment(db_session, doctor, patient, "09:15", "09:45")

    assert status_of(db_session, second) == "SCHEDULED"
    # Booked at a freed slot, the new appointment stands: the old one cannot come back.
    with refused(
        db_session,
        EXCLUSION_VIOLATION,
        "ex_appointments_doctor_overlap",
        "ex_appointments_patient_overlap",
    ):
        set_status(db_session, first, "SCHEDULED")
    assert status_of(db_session, first) == freeing_status
    assert status_of(db_session, second) == "SCHEDULED"


def test_reactivating_a_cancelled_appointment_is_refused_by_the_doctor_rule(
    db_session: Session,
) -> None:
    doctor = make_doctor(db_session)
    first = make_appointment(db_session, doctor, make_patient(db_session), "09:00", "09:30")
    set_status(db_session, first, "CANCELLED")
    second = make_appointment(db_session, doctor, make_patient(db_session), "09:00", "09:30")
    with refused(db_session, EXCLUSION_VIOLATION, "ex_appointments_doctor_overlap"):
        set_status(db_session, first, "SCHEDULED")
    assert (status_of(db_session, first), status_of(db_session, second)) == (
        "CANCELLED",
        "SCHEDULED",
    )


@pytest.mark.parametrize("holding_status", ["SCHEDULED", "CHECKED_IN", "COMPLETED"])
def test_scheduled_checked_in_and_completed_appointments_hold_their_slot(
    db_session: Session, holding_status: str
) -> None:
    doctor = make_doctor(db_session)
    first = make_appointment(db_session, doctor, make_patient(db_session), "09:00", "09:30")
    set_status(db_session, first, holding_status)
    with refused(db_session, EXCLUSION_VIOLATION, "ex_appointments_doctor_overlap"):
        make_appointment(db_session, doctor, make_patient(db_session), "09:15", "09:45")


# --- money: invoices, lines, payments ----------------------------------------------------


@proves("ck_invoices_total_amount")
def test_invoice_total_is_never_negative(db_session: Session) -> None:
    # A negative total cannot add up from two non-negative shares, so the split rule may
    # be the one that reports it (checks run in name order).
    with refused(
        db_session, CHECK_VIOLATION, "ck_invoices_total_amount", "ck_invoices_split_adds_up"
    ):
        make(db_session, "invoices", total_amount=Decimal("-1"))
    with refused(
        db_session, CHECK_VIOLATION, "ck_invoices_total_amount", "ck_invoices_insurance_amount"
    ):
        make(
            db_session,
            "invoices",
            total_amount=Decimal("-1"),
            insurance_amount=Decimal("-1"),
            patient_amount=Decimal("0"),
        )


@proves("ck_invoices_patient_amount")
def test_invoice_patient_share_is_never_negative(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_invoices_patient_amount"):
        make(
            db_session,
            "invoices",
            total_amount=Decimal("250000"),
            insurance_amount=Decimal("260000"),
            patient_amount=Decimal("-10000"),
        )


@proves("ck_invoices_insurance_amount")
def test_invoice_insurance_share_is_never_negative(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_invoices_insurance_amount"):
        make(
            db_session,
            "invoices",
            total_amount=Decimal("250000"),
            insurance_amount=Decimal("-10000"),
            patient_amount=Decimal("260000"),
        )


@proves("ck_invoices_split_adds_up")
@pytest.mark.parametrize(
    ("insurance", "patient"),
    [("160000", "89999"), ("160000", "90001"), ("0", "0"), ("250000", "250000")],
)
def test_invoice_shares_must_add_up_to_the_total(
    db_session: Session, insurance: str, patient: str
) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_invoices_split_adds_up"):
        make(
            db_session,
            "invoices",
            total_amount=Decimal("250000"),
            insurance_amount=Decimal(insurance),
            patient_amount=Decimal(patient),
        )


@pytest.mark.parametrize(
    ("total", "insurance", "patient"),
    [
        ("250000", "160000", "90000"),
        ("250000", "0", "250000"),
        ("250000", "250000", "0"),
        ("0", "0", "0"),
    ],
)
def test_invoice_shares_adding_up_are_accepted(
    db_session: Session, total: str, insurance: str, patient: str
) -> None:
    make(
        db_session,
        "invoices",
        total_amount=Decimal(total),
        insurance_amount=Decimal(insurance),
        patient_amount=Decimal(patient),
    )


@proves("ck_invoices_issued_number")
def test_issued_invoice_needs_a_number_a_draft_does_not(db_session: Session) -> None:
    for status in ("ISSUED", "PARTIALLY_PAID", "PAID", "VOID"):
        with refused(db_session, CHECK_VIOLATION, "ck_invoices_issued_number"):
            make(db_session, "invoices", status=status, invoice_number=None)
        make(db_session, "invoices", status=status)
    make(db_session, "invoices", status="DRAFT", invoice_number=None)
    make(db_session, "invoices", status="DRAFT", invoice_number=None)


@proves("ck_invoice_line_items_line_total")
def test_line_total_is_never_negative(db_session: Session) -> None:
    # insured_base must lie within 0..line_total, so that rule may report it first.
    with refused(
        db_session,
        CHECK_VIOLATION,
        "ck_invoice_line_items_line_total",
        "ck_invoice_line_items_insured_base",
    ):
        make(
            db_session,
            "invoice_line_items",
            line_total=Decimal("-1"),
            insured_base=Decimal("0"),
            insurance_amount=Decimal("0"),
            patient_amount=Decimal("-1"),
        )


@proves("ck_invoice_line_items_patient_amount")
def test_line_patient_share_is_never_negative(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_invoice_line_items_patient_amount"):
        make(db_session, "invoice_line_items", patient_amount=Decimal("-1"))


@proves("ck_invoice_line_items_split_adds_up")
def test_line_shares_must_add_up_to_the_line_total(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_invoice_line_items_split_adds_up"):
        make(db_session, "invoice_line_items", patient_amount=Decimal("89999"))
    with refused(db_session, CHECK_VIOLATION, "ck_invoice_line_items_split_adds_up"):
        make(db_session, "invoice_line_items", patient_amount=Decimal("90001"))
    make(db_session, "invoice_line_items")
    make(
        db_session,
        "invoice_line_items",
        insured_base=Decimal("0"),
        insurance_amount=Decimal("0"),
        patient_amount=Decimal("250000"),
    )


@proves("ck_payments_amount")
@pytest.mark.parametrize("amount", ["0", "-1", "-90000"])
def test_payment_of_zero_or_less_is_refused(db_session: Session, amount: str) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_payments_amount"):
        make(db_session, "payments", amount=Decimal(amount))


@proves("ck_payments_whole_dong")
@pytest.mark.parametrize("amount", ["90000.50", "0.01", "1.99"])
def test_payment_in_fractions_of_a_dong_is_refused(db_session: Session, amount: str) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_payments_whole_dong"):
        make(db_session, "payments", amount=Decimal(amount))


@pytest.mark.parametrize("amount", ["1", "90000", "9999999999"])
def test_payment_of_whole_dong_is_accepted(db_session: Session, amount: str) -> None:
    key = make(db_session, "payments", amount=Decimal(amount))
    assert row_of(db_session, "payments", key).amount == Decimal(amount)


@proves("ck_payments_target")
def test_payment_needs_an_invoice_or_an_appointment(db_session: Session) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_payments_target"):
        make(db_session, "payments", invoice_id=None, appointment_id=None)
    appointment = row_of(db_session, "appointments", make(db_session, "appointments"))
    make(
        db_session,
        "payments",
        invoice_id=None,
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        method="momo",
        order_id=f"MOMO{tag(12)}",
    )


@proves("ck_payments_cash_tendered", "ck_payments_change_given")
def test_cash_tendered_covers_the_payment_and_change_is_not_negative(
    db_session: Session,
) -> None:
    with refused(db_session, CHECK_VIOLATION, "ck_payments_cash_tendered"):
        make(db_session, "payments", cash_tendered=Decimal("50000"))
    with refused(db_session, CHECK_VIOLATION, "ck_payments_change_given"):
        make(db_session, "payments", cash_tendered=Decimal("100000"), change_given=Decimal("-1"))
    make(db_session, "payments", cash_tendered=Decimal("90000"), change_given=Decimal("0"))
    make(db_session, "payments", cash_tendered=Decimal("100000"), change_given=Decimal("10000"))


# --- BHYT reference tables ---------------------------------------------------------------


@proves(
    "ck_bhyt_benefit_levels_level",
    "ck_bhyt_benefit_levels_coverage_percent",
    "ck_bhyt_benefit_levels_copay_percent",
)
def test_bhyt_benefit_levels_are_1_to_5_and_copay_is_the_rest(db_session: Session) -> None:
    levels = TABLES["bhyt_benefit_levels"]
    new_level = {
        "coverage_percent": Decimal("90"),
        "copay_percent": Decimal("10"),
        "capped": True,
        "description_en": "Test level",
        "description_vi": vi("Mức thử nghiệm"),
    }
    for level in (0, 6):
        with refused(db_session, CHECK_VIOLATION, "ck_bhyt_benefit_levels_level"):
            db_session.execute(insert(levels).values(level=level, **new_level))
    level_3 = levels.c.level == 3
    with refused(db_session, CHECK_VIOLATION, "ck_bhyt_benefit_levels_coverage_percent"):
        db_session.execute(
            update(levels).where(level_3).values(coverage_percent=101, copay_percent=-1)
        )
    with refused(db_session, CHECK_VIOLATION, "ck_bhyt_benefit_levels_copay_percent"):
        db_session.execute(update(levels).where(level_3).values(copay_percent=10))
    db_session.execute(update(levels).where(level_3).values(coverage_percent=90, copay_percent=10))


def test_renaming_an_object_code_carries_its_levels_and_unknown_codes_are_refused(
    db_session: Session,
) -> None:
    rules, levels = TABLES["bhyt_validation_rules"], TABLES["bhyt_object_code_levels"]
    rule = row_of(db_session, "bhyt_validation_rules", make(db_session, "bhyt_validation_rules"))
    make(db_session, "bhyt_object_code_levels", object_code=rule.object_code)
    unknown = _rule(db_session)["object_code"]  # a free code, not inserted
    with refused(
        db_session,
        FOREIGN_KEY_VIOLATION,
        "fk_bhyt_object_code_levels_object_code_bhyt_validation_rules",
    ):
        make(db_session, "bhyt_object_code_levels", object_code=unknown)

    db_session.execute(update(rules).where(rules.c.id == rule.id).values(object_code=unknown))
    count = select(func.count()).select_from(levels).where(levels.c.object_code == unknown)
    assert db_session.execute(count).scalar_one() == 1


# --- outcome measures: partitions by year ------------------------------------------------


@pytest.mark.parametrize("day", [date(2023, 12, 31), date(2031, 1, 1)])
def test_outcome_measure_outside_the_partitioned_years_lands_in_the_default(
    db_session: Session, day: date
) -> None:
    key = make(db_session, "outcome_measures", measured_on=day)
    partition = db_session.execute(
        text("SELECT tableoid::regclass::text FROM outcome_measures WHERE id = :id"), {"id": key}
    ).scalar_one()
    assert partition == "outcome_measures_default"


def test_outcome_measures_from_2024_to_2030_land_in_their_year(db_session: Session) -> None:
    for day in (date(2024, 1, 1), DAY, date(2030, 12, 31)):
        key = make(db_session, "outcome_measures", measured_on=day)
        partition = db_session.execute(
            text("SELECT tableoid::regclass::text FROM outcome_measures WHERE id = :id"),
            {"id": key},
        ).scalar_one()
        assert partition == f"outcome_measures_y{day.year}"


# --- foreign keys (a few that the screens rely on) ---------------------------------------


def test_appointment_for_an_unknown_doctor_is_refused(db_session: Session) -> None:
    with refused(db_session, FOREIGN_KEY_VIOLATION, "fk_appointments_doctor_id_doctors"):
        make(db_session, "appointments", doctor_id=uuid.uuid4())


def test_patient_with_appointments_cannot_be_deleted_one_without_can(
    db_session: Session,
) -> None:
    patients = TABLES["patients"]
    booked = row_of(db_session, "appointments", make(db_session, "appointments")).patient_id
    with refused(db_session, RESTRICT_VIOLATION, "fk_appointments_patient_id_patients"):
        db_session.execute(delete(patients).where(patients.c.id == booked))
    insured = row_of(db_session, "insurance_info", make(db_session, "insurance_info")).patient_id
    db_session.execute(delete(patients).where(patients.c.id == insured))  # cards go with it
    insurance = TABLES["insurance_info"]
    left = select(func.count()).select_from(insurance).where(insurance.c.patient_id == insured)
    assert db_session.execute(left).scalar_one() == 0


def test_paid_invoice_cannot_be_deleted_a_draft_takes_its_lines(db_session: Session) -> None:
    invoices, lines = TABLES["invoices"], TABLES["invoice_line_items"]
    paid = row_of(db_session, "payments", make(db_session, "payments")).invoice_id
    with refused(db_session, RESTRICT_VIOLATION, "fk_payments_invoice_id_invoices"):
        db_session.execute(delete(invoices).where(invoices.c.id == paid))
    draft = row_of(db_session, "invoice_line_items", make(db_session, "invoice_line_items"))
    db_session.execute(delete(invoices).where(invoices.c.id == draft.invoice_id))
    left = select(func.count()).select_from(lines).where(lines.c.invoice_id == draft.invoice_id)
    assert db_session.execute(left).scalar_one() == 0


# --- audit log -----------------------------------------------------------------------------


def test_audit_log_accepts_new_entries_and_refuses_update_and_delete(
    db_session: Session,
) -> None:
    audit = TABLES["audit_log"]
    user = make(db_session, "users")
    entry = make(db_session, "audit_log", user_id=user, action="invoice.void")
    with refused(db_session, INSUFFICIENT_PRIVILEGE):
        db_session.execute(update(audit).where(audit.c.id == entry).values(action="nothing"))
    with refused(db_session, INSUFFICIENT_PRIVILEGE):
        db_session.execute(delete(audit).where(audit.c.id == entry))
    assert row_of(db_session, "audit_log", entry).action == "invoice.void"
    make(db_session, "audit_log", user_id=user, action="invoice.issue")


# --- every other check and unique constraint, table by table -----------------------------


@dataclass(frozen=True)
class Broken:
    """A valid row of the constraint's table with `values` changed: must be refused."""

    constraint: str
    values: dict[str, Any] = field(default_factory=dict)
    sqlstate: str = CHECK_VIOLATION

    @property
    def table(self) -> str:
        return MODEL_CONSTRAINTS[self.constraint]


def _broken(constraint: str, *variants: dict[str, Any]) -> list[Any]:
    PROVEN.add(constraint)
    assert constraint in MODEL_CONSTRAINTS, constraint
    return [
        pytest.param(Broken(constraint, values), id=f"{constraint}-{i}")
        for i, values in enumerate(variants)
    ]


BROKEN = [
    *_broken("ck_users_locale", {"locale": "fr"}, {"locale": "VI"}),
    *_broken("ck_users_failed_login_count", {"failed_login_count": -1}),
    *_broken("ck_doctors_consultation_fee", {"consultation_fee": Decimal("-1")}),
    *_broken("ck_doctors_experience_years", {"experience_years": -1}),
    *_broken(
        "ck_patients_national_id",
        {"national_id": "07917800123"},
        {"national_id": "O79178001234"},
        {"national_id": "079 178 0012"},
    ),
    *_broken("ck_patients_date_of_birth", {"date_of_birth": date(1899, 12, 31)}),
    *_broken(
        "ck_insurance_info_provider_type", {"provider_type": "VNI"}, {"provider_type": "bhyt"}
    ),
    *_broken(
        "ck_insurance_info_bhyt_prefix_code", {"bhyt_prefix_code": "dn"}, {"bhyt_prefix_code": "D4"}
    ),
    *_broken(
        "ck_insurance_info_bhyt_benefit_level", {"bhyt_benefit_level": 0}, {"bhyt_benefit_level": 6}
    ),
    *_broken(
        "ck_insurance_info_bhyt_copay_rate",
        {"bhyt_copay_rate": Decimal("-1")},
        {"bhyt_copay_rate": Decimal("101")},
    ),
    *_broken(
        "ck_insurance_info_province_code",
        {"province_code": "HN"},
        {"province_code": "7"},
        {"province_code": "00"},
    ),
    *_broken(
        "ck_insurance_info_validity",
        {"valid_from": date(2025, 12, 31), "valid_to": date(2025, 1, 1)},
    ),
    *_broken("ck_treatment_plans_status", {"status": "PAUSED"}),
    *_broken(
        "ck_treatment_plans_sessions_per_week", {"sessions_per_week": 0}, {"sessions_per_week": 15}
    ),
    *_broken("ck_treatment_plans_dates", {"planned_end_date": DAY - timedelta(days=1)}),
    *_broken("ck_treatment_sessions_pain_level", {"pain_level": -1}, {"pain_level": 11}),
    *_broken("ck_treatment_sessions_minutes", {"minutes": 0}),
    *_broken("ck_weekly_schedule_templates_weekday", {"weekday": 0}, {"weekday": 8}),
    *_broken(
        "ck_weekly_schedule_templates_time_order",
        {"start_time": at("12:00"), "end_time": at("12:00")},
        {"start_time": at("12:00"), "end_time": at("08:00")},
    ),
    *_broken(
        "ck_weekly_schedule_templates_slot_minutes", {"slot_minutes": 4}, {"slot_minutes": 241}
    ),
    *_broken("ck_schedule_exceptions_kind", {"kind": "SICK"}),
    *_broken(
        "ck_schedule_exceptions_time_order",
        {"start_time": at("17:00"), "end_time": at("13:00")},
        {"start_time": at("13:00"), "end_time": at("13:00")},
        {"start_time": at("13:00"), "end_time": None},
        {"start_time": None, "end_time": at("13:00")},
    ),
    *_broken(
        "ck_doctor_availabilities_time_order",
        {"start_time": at("12:00"), "end_time": at("08:00")},
    ),
    *_broken("ck_appointments_appointment_type", {"appointment_type": "SURGERY"}),
    *_broken("ck_outcome_measures_library_score_range", {"min_score": 10, "max_score": 10}),
    *_broken("ck_outcome_measures_library_mcid", {"mcid": 0}, {"mcid": -1}),
    *_broken("ck_outcome_measures_library_body_region", {"body_region": "hip"}),
    *_broken("ck_pt_service_codes_category", {"category": "surgery"}),
    *_broken("ck_pt_service_codes_unit_price", {"unit_price": Decimal("-1")}),
    *_broken("ck_pt_service_codes_bhyt_price", {"bhyt_price": Decimal("-1")}),
    *_broken("ck_pt_service_codes_duration_minutes", {"duration_minutes": 0}),
    *_broken("ck_invoice_counters_last_number", {"last_number": -1}),
    *_broken("ck_dated_settings_value", {"value": Decimal("-1")}),
    *_broken("ck_invoices_status", {"status": "OPEN"}),
    *_broken(
        "ck_invoices_coverage_percent",
        {"coverage_percent": Decimal("-1")},
        {"coverage_percent": Decimal("101")},
    ),
    *_broken(
        "ck_invoice_line_items_quantity",
        {
            "quantity": 0,
            "line_total": Decimal(0),
            "insured_base": Decimal(0),
            "insurance_amount": Decimal(0),
            "patient_amount": Decimal(0),
        },
    ),
    *_broken(
        "ck_invoice_line_items_line_total_is_product",
        {"quantity": 2},
        {"unit_price": Decimal("240000")},
    ),
    *_broken(
        "ck_invoice_line_items_whole_dong",
        {
            "unit_price": Decimal("250000.50"),
            "quantity": 2,
            "line_total": Decimal("500001"),
            "insured_base": Decimal("400000"),
            "insurance_amount": Decimal("320000"),
            "patient_amount": Decimal("180001"),
        },
        {"insurance_amount": Decimal("159999.50"), "patient_amount": Decimal("90000.50")},
    ),
    *_broken(
        "ck_invoices_whole_dong",
        {"total_amount": Decimal("250000.50"), "patient_amount": Decimal("90000.50")},
    ),
    *_broken(
        "ck_pt_service_codes_whole_dong",
        {"unit_price": Decimal("250000.5")},
        {"bhyt_price": Decimal("199999.99")},
    ),
    *_broken("ck_doctors_whole_dong", {"consultation_fee": Decimal("300000.5")}),
    *_broken("ck_doctors_email_lower_case", {"email": "BS.Lan@PhongKham.vn"}),
    *_broken(
        "ck_insurance_info_copay_is_rest",
        {"bhyt_coverage_percent": Decimal("80"), "bhyt_copay_rate": Decimal("25")},
    ),
    *_broken(
        "ck_weekly_schedule_templates_valid_dates",
        {"valid_from": date(2026, 1, 1), "valid_to": date(2025, 12, 31)},
    ),
    *_broken("ck_doctor_availabilities_source", {"source": "IMPORT"}),
    *_broken("ck_invoice_line_items_bhyt_price", {"bhyt_price": Decimal("-1")}),
    *_broken("ck_invoice_line_items_insured_base", {"insured_base": Decimal("250001")}),
    *_broken(
        "ck_invoice_line_items_insurance_amount",
        {"insurance_amount": Decimal("200001"), "patient_amount": Decimal("49999")},
        {"insurance_amount": Decimal("-1"), "patient_amount": Decimal("250001")},
    ),
    *_broken("ck_payments_method", {"method": "bitcoin"}, {"method": "CASH"}),
    *_broken("ck_payments_status", {"status": "SETTLED"}),
    *_broken("ck_payments_currency", {"currency": "USD"}),
    *_broken("ck_clinical_protocols_category", {"category": "cardiac"}),
    *_broken("ck_clinical_protocols_duration_weeks", {"duration_weeks": 0}),
    *_broken(
        "ck_clinical_protocols_sessions_per_week",
        {"sessions_per_week": 0},
        {"sessions_per_week": 15},
    ),
    *_broken("ck_patient_protocols_current_phase", {"current_phase": "final"}),
    *_broken("ck_patient_protocols_progress_status", {"progress_status": "PAUSED"}),
    *_broken("ck_discharge_plans_status", {"status": "SENT"}),
    *_broken("ck_vietnamese_medical_terms_category", {"category": "drug"}),
    *_broken("ck_bhyt_validation_rules_object_code", {"object_code": "dn"}, {"object_code": "D1"}),
    *_broken("ck_bhyt_validation_rules_usual_level", {"usual_level": 0}, {"usual_level": 6}),
    *_broken(
        "ck_bhyt_validation_rules_active_dates",
        {"active_from": date(2025, 7, 1), "active_to": date(2025, 6, 30)},
    ),
    *_broken("ck_bhyt_object_code_levels_level", {"level": 0}, {"level": 6}),
    *_broken("ck_bhyt_provinces_code", {"code": "00"}, {"code": "7A"}, {"code": "1"}),
    *_broken("ck_video_call_sessions_status", {"status": "RINGING"}),
    *_broken("ck_video_call_sessions_duration_seconds", {"duration_seconds": -1}),
    *_broken(
        "ck_video_call_sessions_times",
        {"ended_at": datetime(2025, 3, 10, 8, 59, tzinfo=ICT)},
    ),
]


@pytest.mark.parametrize("case", BROKEN)
def test_check_constraint_refuses_a_broken_row(db_session: Session, case: Broken) -> None:
    values = {**VALID[case.table](db_session), **case.values}
    with refused(db_session, case.sqlstate, case.constraint):
        add(db_session, case.table, values)


# Unique constraints not proven above: a second valid row is accepted, a copy of the first
# row's unique columns is refused.
UNIQUE = [
    "uq_pt_service_codes_code",
    "uq_invoices_invoice_number",
    "uq_payments_receipt_number",
    "uq_outcome_measures_library_code",
    "uq_clinical_protocols_code",
    "uq_bhyt_validation_rules_object_code",
    "uq_doctor_availabilities_doctor_date_start",
    "uq_visit_checklist_responses_appointment_item",
    "uq_discharge_summaries_discharge_plan_id",
    "uq_video_call_sessions_room_name",
    "uq_video_call_sessions_room_sid",
    "uq_dated_settings_key_effective_from",
]
PROVEN.update(UNIQUE)


def _unique_columns(name: str) -> list[str]:
    table = TABLES[MODEL_CONSTRAINTS[name]]
    constraint = next(c for c in table.constraints if str(c.name) == name)
    assert isinstance(constraint, UniqueConstraint)
    return [column.name for column in constraint.columns]


@pytest.mark.parametrize("constraint", UNIQUE)
def test_unique_constraint_refuses_a_duplicate(db_session: Session, constraint: str) -> None:
    table = MODEL_CONSTRAINTS[constraint]
    first = VALID[table](db_session)
    add(db_session, table, first)
    second = VALID[table](db_session)
    copy = {column: first[column] for column in _unique_columns(constraint)}
    with refused(db_session, UNIQUE_VIOLATION, constraint):
        add(db_session, table, {**second, **copy})
    add(db_session, table, second)


# --- the lists are complete -----------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(VALID))
def test_valid_rows_are_accepted(db_session: Session, table: str) -> None:
    """The counterpart of every refusal above: the unchanged rows go in, twice."""
    add(db_session, table, VALID[table](db_session))
    add(db_session, table, VALID[table](db_session))


def test_every_constraint_has_a_refusal_test(db_session: Session) -> None:
    untested = sorted(set(MODEL_CONSTRAINTS) - PROVEN)
    assert untested == [], f"constraints without a refusal test: {untested}"

    in_database = db_session.execute(
        text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace AND contype IN ('c', 'u', 'x')"
        )
    ).all()
    known = {db_name: model for model in MODEL_CONSTRAINTS for db_name in db_names(model)}
    unknown = sorted(f"{table}.{name}" for table, name in in_database if name not in known)
    assert unknown == [], f"constraints in the database but not in the models: {unknown}"
    missing = sorted(set(MODEL_CONSTRAINTS) - {known[name] for _, name in in_database})
    assert missing == [], f"constraints in the models but not in the database: {missing}"


def test_populate_every_table_fills_every_table(db_session: Session) -> None:
    connection = db_session.connection()
    before = table_counts(connection)
    counts = populate_every_table(connection)

    assert set(counts) == set(ALL_TABLES) == set(TABLES)
    empty = sorted(table for table, count in counts.items() if count < 1)
    assert empty == [], f"populate_every_table left these tables empty: {empty}"
    grown = {table for table in counts if counts[table] > before[table]}
    assert grown == set(TABLES) - {"bhyt_benefit_levels"}
    # It may run again on the same database (unique values carry a random tag).
    again = populate_every_table(connection)
    assert again["patients"] == counts["patients"] + 1
