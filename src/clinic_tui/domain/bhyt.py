"""BHYT (national health insurance) card numbers, Decision 1351/QĐ-BHXH (DESIGN §5.1).

A card number is 15 characters::

    DN 4 79 1234567890
    │  │ │  └ social-insurance number (10 digits)
    │  │ └ province code of the issuing office (2 digits, QĐ 124/2004/QĐ-TTg, 97, 98)
    │  └ benefit level (1 digit, 1–5): the printed digit decides coverage
    └ object code (2 letters): the beneficiary category

Cards issued since April 2021 print only the 10-digit social-insurance number; the object
code, level and province are then entered beside it (`card_from_parts`).

Pure rules: no I/O. The reference data (active object codes, issuing province codes) is passed
in by the caller, which loads it from the database. Problems are returned or raised as data
(`CardProblem` codes) and translated where they are shown. `check_card` is the Python twin of
the SQL function ``validate_bhyt_card(card)``; both are tested with ``tests/bhyt_cases.py``.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "CARD_LENGTH",
    "LEVEL_COVERAGE",
    "NUMBER_LENGTH",
    "Card",
    "CardCheck",
    "CardError",
    "CardProblem",
    "card_from_parts",
    "check_card",
    "is_bare_number",
    "level_note",
    "normalise_card_text",
    "parse_card",
    "problems_while_typing",
]

CARD_LENGTH: Final = 15
NUMBER_LENGTH: Final = 10

#: Coverage in percent by the printed benefit level: 1 → 100 % with no caps, 2 → 100 % with
#: caps, 3 → 95 %, 4 → 80 %, 5 → 100 % including out-of-scope costs.
LEVEL_COVERAGE: Final[Mapping[int, int]] = MappingProxyType({1: 100, 2: 100, 3: 95, 4: 80, 5: 100})

#: Never an issuing office, whatever the caller's data says.
_NO_PROVINCE: Final = "00"

_LETTERS: Final = frozenset(string.ascii_uppercase)
_DIGITS: Final = frozenset(string.digits)
_LEVEL_DIGITS: Final = frozenset(str(level) for level in LEVEL_COVERAGE)

# Dropped after NFC and upper case: any Unicode whitespace, zero-width space and BOM, the
# ASCII hyphen-minus, the Unicode hyphens and dashes U+2010–U+2015, the minus sign, and dots.
# And NUL: PostgreSQL refuses it in text, and a normalised entry is looked up in the database.
_SEPARATORS: Final = re.compile(r"[\s\u200b\ufeff\-\u2010-\u2015\u2212.\x00]")


class CardProblem(StrEnum):
    """What is wrong with a card entry; the UI translates the value.

    Declared in reading order (the parts of the card, then its length): every tuple of
    problems this module returns follows this order.
    """

    EMPTY = "empty"
    OBJECT_CODE_FORMAT = "object_code_format"  # not two letters A–Z
    OBJECT_CODE_UNKNOWN = "object_code_unknown"  # two letters, but not a known active code
    LEVEL = "level"  # not a digit 1–5
    PROVINCE = "province"  # not an issuing code ("00", non-digits, or outside the list)
    NUMBER = "number"  # the social-insurance number is not all digits (10 of them)
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"


def _in_order(problems: Iterable[CardProblem]) -> tuple[CardProblem, ...]:
    found = set(problems)
    return tuple(problem for problem in CardProblem if problem in found)


class CardError(ValueError):
    """A card entry that is not a valid card; ``problems`` names every part that is wrong."""

    problems: tuple[CardProblem, ...]

    def __init__(self, problems: Iterable[CardProblem]) -> None:
        found = _in_order(problems)
        if not found:
            raise ValueError("a CardError needs at least one problem")
        self.problems = found
        super().__init__("invalid BHYT card: " + ", ".join(problem.value for problem in found))

    def __reduce__(self) -> tuple[type[CardError], tuple[tuple[CardProblem, ...]]]:
        return (type(self), (self.problems,))


def normalise_card_text(text: str) -> str:
    """Unicode NFC, then upper case, then drop spaces, dashes, dots (and NUL).

    >>> normalise_card_text("dn-4 79.1234567890")
    'DN4791234567890'
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFC", text).upper())


def _only(text: str, allowed: frozenset[str]) -> bool:
    return all(char in allowed for char in text)


def _is_code(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 and _only(value, _LETTERS)


def _is_province_shape(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 and _only(value, _DIGITS)


def _is_number(value: object) -> bool:
    return isinstance(value, str) and len(value) == NUMBER_LENGTH and _only(value, _DIGITS)


@dataclass(frozen=True, slots=True)
class Card:
    """A well-formed card number, split into its parts.

    Construction checks the shape of each part (not membership of the reference data: that is
    `parse_card`'s and `card_from_parts`' job) and raises `CardError` otherwise, so coverage
    is always defined.
    """

    object_code: str  # "DN"
    level: int  # 4
    province: str  # "79"
    number: str  # "1234567890"

    def __post_init__(self) -> None:
        problems = []
        if not _is_code(self.object_code):
            problems.append(CardProblem.OBJECT_CODE_FORMAT)
        if not isinstance(self.level, int) or _level_value(self.level) is None:
            problems.append(CardProblem.LEVEL)
        if not _is_province_shape(self.province):
            problems.append(CardProblem.PROVINCE)
        if not _is_number(self.number):
            problems.append(CardProblem.NUMBER)
        if problems:
            raise CardError(problems)

    @property
    def compact(self) -> str:
        """As stored: ``DN4791234567890``."""
        return f"{self.object_code}{self.level}{self.province}{self.number}"

    @property
    def display(self) -> str:
        """As shown, grouped by part: ``DN 4 79 1234567890``."""
        return f"{self.object_code} {self.level} {self.province} {self.number}"

    @property
    def coverage_percent(self) -> int:
        """The share the fund pays, decided by the printed level."""
        return LEVEL_COVERAGE[self.level]

    @property
    def copay_percent(self) -> int:
        """The patient's share: 100 − coverage."""
        return 100 - self.coverage_percent


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The outcome of `check_card`; for an invalid card the three figures are ``None``."""

    is_valid: bool
    coverage_percent: int | None
    copay_rate: int | None
    beneficiary_category: str | None  # the object code
    problems: tuple[CardProblem, ...]

    def as_row(self) -> tuple[bool, int | None, int | None, str | None]:
        """The row ``validate_bhyt_card(card)`` returns in SQL, for comparing the twins."""
        return (self.is_valid, self.coverage_percent, self.copay_rate, self.beneficiary_category)


# --- checking the parts ---------------------------------------------------------------------


def _level_value(level: object) -> int | None:
    """1–5 from an int or a one-digit string, else None (``True`` is not a level)."""
    if isinstance(level, bool):
        return None
    if isinstance(level, int):
        return level if level in LEVEL_COVERAGE else None
    if isinstance(level, str):
        digit = normalise_card_text(level)
        return int(digit) if len(digit) == 1 and digit in _LEVEL_DIGITS else None
    return None


def _code_problem(code: str, known_codes: Collection[str]) -> CardProblem | None:
    """Check an object code, or the first letter of one while it is being typed."""
    if not code or len(code) > 2 or not _only(code, _LETTERS):
        return CardProblem.OBJECT_CODE_FORMAT
    if len(code) == 2:
        return None if code in known_codes else CardProblem.OBJECT_CODE_UNKNOWN
    if any(known.startswith(code) for known in known_codes):
        return None
    return CardProblem.OBJECT_CODE_UNKNOWN


def _province_ok(province: str, provinces: Collection[str]) -> bool:
    """Check a province code, or its first digit while it is being typed."""
    if not province or len(province) > 2 or not _only(province, _DIGITS):
        return False
    if len(province) == 2:
        return province != _NO_PROVINCE and province in provinces
    return any(known.startswith(province) and known != _NO_PROVINCE for known in provinces)


def _analyse(
    compact: str,
    known_codes: Collection[str],
    provinces: Collection[str],
    *,
    typing: bool,
) -> tuple[CardProblem, ...]:
    """Problems of a normalised entry, checking each part as far as it has been typed."""
    if not compact:
        return () if typing else (CardProblem.EMPTY,)
    problems: list[CardProblem] = []
    code, level, province, number = compact[0:2], compact[2:3], compact[3:5], compact[5:]
    if (problem := _code_problem(code, known_codes)) is not None:
        problems.append(problem)
    if level and level not in _LEVEL_DIGITS:
        problems.append(CardProblem.LEVEL)
    if province and not _province_ok(province, provinces):
        problems.append(CardProblem.PROVINCE)
    if number and not _only(number, _DIGITS):
        problems.append(CardProblem.NUMBER)
    if len(compact) > CARD_LENGTH:
        problems.append(CardProblem.TOO_LONG)
    elif len(compact) < CARD_LENGTH and not (typing and problems):
        problems.append(CardProblem.TOO_SHORT)
    return tuple(problems)


def _card_of(compact: str) -> Card:
    return Card(compact[0:2], int(compact[2]), compact[3:5], compact[5:])


# --- the API ---------------------------------------------------------------------------------


def parse_card(text: str, *, known_codes: Collection[str], provinces: Collection[str]) -> Card:
    """Normalise a typed card number and check every part.

    Raises `CardError` whose ``problems`` name each part that is wrong (in reading order, the
    length last), so the form can say which.
    """
    compact = normalise_card_text(text)
    problems = _analyse(compact, known_codes, provinces, typing=False)
    if problems:
        raise CardError(problems)
    return _card_of(compact)


def card_from_parts(
    object_code: str,
    level: int | str,
    province: str,
    number: str,
    *,
    known_codes: Collection[str],
    provinces: Collection[str],
) -> Card:
    """A card issued since April 2021: the 10-digit number typed alone, the rest beside it.

    Each part is normalised like a whole card (case, spaces, dashes, dots); ``level`` may be an
    int or a one-digit string. Raises `CardError` naming every wrong part; a number that is
    not exactly 10 digits is a `CardProblem.NUMBER`.
    """
    problems: list[CardProblem] = []
    code = normalise_card_text(object_code)
    if len(code) != 2:
        problems.append(CardProblem.OBJECT_CODE_FORMAT)
    elif (problem := _code_problem(code, known_codes)) is not None:
        problems.append(problem)
    level_value = _level_value(level)
    if level_value is None:
        problems.append(CardProblem.LEVEL)
    province_code = normalise_card_text(province)
    if len(province_code) != 2 or not _province_ok(province_code, provinces):
        problems.append(CardProblem.PROVINCE)
    digits = normalise_card_text(number)
    if not _is_number(digits):
        problems.append(CardProblem.NUMBER)
    if problems or level_value is None:
        raise CardError(problems)
    return Card(code, level_value, province_code, digits)


def is_bare_number(text: str) -> bool:
    """True when the entry is only a 10-digit social-insurance number (a card issued since
    April 2021): the form then asks for object code, level and province beside it."""
    return _is_number(normalise_card_text(text))


def problems_while_typing(
    text: str, *, known_codes: Collection[str], provinces: Collection[str]
) -> tuple[CardProblem, ...]:
    """Live feedback on a partial entry.

    Reports problems in the parts typed so far ("DX" with DX unknown → OBJECT_CODE_UNKNOWN,
    "DN9" → LEVEL, "DN400" → PROVINCE); TOO_SHORT only when nothing else is wrong; TOO_LONG
    always; nothing for an empty entry. A complete, valid card gives ``()``.
    """
    return _analyse(normalise_card_text(text), known_codes, provinces, typing=True)


def check_card(text: str, *, known_codes: Collection[str], provinces: Collection[str]) -> CardCheck:
    """Validity, coverage, co-pay and category of a typed card; never raises on a ``str``.

    The Python twin of SQL ``validate_bhyt_card(card)`` → (is_valid, coverage_percent,
    copay_rate, beneficiary_category): see `CardCheck.as_row`.
    """
    compact = normalise_card_text(text)
    problems = _analyse(compact, known_codes, provinces, typing=False)
    if problems:
        return CardCheck(False, None, None, None, problems)
    card = _card_of(compact)
    return CardCheck(True, card.coverage_percent, card.copay_percent, card.object_code, ())


def level_note(card: Card, usual_level: int | None) -> bool:
    """True when the printed level differs from the code's usual level.

    A note, not an error: a person in several categories gets the code of one and the level of
    the best-covered one. ``None`` (usual level not known) gives no note.
    """
    return usual_level is not None and card.level != usual_level
