"""Outcome-measure rules: a score is valid only inside its instrument's range, and progress
respects the instrument's direction (lower is better for VAS, NDI, ODI; higher for LEFS,
Berg) and its MCID."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_tui.domain.outcomes import (
    InstrumentRange,
    ScoreError,
    ScoreProblem,
    Trend,
    check_score,
    compare,
    improvement,
    improvement_percent,
    mcid_met,
    parse_score,
)

D = Decimal
SEED = Path(__file__).resolve().parents[2] / "seeds/0011_outcome_measures.json"
LIBRARY = {
    entry["code"]: InstrumentRange(
        D(str(entry["min_score"])),
        D(str(entry["max_score"])),
        entry["higher_is_better"],
        D(str(entry["mcid"])),
    )
    for entry in json.loads(SEED.read_text(encoding="utf-8"))
}
props = settings(database=None, max_examples=300)

scores = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)
instruments = st.sampled_from(sorted(LIBRARY)).map(LIBRARY.__getitem__)


def in_range(instrument: InstrumentRange) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=instrument.min_score, max_value=instrument.max_score, places=2, allow_nan=False
    )


# --- the library's direction ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "higher"),
    [("VAS", False), ("NDI", False), ("ODI", False), ("LEFS", True), ("BERG", True)],
)
def test_direction_of_the_seeded_instruments(code: str, higher: bool) -> None:
    assert LIBRARY[code].higher_is_better is higher


def test_pain_going_down_is_better_and_balance_going_up_is_better() -> None:
    vas = compare(D(8), D(3), LIBRARY["VAS"])
    assert (vas.change, vas.improvement, vas.percent) == (D(-5), D(5), D("62.5"))
    assert vas.mcid_met and vas.trend is Trend.IMPROVED
    berg = compare(D(30), D(45), LIBRARY["BERG"])
    assert (berg.change, berg.improvement, berg.percent) == (D(15), D(15), D("50.0"))
    assert berg.mcid_met and berg.trend is Trend.IMPROVED
    odi = compare(D(40), D(46), LIBRARY["ODI"])  # disability up: worse, whatever its size
    assert odi.improvement == D(-6) and odi.trend is Trend.WORSENED and not odi.mcid_met


def test_mcid_is_met_at_exactly_the_mcid_and_not_below() -> None:
    assert mcid_met(D(50), D(40), higher_is_better=False, mcid=D(10))
    assert not mcid_met(D(50), D("40.01"), higher_is_better=False, mcid=D(10))
    assert mcid_met(D(40), D(49), higher_is_better=True, mcid=D(9))


def test_no_percent_from_a_zero_baseline() -> None:
    assert improvement_percent(D(0), D(3), higher_is_better=False) is None
    assert compare(D(0), D(20), LIBRARY["LEFS"]).percent is None


@props
@given(instrument=instruments, data=st.data())
def test_mirroring_the_scale_swaps_the_direction(instrument: InstrumentRange, data) -> None:
    """A lower-is-better score read on the reversed scale is a higher-is-better score with the
    same improvement: direction is the only thing that differs."""
    baseline, latest = data.draw(in_range(instrument)), data.draw(in_range(instrument))
    top = instrument.max_score
    mirrored = InstrumentRange(
        instrument.min_score, top, not instrument.higher_is_better, instrument.mcid
    )
    here = compare(baseline, latest, instrument)
    there = compare(top - baseline, top - latest, mirrored)
    assert here.improvement == there.improvement
    assert here.mcid_met == there.mcid_met
    assert here.trend == there.trend


@props
@given(
    baseline=scores,
    latest=scores,
    higher=st.booleans(),
    mcid=st.decimals(min_value="0.01", max_value=100, places=2),
)
def test_improvement_sign_trend_and_mcid_agree(baseline, latest, higher, mcid) -> None:
    result = compare(baseline, latest, InstrumentRange(D(-1000), D(1000), higher, mcid))
    assert result.change == latest - baseline
    assert result.improvement == (result.change if higher else -result.change)
    assert (
        result.trend
        is {1: Trend.IMPROVED, -1: Trend.WORSENED, 0: Trend.UNCHANGED}[
            (result.improvement > 0) - (result.improvement < 0)
        ]
    )
    assert result.mcid_met == (result.improvement >= mcid)
    if result.mcid_met:  # the MCID is positive: met means improved
        assert result.trend is Trend.IMPROVED
    if result.percent is not None:
        # Rounded to one decimal, but never pointing the other way than the improvement.
        assert result.percent == 0 or (result.percent > 0) == (result.improvement > 0)
        assert abs(result.percent - result.improvement * 100 / abs(baseline)) <= D("0.05")
    else:
        assert baseline == 0


@props
@given(baseline=scores, latest=scores)
def test_swapping_baseline_and_latest_reverses_the_improvement(baseline, latest) -> None:
    for higher in (True, False):
        forward = improvement(baseline, latest, higher_is_better=higher)
        assert improvement(latest, baseline, higher_is_better=higher) == -forward


# --- validation against the range -------------------------------------------------------------


@props
@given(instrument=instruments, score=st.decimals(min_value=-500, max_value=500, places=2))
def test_a_score_is_accepted_exactly_inside_the_range(instrument, score) -> None:
    problem = check_score(score, instrument)
    if score < instrument.min_score:
        assert problem is ScoreProblem.BELOW_MIN
    elif score > instrument.max_score:
        assert problem is ScoreProblem.ABOVE_MAX
    else:
        assert problem is None


@props
@given(instrument=instruments, data=st.data(), comma=st.booleans())
def test_a_score_typed_in_either_language_reads_back(instrument, data, comma) -> None:
    score = data.draw(in_range(instrument))
    typed = f"{score:f}".replace(".", ",") if comma else f"{score:f}"
    assert parse_score(f" {typed} ", instrument) == score


@props
@given(instrument=instruments, data=st.data())
def test_outside_the_range_is_refused_and_named(instrument, data) -> None:
    below = data.draw(
        st.decimals(max_value=instrument.min_score - D("0.01"), min_value=-10_000, places=2)
    )
    above = data.draw(
        st.decimals(min_value=instrument.max_score + D("0.01"), max_value=10_000, places=2)
    )
    for value, problem in ((below, ScoreProblem.BELOW_MIN), (above, ScoreProblem.ABOVE_MAX)):
        with pytest.raises(ScoreError) as refused:
            parse_score(f"{value:f}", instrument)
        assert refused.value.problem is problem


@props
@given(instrument=instruments, text=st.text(max_size=12))
def test_anything_typed_is_a_score_in_range_or_a_named_problem(instrument, text) -> None:
    try:
        score = parse_score(text, instrument)
    except ScoreError as error:
        assert error.problem in set(ScoreProblem)
    else:
        assert instrument.min_score <= score <= instrument.max_score
        assert check_score(score, instrument) is None


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", ScoreProblem.REQUIRED),
        ("   ", ScoreProblem.REQUIRED),
        ("abc", ScoreProblem.NOT_A_NUMBER),
        ("7.5.1", ScoreProblem.NOT_A_NUMBER),
        ("1e3", ScoreProblem.NOT_A_NUMBER),
        ("nan", ScoreProblem.NOT_A_NUMBER),
        ("7.125", ScoreProblem.TOO_PRECISE),
        ("-1", ScoreProblem.BELOW_MIN),
        ("10.01", ScoreProblem.ABOVE_MAX),
    ],
)
def test_typed_problems_on_the_vas(typed: str, problem: ScoreProblem) -> None:
    with pytest.raises(ScoreError) as refused:
        parse_score(typed, LIBRARY["VAS"])
    assert refused.value.problem is problem


def test_full_width_digits_and_a_decimal_comma() -> None:
    assert parse_score("７,５", LIBRARY["VAS"]) == D("7.5")
    assert parse_score("-0", LIBRARY["VAS"]) == 0
    assert parse_score("18", LIBRARY["FIM"]) == 18
    with pytest.raises(ScoreError):
        parse_score("17", LIBRARY["FIM"])  # FIM starts at 18
