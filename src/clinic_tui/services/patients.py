"""Patient records: open, register, edit, with the BHYT card (DESIGN §5.1, §5.4; issue 5).

Every function checks the actor's permission first and returns plain dataclasses, never ORM
objects, so a screen's worker thread can hand them to the UI thread. Nothing here commits: the
caller's unit of work does, so a failed save leaves nothing half-written. Edits are optimistic:
the record's ``version`` must still be the one the screen opened, otherwise `EditConflict`.
The audit log gets ids and actions (and the names of changed fields), never patient data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from clinic_tui.domain.bhyt import Card, CardError, check_card, level_note
from clinic_tui.forms.patient import (
    CARD_PROBLEMS,
    CardInput,
    PatientForm,
    PatientProblem,
    format_date_for_input,
)
from clinic_tui.models import InsuranceInfo, Patient
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require

BHYT: str = "BHYT"
BHYT_PROVIDER = "Bảo hiểm xã hội Việt Nam"
CODE_PREFIX = "BN"

# The patient columns a form sets; the rest (id, code, search key, timestamps) are the table's.
_FORM_COLUMNS = (
    "full_name", "date_of_birth", "gender", "phone", "email", "national_id", "address",
    "emergency_contact_name", "emergency_contact_phone", "medical_history", "alerts",
)  # fmt: skip


# Core tables, not ORM entities: rows come back as plain mappings, never as objects to lazy-load.
_PATIENTS = cast(Table, Patient.__table__)
_INSURANCE = cast(Table, InsuranceInfo.__table__)


class PatientNotFound(LookupError):
    """No patient with this id (deleted, or never there)."""


class EditConflict(Exception):
    """The record changed since it was opened: reload it, nothing was overwritten."""

    def __init__(self, patient_id: uuid.UUID, current_version: int) -> None:
        super().__init__(f"patient {patient_id} is at version {current_version}")
        self.patient_id = patient_id
        self.current_version = current_version


class PatientFormInvalid(Exception):
    """The service refused a form the screen let through (say a code retired meanwhile)."""

    def __init__(self, problems: dict[str, PatientProblem]) -> None:
        super().__init__(", ".join(f"{k}={v}" for k, v in problems.items()))
        self.problems = problems  # field name → problem


@dataclass(frozen=True)
class CardRecord:
    card_number: str  # stored form: "DN4791234567890"
    display: str  # grouped: "DN 4 79 1234567890"
    object_code: str
    level: int
    province: str
    valid_from: date | None
    valid_to: date | None
    coverage_percent: int | None  # as stored at registration, from bhyt_benefit_levels
    copay_percent: int | None
    registered_facility_code: str | None
    registered_facility_name: str | None
    five_year_continuous_from: date | None

    def is_expired(self, today: date) -> bool:
        return self.valid_to is not None and self.valid_to < today

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and not self.is_expired(day)


@dataclass(frozen=True)
class PatientRecord:
    id: uuid.UUID
    patient_code: str
    full_name: str
    date_of_birth: date
    gender: str
    phone: str | None
    email: str | None
    national_id: str | None
    address: str | None
    emergency_contact_name: str | None
    emergency_contact_phone: str | None
    medical_history: str | None
    alerts: str | None
    card: CardRecord | None
    version: int
    created_at: datetime
    updated_at: datetime


# --- BHYT reference data -------------------------------------------------------------------


class CodeInfo(NamedTuple):
    meaning_en: str
    meaning_vi: str
    usual_level: int
    confirmed: bool


class LevelInfo(NamedTuple):
    coverage: int
    copay: int
    description_en: str
    description_vi: str


class ProvinceInfo(NamedTuple):
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class CardDescription:
    """What the screen shows beside a valid card, in one language."""

    display: str
    object_code: str
    meaning: str | None  # None: the code is not (or no longer) an active one
    meaning_confirmed: bool
    level: int
    coverage_percent: int | None
    copay_percent: int | None
    level_description: str | None
    province: str
    province_name: str | None
    usual_level: int | None
    level_note: bool  # the printed level differs from the code's usual one: a note, not an error


@dataclass(frozen=True)
class BhytReference:
    """The active BHYT rules, as plain data a screen may cache for live validation."""

    codes: dict[str, CodeInfo]
    levels: dict[int, LevelInfo]
    provinces: dict[str, ProvinceInfo]

    @property
    def known_codes(self) -> frozenset[str]:
        return frozenset(self.codes)

    @property
    def province_codes(self) -> frozenset[str]:
        return frozenset(self.provinces)

    def describe(self, card: Card, language: str) -> CardDescription:
        vi = language[:2].lower() == "vi"
        code, level, province = (
            self.codes.get(card.object_code),
            self.levels.get(card.level),
            self.provinces.get(card.province),
        )
        usual = code.usual_level if code else None
        return CardDescription(
            display=card.display,
            object_code=card.object_code,
            meaning=(code.meaning_vi if vi else code.meaning_en) if code else None,
            meaning_confirmed=bool(code and code.confirmed),
            level=card.level,
            coverage_percent=level.coverage if level else None,
            copay_percent=level.copay if level else None,
            level_description=(
                (level.description_vi if vi else level.description_en) if level else None
            ),
            province=card.province,
            province_name=(province.name_vi if vi else province.name_en) if province else None,
            usual_level=usual,
            level_note=level_note(card, usual),
        )


def _percent(value: Decimal | None) -> int | None:
    # BHYT rates are whole percents in law and in the rules table.
    return None if value is None else int(value)


def load_bhyt_reference(session: Session) -> BhytReference:
    """Active codes and provinces, by the same tests as SQL ``validate_bhyt_card``."""
    codes = session.execute(
        text(
            "SELECT object_code, meaning_en, meaning_vi, usual_level, is_confirmed"
            " FROM bhyt_validation_rules WHERE is_active"
            " AND (active_from IS NULL OR active_from <= current_date)"
            " AND (active_to IS NULL OR active_to >= current_date)"
        )
    ).all()
    levels = session.execute(
        text(
            "SELECT level, coverage_percent, copay_percent, description_en, description_vi"
            " FROM bhyt_benefit_levels"
        )
    ).all()
    provinces = session.execute(
        text("SELECT code, name_vi, name_en FROM bhyt_provinces WHERE is_active AND code <> '00'")
    ).all()
    return BhytReference(
        codes={r[0]: CodeInfo(r[1], r[2], int(r[3]), bool(r[4])) for r in codes},
        levels={
            int(r[0]): LevelInfo(int(r[1]), int(r[2]), r[3], r[4])  # whole percents, see above
            for r in levels
        },
        provinces={r[0]: ProvinceInfo(r[1], r[2]) for r in provinces},
    )


# --- reading -------------------------------------------------------------------------------


def _card_record(row: RowMapping) -> CardRecord | None:
    number = row["bhyt_card_number"] or ""
    try:  # the stored number decides: a CHECK keeps it well-formed, the part columns copy it
        card = Card(number[0:2], int(number[2:3] or "0"), number[3:5], number[5:])
    except (CardError, ValueError):
        return None
    return CardRecord(
        card_number=card.compact,
        display=card.display,
        object_code=card.object_code,
        level=card.level,
        province=card.province,
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        coverage_percent=_percent(row["bhyt_coverage_percent"]),
        copay_percent=_percent(row["bhyt_copay_rate"]),
        registered_facility_code=row["registered_facility_code"],
        registered_facility_name=row["registered_facility_name"],
        five_year_continuous_from=row["five_year_continuous_from"],
    )


def _bhyt_row(session: Session, patient_id: uuid.UUID) -> RowMapping | None:
    info = _INSURANCE
    return (
        session.execute(
            select(info)
            .where(info.c.patient_id == patient_id, info.c.provider_type == BHYT)
            .order_by(info.c.is_primary.desc(), info.c.created_at.desc())
            .limit(1)
        )
        .mappings()
        .one_or_none()
    )


def _load(session: Session, patient_id: uuid.UUID) -> PatientRecord:
    row = (
        session.execute(select(_PATIENTS).where(_PATIENTS.c.id == patient_id))
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise PatientNotFound(patient_id)
    card_row = _bhyt_row(session, patient_id)
    return PatientRecord(
        id=row["id"],
        patient_code=row["patient_code"],
        **{column: row[column] for column in _FORM_COLUMNS},
        card=_card_record(card_row) if card_row is not None else None,
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def get(session: Session, actor: Actor, patient_id: uuid.UUID) -> PatientRecord:
    """Open a record. Audited (an open is a read of health data): the caller commits."""
    require(actor, Permission.PATIENT_READ)
    record = _load(session, patient_id)
    audit.record(
        session, "patient_opened", user_id=actor.user_id, entity="patient", entity_id=patient_id
    )
    return record


def form_input(record: PatientRecord, language: str) -> dict[str, str]:
    """The record as the edit form's raw strings, so `validate_patient` reads it back as is."""
    raw = {column: str(getattr(record, column) or "") for column in _FORM_COLUMNS}
    raw["date_of_birth"] = format_date_for_input(record.date_of_birth, language)
    card = record.card
    if card is not None:
        raw |= {
            "card_number": card.display,
            "card_object_code": card.object_code,
            "card_level": str(card.level),
            "card_province": card.province,
            "card_valid_from": format_date_for_input(card.valid_from, language),
            "card_valid_to": format_date_for_input(card.valid_to, language),
            "registered_facility_code": card.registered_facility_code or "",
            "registered_facility_name": card.registered_facility_name or "",
            "five_year_continuous_from": format_date_for_input(
                card.five_year_continuous_from, language
            ),
        }
    return raw


# --- writing -------------------------------------------------------------------------------


def _checked_rates(session: Session, card: Card) -> tuple[Decimal, Decimal]:
    """Coverage and co-pay as SQL ``validate_bhyt_card`` gives them, today, for this card.

    The screen validated against reference data it may have cached; the database decides.
    """
    row = session.execute(
        text("SELECT is_valid, coverage_percent, copay_rate FROM validate_bhyt_card(:card)"),
        {"card": card.compact},
    ).one()
    if row.is_valid and row.coverage_percent is not None and row.copay_rate is not None:
        return row.coverage_percent, row.copay_rate
    reference = load_bhyt_reference(session)
    problems = check_card(
        card.compact, known_codes=reference.known_codes, provinces=reference.province_codes
    ).problems
    problem = CARD_PROBLEMS[problems[0]] if problems else PatientProblem.CARD_OBJECT_CODE_UNKNOWN
    raise PatientFormInvalid({"card_number": problem})


def _card_values(session: Session, entered: CardInput) -> dict[str, Any]:
    card = entered.card
    coverage, copay = _checked_rates(session, card)
    return {
        "provider_type": BHYT,
        "provider_name": BHYT_PROVIDER,
        "policy_number": card.number,  # the social-insurance number, as the demo data has it
        "valid_from": entered.valid_from,
        "valid_to": entered.valid_to,
        "bhyt_card_number": card.compact,
        "bhyt_prefix_code": card.object_code,
        "bhyt_benefit_level": card.level,
        "bhyt_coverage_percent": coverage,
        "bhyt_copay_rate": copay,
        "province_code": card.province,
        "registered_facility_code": entered.registered_facility_code,
        "registered_facility_name": entered.registered_facility_name,
        "five_year_continuous_from": entered.five_year_continuous_from,
    }


def _save_card(session: Session, patient_id: uuid.UUID, values: dict[str, Any] | None) -> None:
    """Make the patient's BHYT row match the form (``values`` from `_card_values`, None for no
    card): one BHYT card per record, and it is the primary insurance; a private policy is
    primary only without one, as in the demo data."""
    info, current = _INSURANCE, _bhyt_row(session, patient_id)
    others = (info.c.patient_id == patient_id, info.c.provider_type != BHYT)
    if values is None and current is None:
        return
    session.execute(sql_update(info).where(*others).values(is_primary=values is None))
    if values is None:
        session.execute(
            delete(info).where(info.c.patient_id == patient_id, info.c.provider_type == BHYT)
        )
    elif current is None:
        session.execute(insert(info).values(patient_id=patient_id, is_primary=True, **values))
    else:
        session.execute(
            sql_update(info)
            .where(info.c.id == current["id"])
            .values(**values, is_primary=True, version=info.c.version + 1)
        )


def _form_values(form: PatientForm) -> dict[str, Any]:
    return {column: getattr(form, column) for column in _FORM_COLUMNS}


def register(session: Session, actor: Actor, form: PatientForm) -> PatientRecord:
    """A new patient, coded ``BN-<year>-<6 digits>`` from a sequence: a code taken by a
    registration that then failed is gone for good, so no code ever names two people."""
    require(actor, Permission.PATIENT_WRITE)
    # The card is checked first, so a refused card does not use up a patient code.
    card_values = _card_values(session, form.card) if form.card is not None else None
    number, year = session.execute(
        text("SELECT nextval('patient_code_seq'), extract(year FROM current_date)::int")
    ).one()
    patient_id = session.execute(
        insert(_PATIENTS)
        .values(patient_code=f"{CODE_PREFIX}-{year}-{number:06d}", **_form_values(form))
        .returning(_PATIENTS.c.id)
    ).scalar_one()
    if card_values is not None:
        _save_card(session, patient_id, card_values)
    audit.record(
        session, "patient_created", user_id=actor.user_id, entity="patient", entity_id=patient_id
    )
    return _load(session, patient_id)


_CARD_DETAILS = (
    "valid_from", "valid_to", "registered_facility_code", "registered_facility_name",
    "five_year_continuous_from",
)  # fmt: skip


def _card_key(card: CardInput | CardRecord | None) -> tuple[object, ...] | None:
    if card is None:
        return None
    number = card.card.compact if isinstance(card, CardInput) else card.card_number
    return (number, *(getattr(card, name) for name in _CARD_DETAILS))


def _changed_fields(before: PatientRecord, form: PatientForm) -> list[str]:
    changed = [c for c in _FORM_COLUMNS if getattr(before, c) != getattr(form, c)]
    if _card_key(before.card) != _card_key(form.card):
        changed.append("card")
    return changed


def update(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    form: PatientForm,
    *,
    expected_version: int,
) -> PatientRecord:
    """Save an edit made on the record as it was at ``expected_version``.

    Raises `EditConflict` (and writes nothing) when someone saved in between. The version
    test is in the UPDATE itself, so two terminals saving at once cannot both pass it.
    """
    require(actor, Permission.PATIENT_WRITE)
    before = _load(session, patient_id)
    if before.version != expected_version:
        raise EditConflict(patient_id, before.version)
    card_values = _card_values(session, form.card) if form.card is not None else None
    patients = _PATIENTS
    saved = session.execute(
        sql_update(patients)
        .where(patients.c.id == patient_id, patients.c.version == expected_version)
        .values(**_form_values(form), version=patients.c.version + 1)
        .returning(patients.c.version)
    ).scalar_one_or_none()
    if saved is None:  # lost the race after reading: the other save committed first
        current = session.scalar(select(patients.c.version).where(patients.c.id == patient_id))
        if current is None:
            raise PatientNotFound(patient_id)
        raise EditConflict(patient_id, current)
    _save_card(session, patient_id, card_values)
    audit.record(
        session,
        "patient_updated",
        user_id=actor.user_id,
        entity="patient",
        entity_id=patient_id,
        details={"fields": _changed_fields(before, form)},  # names of fields, never values
    )
    return _load(session, patient_id)
