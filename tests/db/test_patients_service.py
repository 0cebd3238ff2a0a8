"""Registering, opening and editing patients with their BHYT card, on a real database."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from clinic_tui.domain.bhyt import parse_card
from clinic_tui.forms.patient import PatientForm, PatientProblem, validate_patient
from clinic_tui.models import AuditEntry, User
from clinic_tui.services import patients
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.auth import actor_of
from clinic_tui.services.patients import (
    BhytReference,
    EditConflict,
    PatientFormInvalid,
    PatientNotFound,
    PatientRecord,
    load_bhyt_reference,
)
from tests.bhyt_cases import CASES

TODAY = date.today()
BASE = {
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "15/01/1990",
    "gender": "MALE",
    "phone": "0912 345 678",
    "email": "An.Nguyen@gmail.com",
    "national_id": "079090012345",
    "address": "12 Lê Lợi, Quận 1, TP Hồ Chí Minh",
    "emergency_contact_name": "Trần Thị Bích",
    "emergency_contact_phone": "+84 28 3829 1234",
    "medical_history": "Thoát vị đĩa đệm L4-L5",
    "alerts": "Dị ứng penicillin",
}
CARD = {
    "card_number": "dn4 79 1234567890",
    "card_valid_from": f"01/01/{TODAY.year}",
    "card_valid_to": f"31/12/{TODAY.year}",
    "registered_facility_code": "79024",
    "registered_facility_name": "Bệnh viện Nhân dân 115",
    "five_year_continuous_from": "01/07/2027",
}


def make_actor(session: Session, role: Role) -> Actor:
    user = User(
        email=f"{uuid.uuid4().hex[:12]}@clinic.vn",
        password_hash="not used here",
        full_name=f"Staff {role}",
        role=role.value,
    )
    session.add(user)
    session.flush()
    return actor_of(user)


@pytest.fixture
def reference(db_session: Session) -> BhytReference:
    return load_bhyt_reference(db_session)


@pytest.fixture
def receptionist(db_session: Session) -> Actor:
    return make_actor(db_session, Role.RECEPTIONIST)


@pytest.fixture
def doctor(db_session: Session) -> Actor:
    return make_actor(db_session, Role.DOCTOR)


def form_of(reference: BhytReference, language: str = "vi", **fields: str) -> PatientForm:
    form, problems = validate_patient(
        BASE | fields,
        language=language,
        today=TODAY,
        known_codes=reference.known_codes,
        provinces=reference.province_codes,
    )
    assert problems == {}
    assert form is not None
    return form


def bhyt_rows(session: Session, patient_id: uuid.UUID) -> list[dict[str, object]]:
    rows = session.execute(
        text("SELECT * FROM insurance_info WHERE patient_id = :id AND provider_type = 'BHYT'"),
        {"id": patient_id},
    ).mappings()
    return [dict(row) for row in rows]


def audit_rows(session: Session, patient_id: uuid.UUID) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_id == str(patient_id))
            .order_by(AuditEntry.id)
        )
    )


def code_number(record: PatientRecord) -> int:
    match = re.fullmatch(r"BN-(\d{4})-(\d{6,})", record.patient_code)
    assert match is not None, record.patient_code
    assert int(match[1]) == TODAY.year
    return int(match[2])


# --- registering -------------------------------------------------------------------------------


def test_register_with_a_whole_card(db_session: Session, receptionist: Actor, reference) -> None:
    record = patients.register(db_session, receptionist, form_of(reference, **CARD))
    code_number(record)
    assert record.full_name == "Nguyễn Văn An"
    assert record.phone == "0912345678"
    assert record.email == "an.nguyen@gmail.com"
    assert record.emergency_contact_phone == "02838291234"
    assert record.version == 1
    card = record.card
    assert card is not None
    assert card.card_number == "DN4791234567890"
    assert card.display == "DN 4 79 1234567890"
    assert (card.object_code, card.level, card.province) == ("DN", 4, "79")
    assert (card.coverage_percent, card.copay_percent) == (80, 20)
    assert card.registered_facility_code == "79024"
    assert card.five_year_continuous_from == date(2027, 7, 1)
    assert not card.is_expired(TODAY)
    [row] = bhyt_rows(db_session, record.id)
    assert row["bhyt_card_number"] == "DN4791234567890"
    assert (row["bhyt_prefix_code"], row["bhyt_benefit_level"], row["province_code"]) == (
        "DN",
        4,
        "79",
    )
    assert (row["bhyt_coverage_percent"], row["bhyt_copay_rate"]) == (80, 20)
    assert row["is_primary"] is True
    assert [entry.action for entry in audit_rows(db_session, record.id)] == ["patient_created"]


def test_register_with_a_bare_number_and_its_parts(
    db_session: Session, receptionist: Actor, reference
) -> None:
    fields = CARD | {
        "card_number": "1234567890",
        "card_object_code": "ht",
        "card_level": "3",
        "card_province": "01",
    }
    card = patients.register(db_session, receptionist, form_of(reference, **fields)).card
    assert card is not None
    assert card.card_number == "HT3011234567890"
    assert (card.coverage_percent, card.copay_percent) == (95, 5)


def test_register_with_an_expired_card(db_session: Session, receptionist: Actor, reference) -> None:
    last_year = TODAY.year - 1
    fields = CARD | {"card_valid_from": f"01/01/{last_year}", "card_valid_to": f"31/12/{last_year}"}
    record = patients.register(db_session, receptionist, form_of(reference, **fields))
    assert record.card is not None and record.card.is_expired(TODAY)
    assert not record.card.is_valid_on(TODAY)
    assert record.card.is_valid_on(date(last_year, 6, 1))


def test_register_without_a_card(db_session: Session, receptionist: Actor, reference) -> None:
    record = patients.register(db_session, receptionist, form_of(reference))
    assert record.card is None
    assert bhyt_rows(db_session, record.id) == []


def test_a_retired_code_is_refused_before_a_code_is_used(
    db_session: Session, receptionist: Actor, reference
) -> None:
    form = form_of(reference, **CARD | {"card_number": "GD4791234567890"})
    db_session.execute(
        text("UPDATE bhyt_validation_rules SET is_active = false WHERE object_code = 'GD'")
    )
    before = db_session.execute(text("SELECT last_value FROM patient_code_seq")).scalar()
    with pytest.raises(PatientFormInvalid) as refused:
        patients.register(db_session, receptionist, form)
    assert refused.value.problems == {"card_number": PatientProblem.CARD_OBJECT_CODE_UNKNOWN}
    assert db_session.execute(text("SELECT last_value FROM patient_code_seq")).scalar() == before


def test_patient_codes_increase_and_are_never_reused(
    db_session: Session, receptionist: Actor, reference
) -> None:
    first = patients.register(db_session, receptionist, form_of(reference))
    savepoint = db_session.begin_nested()
    lost = patients.register(db_session, receptionist, form_of(reference, full_name="Lê Thị Mai"))
    savepoint.rollback()
    third = patients.register(db_session, receptionist, form_of(reference, full_name="Phạm Hùng"))
    assert code_number(first) < code_number(lost) < code_number(third)
    codes = set(db_session.execute(text("SELECT patient_code FROM patients")).scalars())
    assert lost.patient_code not in codes
    assert {first.patient_code, third.patient_code} <= codes


# --- opening -------------------------------------------------------------------------------


def test_get_is_audited_without_patient_details(
    db_session: Session, receptionist: Actor, reference
) -> None:
    created = patients.register(db_session, receptionist, form_of(reference, **CARD))
    opened = patients.get(db_session, receptionist, created.id)
    assert opened == created
    entry = audit_rows(db_session, created.id)[-1]
    assert (entry.action, entry.entity, entry.user_id) == (
        "patient_opened",
        "patient",
        receptionist.user_id,
    )
    assert entry.details == {}
    stored = json.dumps([entry.action, entry.entity, entry.entity_id, entry.details])
    for detail in ("Nguyễn", "Nguy", "0912345678", "079090012345", "1234567890", "BN-"):
        assert detail not in stored


def test_get_an_unknown_patient(db_session: Session, receptionist: Actor) -> None:
    with pytest.raises(PatientNotFound):
        patients.get(db_session, receptionist, uuid.uuid4())


# --- editing -------------------------------------------------------------------------------


def test_update_with_the_right_version(db_session: Session, receptionist: Actor, reference) -> None:
    created = patients.register(db_session, receptionist, form_of(reference, **CARD))
    edited = form_of(reference, **CARD | {"phone": "0987 654 321", "card_valid_to": "31/12/2030"})
    saved = patients.update(db_session, receptionist, created.id, edited, expected_version=1)
    assert saved.version == 2
    assert saved.phone == "0987654321"
    assert saved.card is not None and saved.card.valid_to == date(2030, 12, 31)
    assert saved.patient_code == created.patient_code
    entry = audit_rows(db_session, created.id)[-1]
    assert entry.action == "patient_updated"
    assert entry.details == {"fields": ["phone", "card"]}  # names of fields, never values
    again = patients.update(db_session, receptionist, created.id, edited, expected_version=2)
    assert again.version == 3


def test_update_with_a_stale_version_changes_nothing(
    db_session: Session, receptionist: Actor, reference
) -> None:
    created = patients.register(db_session, receptionist, form_of(reference, **CARD))
    first = form_of(reference, **CARD | {"phone": "0987654321"})
    patients.update(db_session, receptionist, created.id, first, expected_version=1)
    stale = form_of(reference, full_name="Nguyễn Văn Ân")  # and the card cleared
    with pytest.raises(EditConflict) as conflict:
        patients.update(db_session, receptionist, created.id, stale, expected_version=1)
    assert conflict.value.current_version == 2
    now = patients.get(db_session, receptionist, created.id)
    assert (now.full_name, now.phone, now.version) == ("Nguyễn Văn An", "0987654321", 2)
    assert now.card is not None
    updates = [e for e in audit_rows(db_session, created.id) if e.action == "patient_updated"]
    assert len(updates) == 1


def test_clearing_the_card_removes_the_bhyt_row(
    db_session: Session, receptionist: Actor, reference
) -> None:
    created = patients.register(db_session, receptionist, form_of(reference, **CARD))
    db_session.execute(
        text(
            "INSERT INTO insurance_info (patient_id, provider_type, provider_name, is_primary)"
            " VALUES (:id, 'PRIVATE', 'Bảo Việt', false)"
        ),
        {"id": created.id},
    )
    cleared = form_of(reference, **CARD | {"card_number": ""})
    saved = patients.update(db_session, receptionist, created.id, cleared, expected_version=1)
    assert saved.card is None
    assert bhyt_rows(db_session, created.id) == []
    # Without a BHYT card, the private policy becomes the primary insurance.
    primary = db_session.execute(
        text("SELECT provider_type FROM insurance_info WHERE patient_id = :id AND is_primary"),
        {"id": created.id},
    ).scalars()
    assert list(primary) == ["PRIVATE"]
    again = patients.update(
        db_session, receptionist, created.id, form_of(reference, **CARD), expected_version=2
    )
    assert again.card is not None and len(bhyt_rows(db_session, created.id)) == 1


def test_a_new_card_replaces_the_old_one(
    db_session: Session, receptionist: Actor, reference
) -> None:
    created = patients.register(db_session, receptionist, form_of(reference, **CARD))
    renewed = form_of(reference, **CARD | {"card_number": "HT3 01 1234567890"})
    saved = patients.update(db_session, receptionist, created.id, renewed, expected_version=1)
    [row] = bhyt_rows(db_session, created.id)
    assert row["bhyt_card_number"] == "HT3011234567890" and row["version"] == 2
    assert saved.card is not None and saved.card.coverage_percent == 95


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_edit_form_reads_the_record_back(
    db_session: Session, receptionist: Actor, reference, language: str
) -> None:
    original = form_of(reference, **CARD)
    record = patients.register(db_session, receptionist, original)
    raw = patients.form_input(record, language)
    form, problems = validate_patient(
        raw,
        language=language,
        today=TODAY,
        known_codes=reference.known_codes,
        provinces=reference.province_codes,
    )
    assert problems == {}
    assert form == original


def test_two_terminals_saving_at_once(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with Session(engine) as setup:
            actor = make_actor(setup, Role.RECEPTIONIST)
            reference = load_bhyt_reference(setup)
            created = patients.register(setup, actor, form_of(reference, **CARD))
            setup.commit()
        mine = form_of(reference, **CARD | {"phone": "0987654321"})
        theirs = form_of(reference, **CARD | {"phone": "0911111111"})
        outcome: list[BaseException] = []

        def second_terminal() -> None:
            with Session(engine) as other:
                try:
                    patients.update(other, actor, created.id, theirs, expected_version=1)
                    other.commit()
                except EditConflict as conflict:
                    outcome.append(conflict)

        with Session(engine) as first:
            patients.update(first, actor, created.id, mine, expected_version=1)
            thread = threading.Thread(target=second_terminal)
            thread.start()
            time.sleep(0.3)  # the second save is now waiting on the row lock (or about to)
            first.commit()
        thread.join(timeout=10)
        assert len(outcome) == 1 and isinstance(outcome[0], EditConflict)
        assert outcome[0].current_version == 2
        with Session(engine) as check:
            record = patients.get(check, actor, created.id)
            assert (record.phone, record.version) == ("0987654321", 2)
    finally:
        engine.dispose()


# --- who may ----------------------------------------------------------------------------------


def test_doctors_read_but_do_not_write(
    db_session: Session, receptionist: Actor, doctor: Actor, reference
) -> None:
    form = form_of(reference, **CARD)
    with pytest.raises(PermissionDenied):
        patients.register(db_session, doctor, form)
    created = patients.register(db_session, receptionist, form)
    assert patients.get(db_session, doctor, created.id) == created
    with pytest.raises(PermissionDenied):
        patients.update(db_session, doctor, created.id, form, expected_version=1)
    assert patients.get(db_session, doctor, created.id).version == 1


def test_admins_write_and_patients_do_nothing(db_session: Session, reference) -> None:
    admin = make_actor(db_session, Role.ADMIN)
    created = patients.register(db_session, admin, form_of(reference))
    someone = make_actor(db_session, Role.PATIENT)
    with pytest.raises(PermissionDenied):
        patients.get(db_session, someone, created.id)
    with pytest.raises(PermissionDenied):
        patients.register(db_session, someone, form_of(reference))


# --- the BHYT reference ---------------------------------------------------------------------

VALID_CARDS = [case.text for case in CASES if case.is_valid] + [
    "CN2791234567890",
    "CT2011234567890",
    "TE1481234567890",
    "DN5971234567890",
]


@pytest.mark.parametrize("typed", VALID_CARDS)
def test_describe_agrees_with_validate_bhyt_card(
    db_session: Session, reference: BhytReference, typed: str
) -> None:
    card = parse_card(typed, known_codes=reference.known_codes, provinces=reference.province_codes)
    row = db_session.execute(text("SELECT * FROM validate_bhyt_card(:card)"), {"card": typed}).one()
    assert row.is_valid is True
    for language in ("vi", "en"):
        described = reference.describe(card, language)
        assert described.coverage_percent == row.coverage_percent
        assert described.copay_percent == row.copay_rate
        assert described.object_code == row.beneficiary_category
        assert described.meaning and described.province_name and described.level_description


def test_describe_in_each_language(reference: BhytReference) -> None:
    known, provinces = reference.known_codes, reference.province_codes
    usual = parse_card("DN4791234567890", known_codes=known, provinces=provinces)
    vi, en = reference.describe(usual, "vi"), reference.describe(usual, "en")
    assert vi.display == en.display == "DN 4 79 1234567890"
    assert vi.meaning != en.meaning and vi.meaning and "doanh nghiệp" in vi.meaning
    assert en.meaning and "enterprises" in en.meaning
    assert vi.province_name and "Hồ Chí Minh" in vi.province_name
    assert vi.meaning_confirmed and (vi.usual_level, vi.level_note) == (4, False)
    better = parse_card("DN2791234567890", known_codes=known, provinces=provinces)
    assert reference.describe(better, "en").level_note is True  # a note, not an error
    unverified = parse_card("TG4791234567890", known_codes=known, provinces=provinces)
    assert reference.describe(unverified, "en").meaning_confirmed is False


def test_the_reference_holds_active_data_only(db_session: Session) -> None:
    assert "GD" in load_bhyt_reference(db_session).codes
    db_session.execute(
        text("UPDATE bhyt_validation_rules SET is_active = false WHERE object_code = 'GD'")
    )
    db_session.execute(text("UPDATE bhyt_provinces SET is_active = false WHERE code = '98'"))
    reference = load_bhyt_reference(db_session)
    assert "GD" not in reference.codes and "98" not in reference.provinces
    assert set(reference.levels) == {1, 2, 3, 4, 5}
    assert reference.levels[4].coverage == 80 and reference.levels[3].copay == 5
