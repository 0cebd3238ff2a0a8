"""The outcome-measures tab of a patient's clinical record (issue 12 item 2): the instruments
the patient was measured with (baseline, latest, change, MCID), the chosen one's scores and
trend chart, and recording a score (n) with the instrument's instructions. A period of one
year keeps the query on that year's partition."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Select, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, format_date
from clinic_tui.ui.screens.clinical import ClinicalPanel
from clinic_tui.ui.screens.clinical_measures_chart import (
    TrendChart,
    score,
    signed,
    trend_summary,
)

if TYPE_CHECKING:
    from clinic_tui.services.outcomes import InstrumentTrend, Score

ALL = "all"
INSTRUMENT_COLUMNS = (
    N_("Instrument"),
    N_("Scores"),
    N_("Baseline"),
    N_("Latest"),
    N_("Change"),
    N_("MCID"),
)
SCORE_COLUMNS = (N_("Date"), N_("Score"), N_("Notes"))
DENIED = N_("Only doctors and administrators can see and record outcome measures.")


def _today() -> date:
    from clinic_tui.ui.screens.patients import today

    return today()


class MeasuresPanel(ClinicalPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "record", N_("Record a score"), id="measures.record"),
        Binding("x", "remove", N_("Remove the selected score"), id="measures.remove"),
        Binding("p", "period", N_("Choose the period"), id="measures.period"),
        Binding("l", "refresh", N_("Refresh"), id="measures.refresh"),
    ]

    class Loaded(Message):
        def __init__(
            self, period: str, trends: list[InstrumentTrend] | None, error: str = ""
        ) -> None:
            super().__init__()
            self.period, self.trends, self.error = period, trends, error

    class Removed(Message):
        def __init__(self, error: str = "") -> None:
            super().__init__()
            self.error = error

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trends: list[InstrumentTrend] = []
        self.selected_code: str | None = None  # the instrument shown, kept across reloads
        self.loaded = False
        self._status: tuple[str, dict[str, object]] | None = None
        self._error = ""

    def compose(self) -> ComposeResult:
        # The instruments' list comes first: it has the focus when the tab opens, so the
        # arrows move through instruments at once.
        with Horizontal(id="measures-main"):
            with Vertical(id="measures-side"):
                yield DataTable(id="measures-instruments", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="measures-scores", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="measures-period-row"):
                    yield Static(id="measures-period-label")
                    yield Select(
                        self._periods(),
                        id="measures-period",
                        compact=True,
                        allow_blank=False,
                        value=ALL,
                    )
            with Vertical(id="measures-detail"):
                yield Static(id="measures-status")
                yield Static(id="measures-summary")
                yield TrendChart(id="measures-chart")

    def on_mount(self) -> None:
        for table_id, columns in (
            ("#measures-instruments", INSTRUMENT_COLUMNS),
            ("#measures-scores", SCORE_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            for index in range(len(columns)):
                table.add_column("", key=str(index))
        self.relabel()

    # ---- what the period is ---------------------------------------------------------------

    def _periods(self) -> list[tuple[str, str]]:
        from clinic_tui.models.clinical import OUTCOME_MEASURE_YEARS

        this_year = _today().year
        years = sorted((y for y in OUTCOME_MEASURE_YEARS if y <= this_year), reverse=True)
        return [(_("All dates"), ALL), *((str(y), str(y)) for y in years)]

    @property
    def period(self) -> str:
        value = self.query_one("#measures-period", Select).value
        return ALL if value is Select.NULL else str(value)

    def _range(self, period: str) -> tuple[date | None, date | None]:
        from clinic_tui.services.outcomes import year_range

        return (None, None) if period == ALL else year_range(int(period))

    # ---- rendering --------------------------------------------------------------------------

    def relabel(self) -> None:
        from clinic_tui.ui.screens.admin_reference_forms import label_columns

        select = self.query_one("#measures-period", Select)
        current = self.period
        with select.prevent(Select.Changed):
            select.set_options(self._periods())
            select.value = current
        self.query_one("#measures-period-label", Static).update(_("Period"))
        label_columns(self.query_one("#measures-instruments", DataTable), INSTRUMENT_COLUMNS)
        label_columns(self.query_one("#measures-scores", DataTable), SCORE_COLUMNS)
        self._render_all()

    def _render_all(self) -> None:
        self._render_instruments()
        self._render_selected()
        self._render_status()

    def _render_status(self) -> None:
        status = self.query_one("#measures-status", Static)
        if self._error:
            status.update(Text(self._error, style="bold red"))
        elif self._status is not None:
            status.update(_(self._status[0]).format(**self._status[1]))
        elif self.loaded and not self.trends:
            status.update(Text(_("No scores in this period: press n to record one."), style="dim"))
        else:
            status.update("")

    def _render_instruments(self) -> None:
        table = self.query_one("#measures-instruments", DataTable)
        table.clear()
        for trend in self.trends:
            result = trend.comparison
            met = Text(_("met"), style="green") if result.mcid_met else Text(_("not met"), "dim")
            table.add_row(
                trend.instrument.code,
                Text(str(len(trend.scores)), justify="right"),
                Text(score(result.baseline), justify="right"),
                Text(score(result.latest), justify="right"),
                Text(signed(result.change), justify="right"),
                met,
                key=trend.instrument.code,
            )
        codes = [t.instrument.code for t in self.trends]
        if self.selected_code in codes:
            table.move_cursor(row=codes.index(self.selected_code))

    def selected_trend(self) -> InstrumentTrend | None:
        return next((t for t in self.trends if t.instrument.code == self.selected_code), None)

    def _render_selected(self) -> None:
        trend = self.selected_trend()
        summary = self.query_one("#measures-summary", Static)
        summary.update(trend_summary(trend) if trend else "")
        scores = self.query_one("#measures-scores", DataTable)
        scores.clear()
        shown_unit = trend.instrument.unit if trend else ""
        for item in reversed(trend.scores) if trend else ():
            scores.add_row(
                format_date(item.measured_on),
                Text(score(item.score, shown_unit), justify="right"),
                (item.notes or "").replace("\n", " "),
                key=str(item.id),
            )
        self.query_one(TrendChart).show(trend)

    @on(DataTable.RowHighlighted, "#measures-instruments")
    def _instrument_highlighted(self, event: DataTable.RowHighlighted) -> None:
        code = event.row_key.value if event.row_key else None
        if code != self.selected_code:
            self.selected_code = code
            self._render_selected()

    def selected_score(self) -> Score | None:
        trend, table = self.selected_trend(), self.query_one("#measures-scores", DataTable)
        if trend is None or not 0 <= table.cursor_row < len(trend.scores):
            return None
        return list(reversed(trend.scores))[table.cursor_row]

    # ---- loading ----------------------------------------------------------------------------

    def shown(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self._load(self.period)

    @on(Select.Changed, "#measures-period")
    def _period_changed(self) -> None:
        self.action_refresh()

    def action_period(self) -> None:
        self.query_one("#measures-period", Select).focus()

    @work(thread=True, exclusive=True, group="measures-load", exit_on_error=False)
    def _load(self, period: str) -> None:
        from clinic_tui.services import outcomes
        from clinic_tui.services.access import PermissionDenied

        date_from, date_to = self._range(period)
        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                trends = outcomes.patient_trends(
                    session,
                    actor,
                    self.patient_id,
                    date_from=date_from,
                    date_to=date_to,
                )
        except PermissionDenied:
            self.post_message(self.Loaded(period, None, _(DENIED)))
            return
        except Exception as error:
            self.post_message(self.Loaded(period, None, describe_database_error(error)))
            return
        self.post_message(self.Loaded(period, trends))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.period != self.period:
            return  # the period changed since: its own answer is on the way
        self._error = message.error
        if message.trends is not None:
            self.trends, self.loaded = message.trends, True
            codes = [t.instrument.code for t in self.trends]
            if self.selected_code not in codes:
                self.selected_code = codes[0] if codes else None
        self._render_all()

    # ---- recording and removing -------------------------------------------------------------

    def action_record(self) -> None:
        from clinic_tui.ui.screens.clinical_measures_dialog import RecordScoreScreen

        trend = self.selected_trend()

        def done(saved: tuple[str, Score] | None) -> None:
            if saved is not None:
                self.selected_code, item = saved
                self._status = (
                    N_("Score of {date} recorded."),
                    {"date": format_date(item.measured_on)},
                )
                self.action_refresh()

        self.app.push_screen(
            RecordScoreScreen(self.patient_id, trend.instrument.id if trend else None), done
        )

    def action_remove(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        trend, item = self.selected_trend(), self.selected_score()
        if trend is None or item is None:
            self._status = (N_("Choose a score in the list first."), {})
            self._render_status()
            return

        def answered(choice: str | None) -> None:
            if choice == "remove":
                self._remove(item)

        self.app.push_screen(
            ConfirmScreen(
                N_("Remove this score?"),
                N_("{instrument} of {date}: {score}. It is removed from the patient's record."),
                [("remove", N_("Remove")), ("keep", N_("Keep"))],
                instrument=trend.instrument.code,
                date=format_date(item.measured_on),
                score=score(item.score, trend.instrument.unit),
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="measures-remove", exit_on_error=False)
    def _remove(self, item: Score) -> None:
        from clinic_tui.services import outcomes

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                outcomes.remove_score(
                    session,
                    actor,
                    score_id=item.id,
                    measured_on=item.measured_on,
                )
        except outcomes.ScoreNotFound:
            self.post_message(self.Removed())  # already gone: the list catches up
        except Exception as error:
            self.post_message(self.Removed(describe_database_error(error)))
        else:
            self.post_message(self.Removed())

    @on(Removed)
    def _removed(self, message: Removed) -> None:
        self._error = message.error
        self._status = None if message.error else (N_("Score removed."), {})
        self.action_refresh()
