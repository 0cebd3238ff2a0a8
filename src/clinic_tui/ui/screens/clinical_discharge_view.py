"""What the discharge tab shows of a plan, in the current language: its state, the comparison
of each instrument's baseline with its latest score, the home exercises, the summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from clinic_tui.i18n import LANGUAGE_NAMES, _, current_language, format_date
from clinic_tui.ui.screens.clinical_measures_chart import (
    change_unit,
    improvement_text,
    score,
    signed,
    unit,
)

if TYPE_CHECKING:
    from textual.widgets import DataTable

    from clinic_tui.services.discharge import ComparisonRow, DischargeView

NAME_WIDTH = 40  # the instrument's column; its code comes first, so a cut name stays known


def status_text(plan: DischargeView | None, loaded: bool) -> Text:
    if plan is None:
        if not loaded:
            return Text(_("Loading…"), style="dim")
        return Text(
            _("No discharge plan yet: press n to start one from the scores and the protocol."),
            style="dim",
        )
    if plan.status == "FINAL":
        day = format_date(plan.discharged_on) if plan.discharged_on else "—"
        message = _("Final plan · discharged on {date} · w writes the hand-out")
        return Text(message.format(date=day), style="bold green")
    day = format_date(plan.planned_date) if plan.planned_date else "—"
    message = _("Draft plan · planned discharge {date} · f finalises it")
    return Text(message.format(date=day), style="bold")


def instrument_cell(row: ComparisonRow) -> str:
    name = f"{row.code} · {row.name(current_language())}"
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def comparison_cells(row: ComparisonRow) -> tuple[Any, ...]:
    met = _("met") if row.mcid_met else _("not met")
    better = "green" if row.improvement > 0 else "red" if row.improvement < 0 else ""
    return (
        instrument_cell(row),
        f"{score(row.baseline)} · {format_date(row.baseline_on)}",
        f"{score(row.latest)} · {format_date(row.latest_on)}",
        Text(f"{signed(row.change)} {unit(change_unit(row.unit))}", justify="right"),
        Text(improvement_text(row), style=better),
        Text(f"{met} ({score(row.mcid)})", style="green" if row.mcid_met else "yellow"),
    )


def fill_comparison(table: DataTable[Any], plan: DischargeView | None) -> None:
    table.clear()
    for row in plan.comparison if plan else ():
        table.add_row(*comparison_cells(row), key=row.code)


def fill_exercises(table: DataTable[Any], plan: DischargeView | None) -> None:
    """The program, numbered, keeping the cursor's place."""
    from clinic_tui.services.discharge_handout import exercise_dose

    language, row = current_language(), table.cursor_row
    table.clear()
    for index, item in enumerate(plan.exercises if plan else (), 1):
        table.add_row(
            Text(str(index), justify="right"),
            item.text("name", language),
            exercise_dose(item, language),
            key=str(index),
        )
    if table.row_count:
        table.move_cursor(row=min(max(row, 0), table.row_count - 1))


def summary_text(plan: DischargeView | None) -> Text:
    """The summary and recommendations in the current language, and a reminder when the
    other language's summary is still missing (finalising needs both)."""
    if plan is None:
        return Text("")
    language = current_language()
    other = "en" if language == "vi" else "vi"
    text = Text(getattr(plan, f"summary_{language}") or _("(no summary in this language)"))
    recommendations = getattr(plan, f"recommendations_{language}")
    if recommendations:
        text.append("\n" + recommendations, style="italic")
    if not getattr(plan, f"summary_{other}"):
        missing = _("The summary in {language} is not written yet: press s.")
        text.append("\n" + missing.format(language=LANGUAGE_NAMES[other]), style="yellow")
    return text
