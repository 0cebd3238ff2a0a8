"""Patient search on a real database (DESIGN §4.3; issue 5): names with or without accents in
any order, phone, code, national id, card, typos, hostile text, permissions, what a hit shows.

Each test builds the few patients it needs inside the rolled-back `db_session`."""

from __future__ import annotations

import itertools
import random
import unicodedata
import uuid
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.domain.search_text import fold
from clinic_tui.domain.vietnamese_names import FAMILY_NAME_WEIGHTS, GIVEN_NAMES, person_name
from clinic_tui.models import Appointment, Base, Doctor, InsuranceInfo, Patient
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.patient_search import PatientHit, card_holder, search, similar_patients

TODAY = date(2026, 11, 23)
_codes = itertools.count(1)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def vi(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def actor(role: Role = Role.RECEPTIONIST) -> Actor:
    return Actor(uuid.uuid4(), f"{role.lower()}@clinic.vn", "Tester", role)


def add_patient(
    session: Session,
    full_name: str,
    *,
    born: date = date(1990, 1, 15),
    phone: str | None = None,
    national_id: str | None = None,
    code: str | None = None,
) -> uuid.UUID:
    patient_id = uuid.uuid4()
    session.execute(
        insert(_table(Patient)),
        {
            "id": patient_id,
            "patient_code": code or f"BN-TEST-{next(_codes):06d}",
            "full_name": vi(full_name),
            "date_of_birth": born,
            "gender": "MALE",
            "phone": phone,
            "national_id": national_id,
        },
    )
    return patient_id


def add_card(
    session: Session,
    patient_id: uuid.UUID,
    card: str,
    *,
    valid_to: date | None = None,
    primary: bool = True,
) -> None:
    session.execute(
        insert(_table(InsuranceInfo)),
        {
            "patient_id": patient_id,
            "provider_type": "BHYT",
            "is_primary": primary,
            "valid_from": date(2020, 1, 1),
            "valid_to": valid_to,
            "bhyt_card_number": card,
            "bhyt_prefix_code": card[:2],
            "bhyt_benefit_level": int(card[2]),
            "province_code": card[3:5],
        },
    )


def add_visit(
    session: Session, patient_id: uuid.UUID, day: date, status: str, doctor_id: uuid.UUID
) -> None:
    session.execute(
        insert(_table(Appointment)),
        {
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "appointment_date": day,
            "start_time": time(9, 0),
            "end_time": time(9, 30),
            "status": status,
        },
    )


def add_doctor(session: Session) -> uuid.UUID:
    doctor_id = uuid.uuid4()
    session.execute(
        insert(_table(Doctor)),
        {
            "id": doctor_id,
            "full_name": vi("Phạm Minh Khoa"),
            "email": f"{doctor_id.hex[:10]}@clinic.vn",
            "specialization": "musculoskeletal",
            "consultation_fee": Decimal(300_000),
        },
    )
    return doctor_id


def names(hits: list[PatientHit]) -> list[str]:
    return [hit.full_name for hit in hits]


def find(session: Session, typed: str, **options: object) -> list[PatientHit]:
    return search(session, actor(), typed, today=TODAY, **options)  # type: ignore[arg-type]


@pytest.fixture
def people(db_session: Session) -> dict[str, uuid.UUID]:
    """A small clinic with the names the examples of issue 5 use, and some neighbours."""
    return {
        name: add_patient(db_session, name)
        for name in (
            "Nguyễn Văn An",
            "Nguyễn Văn Anh",
            "Nguyễn Thị Ân",
            "Trần Văn An",
            "Lê Nguyễn Bình An",
            "Đoàn Văn Hải",
            "Doãn Thị Mai",
            "Đỗ Văn Đoan",
            "Phạm Thị Lan",
            "Hoàng Đức Minh",
        )
    }


# --- folding: Python and SQL agree -------------------------------------------------------------


def test_fold_equals_f_unaccent_lower_for_demo_names(db_session: Session) -> None:
    rng = random.Random(20261123)
    samples = [person_name(rng, gender) for gender in ["MALE", "FEMALE", "OTHER"] * 150]
    samples += [*FAMILY_NAME_WEIGHTS, *GIVEN_NAMES, "ĐẶNG ĐỨC ĐOÀN", "Ỷ Ưng Ờ Ợ", "Ðøłħŧıæœß Ø Æ"]
    folded = db_session.execute(
        text("SELECT n, f_unaccent(lower(n)) FROM unnest(CAST(:names AS text[])) AS n"),
        {"names": samples},
    ).all()
    assert len(folded) == len(samples) > 700
    mismatches = [(name, in_sql) for name, in_sql in folded if fold(name) != in_sql]
    assert mismatches == []


# --- names -----------------------------------------------------------------------------------


def test_accent_free_full_name_finds_the_patient_first(
    db_session: Session, people: dict[str, uuid.UUID]
) -> None:
    hits = find(db_session, "nguyen van an")
    assert hits[0].full_name == "Nguyễn Văn An"
    assert hits[0].id == people["Nguyễn Văn An"]
    assert hits[0].rank == 0
    assert "Trần Văn An" not in names(hits)


@pytest.mark.parametrize(
    "typed",
    ["NGUYỄN văn AN", "Nguyễn Văn An", "NGUYEN VAN AN", "nguyễn văn an", " nguyen  van an "],
)
def test_any_case_and_accents(
    db_session: Session, people: dict[str, uuid.UUID], typed: str
) -> None:
    hits = find(db_session, typed)
    assert hits[0].full_name == "Nguyễn Văn An"
    assert hits[0].rank == 0


def test_doan_finds_both_doan_and_doan(db_session: Session, people: dict[str, uuid.UUID]) -> None:
    found = names(find(db_session, "doan"))
    assert "Đoàn Văn Hải" in found
    assert "Doãn Thị Mai" in found
    assert "Đỗ Văn Đoan" in found  # a given name that folds to "doan" too
    assert "Nguyễn Văn An" not in found


def test_words_in_any_order(db_session: Session, people: dict[str, uuid.UUID]) -> None:
    found = names(find(db_session, "an nguyen"))
    # Given name first, then family, then middle names: Thị before Văn, An before Anh.
    assert found == ["Lê Nguyễn Bình An", "Nguyễn Thị Ân", "Nguyễn Văn An", "Nguyễn Văn Anh"]
    assert "Trần Văn An" not in found
    assert names(find(db_session, "van an"))[:2] == ["Nguyễn Văn An", "Trần Văn An"]


def test_whole_words_are_fetched_before_prefixes(db_session: Session) -> None:
    # More Anhs than the limit, the one An stored last: a prefix pass alone would fill the
    # list with Anhs before reaching him.
    for index in range(30):
        add_patient(db_session, "Nguyễn Thị Anh", born=date(1970, 1, 1) + timedelta(days=index))
    add_patient(db_session, "Nguyễn Văn An")
    hits = find(db_session, "an nguyen")
    assert len(hits) == 20
    assert hits[0].full_name == "Nguyễn Văn An"


def test_exact_then_word_prefixes_then_vietnamese_order(db_session: Session) -> None:
    for name in ("Lê Văn Anh", "Trần Văn An", "Văn An", "Nguyễn Văn An", "Văn Bình"):
        add_patient(db_session, name)
    hits = find(db_session, "van an")
    assert [(hit.rank, hit.full_name) for hit in hits] == [
        (0, "Văn An"),  # the whole name
        (1, "Nguyễn Văn An"),  # given name An: family Nguyễn before Trần
        (1, "Trần Văn An"),
        (1, "Lê Văn Anh"),  # given name Anh after An
    ]


def test_a_name_prefix_stops_at_the_typed_letters(db_session: Session) -> None:
    for name in ("Lê Văn Bình", "Lê Văn Cường", "Lê Văn Ân", "Lê Vân Bảo"):
        add_patient(db_session, name)
    assert names(find(db_session, "le van b")) == ["Lê Vân Bảo", "Lê Văn Bình"]  # Bảo, Bình
    assert names(find(db_session, "Lê Văn B")) == ["Lê Vân Bảo", "Lê Văn Bình"]


def test_limit_keeps_the_best(db_session: Session) -> None:
    for index in range(30):
        add_patient(db_session, "Nguyễn Văn An", born=date(1960, 1, 1) + timedelta(days=index))
    add_patient(db_session, "Nguyễn Văn Anh")
    hits = find(db_session, "nguyen van an", limit=25)
    assert len(hits) == 25
    assert {hit.rank for hit in hits} == {0}
    assert len(find(db_session, "nguyen van an", limit=5)) == 5
    assert find(db_session, "nguyen van an", limit=0) == []


@pytest.mark.parametrize("typed", ["nguyen vna an", "ngyuen van an", "nguyen van na", "ngyuen"])
def test_one_typo_still_finds_the_name(
    db_session: Session, people: dict[str, uuid.UUID], typed: str
) -> None:
    hits = find(db_session, typed)
    assert "Nguyễn Văn An" in names(hits)
    assert {hit.rank for hit in hits} == {2}  # not what was typed: ranked after real matches


def test_two_typos_or_an_unknown_word_find_nothing(
    db_session: Session, people: dict[str, uuid.UUID]
) -> None:
    assert find(db_session, "ngyeun vna an") == []
    assert find(db_session, "zzzz") == []


# --- phone, code, national id, card ---------------------------------------------------------


def test_phone_prefix_in_any_format(db_session: Session) -> None:
    first = add_patient(db_session, "Nguyễn Văn An", phone="0912345678")
    second = add_patient(db_session, "Trần Thị Bích", phone="0912000111")
    add_patient(db_session, "Lê Văn Cường", phone="0987654321")
    assert {hit.id for hit in find(db_session, "0912")} == {first, second}
    for typed in ("+84912345678", "+84 912 345 678", "84912345678", "0912.345.678"):
        hits = find(db_session, typed)
        assert [(hit.id, hit.rank) for hit in hits] == [(first, 0)], typed
    assert find(db_session, "+84 987")[0].phone == "0987654321"


def test_patient_code_exact_and_prefix(db_session: Session) -> None:
    wanted = add_patient(db_session, "Nguyễn Văn An", code="BN-2026-000123")
    other = add_patient(db_session, "Trần Văn Bình", code="BN-2026-000124")
    add_patient(db_session, "Lê Văn Cường", code="BN-2025-000123")
    for typed in ("BN-2026-000123", "bn2026000123", "bn 2026 000123"):
        assert [(hit.id, hit.rank) for hit in find(db_session, typed)] == [(wanted, 0)]
    assert {hit.id for hit in find(db_session, "BN-2026-00012")} == {wanted, other}


def test_national_id(db_session: Session) -> None:
    wanted = add_patient(db_session, "Nguyễn Văn An", national_id="079090012345")
    add_patient(db_session, "Trần Văn Bình", national_id="079090012346")
    assert [hit.id for hit in find(db_session, "079090012345")] == [wanted]
    assert [hit.id for hit in find(db_session, "079 090 012 345")] == [wanted]


def test_card_with_spaces_dashes_or_as_the_bare_number(db_session: Session) -> None:
    wanted = add_patient(db_session, "Nguyễn Văn An")
    add_card(db_session, wanted, "DN4791234567890", valid_to=date(2026, 12, 31))
    other = add_patient(db_session, "Trần Văn Bình")
    add_card(db_session, other, "HT3011234567891")
    for typed in ("DN 4 79 1234567890", "dn-4-79-1234567890", "DN4791234567890", "1234567890"):
        hits = find(db_session, typed)
        assert [(hit.id, hit.rank) for hit in hits] == [(wanted, 0)], typed
    assert [hit.id for hit in find(db_session, "dn 4791")] == [wanted]  # a card's start
    assert find(db_session, "DN47912345678901") == []  # one digit too many


# --- what a hit shows -------------------------------------------------------------------------


def test_card_status_and_validity(db_session: Session) -> None:
    valid = add_patient(db_session, "Nguyễn Văn An")
    add_card(db_session, valid, "DN4791234567890", valid_to=TODAY)
    expired = add_patient(db_session, "Nguyễn Văn Bình")
    add_card(db_session, expired, "HT3011234567891", valid_to=TODAY - timedelta(days=1))
    add_patient(db_session, "Nguyễn Văn Cường")
    hits = {hit.full_name: hit for hit in find(db_session, "nguyen van")}
    assert hits["Nguyễn Văn An"].card_status == "valid"  # valid through today
    assert hits["Nguyễn Văn An"].card_valid_to == TODAY
    assert hits["Nguyễn Văn Bình"].card_status == "expired"
    assert hits["Nguyễn Văn Bình"].card_number == "HT3011234567891"
    assert hits["Nguyễn Văn Cường"].card_status == "none"
    assert hits["Nguyễn Văn Cường"].card_number is None


def test_the_primary_card_is_shown(db_session: Session) -> None:
    patient = add_patient(db_session, "Nguyễn Văn An")
    add_card(db_session, patient, "HT3011234567891", valid_to=date(2030, 1, 1), primary=False)
    add_card(db_session, patient, "DN4791234567890", valid_to=date(2020, 1, 1))
    (hit,) = find(db_session, "nguyen van an")
    assert (hit.card_number, hit.card_status) == ("DN4791234567890", "expired")


def test_last_visit_is_the_latest_completed_or_checked_in(db_session: Session) -> None:
    doctor = add_doctor(db_session)
    patient = add_patient(db_session, "Nguyễn Văn An")
    never = add_patient(db_session, "Nguyễn Văn Anh")
    add_visit(db_session, patient, date(2026, 9, 1), "COMPLETED", doctor)
    add_visit(db_session, patient, date(2026, 10, 2), "CHECKED_IN", doctor)
    add_visit(db_session, patient, date(2026, 10, 20), "CANCELLED", doctor)
    add_visit(db_session, patient, date(2026, 10, 21), "NO_SHOW", doctor)
    add_visit(db_session, patient, date(2026, 12, 1), "SCHEDULED", doctor)
    add_visit(db_session, never, date(2026, 12, 2), "SCHEDULED", doctor)
    hits = {hit.id: hit for hit in find(db_session, "nguyen van an")}
    assert hits[patient].last_visit == date(2026, 10, 2)
    assert hits[never].last_visit is None


def test_hit_details_and_age(db_session: Session) -> None:
    patient = add_patient(
        db_session, "Nguyễn Văn An", born=date(1990, 11, 24), phone="0912345678", code="BN-1"
    )
    (hit,) = find(db_session, "nguyen van an")
    assert (hit.id, hit.patient_code, hit.gender, hit.phone) == (
        patient,
        "BN-1",
        "MALE",
        "0912345678",
    )
    assert hit.date_of_birth == date(1990, 11, 24)
    assert hit.age(date(2026, 11, 23)) == 35  # the birthday is tomorrow
    assert hit.age(date(2026, 11, 24)) == 36


# --- hostile or odd text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "%",
        "_",
        "\\",
        "'",
        '"',
        "%%%",
        "an%",
        "_n",
        "nguy\\",
        "'; DROP TABLE patients; --",
        "Robert'); DROP TABLE patients;--",
        "(^| )an",
        ".*",
        "[a-z]+",
        "🙂",
        "x" * 5000,
    ],
)
def test_odd_text_finds_nothing_and_never_fails(
    db_session: Session, people: dict[str, uuid.UUID], typed: str
) -> None:
    # Every stored name has letters only: a wildcard taken as a wildcard would find them all.
    assert find(db_session, typed) == []
    count = db_session.execute(select(_table(Patient).c.id)).all()
    assert len(count) == len(people)


def test_control_characters_separate_words(
    db_session: Session, people: dict[str, uuid.UUID]
) -> None:
    # A NUL would make PostgreSQL refuse the query: it never gets there.
    assert "Nguyễn Văn An" in names(find(db_session, "an\x00nguyen"))


def test_wildcards_are_literal_inside_names(db_session: Session) -> None:
    add_patient(db_session, "Nguyễn Văn An")
    odd = add_patient(db_session, "Nguyễn 50%_Off An")
    assert [hit.id for hit in find(db_session, "nguyen 50%_")] == [odd]
    assert [hit.id for hit in find(db_session, "50%_off")] == [odd]


def test_empty_text_finds_nothing(db_session: Session, people: dict[str, uuid.UUID]) -> None:
    assert find(db_session, "") == []
    assert find(db_session, "   ") == []


# --- permission ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PATIENT])
def test_a_patient_account_may_not_search(
    db_session: Session, people: dict[str, uuid.UUID], role: Role
) -> None:
    with pytest.raises(PermissionDenied):
        search(db_session, actor(role), "nguyen")
    with pytest.raises(PermissionDenied):
        search(db_session, None, "nguyen")
    with pytest.raises(PermissionDenied):
        similar_patients(
            db_session,
            actor(role),
            full_name="Nguyễn Văn An",
            date_of_birth=None,
            phone=None,
            card_number=None,
        )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR])
def test_staff_may_search(db_session: Session, people: dict[str, uuid.UUID], role: Role) -> None:
    assert search(db_session, actor(role), "nguyen van an")[0].full_name == "Nguyễn Văn An"


# --- duplicates while registering ------------------------------------------------------------


def test_similar_patients_by_name_and_birth_phone_or_card(db_session: Session) -> None:
    born = date(1990, 1, 15)
    same_name = add_patient(db_session, "Nguyễn Văn An", born=born)
    add_patient(db_session, "Nguyễn Văn An", born=date(1991, 1, 15))  # another man
    same_phone = add_patient(db_session, "Trần Thị Bích", phone="0912345678")
    same_card = add_patient(db_session, "Lê Văn Cường")
    add_card(db_session, same_card, "DN4791234567890")

    def similar(**changes: object) -> list[uuid.UUID]:
        values: dict[str, object] = {
            "full_name": "NGUYEN van an",
            "date_of_birth": born,
            "phone": "+84 912 345 678",
            "card_number": "dn 4 79 1234567890",
        }
        values.update(changes)
        hits = similar_patients(db_session, actor(), **values)  # type: ignore[arg-type]
        return [hit.id for hit in hits]

    assert similar() == [same_name, same_card, same_phone]
    assert similar(phone=None, card_number=None) == [same_name]
    assert similar(full_name="Phạm Văn Dũng", card_number=None) == [same_phone]
    assert similar(full_name="", phone="0912", card_number="1234567890") == [same_card]
    assert similar(exclude_id=same_name) == [same_card, same_phone]
    assert similar(full_name="", phone="", card_number="DN479") == []  # nothing complete yet


def test_card_holder(db_session: Session) -> None:
    holder = add_patient(db_session, "Nguyễn Văn An")
    add_card(db_session, holder, "DN4791234567890", valid_to=TODAY - timedelta(days=3))
    hit = card_holder(db_session, "dn-4-79-1234567890")
    assert hit is not None
    assert (hit.id, hit.card_number, hit.card_status) == (holder, "DN4791234567890", "expired")
    assert card_holder(db_session, "1234567890") == hit
    assert card_holder(db_session, "DN4791234567890", exclude_id=holder) is None
    assert card_holder(db_session, "HT3011234567891") is None
    assert card_holder(db_session, "DN479") is None


# --- the indexes are used ----------------------------------------------------------------------


def test_large_tables_are_searched_through_indexes(db_session: Session) -> None:
    # Enough rows that reading the table would cost more than the indexes.
    db_session.execute(
        text(
            "INSERT INTO patients (patient_code, full_name, date_of_birth, gender, phone) "
            "SELECT 'BN-GEN-' || i, (ARRAY['Nguyễn','Trần','Lê'])[1 + i % 3] || ' Văn ' "
            "|| (ARRAY['An','Bình','Cường','Dũng','Hùng','Minh'])[1 + i % 6] || ' ' || i, "
            "DATE '1980-01-01' + i % 9000, 'MALE', '09' || lpad(i::text, 8, '0') "
            "FROM generate_series(1, 20000) AS i"
        )
    )
    db_session.execute(text("SELECT gin_clean_pending_list('ix_patients_name_words'::regclass)"))
    db_session.execute(text("ANALYZE patients"))
    connection = db_session.connection()

    def plans(typed: str) -> list[str]:
        """The plan of each statement `search` sends for ``typed``."""
        sent: list[tuple[str, Any]] = []

        def record(*args: Any) -> None:  # (conn, cursor, statement, parameters, …)
            sent.append((args[2], args[3]))

        event.listen(connection, "before_cursor_execute", record)
        try:
            search(db_session, actor(), typed)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        explain = connection.exec_driver_sql
        return ["\n".join(explain("EXPLAIN " + sql, params).scalars()) for sql, params in sent]

    assert "ix_patients_name_words" in plans("cuong 77")[1]  # no name starts with "cuong"
    assert "ix_patients_name_given" in plans("12345")[1]  # one word: a given name first
    assert names(find(db_session, "12345")) == ["Nguyễn Văn Dũng 12345"]
    assert "ix_patients_search_key_prefix" in plans("tran van dung 1")[0]
    assert "ix_patients_phone_prefix" in plans("090001234")[0]
    # A typo: nothing matched, so the name-part indexes are walked for known words.
    walk = next(plan for plan in plans("ngyuen van") if "Recursive Union" in plan)
    for index in ("ix_patients_name_family", "ix_patients_name_middle", "ix_patients_name_given"):
        assert index in walk
    assert "Seq Scan on patients" not in walk
