"""The patient registration / edit form: what the screen typed → a validated `PatientForm`.

The screen sends every field as the string the person typed (`RAW_FIELDS`). `validate_patient`
cleans each one (control characters dropped, Unicode NFC, whitespace trimmed: terminals and
Vietnamese IMEs send decomposed characters and stray escapes), checks it, and returns either a
frozen `PatientForm` of typed values or a problem code per field, which the screen translates
next to the field. It never raises on any strings, so the form survives whatever is pasted.

Dates are typed in the language's order (`DATE_HINT`) with shortcuts; phones are stored in
the national form ``0912345678``; a BHYT card is a whole 15-character number or, for cards
issued since April 2021, the bare 10-digit number with its object code, level and province.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clinic_tui.domain.bhyt import (
    Card,
    CardError,
    CardProblem,
    card_from_parts,
    is_bare_number,
    parse_card,
)

__all__ = [
    "CARD_PROBLEMS",
    "DATE_HINT",
    "EARLIEST_DATE",
    "RAW_FIELDS",
    "CardInput",
    "Gender",
    "PatientForm",
    "PatientProblem",
    "clean_text",
    "format_date_for_input",
    "normalise_phone",
    "parse_date_input",
    "validate_patient",
]


class PatientProblem(StrEnum):
    """What is wrong with one field; the UI translates the value."""

    REQUIRED = "required"
    NAME_TOO_LONG = "name_too_long"
    TEXT_TOO_LONG = "text_too_long"
    DATE_FORMAT = "date_format"
    DATE_IN_FUTURE = "date_in_future"
    DATE_TOO_OLD = "date_too_old"
    GENDER = "gender"
    PHONE_FORMAT = "phone_format"
    EMAIL_FORMAT = "email_format"
    NATIONAL_ID_FORMAT = "national_id_format"
    CARD_TOO_SHORT = "card_too_short"
    CARD_TOO_LONG = "card_too_long"
    CARD_OBJECT_CODE_UNKNOWN = "card_object_code_unknown"
    CARD_OBJECT_CODE_FORMAT = "card_object_code_format"
    CARD_LEVEL = "card_level"
    CARD_PROVINCE = "card_province"
    CARD_NUMBER = "card_number"
    CARD_PARTS_REQUIRED = "card_parts_required"  # a bare 10-digit number without its parts
    VALID_DATES = "valid_dates"  # the card's valid-to is before its valid-from
    INVALID = "invalid"  # a safety net: the typed model refused a value the checks let by


#: The domain's card problems as form problems (the live feedback while typing uses it too).
CARD_PROBLEMS: Final[Mapping[CardProblem, PatientProblem]] = MappingProxyType(
    {
        CardProblem.EMPTY: PatientProblem.REQUIRED,
        CardProblem.OBJECT_CODE_FORMAT: PatientProblem.CARD_OBJECT_CODE_FORMAT,
        CardProblem.OBJECT_CODE_UNKNOWN: PatientProblem.CARD_OBJECT_CODE_UNKNOWN,
        CardProblem.LEVEL: PatientProblem.CARD_LEVEL,
        CardProblem.PROVINCE: PatientProblem.CARD_PROVINCE,
        CardProblem.NUMBER: PatientProblem.CARD_NUMBER,
        CardProblem.TOO_SHORT: PatientProblem.CARD_TOO_SHORT,
        CardProblem.TOO_LONG: PatientProblem.CARD_TOO_LONG,
    }
)

# With a bare number, each part's problem is shown next to the field it was typed in.
_PART_FIELDS: Final = {
    CardProblem.OBJECT_CODE_FORMAT: "card_object_code",
    CardProblem.OBJECT_CODE_UNKNOWN: "card_object_code",
    CardProblem.LEVEL: "card_level",
    CardProblem.PROVINCE: "card_province",
}

RAW_FIELDS: Final = (
    "full_name", "date_of_birth", "gender", "phone", "email", "national_id", "address",
    "emergency_contact_name", "emergency_contact_phone", "medical_history", "alerts",
    "card_number", "card_object_code", "card_level", "card_province", "card_valid_from",
    "card_valid_to", "registered_facility_code", "registered_facility_name",
    "five_year_continuous_from",
)  # fmt: skip

DATE_HINT: Final[Mapping[str, str]] = MappingProxyType({"vi": "dd/mm/yyyy", "en": "mm/dd/yyyy"})
EARLIEST_DATE: Final = date(1900, 1, 1)  # the patients table refuses earlier birthdays

# Longest text per field, the database's column sizes where it has one.
_NAME_LIMIT: Final = 200
_LIMITS: Final = {
    "address": 500,
    "medical_history": 10_000,
    "alerts": 2_000,
    "registered_facility_code": 10,
    "registered_facility_name": 200,
}
_MULTILINE: Final = frozenset({"medical_history", "alerts"})
_EMAIL_LIMIT: Final = 254
# Card validity and the five-years date may lie ahead: a two-digit year up to this many years
# ahead is read as this century ("31/12/30" in 2026 is 2030, not 1930).
_CARD_YEARS_AHEAD: Final = 10

Gender = Literal["MALE", "FEMALE", "OTHER"]
# The screen sends the code; the words are accepted too, so a pasted value or a test is not
# refused for its spelling.
_GENDERS: Final[Mapping[str, Gender]] = MappingProxyType(
    {
        "MALE": "MALE", "M": "MALE", "NAM": "MALE",
        "FEMALE": "FEMALE", "F": "FEMALE", "NỮ": "FEMALE", "NU": "FEMALE",
        "OTHER": "OTHER", "O": "OTHER", "KHÁC": "OTHER", "KHAC": "OTHER",
    }
)  # fmt: skip

_PHONE_PATTERN: Final = r"^0(?:[35789][0-9]{8}|2[0-9]{9})$"
_PHONE: Final = re.compile(_PHONE_PATTERN)
_PHONE_JUNK: Final = re.compile(r"[\s.\-()]")
_NATIONAL_ID_PATTERN: Final = r"^[0-9]{12}$"
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
# Dates: ASCII digits only (int() would also read Arabic-Indic or full-width digits).
_ISO_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_SEPARATED_DATE: Final = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{2}|[0-9]{4})")
_COMPACT_DATE: Final = re.compile(r"[0-9]{6}|[0-9]{8}")
# Control characters (NUL cannot even be stored), invisible format characters (zero-width
# spaces, BOMs, direction marks that hide in pasted text) and lone surrogates (not UTF-8).
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs"})
_LINE_BREAKS: Final = re.compile(r"\r\n|[\r\n\u2028\u2029\x85\x0b\x0c]")


class CardInput(BaseModel):
    """A BHYT card as entered: the card itself and what is printed around it."""

    model_config = ConfigDict(frozen=True)

    card: Card
    valid_from: date
    valid_to: date
    registered_facility_code: str | None = Field(default=None, max_length=10)
    registered_facility_name: str | None = Field(default=None, max_length=200)
    five_year_continuous_from: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> CardInput:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def is_expired(self, today: date) -> bool:
        """Stored all the same: the screen flags it, and visits after it get no coverage."""
        return self.valid_to < today


class PatientForm(BaseModel):
    """A registration or edit the services may store: every value clean and typed."""

    model_config = ConfigDict(frozen=True)

    full_name: str = Field(min_length=1, max_length=_NAME_LIMIT)
    date_of_birth: date
    gender: Gender
    phone: str | None = Field(default=None, pattern=_PHONE_PATTERN)
    email: str | None = Field(default=None, max_length=_EMAIL_LIMIT)
    national_id: str | None = Field(default=None, pattern=_NATIONAL_ID_PATTERN)
    address: str | None = None
    emergency_contact_name: str | None = Field(default=None, max_length=_NAME_LIMIT)
    emergency_contact_phone: str | None = Field(default=None, pattern=_PHONE_PATTERN)
    medical_history: str | None = None
    alerts: str | None = None
    card: CardInput | None = None


# --- cleaning and parsing single values ----------------------------------------------------


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Drop control and invisible characters, NFC, trim; one line unless ``multiline``.

    NFC comes after dropping, so a base letter and its combining mark separated by an invisible
    character still compose. Single-line text has its whitespace runs collapsed (a double space
    in a name would defeat exact search); multi-line text keeps its lines, each trimmed.
    """
    text = _LINE_BREAKS.sub("\n", value) if multiline else value
    kept = "".join(
        char
        for char in text
        # Tabs and other whitespace controls separate words: kept here, collapsed below.
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    kept = unicodedata.normalize("NFC", kept)
    if not multiline:
        return " ".join(kept.split())
    lines = [" ".join(line.split()) for line in kept.split("\n")]
    return "\n".join(lines).strip("\n")


def _full_year(two_digits: int, today: date, years_ahead: int) -> int:
    year = today.year - today.year % 100 + two_digits
    return year - 100 if year > today.year + years_ahead else year


def parse_date_input(text: str, language: str, *, today: date, years_ahead: int = 0) -> date | None:
    """A date typed in the language's order, or ``None`` when it is not one.

    vi ``dd/mm/yyyy``, en ``mm/dd/yyyy``; separators ``/ . -`` or none (``15011990``, 6 or 8
    digits), one-digit day and month, two-digit years (this century up to ``years_ahead``
    years from today, else the last), and ISO ``yyyy-mm-dd`` in either language.
    """
    compact = "".join(text.split())
    if match := _ISO_DATE.fullmatch(compact):
        year_text, month_text, day_text = match.groups()
    else:
        if match := _SEPARATED_DATE.fullmatch(compact):
            first, second, year_text = match.groups()
        elif _COMPACT_DATE.fullmatch(compact):
            first, second, year_text = compact[:2], compact[2:4], compact[4:]
        else:
            return None
        day_text, month_text = (second, first) if language == "en" else (first, second)
    year = int(year_text)
    if len(year_text) == 2:
        year = _full_year(year, today, years_ahead)
    try:
        return date(year, int(month_text), int(day_text))
    except ValueError:
        return None


def format_date_for_input(value: date | None, language: str) -> str:
    """The inverse of `parse_date_input`, for filling the form when a record is edited."""
    if value is None:
        return ""
    if _language(language) == "en":
        return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def normalise_phone(text: str) -> str | None:
    """A Vietnamese phone number in its national form (``0912345678``), or ``None``.

    Mobiles are 10 digits (03x, 05x, 07x, 08x, 09x), landlines 11 (02x…). Spaces, dots,
    dashes, brackets and a +84 / 0084 / 84 country prefix are accepted.
    """
    compact = _PHONE_JUNK.sub("", text)
    rest = None
    for prefix in ("+84", "0084"):
        if compact.startswith(prefix):
            rest = compact[len(prefix) :]
    # A national number starts with 0, so a leading 84 of the right length is the country.
    if rest is None and compact.startswith("84") and len(compact) in (11, 12):
        rest = compact[2:]
    if rest is not None:
        compact = rest if rest.startswith("0") else "0" + rest
    return compact if _PHONE.fullmatch(compact) else None


def _language(language: str) -> str:
    return "vi" if str(language)[:2].lower() == "vi" else "en"


# --- the whole form --------------------------------------------------------------------------


class _Checker:
    """One pass over the typed values, gathering cleaned values and problems."""

    def __init__(self, raw: Mapping[str, str], language: str, today: date) -> None:
        self.raw, self.language, self.today = raw, _language(language), today
        self.problems: dict[str, PatientProblem] = {}

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = self.raw.get(field)
        cleaned = clean_text(value if isinstance(value, str) else "", multiline=field in _MULTILINE)
        if not cleaned:
            if required:
                self.problems[field] = PatientProblem.REQUIRED
            return None
        return cleaned

    def bounded(
        self, field: str, limit: int, problem: PatientProblem, *, required: bool = False,
        upper: bool = False,
    ) -> str | None:  # fmt: skip
        value = self.text(field, required=required)
        if value is not None and upper:
            # Measured as stored: upper case can lengthen ("ß" → "SS") or decompose ("ΐ").
            value = unicodedata.normalize("NFC", value.upper())
        if value is not None and len(value) > limit:
            self.problems[field] = problem
            return None
        return value

    def shaped(
        self, field: str, convert: Callable[[str], str | None], problem: PatientProblem
    ) -> str | None:
        value = self.text(field)
        if value is None:
            return None
        converted = convert(value)
        if converted is None:
            self.problems[field] = problem
        return converted

    def day(
        self, field: str, *, required: bool, past_only: bool = False, years_ahead: int = 0
    ) -> date | None:
        value = self.text(field, required=required)
        if value is None:
            return None
        parsed = parse_date_input(value, self.language, today=self.today, years_ahead=years_ahead)
        if parsed is None:
            self.problems[field] = PatientProblem.DATE_FORMAT
        elif parsed < EARLIEST_DATE:
            self.problems[field] = PatientProblem.DATE_TOO_OLD
        elif past_only and parsed > self.today:
            self.problems[field] = PatientProblem.DATE_IN_FUTURE
        else:
            return parsed
        return None

    def card(self, known_codes: Collection[str], provinces: Collection[str]) -> CardInput | None:
        text = self.text("card_number")
        if text is None:
            # A cleared card number clears the card, whatever is left in the fields beside it.
            return None
        card = self._card(text, known_codes, provinces)
        valid_from = self.day("card_valid_from", required=True, years_ahead=_CARD_YEARS_AHEAD)
        valid_to = self.day("card_valid_to", required=True, years_ahead=_CARD_YEARS_AHEAD)
        if valid_from is not None and valid_to is not None and valid_to < valid_from:
            self.problems["card_valid_to"] = PatientProblem.VALID_DATES
        continuous = self.day(
            "five_year_continuous_from", required=False, years_ahead=_CARD_YEARS_AHEAD
        )
        facility_code = self.bounded(
            "registered_facility_code", _LIMITS["registered_facility_code"],
            PatientProblem.TEXT_TOO_LONG, upper=True,
        )  # fmt: skip
        facility_name = self.bounded(
            "registered_facility_name", _LIMITS["registered_facility_name"],
            PatientProblem.TEXT_TOO_LONG,
        )  # fmt: skip
        if card is None or valid_from is None or valid_to is None or valid_to < valid_from:
            return None
        return CardInput(
            card=card,
            valid_from=valid_from,
            valid_to=valid_to,
            registered_facility_code=facility_code,
            registered_facility_name=facility_name,
            five_year_continuous_from=continuous,
        )

    def _card(
        self, text: str, known_codes: Collection[str], provinces: Collection[str]
    ) -> Card | None:
        if not is_bare_number(text):
            try:
                return parse_card(text, known_codes=known_codes, provinces=provinces)
            except CardError as error:
                self.problems["card_number"] = CARD_PROBLEMS[error.problems[0]]
                return None
        parts = [self.text(f) for f in ("card_object_code", "card_level", "card_province")]
        code, level, province = parts
        if code is None or level is None or province is None:
            self.problems["card_number"] = PatientProblem.CARD_PARTS_REQUIRED
            return None
        try:
            return card_from_parts(
                code, level, province, text, known_codes=known_codes, provinces=provinces
            )
        except CardError as error:
            for problem in error.problems:
                self.problems.setdefault(
                    _PART_FIELDS.get(problem, "card_number"), CARD_PROBLEMS[problem]
                )
            return None


def _email(value: str) -> str | None:
    # Lower case can compose what upper case could not: "T" + U+0308 becomes U+1E97.
    address = unicodedata.normalize("NFC", value.lower())
    return address if len(address) <= _EMAIL_LIMIT and _EMAIL.fullmatch(address) else None


def _national_id(value: str) -> str | None:
    digits = "".join(value.split())  # typed in groups: "001 090 012345"
    return digits if re.fullmatch(_NATIONAL_ID_PATTERN, digits) else None


def validate_patient(
    raw: Mapping[str, str],
    *,
    language: str,
    today: date,
    known_codes: Collection[str],
    provinces: Collection[str],
) -> tuple[PatientForm | None, dict[str, PatientProblem]]:
    """Check a whole form: ``(form, {})`` when every field is right, else ``(None, problems)``
    with one problem per wrong field (keys from `RAW_FIELDS`). Missing keys count as empty.

    An expired card is not a problem: it is stored and flagged. ``known_codes`` and
    ``provinces`` are the active BHYT object codes and issuing provinces (the service's
    `load_bhyt_reference`).
    """
    check = _Checker(raw, language, today)
    gender_text = check.text("gender", required=True)
    gender = _GENDERS.get(gender_text.upper()) if gender_text else None
    if gender_text and gender is None:
        check.problems["gender"] = PatientProblem.GENDER
    values: dict[str, object] = {
        "full_name": check.bounded(
            "full_name", _NAME_LIMIT, PatientProblem.NAME_TOO_LONG, required=True
        ),
        "date_of_birth": check.day("date_of_birth", required=True, past_only=True),
        "gender": gender,
        "phone": check.shaped("phone", normalise_phone, PatientProblem.PHONE_FORMAT),
        "email": check.shaped("email", _email, PatientProblem.EMAIL_FORMAT),
        "national_id": check.shaped("national_id", _national_id, PatientProblem.NATIONAL_ID_FORMAT),
        "address": check.bounded("address", _LIMITS["address"], PatientProblem.TEXT_TOO_LONG),
        "emergency_contact_name": check.bounded(
            "emergency_contact_name", _NAME_LIMIT, PatientProblem.NAME_TOO_LONG
        ),
        "emergency_contact_phone": check.shaped(
            "emergency_contact_phone", normalise_phone, PatientProblem.PHONE_FORMAT
        ),
        "medical_history": check.bounded(
            "medical_history", _LIMITS["medical_history"], PatientProblem.TEXT_TOO_LONG
        ),
        "alerts": check.bounded("alerts", _LIMITS["alerts"], PatientProblem.TEXT_TOO_LONG),
        "card": check.card(known_codes, provinces),
    }
    if check.problems:
        return None, check.problems
    try:
        form = PatientForm.model_validate(values)
    except ValidationError as error:
        problems = {str(e["loc"][0]): PatientProblem.INVALID for e in error.errors() if e["loc"]}
        return None, problems or {"full_name": PatientProblem.INVALID}
    return form, {}
