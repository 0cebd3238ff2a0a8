"""The invoice split between BHYT (national health insurance) and the patient (DESIGN §5.2).

Pure: no I/O. The caller passes the lines (price and BHYT price as of the service date), the
patient's coverage and the dated settings; `split_invoice` returns each line's shares, the
totals and the rules that decided the rate, so the screen can say why.

Money is whole dong in `Decimal` at the boundary. Inside, amounts are ``int`` and rates are
`Fraction`: exact rational arithmetic, so no decimal context (precision, traps) set by a caller
can round a dong away before the one rounding the rule allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from clinic_tui.domain.bhyt import LEVEL_COVERAGE
from clinic_tui.domain.dated import (
    BASE_SALARY_HISTORY,
    SELF_REFERRAL_FACTOR_HISTORY,
    DatedValue,
    value_on,
)

__all__ = [
    "FIVE_YEARS_MONTHS",
    "THRESHOLD_PERCENT",
    "Coverage",
    "Line",
    "LineSplit",
    "Rule",
    "Split",
    "split_invoice",
    "spread_largest_remainder",
]

#: A visit whose insured total is below this share of the base salary is paid in full.
THRESHOLD_PERCENT = Decimal(15)
#: Five-continuous-years holders are paid in full once this year's co-payments exceed this
#: many months of base salary.
FIVE_YEARS_MONTHS = 6

_HUNDRED = Decimal(100)


class Rule(StrEnum):
    """Why the rate is what it is; the UI translates the value."""

    NO_CARD = "no_card"
    CARD_NOT_VALID_ON_DATE = "card_not_valid_on_date"
    LEVEL = "level"  # the printed level's rate
    BELOW_THRESHOLD = "below_threshold"  # insured total < 15 % of base salary → 100 %
    FIVE_YEARS = "five_years"  # five continuous years, co-pay > 6 months' base salary → 100 %
    SELF_REFERRED = "self_referred"  # the self-referral factor multiplies the insured share


def _check_dong(field: str, value: object, *, optional: bool = False) -> None:
    """Whole, non-negative dong as a Decimal; the message names the field for the form."""
    if value is None and optional:
        return
    # A float (or int) would be accepted by arithmetic and hide a rounding error; refuse it.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{field} must be a finite Decimal, got {value!r}")
    if value < 0:
        raise ValueError(f"{field} must not be negative, got {value}")
    if value != value.to_integral_value():
        raise ValueError(f"{field} must be whole dong, got {value}")


def _check_date(field: str, value: object) -> None:
    # datetime is a date subclass but compares badly with date; accept dates only.
    if value is not None and type(value) is not date:
        raise ValueError(f"{field} must be a date, got {value!r}")


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line, priced as of the service date."""

    code: str
    quantity: int
    unit_price: Decimal
    bhyt_price: Decimal | None  # the fund's price per unit; None = no cap
    bhyt_covered: bool

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise ValueError(f"code must be a non-empty string, got {self.code!r}")
        # bool is an int subclass; True as a quantity is a bug upstream, not "1".
        if not isinstance(self.quantity, int) or isinstance(self.quantity, bool):
            raise ValueError(f"quantity must be an int, got {self.quantity!r}")
        if self.quantity < 1:
            raise ValueError(f"quantity must be at least 1, got {self.quantity}")
        _check_dong("unit_price", self.unit_price)
        _check_dong("bhyt_price", self.bhyt_price, optional=True)
        if not isinstance(self.bhyt_covered, bool):
            raise ValueError(f"bhyt_covered must be a bool, got {self.bhyt_covered!r}")

    @property
    def total(self) -> int:
        return self.quantity * int(self.unit_price)

    @property
    def insured_base(self) -> int:
        """What the fund recognises for this line if it is insured: capped at its BHYT price."""
        if self.bhyt_price is None:
            return self.total
        return min(self.total, self.quantity * int(self.bhyt_price))


@dataclass(frozen=True, slots=True)
class Coverage:
    """The patient's BHYT position for this visit; ``card_level`` None means no card.

    A missing validity date leaves that side open (the card record did not state it).
    """

    card_level: int | None
    card_valid_from: date | None
    card_valid_to: date | None
    five_year_continuous: bool = False
    copay_paid_this_year: Decimal = Decimal(0)  # before this invoice, this calendar year
    referred: bool = True  # False = self-referred: the factor applies

    def __post_init__(self) -> None:
        level = self.card_level
        if level is not None and (isinstance(level, bool) or level not in LEVEL_COVERAGE):
            raise ValueError(f"card_level must be one of 1–5 or None, got {level!r}")
        _check_date("card_valid_from", self.card_valid_from)
        _check_date("card_valid_to", self.card_valid_to)
        start, end = self.card_valid_from, self.card_valid_to
        if start is not None and end is not None and end < start:
            raise ValueError(f"card_valid_to {end} is before card_valid_from {start}")
        _check_dong("copay_paid_this_year", self.copay_paid_this_year)

    def valid_on(self, day: date) -> bool:
        if self.card_level is None:
            return False
        after_start = self.card_valid_from is None or self.card_valid_from <= day
        return after_start and (self.card_valid_to is None or day <= self.card_valid_to)


@dataclass(frozen=True, slots=True)
class LineSplit:
    """One line's shares; ``insured_base`` is 0 for a line the fund does not pay."""

    code: str
    line_total: Decimal
    insured_base: Decimal
    insurance: Decimal
    patient: Decimal


@dataclass(frozen=True, slots=True)
class Split:
    """The invoice's shares. ``rate`` and ``factor`` are percent; ``factor`` is 100 when no
    self-referral factor applied. ``rules`` lists the rules that applied, primary first."""

    lines: tuple[LineSplit, ...]
    total: Decimal
    insured_base: Decimal
    insurance: Decimal
    patient: Decimal
    rate: Decimal
    rules: tuple[Rule, ...]
    threshold: Decimal
    base_salary: Decimal
    factor: Decimal


def spread_largest_remainder(amount: int, weights: Sequence[int]) -> tuple[int, ...]:
    """Split ``amount`` dong in proportion to ``weights`` so the parts add up exactly.

    Each part is the floor of its exact share; the dong left over go one each to the parts with
    the largest remainders, ties to the earlier part, so the result depends only on the input.
    Every part is within one dong of its exact share, hence never above its weight when
    ``amount`` ≤ ``sum(weights)``.
    """
    if amount < 0 or any(weight < 0 for weight in weights):
        raise ValueError("amount and weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        if amount:
            raise ValueError("cannot spread a positive amount over zero weights")
        return tuple(0 for _ in weights)
    parts = [amount * weight // whole for weight in weights]
    remainders = [amount * weight % whole for weight in weights]
    left = amount - sum(parts)
    # Stable order: largest remainder first, then line order.
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return tuple(parts)


def _round_half_up(value: Fraction) -> int:
    # Only ever called on non-negative amounts, where half-up is floor(x + ½).
    return int(value + Fraction(1, 2))


def _rate_rules(
    level_rate: int, insured: int, threshold: Decimal, coverage: Coverage, base: Decimal
) -> tuple[Decimal, tuple[Rule, ...]]:
    """The rate in percent and the rules behind it, before any self-referral factor."""
    if level_rate == 100:
        return _HUNDRED, (Rule.LEVEL,)  # nothing can raise it; the exceptions did not matter
    rules: list[Rule] = []
    # An empty insured total is not "a cheap visit": there is nothing for the fund to pay.
    if 0 < insured < threshold:
        rules.append(Rule.BELOW_THRESHOLD)
    if coverage.five_year_continuous and coverage.copay_paid_this_year > FIVE_YEARS_MONTHS * base:
        rules.append(Rule.FIVE_YEARS)
    if rules:
        return _HUNDRED, tuple(rules)
    return Decimal(level_rate), (Rule.LEVEL,)


def _factor_on(history: Sequence[DatedValue], day: date) -> Decimal:
    factor = value_on(history, day)
    if not Decimal(0) <= factor <= _HUNDRED:
        raise ValueError(f"self_referral_history: factor on {day} must be 0–100 %, got {factor}")
    return factor


def split_invoice(
    lines: Sequence[Line],
    coverage: Coverage,
    service_date: date,
    *,
    base_salary_history: Sequence[DatedValue] = BASE_SALARY_HISTORY,
    self_referral_history: Sequence[DatedValue] = SELF_REFERRAL_FACTOR_HISTORY,
) -> Split:
    """Split an invoice per DESIGN §5.2.

    Insurance = insured base × rate (× self-referral factor), rounded half-up to whole dong once
    for the invoice (rounding per line could create or lose dong), then spread over the insured
    lines by largest remainder. The patient pays the rest of each line. Raises ``ValueError``
    for bad input and `dated.NoValueOnDate` when a setting has no value on the service date.
    """
    if type(service_date) is not date:
        raise ValueError(f"service_date must be a date, got {service_date!r}")
    for line in lines:
        if not isinstance(line, Line):
            raise ValueError(f"lines must hold Line objects, got {line!r}")
    base_salary = value_on(base_salary_history, service_date)
    if base_salary <= 0:
        raise ValueError(f"base_salary_history: value on {service_date} must be positive")
    threshold = base_salary * THRESHOLD_PERCENT / _HUNDRED

    valid = coverage.valid_on(service_date)
    bases = [line.insured_base if valid and line.bhyt_covered else 0 for line in lines]
    insured = sum(bases)
    factor = _HUNDRED
    rate: Decimal
    rules: tuple[Rule, ...]
    if coverage.card_level is None:
        rate, rules = Decimal(0), (Rule.NO_CARD,)
    elif not valid:
        rate, rules = Decimal(0), (Rule.CARD_NOT_VALID_ON_DATE,)
    else:
        level_rate = LEVEL_COVERAGE[coverage.card_level]
        rate, rules = _rate_rules(level_rate, insured, threshold, coverage, base_salary)
        if not coverage.referred:
            factor = _factor_on(self_referral_history, service_date)
            rules = (*rules, Rule.SELF_REFERRED)

    share = Fraction(rate) / 100 * Fraction(factor) / 100
    insurance = _round_half_up(insured * share)
    parts = spread_largest_remainder(insurance, bases)
    line_splits = tuple(
        LineSplit(
            code=line.code,
            line_total=Decimal(line.total),
            insured_base=Decimal(base),
            insurance=Decimal(part),
            patient=Decimal(line.total - part),
        )
        for line, base, part in zip(lines, bases, parts, strict=True)
    )
    total = sum(line.total for line in lines)
    return Split(
        lines=line_splits,
        total=Decimal(total),
        insured_base=Decimal(insured),
        insurance=Decimal(insurance),
        patient=Decimal(total - insurance),
        rate=rate,
        rules=rules,
        threshold=threshold,
        base_salary=base_salary,
        factor=factor,
    )
