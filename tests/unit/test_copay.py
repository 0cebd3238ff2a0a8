"""The BHYT / patient invoice split (DESIGN §5.2, issue 8 item 1) and dated settings."""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_tui.domain.copay import (
    Coverage,
    Line,
    Rule,
    Split,
    split_invoice,
    spread_largest_remainder,
)
from clinic_tui.domain.dated import (
    BASE_SALARY_HISTORY,
    SELF_REFERRAL_FACTOR_HISTORY,
    DatedValue,
    NoValueOnDate,
    value_on,
)

D = Decimal
SEED = Path(__file__).resolve().parents[2] / "seeds/0012_pt_service_codes.csv"
TODAY = date(2026, 11, 22)

# No example database: the tests leave nothing behind in the working tree.
props = settings(database=None, max_examples=300)


def _seed() -> dict[str, dict[str, str]]:
    with SEED.open(encoding="utf-8") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


SERVICES = _seed()


def svc(code: str, quantity: int = 1) -> Line:
    """A line priced from the seeded service codes, as the invoicing screen builds it."""
    row = SERVICES[code]
    bhyt = D(row["bhyt_price"]) if row["bhyt_price"] else None
    return Line(code, quantity, D(row["unit_price"]), bhyt, row["bhyt_covered"] == "true")


def plain(price: int, code: str = "X", bhyt: int | None = None, covered: bool = True) -> Line:
    return Line(code, 1, D(price), None if bhyt is None else D(bhyt), covered)


def card(level: int | None, **extra: object) -> Coverage:
    """A card valid through 2026 (the DN4…, HT3…, DN2… of the issue's examples)."""
    return Coverage(level, date(2026, 1, 1), date(2026, 12, 31), **extra)  # type: ignore[arg-type]


HALF_FACTOR = (DatedValue(date(2025, 1, 1), D(50)),)
DN4, HT3, DN2 = card(4), card(3), card(2)
EXPIRED = Coverage(4, date(2025, 1, 1), date(2025, 12, 31))


# --- the seeded prices the worked examples rely on -------------------------------------


def test_seeded_prices_are_the_ones_the_examples_assume() -> None:
    prices = {code: (row["unit_price"], row["bhyt_price"]) for code, row in SERVICES.items()}
    assert prices["PT001"] == ("250000", "250000")
    assert prices["PT003"] == ("200000", "200000")
    assert prices["PT004"] == ("250000", "250000")
    assert prices["PT105"] == ("500000", "500000")
    assert prices["PT106"] == ("350000", "300000")
    assert prices["PT201"] == ("150000", "150000")


# --- the worked examples of issue 8 -------------------------------------------------------

EXAMPLES = [
    ("DN4 PT001+PT105", DN4, ["PT001", "PT105"], TODAY, 600_000, 150_000, (Rule.LEVEL,)),
    ("DN4 PT003", DN4, ["PT003"], TODAY, 200_000, 0, (Rule.BELOW_THRESHOLD,)),
    ("DN4 PT004+PT201", DN4, ["PT004", "PT201"], TODAY, 320_000, 80_000, (Rule.LEVEL,)),
    ("HT3 PT001+PT105", HT3, ["PT001", "PT105"], TODAY, 712_500, 37_500, (Rule.LEVEL,)),
    ("DN2 PT001+PT105", DN2, ["PT001", "PT105"], TODAY, 750_000, 0, (Rule.LEVEL,)),
    (
        "expired card",
        EXPIRED,
        ["PT001", "PT105"],
        TODAY,
        0,
        750_000,
        (Rule.CARD_NOT_VALID_ON_DATE,),
    ),
]


@pytest.mark.parametrize(
    ("coverage", "codes", "day", "insurance", "patient", "rules"),
    [example[1:] for example in EXAMPLES],
    ids=[example[0] for example in EXAMPLES],
)
def test_worked_examples(
    coverage: Coverage,
    codes: list[str],
    day: date,
    insurance: int,
    patient: int,
    rules: tuple[Rule, ...],
) -> None:
    split = split_invoice([svc(code) for code in codes], coverage, day)
    assert (split.insurance, split.patient, split.rules) == (insurance, patient, rules)


def test_360000_before_july_2026_is_above_the_351000_threshold() -> None:
    split = split_invoice([plain(360_000)], DN4, date(2026, 6, 15))
    assert (split.threshold, split.base_salary) == (351_000, 2_340_000)
    assert (split.insurance, split.patient, split.rules) == (288_000, 72_000, (Rule.LEVEL,))


def test_360000_after_july_2026_is_below_the_379500_threshold() -> None:
    split = split_invoice([plain(360_000)], DN4, date(2026, 7, 15))
    assert (split.threshold, split.base_salary) == (379_500, 2_530_000)
    assert (split.insurance, split.patient) == (360_000, 0)
    assert split.rules == (Rule.BELOW_THRESHOLD,)


def test_line_shares_of_the_first_example() -> None:
    split = split_invoice([svc("PT001"), svc("PT105")], DN4, TODAY)
    assert [(ls.code, ls.insurance, ls.patient) for ls in split.lines] == [
        ("PT001", 200_000, 50_000),
        ("PT105", 400_000, 100_000),
    ]
    assert (split.rate, split.factor, split.total) == (80, 100, 750_000)


def test_bhyt_price_below_the_price_leaves_the_difference_to_the_patient() -> None:
    # PT106: 350,000 with a BHYT price of 300,000, under the threshold: the fund pays 300,000.
    alone = split_invoice([svc("PT106")], DN4, TODAY)
    assert (alone.insured_base, alone.insurance, alone.patient) == (300_000, 300_000, 50_000)
    # Above the threshold: 80 % of the capped 500,000; the 100,000 over the cap is the patient's.
    capped = split_invoice([plain(600_000, bhyt=500_000)], DN4, TODAY)
    assert (capped.insured_base, capped.insurance, capped.patient) == (500_000, 400_000, 200_000)


def test_bhyt_price_is_per_unit_and_only_caps() -> None:
    two = Line("PT106", 2, D(350_000), D(300_000), True)
    split = split_invoice([two], DN4, TODAY)
    assert (split.insured_base, split.insurance, split.patient) == (600_000, 480_000, 220_000)
    above = split_invoice([plain(400_000, bhyt=450_000)], DN4, TODAY)
    assert above.insured_base == 400_000


def test_self_referred_with_a_50_percent_factor() -> None:
    coverage = card(4, referred=False)
    lines = [svc("PT001"), svc("PT105")]
    split = split_invoice(lines, coverage, TODAY, self_referral_history=HALF_FACTOR)
    assert (split.insurance, split.patient) == (300_000, 450_000)
    assert (split.rules, split.rate, split.factor) == ((Rule.LEVEL, Rule.SELF_REFERRED), 80, 50)


def test_self_referred_combines_with_the_threshold_rule() -> None:
    coverage = card(4, referred=False)
    split = split_invoice([svc("PT003")], coverage, TODAY, self_referral_history=HALF_FACTOR)
    assert (split.insurance, split.patient) == (100_000, 100_000)
    assert split.rules == (Rule.BELOW_THRESHOLD, Rule.SELF_REFERRED)


def test_self_referred_with_the_default_factor_pays_as_referred_but_says_so() -> None:
    split = split_invoice([svc("PT001"), svc("PT105")], card(4, referred=False), TODAY)
    assert (split.insurance, split.factor) == (600_000, 100)
    assert split.rules == (Rule.LEVEL, Rule.SELF_REFERRED)


def test_the_factor_in_force_on_the_service_date_applies() -> None:
    history = (DatedValue(date(2025, 1, 1), D(100)), DatedValue(date(2026, 7, 1), D(50)))
    coverage = Coverage(4, None, None, referred=False)
    lines = [svc("PT001"), svc("PT105")]
    before = split_invoice(lines, coverage, date(2026, 6, 30), self_referral_history=history)
    after = split_invoice(lines, coverage, date(2026, 7, 1), self_referral_history=history)
    assert (before.insurance, after.insurance) == (600_000, 300_000)


# --- the five-continuous-years rule (6 months of base salary: 15,180,000 since July 2026) --


@pytest.mark.parametrize(
    ("five_years", "paid", "day", "insurance", "rules"),
    [
        (True, 15_180_001, TODAY, 750_000, (Rule.FIVE_YEARS,)),
        (True, 15_180_000, TODAY, 600_000, (Rule.LEVEL,)),  # must exceed, not reach
        (False, 20_000_000, TODAY, 600_000, (Rule.LEVEL,)),  # not five years: no rule
        (True, 14_040_001, date(2026, 6, 15), 750_000, (Rule.FIVE_YEARS,)),  # 6 × 2,340,000
        (True, 14_040_001, date(2026, 7, 15), 600_000, (Rule.LEVEL,)),  # 6 × 2,530,000
    ],
)
def test_five_years_rule(
    five_years: bool, paid: int, day: date, insurance: int, rules: tuple[Rule, ...]
) -> None:
    coverage = card(4, five_year_continuous=five_years, copay_paid_this_year=D(paid))
    split = split_invoice([svc("PT001"), svc("PT105")], coverage, day)
    assert (split.insurance, split.patient, split.rules) == (insurance, 750_000 - insurance, rules)


def test_both_exceptions_are_reported_threshold_first() -> None:
    coverage = card(3, five_year_continuous=True, copay_paid_this_year=D(20_000_000))
    split = split_invoice([svc("PT003")], coverage, TODAY)
    assert split.rules == (Rule.BELOW_THRESHOLD, Rule.FIVE_YEARS)


@pytest.mark.parametrize("level", [1, 2, 5])
def test_full_levels_say_level_even_when_an_exception_also_holds(level: int) -> None:
    split = split_invoice([svc("PT003")], card(level), TODAY)
    assert (split.insurance, split.rate, split.rules) == (200_000, 100, (Rule.LEVEL,))


# --- the card and the lines ------------------------------------------------------------


def test_no_card_pays_nothing() -> None:
    split = split_invoice([svc("PT001")], Coverage(None, None, None), TODAY)
    assert (split.insurance, split.patient, split.rate) == (0, 250_000, 0)
    assert split.rules == (Rule.NO_CARD,)
    assert split.lines[0].insured_base == 0


@pytest.mark.parametrize(
    ("day", "insured"),
    [
        (date(2025, 12, 31), False),
        (date(2026, 1, 1), True),  # first day of validity
        (date(2026, 12, 31), True),  # last day of validity
        (date(2027, 1, 1), False),
    ],
)
def test_card_dates_are_inclusive(day: date, insured: bool) -> None:
    split = split_invoice([svc("PT003")], DN4, day)
    assert split.insurance == (200_000 if insured else 0)
    assert split.rules[0] == (Rule.BELOW_THRESHOLD if insured else Rule.CARD_NOT_VALID_ON_DATE)


def test_an_uncovered_service_is_the_patients_and_does_not_count_towards_the_threshold() -> None:
    lines = [svc("PT003"), plain(300_000, code="NOBHYT", covered=False)]
    split = split_invoice(lines, DN4, TODAY)
    assert (split.insured_base, split.insurance, split.patient) == (200_000, 200_000, 300_000)
    assert split.lines[1].insurance == 0 and split.lines[1].patient == 300_000


def test_threshold_is_strictly_below() -> None:
    at = split_invoice([plain(379_500)], DN4, TODAY)
    under = split_invoice([plain(379_499)], DN4, TODAY)
    assert (at.insurance, at.rules) == (303_600, (Rule.LEVEL,))
    assert (under.insurance, under.rules) == (379_499, (Rule.BELOW_THRESHOLD,))


def test_quantity_multiplies_the_line() -> None:
    split = split_invoice([svc("PT001", 3)], DN4, TODAY)
    assert (split.total, split.insurance, split.patient) == (750_000, 600_000, 150_000)


def test_an_empty_invoice_is_all_zero() -> None:
    split = split_invoice([], DN4, TODAY)
    assert (split.total, split.insurance, split.patient, split.lines) == (0, 0, 0, ())
    assert split.rules == (Rule.LEVEL,)  # nothing insured is not "below the threshold"


# --- rounding: half-up, once per invoice, spread by largest remainder ---------------------


def test_rounding_is_half_up_not_bankers() -> None:
    # 400,030 × 95 % = 380,028.5: half-up gives 380,029 (half-even would give 380,028).
    split = split_invoice([plain(400_030)], HT3, TODAY)
    assert (split.insurance, split.patient) == (380_029, 20_001)


def test_rounding_happens_once_for_the_invoice_then_spreads() -> None:
    # 3 × 130,010 = 390,030 × 95 % = 370,528.5 → 370,529. Rounding each line (123,509.5 →
    # 123,510) would give 370,530: a dong created. The two spare dong go to the first lines.
    lines = [plain(130_010, code=f"L{i}") for i in range(3)]
    split = split_invoice(lines, HT3, TODAY)
    assert split.insurance == 370_529
    assert [ls.insurance for ls in split.lines] == [123_510, 123_510, 123_509]
    assert [ls.patient for ls in split.lines] == [6_500, 6_500, 6_501]


def test_largest_remainder_gives_spare_dong_to_the_largest_remainders() -> None:
    # Exact shares 1.5, 3.3, 5.2 of 10: floors 1+3+5 = 9; the spare dong goes to 1.5.
    assert spread_largest_remainder(10, [15, 33, 52]) == (2, 3, 5)
    assert spread_largest_remainder(2, [1, 1, 1]) == (1, 1, 0)  # ties: earlier line first
    assert spread_largest_remainder(0, [0, 0]) == (0, 0)


def test_largest_remainder_refuses_what_cannot_be_spread() -> None:
    with pytest.raises(ValueError, match="zero weights"):
        spread_largest_remainder(7, [])
    with pytest.raises(ValueError, match="negative"):
        spread_largest_remainder(-1, [1])
    with pytest.raises(ValueError, match="negative"):
        spread_largest_remainder(1, [2, -1])


# --- settings with effective dates ------------------------------------------------------


def test_next_years_base_salary_needs_no_code_change() -> None:
    history = (*BASE_SALARY_HISTORY, DatedValue(date(2027, 7, 1), D(3_000_000)))
    coverage = Coverage(4, None, None)
    split = split_invoice([plain(400_000)], coverage, date(2027, 7, 1), base_salary_history=history)
    assert (split.threshold, split.insurance) == (450_000, 400_000)
    assert split.rules == (Rule.BELOW_THRESHOLD,)


def test_a_service_date_before_any_base_salary_is_an_error() -> None:
    with pytest.raises(NoValueOnDate, match="2023-06-30"):
        split_invoice([plain(1)], Coverage(None, None, None), date(2023, 6, 30))


def test_a_factor_outside_0_to_100_is_refused() -> None:
    bad = (DatedValue(date(2025, 1, 1), D(150)),)
    with pytest.raises(ValueError, match="self_referral_history"):
        split_invoice([plain(1)], card(4, referred=False), TODAY, self_referral_history=bad)


def test_value_on_picks_the_latest_in_force() -> None:
    assert value_on(BASE_SALARY_HISTORY, date(2023, 7, 1)) == 1_800_000
    assert value_on(BASE_SALARY_HISTORY, date(2024, 6, 30)) == 1_800_000
    assert value_on(BASE_SALARY_HISTORY, date(2024, 7, 1)) == 2_340_000
    assert value_on(BASE_SALARY_HISTORY, date(2026, 6, 30)) == 2_340_000
    assert value_on(BASE_SALARY_HISTORY, date(2026, 7, 1)) == 2_530_000
    assert value_on(tuple(reversed(BASE_SALARY_HISTORY)), date(2025, 1, 1)) == 2_340_000
    assert value_on(SELF_REFERRAL_FACTOR_HISTORY, TODAY) == 100


def test_value_on_errors_clearly() -> None:
    with pytest.raises(NoValueOnDate, match="first is from 2023-07-01"):
        value_on(BASE_SALARY_HISTORY, date(2020, 1, 1))
    with pytest.raises(NoValueOnDate, match="empty"):
        value_on((), TODAY)
    twice = (DatedValue(date(2025, 1, 1), D(1)), DatedValue(date(2025, 1, 1), D(2)))
    with pytest.raises(ValueError, match="same effective_from"):
        value_on(twice, TODAY)
    with pytest.raises(ValueError, match="value"):
        DatedValue(date(2025, 1, 1), 1.5)  # type: ignore[arg-type]


# --- bad input is refused, naming the field ---------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"unit_price": D(-1)}, "unit_price"),
        ({"unit_price": D("1000.5")}, "unit_price"),
        ({"unit_price": 1000.0}, "unit_price"),  # a float is never money
        ({"unit_price": D("NaN")}, "unit_price"),
        ({"bhyt_price": D(-1)}, "bhyt_price"),
        ({"bhyt_price": D("0.5")}, "bhyt_price"),
        ({"code": ""}, "code"),
        ({"bhyt_covered": 1}, "bhyt_covered"),
    ],
)
def test_bad_lines_are_refused(changes: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "code": "PT001",
        "quantity": 1,
        "unit_price": D(250_000),
        "bhyt_price": D(250_000),
        "bhyt_covered": True,
    }
    with pytest.raises(ValueError, match=field):
        Line(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((6, None, None), "card_level"),
        ((0, None, None), "card_level"),
        ((4, date(2026, 2, 1), date(2026, 1, 1)), "card_valid_to"),
        ((4, None, None, False, D(-1)), "copay_paid_this_year"),
        ((4, None, None, False, D("0.5")), "copay_paid_this_year"),
    ],
)
def test_bad_coverage_is_refused(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Coverage(*args)  # type: ignore[arg-type]


def test_whole_dong_with_trailing_zeros_is_accepted() -> None:
    split = split_invoice([Line("PT105", 1, D("500000.00"), None, True)], DN4, TODAY)
    assert split.insurance == 400_000 and split.insurance.as_tuple().exponent == 0


# --- properties -------------------------------------------------------------------------

money = st.integers(0, 5_000_000).map(D)
lines_st = st.lists(
    st.builds(
        Line,
        code=st.sampled_from(["PT001", "PT003", "PT105", "PT106", "X"]),
        quantity=st.integers(1, 10),
        unit_price=money,
        bhyt_price=st.none() | money,
        bhyt_covered=st.booleans(),
    ),
    max_size=8,
)
days = st.dates(date(2023, 7, 1), date(2028, 12, 31))


@st.composite
def coverages(draw: st.DrawFn) -> Coverage:
    ends = sorted([draw(days), draw(days)])
    start = draw(st.none() | st.just(ends[0]))
    end = draw(st.none() | st.just(ends[1]))
    return Coverage(
        draw(st.none() | st.integers(1, 5)),
        start,
        end,
        draw(st.booleans()),
        draw(st.integers(0, 30_000_000).map(D)),
        draw(st.booleans()),
    )


factors = st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False)


def _whole(value: Decimal) -> bool:
    return isinstance(value, Decimal) and value == value.to_integral_value()


def _split(lines: list[Line], coverage: Coverage, day: date, factor: Decimal) -> Split:
    history = (DatedValue(date(2023, 1, 1), factor),)
    return split_invoice(lines, coverage, day, self_referral_history=history)


@props
@given(lines_st, coverages(), days, factors)
def test_the_split_adds_up_and_is_never_negative(
    lines: list[Line], coverage: Coverage, day: date, factor: Decimal
) -> None:
    split = _split(lines, coverage, day, factor)
    amounts = [split.total, split.insured_base, split.insurance, split.patient]
    for ls in split.lines:
        amounts += [ls.line_total, ls.insured_base, ls.insurance, ls.patient]
        assert ls.line_total == ls.insurance + ls.patient
        assert ls.insurance <= ls.insured_base <= ls.line_total
    assert all(_whole(amount) and amount >= 0 for amount in amounts)
    assert split.total == split.insurance + split.patient
    assert split.insurance <= split.insured_base <= split.total
    assert split.total == sum(ls.line_total for ls in split.lines)
    assert split.insured_base == sum(ls.insured_base for ls in split.lines)
    assert split.insurance == sum(ls.insurance for ls in split.lines)
    assert split.patient == sum(ls.patient for ls in split.lines)
    assert split.total == sum(line.quantity * line.unit_price for line in lines)


@props
@given(lines_st, coverages(), days, factors)
def test_insurance_is_the_base_times_rate_and_factor_rounded_half_up_once(
    lines: list[Line], coverage: Coverage, day: date, factor: Decimal
) -> None:
    split = _split(lines, coverage, day, factor)
    with localcontext(prec=60):  # wide enough to be exact for these amounts
        exact = split.insured_base * split.rate * split.factor / 10_000
        assert split.insurance == exact.quantize(D(1), rounding=ROUND_HALF_UP)
    assert split.rules[0] in {Rule.NO_CARD, Rule.CARD_NOT_VALID_ON_DATE} or split.rate >= 80
    assert (Rule.SELF_REFERRED in split.rules) == (not coverage.referred and coverage.valid_on(day))


@props
@given(lines_st, coverages(), days, factors)
def test_the_split_is_deterministic(
    lines: list[Line], coverage: Coverage, day: date, factor: Decimal
) -> None:
    assert _split(lines, coverage, day, factor) == _split(list(lines), coverage, day, factor)


@props
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=12), st.data())
def test_largest_remainder_is_exact_close_and_deterministic(
    weights: list[int], data: st.DataObject
) -> None:
    whole = sum(weights)
    amount = data.draw(st.integers(0, whole), label="amount")
    parts = spread_largest_remainder(amount, weights)
    assert sum(parts) == amount
    assert parts == spread_largest_remainder(amount, list(weights))
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(amount * weight, whole) if whole else Fraction(0)
        assert 0 <= part <= weight and abs(part - exact) < 1
