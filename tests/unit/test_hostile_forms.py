"""Hostile text into every validator: a result or its documented validation error, never
another exception; what is accepted is NFC with no control characters (DESIGN §3, issue 11).

Pure validators run under hypothesis; the search services run the corpus against the shared
database, each call in a savepoint so a refused statement cannot spoil the next.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinic_tui.domain import bhyt, search_text
from clinic_tui.forms.patient import (
    RAW_FIELDS,
    PatientProblem,
    clean_text,
    normalise_phone,
    parse_date_input,
    validate_patient,
)
from clinic_tui.services import auth, reference_checks, terms
from clinic_tui.services.access import Actor, Role
from tests.bhyt_cases import KNOWN_CODES, PROVINCES
from tests.hostile_corpus import (
    CORPUS,
    LONG_TEXT,
    control_characters,
    hostile,
    is_clean,
    noisy,
)

TODAY = date(2026, 5, 1)
HYPOTHESIS = settings(max_examples=150, deadline=None)


# --- the patient form ------------------------------------------------------------------------

VALID = {
    "full_name": "Nguyễn Thị Hồng",
    "date_of_birth": "15/01/1990",
    "gender": "FEMALE",
    "phone": "0912 345 678",
    "email": "hong@example.vn",
    "national_id": "079090012345",
    "address": "12 Lê Lợi, Quận 1",
    "emergency_contact_name": "Trần Văn Bình",
    "emergency_contact_phone": "0903111222",
    "medical_history": "Đau lưng\nTăng huyết áp",
    "alerts": "Dị ứng penicillin",
    "card_number": "DN4791234567890",
    "card_valid_from": "01/01/2026",
    "card_valid_to": "31/12/2026",
    "registered_facility_code": "79001",
    "registered_facility_name": "Bệnh viện Quận 1",
    "five_year_continuous_from": "01/01/2020",
}
_MULTILINE = ("medical_history", "alerts")
#: The database's column sizes for what the form stores (models/people.py).
_COLUMN_SIZES = (
    dict.fromkeys(("phone", "emergency_contact_phone"), 20)
    | dict.fromkeys(("full_name", "emergency_contact_name", "registered_facility_name"), 200)
    | {"email": 254, "national_id": 12, "registered_facility_code": 10}
)


def _validate(raw: dict[str, str], language: str = "vi"):
    return validate_patient(
        raw, language=language, today=TODAY, known_codes=KNOWN_CODES, provinces=PROVINCES
    )


def _assert_form_result(form, problems) -> None:
    assert (form is None) == bool(problems)
    assert set(problems) <= set(RAW_FIELDS)
    assert all(isinstance(problem, PatientProblem) for problem in problems.values())
    if form is None:
        return
    stored = form.model_dump(exclude={"card"})
    if form.card is not None:
        stored |= form.card.model_dump(exclude={"card"})
        assert form.card.card.compact.isascii()
    for field, value in stored.items():
        if isinstance(value, str):
            allowed = "\n" if field in _MULTILINE else ""
            assert is_clean(value, allowed=allowed), (field, value)
            assert len(value) <= _COLUMN_SIZES.get(field, 10_000), field


@HYPOTHESIS
@given(
    st.dictionaries(st.sampled_from(RAW_FIELDS), hostile, max_size=6), st.sampled_from(["vi", "en"])
)
@example({"registered_facility_code": "ßßßßßßßßßß"}, "vi")
@example({"registered_facility_code": "\u0390"}, "vi")  # upper case decomposes: ΐ → Ϊ́
@example({"email": "T\u0308@example.vn"}, "vi")  # lower case composes: ẗ → ẗ
@example({"full_name": LONG_TEXT, "medical_history": LONG_TEXT}, "vi")
def test_patient_form_with_hostile_fields(overrides: dict[str, str], language: str) -> None:
    raw = VALID | overrides
    if language == "en":
        raw = raw | {
            key: value
            for key, value in (("date_of_birth", "01/15/1990"), ("card_valid_to", "12/31/2026"))
            if key not in overrides
        }
    _assert_form_result(*_validate(raw, language))


@HYPOTHESIS
@given(st.fixed_dictionaries({field: noisy(value) for field, value in VALID.items()}))
def test_valid_values_with_noise_are_cleaned_not_refused(raw: dict[str, str]) -> None:
    form, problems = _validate(raw)
    _assert_form_result(form, problems)
    # Noise is dropped, never kept: every name that survived equals the clean original.
    if form is not None:
        assert form.full_name == VALID["full_name"]


def test_facility_code_is_measured_after_upper_case() -> None:
    """German ß upper-cases to SS: ten of them are twenty characters, one too many for the
    column; the form refuses them at the field instead of failing in the typed model."""
    form, problems = _validate(VALID | {"registered_facility_code": "ß" * 10})
    assert form is None
    assert problems == {"registered_facility_code": PatientProblem.TEXT_TOO_LONG}
    form, problems = _validate(VALID | {"registered_facility_code": "\u0390"})
    assert problems == {} and form is not None and form.card is not None
    assert form.card.registered_facility_code == unicodedata.normalize("NFC", "\u0390".upper())


def test_email_is_composed_after_lower_case() -> None:
    form, problems = _validate(VALID | {"email": "T\u0308@Example.VN"})
    assert problems == {} and form is not None
    assert form.email == "\u1e97@example.vn"


@HYPOTHESIS
@given(hostile, st.sampled_from(["vi", "en", "", "xx"]), st.integers(0, 30))
def test_dates_and_phones_never_raise(text: str, language: str, years_ahead: int) -> None:
    parsed = parse_date_input(text, language, today=TODAY, years_ahead=years_ahead)
    assert parsed is None or isinstance(parsed, date)
    phone = normalise_phone(text)
    assert phone is None or (phone.isascii() and phone.isdigit())


@HYPOTHESIS
@given(hostile, st.booleans())
def test_clean_text_is_idempotent_and_clean(text: str, multiline: bool) -> None:
    cleaned = clean_text(text, multiline=multiline)
    assert is_clean(cleaned, allowed="\n" if multiline else "")
    assert clean_text(cleaned, multiline=multiline) == cleaned


# --- the BHYT card ---------------------------------------------------------------------------


@HYPOTHESIS
@given(hostile)
def test_card_parser_raises_only_card_errors(text: str) -> None:
    try:
        card = bhyt.parse_card(text, known_codes=KNOWN_CODES, provinces=PROVINCES)
    except bhyt.CardError as error:
        assert error.problems
    else:
        assert card.compact.isascii() and len(card.compact) == bhyt.CARD_LENGTH
    checked = bhyt.check_card(text, known_codes=KNOWN_CODES, provinces=PROVINCES)
    assert checked.is_valid == (not checked.problems)
    bhyt.problems_while_typing(text, known_codes=KNOWN_CODES, provinces=PROVINCES)
    assert isinstance(bhyt.is_bare_number(text), bool)


@HYPOTHESIS
@given(hostile, hostile, hostile, st.one_of(hostile, noisy("1234567890")))
def test_card_from_parts_raises_only_card_errors(
    code: str, level: str, province: str, number: str
) -> None:
    try:
        card = bhyt.card_from_parts(
            code, level, province, number, known_codes=KNOWN_CODES, provinces=PROVINCES
        )
    except bhyt.CardError as error:
        assert error.problems
    else:
        assert card.compact.isascii()


# --- what the search boxes make of it --------------------------------------------------------


@HYPOTHESIS
@given(hostile)
def test_search_query_is_clean_and_bounded(text: str) -> None:
    query = search_text.parse_query(text)
    assert not control_characters(query.value)
    # The cut is on what was typed; folding may lengthen it a little (ß → ss, İ → i̇).
    assert len(query.value) <= 3 * search_text.MAX_QUERY_LENGTH
    assert len(query.tokens) <= search_text.MAX_TOKENS
    # Folded keys and card numbers go to the database as they are: never with a NUL.
    assert "\x00" not in search_text.fold(text)
    assert "\x00" not in bhyt.normalise_card_text(text)
    search_text.normalise_phone(text)
    search_text.vietnamese_sort_key(text)


@pytest.mark.parametrize(
    "pasted",
    [
        "\u202eNguyễn Thị\u200b Hồng",
        "\ufeffNguy\u200bễn Thị Hồng\u2060",
        "Nguyễn\u200d Thị \u200eHồng",
    ],
)
def test_invisible_characters_do_not_change_a_search(pasted: str) -> None:
    assert search_text.parse_query(pasted) == search_text.parse_query("Nguyễn Thị Hồng")


# --- services' own checks --------------------------------------------------------------------


@HYPOTHESIS
@given(hostile)
def test_term_text_on_one_line_is_clean(text: str) -> None:
    assert is_clean(terms.clean(text))


@HYPOTHESIS
@given(hostile)
@example("Nguye\u0302\u200b\u0303n")
def test_term_descriptions_and_progress_notes_are_clean(text: str) -> None:
    assert is_clean(terms.clean(text, keep_lines=True), allowed="\n")


@HYPOTHESIS
@given(hostile, hostile, hostile, hostile)
def test_account_checks_return_problems(name: str, email: str, password: str, again: str) -> None:
    problems = auth.validate_account(name, email, password, again)
    assert all(isinstance(problem, auth.AccountProblem) for problem in problems.values())


@HYPOTHESIS
@given(st.one_of(hostile, noisy("1.250.000 ₫"), noisy("250000")))
def test_reference_amounts_and_text_only_refuse(text: str) -> None:
    amount = reference_checks.parse_amount(text)
    assert amount is None or isinstance(amount, Decimal)
    check = reference_checks.Checker()
    cleaned = check.text("name", text, limit=200)
    assert is_clean(cleaned)
    money = check.money("price", text)
    assert money is None or (money >= 0 and money == money.to_integral_value())
    check.percent("factor", text)
    assert set(check.problems) <= {"name", "price", "factor"}


@HYPOTHESIS
@given(hostile)
@example("²")
def test_reference_whole_numbers_only_refuse(text: str) -> None:
    check = reference_checks.Checker()
    minutes = check.whole("slot_minutes", text, 5, 240, reference_checks.SLOT)
    assert minutes is None or 5 <= minutes <= 240


@HYPOTHESIS
@given(st.one_of(hostile, noisy("150.000")))
@example("²")
@example("9" * 5000)
def test_payment_amount_parsing_only_refuses(text: str) -> None:
    from clinic_tui.ui.screens.payment_dialog import parse_dong

    amount = parse_dong(text)
    assert amount is None or amount >= 0


@HYPOTHESIS
@given(hostile)
@example("Nhầm\x00 hóa đơn")
def test_void_reasons_are_clean(text: str) -> None:
    from clinic_tui.services.billing_ledger import ReasonRequired, clean_reason

    try:
        cleaned = clean_reason(text)
    except ReasonRequired:
        return
    assert is_clean(cleaned)


@HYPOTHESIS
@given(hostile)
@example("Bận\x00 việc")
def test_appointment_reasons_are_clean(text: str) -> None:
    from clinic_tui.services.scheduling import nfc

    cleaned = nfc(text)
    assert cleaned is None or is_clean(cleaned, allowed="\n")


# --- the search services on a database, with the corpus ---------------------------------------


def _admin(db_session) -> Actor:
    from clinic_tui.models import User

    user = User(
        email=f"{uuid.uuid4().hex}@clinic.vn",
        password_hash="x",
        full_name="Quản trị",
        role=Role.ADMIN.value,
    )
    db_session.add(user)
    db_session.flush()
    return Actor(user.id, user.email, user.full_name, Role.ADMIN)


@pytest.mark.parametrize("text", [text for _name, text in CORPUS], ids=[n for n, _t in CORPUS])
def test_every_search_answers_the_corpus(db_session, text: str) -> None:
    from clinic_tui.services import patient_search, protocols, reference
    from clinic_tui.services.billing_ledger import service_codes

    actor = _admin(db_session)
    searches = {
        "patients": lambda: patient_search.search(db_session, actor, text),
        "similar": lambda: patient_search.similar_patients(
            db_session,
            actor,
            full_name=text,
            date_of_birth=date(1990, 1, 15),
            phone=text,
            card_number=text,
        ),
        "card holder": lambda: patient_search.card_holder(db_session, text),
        "terms": lambda: terms.search_terms(db_session, actor, text),
        "diagnosis": lambda: protocols.list_protocols(db_session, actor, diagnosis=text),
        "reference codes": lambda: reference.list_service_codes(db_session, actor, text),
        "invoice services": lambda: service_codes(db_session, actor, text),
    }
    for name, search in searches.items():
        with db_session.begin_nested():
            assert isinstance(search() or [], list), name


@pytest.mark.parametrize("card", ["DN479123456789\x00", "DN47912345\x006789", "012345678\x009"])
def test_card_lookups_with_a_nul_find_nobody(db_session, card: str) -> None:
    from clinic_tui.services import patient_search

    actor = _admin(db_session)
    with db_session.begin_nested():
        assert patient_search.card_holder(db_session, card) is None
        assert (
            patient_search.similar_patients(
                db_session,
                actor,
                full_name="An\x00",
                date_of_birth=None,
                phone=None,
                card_number=card,
            )
            == []
        )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.dictionaries(st.sampled_from(RAW_FIELDS), hostile, max_size=4))
def test_an_accepted_registration_is_stored_as_accepted(db_session, overrides) -> None:
    """Whatever the form accepts the database takes, and gives back unchanged."""
    from clinic_tui.services import patients

    form, _problems = _validate(VALID | overrides)
    if form is None:
        return
    with db_session.begin_nested() as savepoint:
        record = patients.register(db_session, _admin(db_session), form)
        assert record.full_name == form.full_name
        assert record.address == form.address
        assert record.medical_history == form.medical_history
        savepoint.rollback()


def test_sign_in_with_a_nul_is_refused_not_an_error(db_session) -> None:
    from clinic_tui.services.access import LoginProblem

    with db_session.begin_nested():
        outcome = auth.login(db_session, "admin\x00@clinic.vn", "long enough pw")
    assert outcome.problem is LoginProblem.BAD_CREDENTIALS


@pytest.mark.parametrize("name", ["Lê\x1b[31m Văn\x07 An", "Lê\x00 Văn An"])
def test_staff_names_are_stored_clean(db_session, name: str) -> None:
    from clinic_tui.services import staff

    with db_session.begin_nested():
        member = staff.create_staff(
            db_session,
            _admin(db_session),
            full_name=name,
            email=f"{uuid.uuid4().hex}@clinic.vn",
            role="RECEPTIONIST",
            password="long enough pw",
            password_again="long enough pw",
        )
    assert is_clean(member.full_name)
