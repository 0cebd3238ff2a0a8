"""A discharge plan as plain data, and the patient's take-home sheet (issue 12 item 4).

Pure: no database. `services/discharge.py` reads and writes the plans; this module holds
their shapes (a comparison row per instrument, a home exercise, the plan as shown) and turns
a plan into the UTF-8 hand-out, in the language the patient reads whatever the screen's.
Labels are English msgids translated with `translate_to`; numbers and dates by babel.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, Final

from clinic_tui.i18n import N_, format_date, format_number, translate_to
from clinic_tui.services.outcomes import InstrumentTrend

WIDTH: Final = 72
UNITS: Final = {"points": N_("points"), "seconds": N_("seconds")}  # "cm", "%" read alike


@dataclass(frozen=True)
class HomeExercise:
    name_en: str
    name_vi: str
    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    frequency_en: str | None = None
    frequency_vi: str | None = None
    instructions_en: str | None = None
    instructions_vi: str | None = None

    def text(self, prefix: str, language: str) -> str:
        """A bilingual field in `language`, else in the other one: a custom exercise may be
        named in one language only."""
        first, second = ("vi", "en") if language == "vi" else ("en", "vi")
        return str(getattr(self, f"{prefix}_{first}") or getattr(self, f"{prefix}_{second}") or "")


COUNT_LIMITS: Final = {"sets": 20, "reps": 500, "hold_seconds": 3600}


@dataclass(frozen=True)
class ComparisonRow:
    """One instrument at discharge; numbers as the domain rules give them."""

    code: str
    name_en: str
    name_vi: str
    unit: str
    higher_is_better: bool
    mcid: Decimal
    count: int
    baseline: Decimal
    baseline_on: date
    latest: Decimal
    latest_on: date
    change: Decimal
    improvement: Decimal
    percent: Decimal | None
    mcid_met: bool

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True)
class DischargeView:
    id: uuid.UUID
    patient_id: uuid.UUID
    treatment_plan_id: uuid.UUID | None
    planned_date: date | None
    status: str  # DRAFT or FINAL
    comparison: tuple[ComparisonRow, ...]
    exercises: tuple[HomeExercise, ...]
    summary_en: str
    summary_vi: str
    recommendations_en: str
    recommendations_vi: str
    discharged_on: date | None
    version: int


def comparison_rows(trends: Sequence[InstrumentTrend]) -> tuple[ComparisonRow, ...]:
    rows = []
    for item in trends:
        inst, result = item.instrument, item.comparison
        rows.append(
            ComparisonRow(
                code=inst.code,
                name_en=inst.name_en,
                name_vi=inst.name_vi,
                unit=inst.unit,
                higher_is_better=inst.higher_is_better,
                mcid=inst.mcid,
                count=len(item.scores),
                baseline=result.baseline,
                baseline_on=item.baseline.measured_on,
                latest=result.latest,
                latest_on=item.latest.measured_on,
                change=result.change,
                improvement=result.improvement,
                percent=result.percent,
                mcid_met=result.mcid_met,
            )
        )
    return tuple(rows)


def row_to_json(row: ComparisonRow) -> dict[str, Any]:
    return {
        k: v if isinstance(v, bool | int | str) or v is None else str(v)
        for k, v in asdict(row).items()
    }


def row_from_json(item: Mapping[str, Any]) -> ComparisonRow:
    def value(name: str, kind: type) -> Any:
        raw = item.get(name)
        if raw is None or kind in (bool, int, str):
            return raw
        return date.fromisoformat(raw) if kind is date else Decimal(str(raw))

    kinds = {
        "code": str,
        "name_en": str,
        "name_vi": str,
        "unit": str,
        "higher_is_better": bool,
        "count": int,
        "baseline_on": date,
        "latest_on": date,
        "mcid_met": bool,
    }
    return ComparisonRow(
        **{f.name: value(f.name, kinds.get(f.name, Decimal)) for f in fields(ComparisonRow)}
    )


def exercise_from_json(item: Mapping[str, Any]) -> HomeExercise:
    values: dict[str, Any] = {f.name: item.get(f.name) for f in fields(HomeExercise)}
    return HomeExercise(**values)


@dataclass(frozen=True)
class Handout:
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    patient_name: str
    patient_code: str
    plan: DischargeView


def number(value: Decimal, language: str) -> str:
    """A score as people write it: "7.5" (en), "7,5" (vi), "46" for 46.00."""
    return format_number(value + 0, language)


def percent(value: Decimal, language: str) -> str:
    """One decimal kept ("62.5%", "62,5%"): babel's percent pattern would round it away."""
    return f"{format_number(value, language)}%"


def unit_label(unit: str, language: str) -> str:
    return translate_to(language, UNITS[unit]) if unit in UNITS else unit


def _wrap(text: str, indent: str = "") -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(
            paragraph,
            WIDTH,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        ) or [""]
    return lines


def handout_lines(handout: Handout, language: str) -> list[str]:
    """The patient's take-home sheet in `language`: progress, home exercises, summary."""

    def t(message: str) -> str:
        return translate_to(language, message)

    plan, rule = handout.plan, "-" * WIDTH
    out = [
        line.center(WIDTH).rstrip()
        for line in (handout.clinic_name, handout.clinic_address, handout.clinic_phone)
        if line
    ]
    out += ["=" * WIDTH, t(N_("DISCHARGE SUMMARY")).center(WIDTH).rstrip()]
    if plan.status == "DRAFT":
        out.append(t(N_("(draft, not final)")).center(WIDTH).rstrip())
    day = plan.discharged_on or plan.planned_date
    out += [
        t(N_("Patient: {name} ({code})")).format(
            name=handout.patient_name, code=handout.patient_code
        ),
        t(N_("Discharge date: {date}")).format(date=format_date(day, language) if day else "—"),
        rule,
        t(N_("YOUR PROGRESS")),
    ]
    if not plan.comparison:
        out.append(t(N_("No outcome measures were recorded.")))
    for row in plan.comparison:
        out += [*_progress(row, language), ""]
    out += [rule, t(N_("HOME EXERCISE PROGRAM"))]
    if not plan.exercises:
        out.append(t(N_("No home exercises.")))
    for index, item in enumerate(plan.exercises, 1):
        out += _wrap(f"{index}. {item.text('name', language)}")
        dose = exercise_dose(item, language)
        out += _wrap(dose, "   ") if dose else []
        out += (
            _wrap(item.text("instructions", language), "   ")
            if item.instructions_en or item.instructions_vi
            else []
        )
    for title, key in ((N_("SUMMARY"), "summary"), (N_("RECOMMENDATIONS"), "recommendations")):
        text = getattr(plan, f"{key}_{'vi' if language == 'vi' else 'en'}")
        if text:
            out += [rule, t(title), *_wrap(text)]
    return [*out, "=" * WIDTH]


def _progress(row: ComparisonRow, language: str) -> list[str]:
    def t(message: str) -> str:
        return translate_to(language, message)

    unit = unit_label(row.unit, language)
    # A change on a 0–100 % scale is in points: "28 %" next to "60.9%" would read as a ratio.
    points_unit = unit_label("points" if row.unit == "%" else row.unit, language)
    side = N_("higher is better") if row.higher_is_better else N_("lower is better")
    values = {
        "baseline": number(row.baseline, language),
        "latest": number(row.latest, language),
        "first": format_date(row.baseline_on, language),
        "unit": unit,
        "last": format_date(row.latest_on, language),
        "points": number(abs(row.improvement), language),
        "mcid": number(row.mcid, language),
        "percent": percent(abs(row.percent), language) if row.percent else "",
    }
    changed = {**values, "unit": points_unit}
    if row.improvement > 0:
        change = (
            N_("Better by {points} {unit} ({percent})")
            if row.percent
            else N_("Better by {points} {unit}")
        )
    elif row.improvement < 0:
        change = (
            N_("Worse by {points} {unit} ({percent})")
            if row.percent
            else N_("Worse by {points} {unit}")
        )
    else:
        change = N_("No change")
    met = (
        N_("a clinically important improvement (at least {mcid} {unit})")
        if row.mcid_met
        else N_("less than a clinically important improvement ({mcid} {unit})")
    )
    return [
        *_wrap(f"{row.name(language)} — {t(side)}"),
        *_wrap(
            t(
                N_("At the start: {baseline} {unit} ({first}); latest: {latest} {unit} ({last})")
            ).format(**values),
            "  ",
        ),
        # Only an improvement is weighed against the MCID; a worsening says so plainly.
        *_wrap(
            f"{t(change).format(**changed)}: {t(met).format(**changed)}"
            if row.improvement > 0
            else t(change).format(**changed),
            "  ",
        ),
    ]


def exercise_dose(item: HomeExercise, language: str) -> str:
    """The dose: "3 sets × 10 reps · hold 5 s · daily", in `language`."""

    def t(message: str) -> str:
        return translate_to(language, message)

    parts = []
    if item.sets and item.reps:
        parts.append(t(N_("{sets} sets × {reps} reps")).format(sets=item.sets, reps=item.reps))
    elif item.reps:
        parts.append(t(N_("{reps} reps")).format(reps=item.reps))
    elif item.sets:
        parts.append(t(N_("{sets} sets")).format(sets=item.sets))
    if item.hold_seconds:
        parts.append(t(N_("hold {seconds} s")).format(seconds=item.hold_seconds))
    frequency = item.text("frequency", language)
    return " · ".join([*parts, frequency] if frequency else parts)
