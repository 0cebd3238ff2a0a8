"""Outcome-measure rules (issue 12 items 2 and 4): is a score valid for its instrument, and
how far has a patient come from baseline, respecting the instrument's direction.

Pure: no I/O. An instrument is described by its range, its direction (lower is better for
VAS, NDI, ODI; higher for LEFS, Berg) and its MCID (the minimal clinically important
difference). Scores are `Decimal` with at most two decimals, as `NUMERIC(8,2)` stores them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

__all__ = [
    "SCORE_PLACES",
    "Comparison",
    "InstrumentRange",
    "ScoreError",
    "ScoreProblem",
    "Trend",
    "check_score",
    "compare",
    "improvement",
    "improvement_percent",
    "mcid_met",
    "parse_score",
    "trend",
]

#: Decimal places a score keeps (the column is NUMERIC(8,2)).
SCORE_PLACES = 2
_HUNDRED = Decimal(100)
_ONE_PLACE = Decimal("0.1")
# Digits with one decimal separator: "7", "7.5", "7,5", ".5", "-1" (a sign, to say it is
# below the range rather than "not a number").
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


class ScoreProblem(StrEnum):
    """What is wrong with a typed score; the UI translates the value."""

    REQUIRED = "required"
    NOT_A_NUMBER = "not_a_number"
    TOO_PRECISE = "too_precise"  # more than two decimals
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"


class ScoreError(ValueError):
    def __init__(self, problem: ScoreProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class InstrumentRange:
    """What the rules need of an instrument of the library."""

    min_score: Decimal
    max_score: Decimal
    higher_is_better: bool
    mcid: Decimal


class Trend(StrEnum):
    IMPROVED = "improved"
    WORSENED = "worsened"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Comparison:
    """Baseline against latest. `change` is latest − baseline as measured; `improvement` is
    the same distance signed so that positive is better, whichever way the scale runs."""

    baseline: Decimal
    latest: Decimal
    change: Decimal
    improvement: Decimal
    percent: Decimal | None  # improvement relative to baseline; None when baseline is 0
    mcid_met: bool
    trend: Trend


def check_score(score: Decimal, instrument: InstrumentRange) -> ScoreProblem | None:
    """The problem with `score` for this instrument, or None when it may be stored."""
    if not score.is_finite():
        return ScoreProblem.NOT_A_NUMBER
    if score != score.quantize(Decimal(1).scaleb(-SCORE_PLACES), rounding=ROUND_HALF_UP):
        return ScoreProblem.TOO_PRECISE
    if score < instrument.min_score:
        return ScoreProblem.BELOW_MIN
    if score > instrument.max_score:
        return ScoreProblem.ABOVE_MAX
    return None


def parse_score(text: str, instrument: InstrumentRange) -> Decimal:
    """A score as typed: a decimal point or comma ("7.5" and "7,5" alike, as either language
    writes it), spaces ignored. Raises `ScoreError` naming the problem."""
    compact = "".join(unicodedata.normalize("NFKC", text).split())
    if not compact:
        raise ScoreError(ScoreProblem.REQUIRED)
    if not _NUMBER.fullmatch(compact):
        raise ScoreError(ScoreProblem.NOT_A_NUMBER)
    try:
        score = Decimal(compact.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ScoreError(ScoreProblem.NOT_A_NUMBER) from None
    problem = check_score(score, instrument)
    if problem is not None:
        raise ScoreError(problem)
    return score + 0  # "-0" becomes 0


def improvement(baseline: Decimal, latest: Decimal, *, higher_is_better: bool) -> Decimal:
    """How much better the latest score is than the baseline, in the instrument's points:
    positive when better, negative when worse."""
    return latest - baseline if higher_is_better else baseline - latest


def improvement_percent(
    baseline: Decimal, latest: Decimal, *, higher_is_better: bool
) -> Decimal | None:
    """Improvement as a percentage of the baseline score, one decimal, half up (VAS 8 → 3 is
    62.5 % better; LEFS 40 → 60 is 50 % better). None when the baseline is 0: nothing to
    compare with."""
    if baseline == 0:
        return None
    gained = improvement(baseline, latest, higher_is_better=higher_is_better)
    return (gained * _HUNDRED / abs(baseline)).quantize(_ONE_PLACE, rounding=ROUND_HALF_UP)


def mcid_met(baseline: Decimal, latest: Decimal, *, higher_is_better: bool, mcid: Decimal) -> bool:
    """Whether the patient improved by at least the minimal clinically important difference;
    a change of that size in the wrong direction is a worsening, never "met"."""
    return improvement(baseline, latest, higher_is_better=higher_is_better) >= mcid


def trend(baseline: Decimal, latest: Decimal, *, higher_is_better: bool) -> Trend:
    gained = improvement(baseline, latest, higher_is_better=higher_is_better)
    if gained > 0:
        return Trend.IMPROVED
    return Trend.WORSENED if gained < 0 else Trend.UNCHANGED


def compare(baseline: Decimal, latest: Decimal, instrument: InstrumentRange) -> Comparison:
    direction = instrument.higher_is_better
    return Comparison(
        baseline=baseline,
        latest=latest,
        change=latest - baseline,
        improvement=improvement(baseline, latest, higher_is_better=direction),
        percent=improvement_percent(baseline, latest, higher_is_better=direction),
        mcid_met=mcid_met(baseline, latest, higher_is_better=direction, mcid=instrument.mcid),
        trend=trend(baseline, latest, higher_is_better=direction),
    )
