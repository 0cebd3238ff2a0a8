"""An instrument's trend for a patient, drawn with plotext, and the words around it (baseline,
latest, change, MCID) shared by the measures and discharge tabs.

The chart is a function of the scores alone: days since the baseline on the x axis, labelled
with the scores' own dates, and the instrument's full range on the y axis, so the same data
always draws the same picture (snapshots rely on it)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from clinic_tui.i18n import N_, _, current_language, format_date, format_number

if TYPE_CHECKING:
    from clinic_tui.domain.outcomes import Comparison
    from clinic_tui.services.discharge import ComparisonRow
    from clinic_tui.services.outcomes import Instrument, InstrumentTrend

MAX_TICKS = 6
TICK_WIDTH = 13  # a date and room around it
DIRECTIONS = {True: N_("higher is better"), False: N_("lower is better")}
UNITS = {"points": N_("points"), "seconds": N_("seconds")}


def unit(code: str) -> str:
    return _(UNITS[code]) if code in UNITS else code


def score(value: Decimal, with_unit: str | None = None) -> str:
    """A score as people write it in the current language: "7.5" / "7,5"; "46" for 46.00."""
    shown = format_number(value + 0)
    return f"{shown} {unit(with_unit)}" if with_unit else shown


def signed(value: Decimal) -> str:
    shown = score(abs(value))
    return f"+{shown}" if value > 0 else f"−{shown}" if value < 0 else shown


def percent(value: Decimal) -> str:
    return f"{format_number(value)}%"


def instrument_title(instrument: Instrument) -> str:
    return f"{instrument.code} — {instrument.name(current_language())}"


def improvement_text(result: Comparison | ComparisonRow) -> str:
    """ "6.7% better", "12.5% worse", "better" (from a zero baseline), "no change"."""
    if result.improvement == 0:
        return _("no change")
    if result.percent is None or result.percent == 0:
        return _("better") if result.improvement > 0 else _("worse")
    shown = percent(abs(result.percent))
    if result.improvement > 0:
        return _("{percent} better").format(percent=shown)
    return _("{percent} worse").format(percent=shown)


def mcid_text(result: Comparison, mcid: Decimal, with_unit: str) -> str:
    verdict = _("met") if result.mcid_met else _("not met")
    return _("MCID {mcid}: {verdict}").format(mcid=score(mcid, with_unit), verdict=verdict)


def change_unit(code: str) -> str:
    """A change on a 0–100 % scale is in points: "28 %" beside "60.9%" would read as a ratio."""
    return "points" if code == "%" else code


def trend_summary(trend: InstrumentTrend) -> Text:
    """Three lines above the chart: what, baseline and latest, change and MCID."""
    inst, result = trend.instrument, trend.comparison
    text = Text(instrument_title(inst), style="bold")
    text.append(f" · {_(DIRECTIONS[inst.higher_is_better])}", style="dim")
    text.append("\n")
    text.append(
        _("Baseline {baseline} on {first} · latest {latest} on {last}").format(
            baseline=score(result.baseline, inst.unit),
            first=format_date(trend.baseline.measured_on),
            latest=score(result.latest, inst.unit),
            last=format_date(trend.latest.measured_on),
        )
    )
    text.append("\n")
    points = change_unit(inst.unit)
    text.append(_("Change {change}").format(change=f"{signed(result.change)} {unit(points)}"))
    text.append(" · ")
    style = "green" if result.improvement > 0 else "red" if result.improvement < 0 else ""
    text.append(improvement_text(result), style=style)
    text.append(" · ")
    met_style = "bold green" if result.mcid_met else "yellow"
    text.append(mcid_text(result, inst.mcid, points), style=met_style)
    return text


def _ticks(days: list[int], room: int) -> list[int]:
    """As many of the scores' days as their dates have room for (first and last always in),
    evenly picked."""
    most = max(2, min(MAX_TICKS, room // TICK_WIDTH))
    if len(days) <= most:
        return days
    step = (len(days) - 1) / (most - 1)
    return sorted({days[round(i * step)] for i in range(most)})


class TrendChart(PlotextPlot):
    """One instrument's scores over time, with the line the MCID asks to cross. The figure
    is drawn again at each render from the scores and the size alone: plotext keeps state
    between builds, and a build at a passing size must not shape the next one."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.trend: InstrumentTrend | None = None

    def show(self, trend: InstrumentTrend | None) -> None:
        self.trend = trend
        self.refresh()

    def render(self) -> RenderResult:
        self._draw()
        return super().render()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        trend = self.trend
        if trend is None or not trend.scores:
            return
        inst, first = trend.instrument, trend.baseline.measured_on
        days = [(s.measured_on - first).days for s in trend.scores]
        values = [float(s.score) for s in trend.scores]
        low, high = float(inst.min_score), float(inst.max_score)
        last_day = max(days[-1], 1)
        step = 1 if inst.higher_is_better else -1
        target = float(trend.baseline.score + step * inst.mcid)
        if low <= target <= high:
            label = _("MCID target")
            plt.plot([0, last_day], [target, target], color="yellow", marker="-", label=label)
        plt.plot(days, values, marker="braille", color="cyan", label=inst.code)
        plt.scatter(days, values, marker="●", color="cyan")
        plt.ylim(low, high)
        margin = max(1, last_day // 30)
        plt.xlim(-margin, last_day + margin)
        by_day = {d: s.measured_on for d, s in zip(days, trend.scores, strict=True)}
        ticks = _ticks(days, self.size.width - 8)  # the y axis's labels take the rest
        plt.xticks([float(d) for d in ticks], [format_date(by_day[d]) for d in ticks])
        # Five round marks over the whole scale, in the language's number format.
        marks = [inst.min_score + (inst.max_score - inst.min_score) * i / 4 for i in range(5)]
        plt.yticks([float(m) for m in marks], [score(m.quantize(Decimal("0.1"))) for m in marks])
