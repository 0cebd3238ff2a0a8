"""Checking what an admin typed into a reference-data form (`reference`): one problem per
field, as a msgid the screen translates at the field; amounts of dong as typed in either
language; a database constraint turned into the same kind of field problem."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic_tui.forms.patient import clean_text
from clinic_tui.i18n import N_

# --- what can be wrong, as msgids the screen translates at the field -------------------------

REQUIRED: Final = N_("Required.")
TOO_LONG: Final = N_("Too long.")
CODE_FORMAT: Final = N_(
    "2 to 10 capital letters and digits, starting with a letter (PT001); "
    "a dash or dot may separate parts."
)
CODE_TAKEN: Final = N_("This code is already used by another service.")
AMOUNT: Final = N_("Enter an amount in whole dong (250000 or 250.000), zero or more.")
POSITIVE_AMOUNT: Final = N_("Enter an amount in whole dong, more than zero.")
WHOLE_DONG: Final = N_("Whole dong only: a dong has no fractions.")
TOO_LARGE: Final = N_("This amount is too large.")
BHYT_ABOVE_PRICE: Final = N_("The BHYT price cannot be above the clinic's price.")
CATEGORY: Final = N_("Choose a category.")
DURATION: Final = N_("Enter a length in minutes, from 5 to 480.")
OBJECT_CODE: Final = N_("Two capital letters, as printed on the card (DN, HT, TE…).")
OBJECT_CODE_TAKEN: Final = N_("This object code already has a rule.")
LEVEL: Final = N_("A benefit level from 1 to 5.")
DATE_ORDER: Final = N_("The end date must be on or after the start date.")
PHONE: Final = N_("Not a Vietnamese phone number (a mobile has 10 digits, a landline 11).")
SLOT: Final = N_("Minutes from 5 to 240 that divide a day evenly (15, 20, 30, 60…).")
HOURS_ORDER: Final = N_("Closing must be after opening.")
DATE_TAKEN: Final = N_("A value from this date already exists: each date has one value.")
PERCENT: Final = N_("Enter a percent from 0 to 100.")

MAX_AMOUNT: Final = Decimal(9_999_999_999)  # NUMERIC(12,2)
_GROUPED: Final = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_PLAIN: Final = re.compile(r"\d+(?:[.,]\d+)?")
_CURRENCY: Final = re.compile(r"(?i)\s|₫|vnd|vnđ|đ|\u00a0")


class ReferenceDataError(Exception):
    """What was typed cannot be saved: field name → msgid. Nothing was written."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {msgid}" for field, msgid in problems.items()))
        self.problems = dict(problems)


class ReferenceConflict(Exception):
    """The row changed since it was shown (another admin saved it): reload, then edit."""


# --- checking what was typed -----------------------------------------------------------------


def parse_amount(value: Decimal | int | str) -> Decimal | None:
    """An amount of dong as typed or as a number; None when it is not a number.

    ``250000``, ``250.000``, ``250,000``, ``1.250.000 ₫`` are all whole dong: a dong has no
    fractions, so a dot or comma before groups of three digits separates thousands in either
    language. ``250000.5`` comes back with its fraction, for the caller to refuse.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        return number if number.is_finite() else None
    text = _CURRENCY.sub("", value)
    if _GROUPED.fullmatch(text):
        return Decimal(re.sub(r"[.,]", "", text))
    if _PLAIN.fullmatch(text):
        return Decimal(text.replace(",", "."))
    return None


class Checker:
    """One pass over a form's values, gathering cleaned values and one problem per field."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}

    def refuse(self, field: str, msgid: str) -> None:
        self.problems.setdefault(field, msgid)

    def text(self, field: str, value: str | None, *, limit: int, required: bool = True) -> str:
        cleaned = clean_text(value or "")
        if required and not cleaned:
            self.refuse(field, REQUIRED)
        elif len(cleaned) > limit:
            self.refuse(field, TOO_LONG)
        return cleaned

    def money(self, field: str, value: Decimal | int | str | None, *, positive: bool = False,
              required: bool = True) -> Decimal | None:  # fmt: skip
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.refuse(field, REQUIRED)
            return None
        amount = parse_amount(value)
        if amount is None or amount < 0 or (positive and amount == 0):
            self.refuse(field, POSITIVE_AMOUNT if positive else AMOUNT)
        elif amount != amount.to_integral_value():
            self.refuse(field, WHOLE_DONG)
        elif amount > MAX_AMOUNT:
            self.refuse(field, TOO_LARGE)
        else:
            return amount.quantize(Decimal(1))
        return None

    def whole(self, field: str, value: int | str, low: int, high: int, msgid: str) -> int | None:
        text = str(value).strip()
        digits = text.isascii() and text.isdigit() and len(text) <= 15  # not "²", not 10⁴ digits
        if isinstance(value, bool) or not digits or not low <= int(text) <= high:
            self.refuse(field, msgid)
            return None
        return int(text)

    def percent(self, field: str, value: Decimal | int | str) -> Decimal | None:
        text = str(value).replace("%", "").replace(",", ".").strip()
        if not text:
            self.refuse(field, REQUIRED)
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite() and 0 <= number <= 100 and number == number.quantize(Decimal("0.01")):
            return number
        self.refuse(field, PERCENT)
        return None

    def done(self) -> None:
        if self.problems:
            raise ReferenceDataError(self.problems)


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, date | uuid.UUID):
        return str(value)
    return value


@contextmanager
def refusing(session: Session, fields: Mapping[str, tuple[str, str]]) -> Iterator[None]:
    """Run writes in a savepoint; a violated constraint named in ``fields`` (constraint →
    (field, msgid)) becomes that field's problem, and the caller's transaction stays usable."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint is None or constraint not in fields:
            raise
        field, msgid = fields[constraint]
        raise ReferenceDataError({field: msgid}) from None
