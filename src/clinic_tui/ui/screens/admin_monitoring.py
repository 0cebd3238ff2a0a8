"""The monitoring tab: table sizes with live and dead rows, index use, the busiest tables, and a
line with the database's size and connections; `r` reads the statistics again.

Everything scrolls as one page, so it reads at 80 × 24 as well as on a wide terminal; sizes are
human-readable and numbers follow the current language's conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_datetime, format_number, format_size, format_time
from clinic_tui.ui.screens.admin import AdminPanel

if TYPE_CHECKING:
    from clinic_tui.services.monitoring import (
        DatabaseOverview,
        IndexStats,
        MonitoringSnapshot,
        TableStats,
    )

CONNECTION_STATES = {
    "active": N_("active"),
    "idle": N_("idle"),
    "idle in transaction": N_("idle in transaction"),
    "idle in transaction (aborted)": N_("idle in a failed transaction"),
    None: N_("not visible"),
}

Column = tuple[str, str, Callable[..., object]]  # key, msgid, the cell from a row

TABLE_COLUMNS: tuple[Column, ...] = (
    ("name", N_("Table"), lambda t: table_name(t)),
    ("total", N_("Total"), lambda t: size_cell(t.total_bytes)),
    ("table", N_("Rows' size"), lambda t: size_cell(t.table_bytes)),
    ("indexes", N_("Indexes"), lambda t: size_cell(t.index_bytes)),
    ("live", N_("Live rows"), lambda t: number_cell(t.live_rows)),
    ("dead", N_("Dead rows"), lambda t: dead_cell(t)),
    ("vacuumed", N_("Last vacuum"), lambda t: moment(t.vacuumed)),
    ("analyzed", N_("Last analyze"), lambda t: moment(t.analyzed)),
)
INDEX_COLUMNS: tuple[Column, ...] = (
    ("table", N_("Table"), lambda i: i.table),
    ("name", N_("Index"), lambda i: i.name),
    ("scans", N_("Scans"), lambda i: number_cell(i.scans)),
    ("read", N_("Tuples read"), lambda i: number_cell(i.tuples_read)),
    ("fetched", N_("Tuples fetched"), lambda i: number_cell(i.tuples_fetched)),
    ("size", N_("Size"), lambda i: size_cell(i.size_bytes)),
    ("note", N_("Note"), lambda i: index_note(i)),
)
READ_COLUMNS: tuple[Column, ...] = (
    ("name", N_("Table"), lambda t: table_name(t)),
    ("scans", N_("Scans"), lambda t: number_cell(t.scans)),
    ("seq", N_("Sequential"), lambda t: number_cell(t.seq_scans)),
    ("index", N_("By index"), lambda t: number_cell(t.index_scans)),
)
WRITTEN_COLUMNS: tuple[Column, ...] = (
    ("name", N_("Table"), lambda t: table_name(t)),
    ("writes", N_("Rows written"), lambda t: number_cell(t.writes)),
    ("inserted", N_("Inserted"), lambda t: number_cell(t.rows_inserted)),
    ("updated", N_("Updated"), lambda t: number_cell(t.rows_updated)),
    ("deleted", N_("Deleted"), lambda t: number_cell(t.rows_deleted)),
)
SECTIONS = (  # id, title msgid, columns, the rows of a snapshot
    ("tables", N_("Tables: size and rows"), TABLE_COLUMNS, lambda s: s.tables),
    ("indexes", N_("Index usage (unused first)"), INDEX_COLUMNS, lambda s: s.indexes),
    ("read", N_("Most read tables"), READ_COLUMNS, lambda s: s.busiest.by_scans),
    ("written", N_("Most written tables"), WRITTEN_COLUMNS, lambda s: s.busiest.by_writes),
)


class MonitoringPanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_stats", N_("Refresh"), id="monitoring.refresh"),
    ]

    class Read(Message):
        def __init__(self, snapshot: MonitoringSnapshot | None, error: Exception | None) -> None:
            super().__init__()
            self.snapshot, self.error = snapshot, error

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.snapshot: MonitoringSnapshot | None = None
        self.error: Exception | None = None
        self.loading = False

    def compose(self) -> ComposeResult:
        yield Static(id="monitoring-overview")
        with VerticalScroll(id="monitoring-body"):
            for section, _title, _columns, _rows in SECTIONS:
                yield Static(id=f"monitoring-{section}-title", classes="panel-title")
                yield DataTable(id=f"monitoring-{section}", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.relabel()

    def shown(self) -> None:
        self.query_one("#monitoring-tables", DataTable).focus()
        self.action_refresh_stats()

    def action_refresh_stats(self) -> None:
        self.loading = True
        self._show_overview()
        self._read()

    @work(thread=True, exclusive=True, group="monitoring", exit_on_error=False)
    def _read(self) -> None:
        from clinic_tui.services import monitoring

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                snapshot = monitoring.snapshot(session, actor)
        except Exception as error:
            self.post_message(self.Read(None, error))
            return
        self.post_message(self.Read(snapshot, None))

    @on(Read)
    def _read_done(self, message: Read) -> None:
        self.loading, self.error = False, message.error
        if message.snapshot is not None:
            self.snapshot = message.snapshot
        self._show_overview()
        self._show_tables()

    # ---- rendering ---------------------------------------------------------------------

    def relabel(self) -> None:
        for section, title, _columns, _rows in SECTIONS:
            self.query_one(f"#monitoring-{section}-title", Static).update(_(title))
        self._show_overview()
        self._show_tables(columns=True)

    def _show_overview(self) -> None:
        line = self.query_one("#monitoring-overview", Static)
        if self.error is not None:
            line.update(Text(describe_database_error(self.error), style="bold red"))
        elif self.snapshot is None:
            line.update(_("Reading the statistics…"))
        else:
            text = overview_text(self.snapshot.database, self.snapshot.taken_at)
            if self.loading:
                text += " · " + _("refreshing…")
            line.update(text)

    def _show_tables(self, *, columns: bool = False) -> None:
        for section, _title, spec, rows_of in SECTIONS:
            table = self.query_one(f"#monitoring-{section}", DataTable)
            cursor = table.cursor_row
            table.clear(columns=columns)
            if columns:
                for key, title, _cell in spec:
                    table.add_column(_(title), key=key)
            rows: Iterable[object] = rows_of(self.snapshot) if self.snapshot else ()
            for row in rows:
                table.add_row(*(cell(row) for _key, _title, cell in spec))
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)


# ---- cells and lines ----------------------------------------------------------------------


def overview_text(overview: DatabaseOverview, taken_at: datetime) -> str:
    states = ", ".join(
        f"{format_number(count)} {_(CONNECTION_STATES.get(state, state or ''))}"
        for state, count in _sum_by(overview.connections, lambda g: g.state).items()
    )
    unnamed = _("(unnamed)")
    programs = ", ".join(
        f"{name or unnamed} {format_number(count)}"
        for name, count in _sum_by(overview.connections, lambda g: g.application_name).items()
    )
    parts = [
        _("Database {name}: {size}").format(
            name=overview.name, size=format_size(overview.size_bytes)
        ),
        _("{count} of {max} connections ({states}; {programs})").format(
            count=format_number(overview.connection_count),
            max=format_number(overview.max_connections),
            states=states,
            programs=programs,
        ),
    ]
    if overview.stats_since is not None:
        parts.append(_("counted since {moment}").format(moment=moment(overview.stats_since)))
    parts.append(_("read at {time}").format(time=format_time(taken_at.astimezone(CLINIC_TIMEZONE))))
    return " · ".join(parts)


def _sum_by(groups: Iterable[object], key: Callable[[object], object]) -> dict[object, int]:
    totals: dict[object, int] = {}
    for group in groups:
        totals[key(group)] = totals.get(key(group), 0) + group.count  # type: ignore[attr-defined]
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def size_cell(size: int) -> Text:
    return Text(format_size(size), justify="right")


def number_cell(value: int) -> Text:
    return Text(format_number(value), justify="right")


def dead_cell(table: TableStats) -> Text:
    """Dead rows, in colour once they are a fifth of the live ones (autovacuum's default)."""
    cell = number_cell(table.dead_rows)
    if table.dead_rows and table.dead_rows * 5 >= max(table.live_rows, 1):
        cell.stylize("bold yellow")
    return cell


def table_name(table: TableStats) -> str:
    if not table.partitions:
        return table.name
    return _("{name} ({count} partitions)").format(
        name=table.name, count=format_number(table.partitions)
    )


def index_note(index: IndexStats) -> Text:
    if index.unused:
        return Text(_("unused"), style="bold yellow")
    return Text("")


def moment(value: datetime | None) -> str:
    return "—" if value is None else format_datetime(value.astimezone(CLINIC_TIMEZONE))
