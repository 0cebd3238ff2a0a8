"""The patient form: typed strings in, a typed `PatientForm` or a problem per field out."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_tui.domain.bhyt import Card, CardProblem
from clinic_tui.forms.patient import (
    CARD_PROBLEMS,
    DATE_HINT,
    RAW_FIELDS,
    PatientForm,
    PatientProblem,
    clean_text,
    format_date_for_input,
    normalise_phone,
    parse_date_input,
    validate_patient,
)
from tests.bhyt_cases import KNOWN_CODES, PROVINCES

TODAY = date(2026, 5, 1)
P = PatientProblem

BASE = {
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "15/01/1990",
    "gender": "MALE",
}
DATES = {"card_valid_from": "01/01/2026", "card_valid_to": "31/12/2026"}
CARD = {"card_number": "DN4791234567890"} | DATES


def check(
    language: str = "vi", **fields: str
) -> tuple[PatientForm | None, dict[str, PatientProblem]]:
    raw = BASE | fields
    if language == "en" and "date_of_birth" not in fields:
        raw["date_of_birth"] = "01/15/1990"
    return validate_patient(
        raw, language=language, today=TODAY, known_codes=KNOWN_CODES, provinces=PROVINCES
    )


def valid(language: str = "vi", **fields: str) -> PatientForm:
    form, problems = check(language, **fields)
    assert problems == {}
    assert form is not None
    return form


def problem(field: str, language: str = "vi", **fields: str) -> PatientProblem | None:
    form, problems = check(language, **fields)
    assert (form is None) == bool(problems)
    return problems.get(field)


# --- the whole form ----------------------------------------------------------------------


def test_a_minimal_form_in_both_languages() -> None:
    for language in ("vi", "en"):
        form = valid(language)
        assert form.full_name == "Nguyễn Văn An"
        assert form.date_of_birth == date(1990, 1, 15)
        assert form.gender == "MALE"
        assert form.phone is form.email is form.national_id is form.card is None


def test_nothing_typed_asks_for_the_three_required_fields() -> None:
    form, problems = validate_patient(
        {}, language="vi", today=TODAY, known_codes=KNOWN_CODES, provinces=PROVINCES
    )
    assert form is None
    assert problems == {"full_name": P.REQUIRED, "date_of_birth": P.REQUIRED, "gender": P.REQUIRED}


def test_the_form_is_frozen() -> None:
    form = valid()
    with pytest.raises(ValueError):
        form.full_name = "Someone else"  # type: ignore[misc]


def test_raw_fields_and_hints() -> None:
    assert len(RAW_FIELDS) == 20 and len(set(RAW_FIELDS)) == 20
    assert DATE_HINT == {"vi": "dd/mm/yyyy", "en": "mm/dd/yyyy"}


def test_every_card_problem_has_a_form_problem() -> None:
    assert set(CARD_PROBLEMS) == set(CardProblem)


# --- names and free text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Nguyễn   Văn An ", "Nguyễn Văn An"),
        ("Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An"),  # decomposed, as some IMEs send
        ("Nguyễn\x00 Văn\x1b An\u200b", "Nguyễn Văn An"),  # NUL, escape, zero-width space
        ("Đoàn\tThị\nHoa", "Đoàn Thị Hoa"),
        ("\ufeffLê Văn Tám", "Lê Văn Tám"),
        ("A" * 200, "A" * 200),
    ],
)
def test_full_name_is_cleaned(typed: str, stored: str) -> None:
    assert valid(full_name=typed).full_name == stored


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", P.REQUIRED),
        ("   ", P.REQUIRED),
        ("\x00\u200b\x07", P.REQUIRED),
        ("A" * 201, P.NAME_TOO_LONG),
    ],
)
def test_full_name_problems(typed: str, expected: PatientProblem) -> None:
    assert problem("full_name", full_name=typed) is expected


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("address", "x" * 500, None),
        ("address", "x" * 501, P.TEXT_TOO_LONG),
        ("emergency_contact_name", "x" * 201, P.NAME_TOO_LONG),
        ("alerts", "x" * 2001, P.TEXT_TOO_LONG),
        ("medical_history", "x" * 10_001, P.TEXT_TOO_LONG),
    ],
)
def test_text_limits(field: str, text: str, expected: PatientProblem | None) -> None:
    assert problem(field, **{field: text}) is expected


def test_multi_line_text_keeps_its_lines() -> None:
    form = valid(
        medical_history="\r\n Tăng huyết áp \r\n\r\n  Gout\x00  \n",
        alerts="  Dị ứng\u2028penicillin ",
    )
    assert form.medical_history == "Tăng huyết áp\n\nGout"
    assert form.alerts == "Dị ứng\npenicillin"
    assert valid(address=" 12 Lê Lợi,\n Quận 1 ").address == "12 Lê Lợi, Quận 1"


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("vi", "15/01/1990", date(1990, 1, 15)),
        ("vi", "15/1/1990", date(1990, 1, 15)),
        ("vi", "5/1/1990", date(1990, 1, 5)),
        ("vi", "15.01.1990", date(1990, 1, 15)),
        ("vi", "15-01-1990", date(1990, 1, 15)),
        ("vi", "15011990", date(1990, 1, 15)),
        ("vi", "150190", date(1990, 1, 15)),
        ("vi", "15/01/90", date(1990, 1, 15)),
        ("vi", " 15 / 01 / 1990 ", date(1990, 1, 15)),
        ("vi", "1990-01-15", date(1990, 1, 15)),
        ("vi", "01/05/26", date(2026, 5, 1)),  # today's two-digit year: this century
        ("vi", "01/01/27", date(1927, 1, 1)),  # after it: the last one
        ("vi", "29/02/2000", date(2000, 2, 29)),
        ("en", "01/15/1990", date(1990, 1, 15)),
        ("en", "1/15/1990", date(1990, 1, 15)),
        ("en", "1.5.1990", date(1990, 1, 5)),
        ("en", "01-15-90", date(1990, 1, 15)),
        ("en", "01151990", date(1990, 1, 15)),
        ("en", "011590", date(1990, 1, 15)),
        ("en", "1990-01-15", date(1990, 1, 15)),
        ("en", "5/1/26", date(2026, 5, 1)),
    ],
)
def test_date_of_birth_formats(language: str, typed: str, expected: date) -> None:
    assert valid(language, date_of_birth=typed).date_of_birth == expected


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("vi", "", P.REQUIRED),
        ("vi", "31/02/1990", P.DATE_FORMAT),
        ("vi", "15/13/1990", P.DATE_FORMAT),
        ("vi", "1990/01/15", P.DATE_FORMAT),
        ("vi", "15/01/199", P.DATE_FORMAT),
        ("vi", "1501199", P.DATE_FORMAT),
        ("vi", "hôm qua", P.DATE_FORMAT),
        ("vi", "١٥/٠١/١٩٩٠", P.DATE_FORMAT),  # Arabic-Indic digits
        ("vi", "02/05/2026", P.DATE_IN_FUTURE),
        ("vi", "31/12/1899", P.DATE_TOO_OLD),
        ("vi", "1800-01-01", P.DATE_TOO_OLD),
        ("vi", "0000-01-01", P.DATE_FORMAT),
        ("en", "15/01/1990", P.DATE_FORMAT),  # a Vietnamese date on an English form
        ("en", "05/02/2026", P.DATE_IN_FUTURE),
    ],
)
def test_date_of_birth_problems(language: str, typed: str, expected: PatientProblem) -> None:
    assert problem("date_of_birth", language, date_of_birth=typed) is expected


def test_date_limits_are_inclusive() -> None:
    assert valid(date_of_birth="01/05/2026").date_of_birth == TODAY
    assert valid(date_of_birth="01/01/1900").date_of_birth == date(1900, 1, 1)


@settings(max_examples=200)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(["vi", "en"]),
)
def test_format_date_for_input_is_the_inverse(day: date, language: str) -> None:
    text = format_date_for_input(day, language)
    assert parse_date_input(text, language, today=TODAY) == day


def test_format_date_for_input() -> None:
    assert format_date_for_input(date(1990, 1, 5), "vi") == "05/01/1990"
    assert format_date_for_input(date(1990, 1, 5), "en") == "01/05/1990"
    assert format_date_for_input(None, "vi") == ""


# --- gender, phone, email, national id ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [("MALE", "MALE"), ("female", "FEMALE"), ("Other", "OTHER"), ("Nữ", "FEMALE"), ("nam", "MALE")],
)
def test_gender(typed: str, code: str) -> None:
    assert valid(gender=typed).gender == code


@pytest.mark.parametrize(
    ("typed", "expected"), [("", P.REQUIRED), ("X", P.GENDER), ("MALES", P.GENDER)]
)
def test_gender_problems(typed: str, expected: PatientProblem) -> None:
    assert problem("gender", gender=typed) is expected


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912345678", "0912345678"),
        ("091 234 5678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("0312345678", "0312345678"),
        ("0512345678", "0512345678"),
        ("0712345678", "0712345678"),
        ("0812345678", "0812345678"),
        ("028 3829 1234", "02838291234"),  # landline, Hồ Chí Minh City
        ("(024) 3825 3531", "02438253531"),
        ("+84 28 3829 1234", "02838291234"),
    ],
)
def test_phone_formats(typed: str, stored: str) -> None:
    form = valid(phone=typed, emergency_contact_phone=typed)
    assert form.phone == form.emergency_contact_phone == stored


@pytest.mark.parametrize(
    "typed",
    [
        "0112345678",  # 01x mobiles were renumbered in 2018
        "0412345678",
        "0612345678",
        "091234567",
        "09123456789",
        "0212345678",  # a landline needs 11 digits
        "021234567890",
        "+1 415 555 0100",
        "0912345678 ext 2",
        "８４９１２３４５６７８",  # full-width digits
        "abc",
    ],
)
def test_phone_problems(typed: str) -> None:
    assert problem("phone", phone=typed) is P.PHONE_FORMAT
    assert problem("emergency_contact_phone", emergency_contact_phone=typed) is P.PHONE_FORMAT


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" An.Nguyen@Gmail.COM ", "an.nguyen@gmail.com"),
        ("hoa@benhvien.org.vn", "hoa@benhvien.org.vn"),
    ],
)
def test_email(typed: str, stored: str) -> None:
    assert valid(email=typed).email == stored


@pytest.mark.parametrize(
    "typed",
    ["an", "an@", "an@gmail", "a b@c.vn", "a@@c.vn", "a@c..vn", "@c.vn", "a" * 250 + "@c.vn"],
)
def test_email_problems(typed: str) -> None:
    assert problem("email", email=typed) is P.EMAIL_FORMAT


@pytest.mark.parametrize(
    ("typed", "stored"), [("001090012345", "001090012345"), ("001 090 012345", "001090012345")]
)
def test_national_id(typed: str, stored: str) -> None:
    assert valid(national_id=typed).national_id == stored


@pytest.mark.parametrize(
    "typed", ["00109001234", "0010900123456", "00109001234a", "001-090-012345"]
)
def test_national_id_problems(typed: str) -> None:
    assert problem("national_id", national_id=typed) is P.NATIONAL_ID_FORMAT


# --- the BHYT card ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["DN4791234567890", "dn4 79 1234567890", "DN-4-79-1234567890", " DN 4 79 1234567890 "]
)
def test_whole_card(typed: str) -> None:
    card = valid(**DATES, card_number=typed).card
    assert card is not None
    assert card.card == Card("DN", 4, "79", "1234567890")
    assert (card.valid_from, card.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ZZ4791234567890", P.CARD_OBJECT_CODE_UNKNOWN),
        ("D14791234567890", P.CARD_OBJECT_CODE_FORMAT),
        ("DN6791234567890", P.CARD_LEVEL),
        ("DN4001234567890", P.CARD_PROVINCE),
        ("DN4031234567890", P.CARD_PROVINCE),
        ("DN47912345O7890", P.CARD_NUMBER),
        ("DN479123456789", P.CARD_TOO_SHORT),
        ("DN47912345678901", P.CARD_TOO_LONG),
        ("123456789", P.CARD_OBJECT_CODE_FORMAT),
    ],
)
def test_whole_card_problems(typed: str, expected: PatientProblem) -> None:
    assert problem("card_number", **DATES, card_number=typed) is expected


def test_bare_number_with_its_parts() -> None:
    parts = {"card_object_code": "hc", "card_level": "3", "card_province": "01"}
    card = valid(**DATES, card_number="12345 67890", **parts).card
    assert card is not None and card.card == Card("HC", 3, "01", "1234567890")


def test_bare_number_without_its_parts() -> None:
    for missing in ("card_object_code", "card_level", "card_province"):
        parts = {"card_object_code": "HC", "card_level": "3", "card_province": "01"}
        parts[missing] = " "
        assert problem("card_number", **DATES, card_number="1234567890", **parts) is (
            P.CARD_PARTS_REQUIRED
        )


def test_bare_number_with_wrong_parts_points_at_each_part() -> None:
    parts = {"card_object_code": "ZZ", "card_level": "9", "card_province": "00"}
    _form, problems = check(**DATES, card_number="1234567890", **parts)
    assert problems == {
        "card_object_code": P.CARD_OBJECT_CODE_UNKNOWN,
        "card_level": P.CARD_LEVEL,
        "card_province": P.CARD_PROVINCE,
    }
    parts["card_object_code"] = "D1"
    assert problem("card_object_code", **DATES, card_number="1234567890", **parts) is (
        P.CARD_OBJECT_CODE_FORMAT
    )


def test_whole_card_ignores_leftover_parts() -> None:
    card = valid(**CARD, card_object_code="ZZ", card_level="9").card
    assert card is not None and card.card.object_code == "DN"


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"card_valid_from": ""}, "card_valid_from", P.REQUIRED),
        ({"card_valid_to": ""}, "card_valid_to", P.REQUIRED),
        ({"card_valid_to": "31/12/2025"}, "card_valid_to", P.VALID_DATES),
        ({"card_valid_from": "32/01/2026"}, "card_valid_from", P.DATE_FORMAT),
        ({"card_valid_to": "31/12/1899"}, "card_valid_to", P.DATE_TOO_OLD),
        ({"five_year_continuous_from": "2030"}, "five_year_continuous_from", P.DATE_FORMAT),
        ({"registered_facility_code": "79024790247"}, "registered_facility_code", P.TEXT_TOO_LONG),
        ({"registered_facility_name": "x" * 201}, "registered_facility_name", P.TEXT_TOO_LONG),
    ],
)
def test_card_detail_problems(fields: dict[str, str], field: str, expected: PatientProblem) -> None:
    assert problem(field, **(CARD | fields)) is expected


def test_card_details() -> None:
    card = valid(
        "en",
        card_number="HT3011234567890",
        card_valid_from="1/1/26",
        card_valid_to="12/31/30",  # two-digit years ahead of today are this century on a card
        registered_facility_code=" 01013 ",
        registered_facility_name="Bệnh viện Bạch Mai",
        five_year_continuous_from="07/01/2027",  # may lie ahead: printed on the card
    ).card
    assert card is not None
    assert (card.valid_from, card.valid_to) == (date(2026, 1, 1), date(2030, 12, 31))
    assert card.registered_facility_code == "01013"
    assert card.registered_facility_name == "Bệnh viện Bạch Mai"
    assert card.five_year_continuous_from == date(2027, 7, 1)


def test_an_expired_card_is_not_a_problem() -> None:
    card = valid(**CARD | {"card_valid_from": "01/01/2025", "card_valid_to": "31/12/2025"}).card
    assert card is not None
    assert card.is_expired(TODAY)
    assert not valid(**CARD).card.is_expired(TODAY)  # type: ignore[union-attr]


def test_a_cleared_card_number_clears_the_card() -> None:
    assert (
        valid(card_number="  ", card_valid_from="01/01/2026", card_valid_to="nonsense").card is None
    )


# --- whatever is typed ---------------------------------------------------------------------

# Any code point, surrogates and controls included, plus the characters dates and phones use.
_TEXT = st.text(
    st.characters(exclude_categories=()) | st.sampled_from("0123456789/.-+ "), max_size=40
)
# Values that pass, so the arbitrary ones are also met beside otherwise valid fields.
_PLAUSIBLE = (
    BASE
    | CARD
    | {
        "phone": "0912345678",
        "email": "an@gmail.com",
        "national_id": "001090012345",
        "card_object_code": "DN",
        "card_level": "4",
        "card_province": "79",
        "five_year_continuous_from": "01/01/2020",
    }
)


def _field(name: str) -> st.SearchStrategy[str]:
    return st.one_of(_TEXT, st.just(_PLAUSIBLE.get(name, "x")), st.just(""))


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries({field: _field(field) for field in RAW_FIELDS}),
    st.sampled_from(["vi", "en", "", "xx"]),
)
def test_validate_patient_never_raises(raw: dict[str, str], language: str) -> None:
    form, problems = validate_patient(
        raw, language=language, today=TODAY, known_codes=KNOWN_CODES, provinces=PROVINCES
    )
    assert (form is None) == bool(problems)
    assert set(problems) <= set(RAW_FIELDS)
    assert P.INVALID not in problems.values()
    if form is not None:
        texts = [v for v in form.model_dump().values() if isinstance(v, str)]
        assert all(unicodedata.is_normalized("NFC", text) for text in texts)
        assert all(text == clean_text(text, multiline=True) for text in texts)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(RAW_FIELDS), st.text(max_size=20)))
def test_validate_patient_with_fields_missing(raw: dict[str, str]) -> None:
    form, problems = validate_patient(
        raw, language="vi", today=TODAY, known_codes=KNOWN_CODES, provinces=PROVINCES
    )
    assert (form is None) == bool(problems)


_VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
_WORDS = st.lists(
    st.text(st.sampled_from(_VIETNAMESE + _VIETNAMESE.upper()), min_size=1, max_size=8),
    min_size=1,
    max_size=5,
).map(" ".join)


@settings(max_examples=200)
@given(_WORDS, _WORDS, _WORDS)
def test_decomposed_input_comes_out_composed(name: str, address: str, history: str) -> None:
    form = valid(
        full_name=unicodedata.normalize("NFD", name),
        address=unicodedata.normalize("NFD", address),
        medical_history=unicodedata.normalize("NFD", history),
        emergency_contact_name=unicodedata.normalize("NFD", name),
    )
    assert form.full_name == form.emergency_contact_name == unicodedata.normalize("NFC", name)
    assert form.address == unicodedata.normalize("NFC", address)
    assert form.medical_history == unicodedata.normalize("NFC", history)


@given(st.text(max_size=60), st.booleans())
def test_clean_text_leaves_no_control_characters(text: str, multiline: bool) -> None:
    cleaned = clean_text(text, multiline=multiline)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip()
    assert all(
        (multiline and char == "\n") or unicodedata.category(char) not in ("Cc", "Cf", "Cs")
        for char in cleaned
    )


@given(
    st.sampled_from("35789"),
    st.text(st.sampled_from("0123456789"), min_size=9, max_size=9),
    st.sampled_from(["0", "+84", "84", "+84 ", "0084"]),
    st.sampled_from(["", " ", ".", "-"]),
)
def test_any_mobile_number_is_stored_the_same(
    network: str, digits: str, prefix: str, separator: str
) -> None:
    local = network + digits[:8]
    typed = prefix + separator.join([local[:3], local[3:6], local[6:]])
    assert normalise_phone(typed) == "0" + local


def test_a_date_shortcut_year_pivots_on_today() -> None:
    for years_ahead, expected in ((0, 1930), (10, 2030)):
        parsed = parse_date_input("1/1/30", "vi", today=TODAY, years_ahead=years_ahead)
        assert parsed == date(expected, 1, 1)
    assert parse_date_input("1/1/26", "vi", today=TODAY + timedelta(days=365)) == date(2026, 1, 1)
