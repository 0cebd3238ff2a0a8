"""Values that change on a date: the base salary, the self-referral factor (DESIGN §5.2).

A history is a sequence of `DatedValue`; the value on a day is the one with the latest
``effective_from`` on or before that day. The app seeds its settings with the defaults below
and passes the stored histories to the rules, so next year's figures need no code change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

__all__ = [
    "BASE_SALARY_HISTORY",
    "SELF_REFERRAL_FACTOR_HISTORY",
    "DatedValue",
    "NoValueOnDate",
    "value_on",
]


@dataclass(frozen=True, slots=True)
class DatedValue:
    """``value`` is in force from ``effective_from`` until the next entry's date."""

    effective_from: date
    value: Decimal

    def __post_init__(self) -> None:
        # A datetime is a date subclass; comparing one with a date raises later, far from here.
        if type(self.effective_from) is not date:
            raise ValueError(f"effective_from must be a date, got {self.effective_from!r}")
        # Decimal only: a float here would leak binary rounding into money.
        if not isinstance(self.value, Decimal) or not self.value.is_finite():
            raise ValueError(f"value must be a finite Decimal, got {self.value!r}")


class NoValueOnDate(LookupError):
    """The history has no entry in force on the day asked for (it starts later, or is empty)."""


def value_on(history: Sequence[DatedValue], day: date) -> Decimal:
    """The value in force on ``day``: the entry with the latest ``effective_from`` ≤ ``day``.

    The history need not be sorted. Two entries on the same date are ambiguous (which one did
    the admin mean?), so they raise ``ValueError``; no entry on or before ``day`` raises
    `NoValueOnDate`.
    """
    dates = [entry.effective_from for entry in history]
    if len(set(dates)) != len(dates):
        raise ValueError("history has two values for the same effective_from date")
    in_force = [entry for entry in history if entry.effective_from <= day]
    if not in_force:
        first = min(dates, default=None)
        since = f"; the first is from {first.isoformat()}" if first else "; it is empty"
        raise NoValueOnDate(f"no value in force on {day.isoformat()}{since}")
    return max(in_force, key=lambda entry: entry.effective_from).value


#: Mức lương cơ sở (VND per month): Nghị định 24/2023, 73/2024, 161/2026.
BASE_SALARY_HISTORY: Final[tuple[DatedValue, ...]] = (
    DatedValue(date(2023, 7, 1), Decimal(1_800_000)),
    DatedValue(date(2024, 7, 1), Decimal(2_340_000)),
    DatedValue(date(2026, 7, 1), Decimal(2_530_000)),
)

#: Percent of the insured share paid for a self-referred patient (Law 51/2024). It depends on
#: the clinic's facility level, so it is a clinic setting; 100 % is right at primary level.
SELF_REFERRAL_FACTOR_HISTORY: Final[tuple[DatedValue, ...]] = (
    DatedValue(date(2025, 1, 1), Decimal(100)),
)
