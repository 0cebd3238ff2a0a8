"""The maintenance tab: ANALYZE, VACUUM (ANALYZE) and the retention clean-up of the telehealth
logs, each run in a worker with a running indicator, and what each did in a log below.

The log keeps the runs' summaries, not their sentences, so F2 re-tells them in the other
language. The clean-up counts first and deletes only after the admin has read the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, ProgressBar, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_date, format_number, format_time
from clinic_tui.services import maintenance
from clinic_tui.services.maintenance import (
    TWILIO_WEBHOOK_EVENT_RETENTION_DAYS,
    VIDEO_CALL_EVENT_RETENTION_DAYS,
    MaintenanceSummary,
    Operation,
    RetentionCount,
    RetentionPreview,
)
from clinic_tui.ui.screens.admin import AdminPanel
from clinic_tui.ui.screens.confirm import ConfirmScreen

ANALYZE, VACUUM, CLEANUP = Operation.ANALYZE, Operation.VACUUM_ANALYZE, Operation.RETENTION_CLEANUP
OPERATIONS = {
    ANALYZE: N_("ANALYZE"),
    VACUUM: N_("VACUUM (ANALYZE)"),
    CLEANUP: N_("Retention clean-up"),
}
RETENTION_TABLES = {
    "video_call_events": N_("Video call events"),
    "twilio_webhook_events": N_("Twilio webhook events"),
}
BUTTONS = {ANALYZE: N_("a  ANALYZE"), VACUUM: N_("v  VACUUM (ANALYZE)"), CLEANUP: N_("c  Clean-up")}


@dataclass(frozen=True)
class Entry:
    """One line of the log, kept as data so it can be told again in the other language."""

    at: datetime
    operation: Operation
    summary: MaintenanceSummary | None = None
    preview: RetentionPreview | None = None  # a clean-up that found nothing to remove
    error: BaseException | None = None
    cancelled: bool = False


class MaintenancePanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "run('analyze')", N_("ANALYZE"), id="maintenance.analyze"),
        Binding("v", "run('vacuum_analyze')", N_("VACUUM (ANALYZE)"), id="maintenance.vacuum"),
        Binding("c", "cleanup", N_("Retention clean-up"), id="maintenance.cleanup"),
    ]

    class Progressed(Message):
        def __init__(self, done: int, total: int, table: str) -> None:
            super().__init__()
            self.done, self.total, self.table = done, total, table

    class Counted(Message):
        def __init__(self, preview: RetentionPreview) -> None:
            super().__init__()
            self.preview = preview

    class Finished(Message):
        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: list[Entry] = []
        self.running: Operation | None = None  # the operation under way
        self._table = ""  # the table it is working on

    def compose(self) -> ComposeResult:
        yield Static(id="maintenance-title", classes="panel-title")
        yield Static(id="maintenance-help")
        with Horizontal(id="maintenance-buttons"):
            for operation in OPERATIONS:
                yield Button("", id=f"maintenance-{operation}", compact=True)
        with Horizontal(id="maintenance-running"):
            yield Static(id="maintenance-status")
            yield ProgressBar(id="maintenance-progress", show_eta=False)
        with VerticalScroll(id="maintenance-log-box"):
            yield Static(id="maintenance-log")

    def on_mount(self) -> None:
        self.query_one("#maintenance-running").display = False
        self.relabel()

    def shown(self) -> None:
        self.query_one("#maintenance-log-box", VerticalScroll).focus()

    def relabel(self) -> None:
        self.query_one("#maintenance-title", Static).update(_("Database maintenance"))
        self.query_one("#maintenance-help", Static).update(
            _(
                "ANALYZE refreshes the statistics the server plans queries with. VACUUM (ANALYZE) "
                "also reclaims the space of deleted and changed rows; the clinic can keep working "
                "while either runs. The retention clean-up deletes video call events older than "
                "{video_days} days and Twilio webhook events older than {webhook_days} days; it "
                "shows the counts and asks first."
            ).format(
                video_days=VIDEO_CALL_EVENT_RETENTION_DAYS,
                webhook_days=TWILIO_WEBHOOK_EVENT_RETENTION_DAYS,
            )
        )
        for operation, label in BUTTONS.items():
            self.query_one(f"#maintenance-{operation}", Button).label = _(label)
        self._show_running()
        self._show_log()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run", "cleanup"):
            return None if self.running else True  # shown greyed while a run is under way
        return True

    # ---- starting ----------------------------------------------------------------------

    @on(Button.Pressed, "#maintenance-buttons Button")
    def _pressed(self, event: Button.Pressed) -> None:
        operation = (event.button.id or "").removeprefix("maintenance-")
        if operation == CLEANUP:
            self.action_cleanup()
        else:
            self.action_run(operation)

    def action_run(self, operation: str) -> None:
        if self.running is None and operation in (ANALYZE, VACUUM):
            self._start(Operation(operation))
            self._run(Operation(operation))

    def action_cleanup(self) -> None:
        if self.running is None:
            self._start(CLEANUP)
            self._count()

    def _start(self, operation: Operation) -> None:
        self.running, self._table = operation, ""
        self.query_one("#maintenance-progress", ProgressBar).update(total=None, progress=0)
        self._show_running()
        self.refresh_bindings()

    def _stop(self) -> None:
        self.running = None
        self._show_running()
        self.refresh_bindings()

    # ---- workers -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="maintenance", exit_on_error=False)
    def _run(self, operation: Operation) -> None:
        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        run = maintenance.analyze if operation == ANALYZE else maintenance.vacuum_analyze

        def progress(done: int, total: int, table: str) -> None:
            self.post_message(self.Progressed(done, total, table))

        try:
            summary = run(database, actor, progress=progress)
        except Exception as error:
            self.post_message(self.Finished(Entry(_now(), operation, error=error)))
            return
        self.post_message(self.Finished(Entry(summary.finished_at, operation, summary=summary)))

    @work(thread=True, exclusive=True, group="maintenance", exit_on_error=False)
    def _count(self) -> None:
        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            preview = maintenance.retention_preview(database, actor)
        except Exception as error:
            self.post_message(self.Finished(Entry(_now(), CLEANUP, error=error)))
            return
        self.post_message(self.Counted(preview))

    @work(thread=True, exclusive=True, group="maintenance", exit_on_error=False)
    def _clean(self, preview: RetentionPreview) -> None:
        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            summary = maintenance.retention_cleanup(database, actor, now=preview.now)
        except Exception as error:
            self.post_message(self.Finished(Entry(_now(), CLEANUP, error=error)))
            return
        self.post_message(self.Finished(Entry(summary.finished_at, CLEANUP, summary=summary)))

    # ---- answers -----------------------------------------------------------------------

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        self._table = message.table
        bar = self.query_one("#maintenance-progress", ProgressBar)
        bar.update(total=max(message.total, 1), progress=message.done)
        self._show_running()

    @on(Counted)
    def _counted(self, message: Counted) -> None:
        preview = message.preview
        if not preview.rows:
            self._finished(Entry(_now(), CLEANUP, preview=preview))
            return

        def answered(answer: str | None) -> None:
            if answer == "delete":
                self._clean(preview)
            else:
                self._finished(Entry(_now(), CLEANUP, cancelled=True))

        self.app.push_screen(
            ConfirmScreen(
                N_("Retention clean-up"),
                N_("Delete these rows for good?\n\n{counts}\n\nNothing else is touched."),
                [("delete", N_("Delete")), ("cancel", N_("Keep them"))],
                counts="\n".join(f"• {retention_line(count)}" for count in preview.counts),
            ),
            answered,
        )

    @on(Finished)
    def _finished_message(self, message: Finished) -> None:
        self._finished(message.entry)

    def _finished(self, entry: Entry) -> None:
        self.entries.append(entry)
        self._stop()
        self._show_log()

    # ---- rendering ---------------------------------------------------------------------

    def _show_running(self) -> None:
        box = self.query_one("#maintenance-running")
        box.display = self.running is not None
        if self.running is None:
            return
        name = _(OPERATIONS[self.running])
        status = (
            _("{operation} running: {table}…").format(operation=name, table=self._table)
            if self._table
            else _("{operation} running…").format(operation=name)
        )
        self.query_one("#maintenance-status", Static).update(status)

    def _show_log(self) -> None:
        text = Text()
        if not self.entries:
            text.append(_("Nothing run yet in this session."), style="dim")
        for entry in self.entries:
            if text:
                text.append("\n")
            text.append(f"{format_time(entry.at)}  ", style="dim")
            text.append_text(describe(entry))
        self.query_one("#maintenance-log", Static).update(text)
        self.query_one("#maintenance-log-box", VerticalScroll).scroll_end(animate=False)


# ---- a run, in words ----------------------------------------------------------------------


def describe(entry: Entry) -> Text:
    name = _(OPERATIONS[entry.operation])
    if entry.error is not None:
        return Text(
            _("{operation} failed: {error}").format(
                operation=name, error=describe_database_error(entry.error)
            ),
            style="bold red",
        )
    if entry.cancelled:
        return Text(_("Retention clean-up cancelled; nothing was deleted."))
    if entry.preview is not None:
        lines = [_("Retention clean-up: nothing is past its limit; nothing was deleted.")]
        lines += [f"  {retention_line(count)}" for count in entry.preview.counts]
        return Text("\n".join(lines))
    summary = entry.summary
    assert summary is not None
    seconds = seconds_text(summary.seconds)
    if entry.operation == CLEANUP:
        lines = [
            _("Retention clean-up finished in {seconds} s; rows deleted:").format(seconds=seconds)
        ]
        lines += [f"  {retention_line(count)}" for count in summary.retention]
        return Text("\n".join(lines), style="green")
    tables = format_number(summary.tables_processed)
    if entry.operation == ANALYZE:
        return Text(
            _("ANALYZE finished in {seconds} s: statistics refreshed on {tables} tables.").format(
                seconds=seconds, tables=tables
            ),
            style="green",
        )
    line = _(
        "VACUUM (ANALYZE) finished in {seconds} s on {tables} tables: "
        "{before} dead rows before, {after} after."
    ).format(
        seconds=seconds,
        tables=tables,
        before=count_text(summary.dead_rows_before),
        after=count_text(summary.dead_rows_after),
    )
    reclaimed = sorted(
        (t for t in summary.tables if t.dead_rows_before),
        key=lambda t: -(t.dead_rows_before or 0),
    )[:3]
    if reclaimed:
        most = ", ".join(
            f"{t.table} {count_text(t.dead_rows_before)} → {count_text(t.dead_rows_after)}"
            for t in reclaimed
        )
        line += "\n  " + _("Most dead rows: {tables}").format(tables=most)
    return Text(line, style="green")


def retention_line(count: RetentionCount) -> str:
    return _("{what} older than {days} days (created before {cutoff}): {count}").format(
        what=_(RETENTION_TABLES.get(count.table, count.table)),
        days=format_number(count.days),
        cutoff=format_date(count.cutoff.astimezone(CLINIC_TIMEZONE).date()),
        count=format_number(count.rows),
    )


def seconds_text(seconds: float) -> str:
    return format_number(Decimal(str(round(seconds, 1))))


def count_text(value: int | None) -> str:
    return "—" if value is None else format_number(value)


def _now() -> datetime:
    return datetime.now(CLINIC_TIMEZONE)
