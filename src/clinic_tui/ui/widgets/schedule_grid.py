"""A grid of slots: columns (doctors, or the days of a week) × rows (times), drawn line by line.

One widget for the whole grid (never one per cell): only the visible lines are rendered, so a
clinic of 40 therapists × 48 slots draws as fast as a small one. The header row and the time
column stay put while the rest scrolls. Each cell starts with a symbol (□ free, ■ booked,
✓ checked in, ✔ completed, · not available), so the grid reads without colour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from clinic_tui.i18n import N_
from clinic_tui.ui.widgets.schedule_text import CELL_SYMBOLS, hhmm

TIME_WIDTH = 6  # "07:00 "
MIN_COLUMN = 14
MAX_COLUMN = 30
CONTINUED = "┆"  # the rows of an appointment after its first


@dataclass(frozen=True)
class Layout:
    columns: list[int]  # indexes into the service grid's columns that are shown
    cells: list[Any]
    cursor: tuple[int, int]
    now_row: int | None


def lay_out(
    grid: Any,
    visible: Callable[[Any], bool],
    *,
    doctor: object = None,
    start: time | None = None,
    day: date | None = None,
    now: time | None = None,
) -> Layout:
    """Which columns of a `scheduling.DayGrid` (doctors passing ``visible``) or `WeekGrid`
    (every day) to show, and where the cursor goes: the focused doctor / day and time, else
    the current time (``now``, today only), else the first row open anywhere."""
    times = list(grid.times)
    if hasattr(grid, "doctors"):
        columns = [i for i, d in enumerate(grid.doctors) if visible(d)]
        ids = [grid.doctors[i].id for i in columns]
        column = ids.index(doctor) if doctor in ids else 0
    else:
        columns = list(range(len(grid.days)))
        column = grid.days.index(day) if day in grid.days else 0
    cells = [grid.cells[i] for i in columns]
    past = [i for i, t in enumerate(times) if now is not None and t <= now]
    now_row = past[-1] if past else None
    open_rows = [i for i in range(len(times)) if any(c[i].state != "unavailable" for c in cells)]
    if start in times:
        row = times.index(start)  # type: ignore[arg-type]
    elif now is not None:
        row = now_row or 0
    else:
        row = open_rows[0] if open_rows else 0
    return Layout(columns, cells, (column, row), now_row)


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells, cut with an ellipsis when it does not fit."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class ScheduleGrid(ScrollView, can_focus=True, inherit_bindings=False):
    """Arrows move the cursor; Enter (or a double click) posts `CellChosen`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(0, -1)", N_("Up"), show=False, id="grid.up"),
        Binding("down", "move(0, 1)", N_("Down"), show=False, id="grid.down"),
        Binding("left", "move(-1, 0)", N_("Left"), show=False, id="grid.left"),
        Binding("right", "move(1, 0)", N_("Right"), show=False, id="grid.right"),
        Binding("home", "edge(-1)", N_("First column"), show=False, id="grid.home"),
        Binding("end", "edge(1)", N_("Last column"), show=False, id="grid.end"),
        Binding("enter", "choose", N_("Open"), id="grid.choose"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "schedule-grid--header",
        "schedule-grid--time",
        "schedule-grid--free",
        "schedule-grid--unavailable",
        "schedule-grid--booked",
        "schedule-grid--checked_in",
        "schedule-grid--completed",
        "schedule-grid--cursor",
        "schedule-grid--now",
    }
    DEFAULT_CSS = """
    ScheduleGrid { scrollbar-gutter: stable; }
    ScheduleGrid > .schedule-grid--header { text-style: bold; background: $panel; }
    ScheduleGrid > .schedule-grid--time { color: $text-muted; }
    ScheduleGrid > .schedule-grid--free { color: $text-success; }
    ScheduleGrid > .schedule-grid--unavailable { color: $text-disabled; }
    ScheduleGrid > .schedule-grid--booked { color: $text; background: $primary 30%; }
    ScheduleGrid > .schedule-grid--checked_in { color: $text; background: $warning 30%; }
    ScheduleGrid > .schedule-grid--completed { color: $text-muted; background: $success 20%; }
    ScheduleGrid > .schedule-grid--cursor { text-style: reverse bold; }
    ScheduleGrid > .schedule-grid--now { color: $text-warning; text-style: bold; }
    """

    cursor_column: reactive[int] = reactive(0, always_update=True, repaint=False)
    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class CellChosen(Message):
        def __init__(self, grid: ScheduleGrid, column: int, row: int) -> None:
            super().__init__()
            self.grid, self.column, self.row = grid, column, row

        @property
        def control(self) -> ScheduleGrid:
            return self.grid

    class CursorMoved(Message):
        def __init__(self, grid: ScheduleGrid, column: int, row: int) -> None:
            super().__init__()
            self.grid, self.column, self.row = grid, column, row

        @property
        def control(self) -> ScheduleGrid:
            return self.grid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.headers: tuple[str, ...] = ()
        self.times: tuple[time, ...] = ()
        self.cells: tuple[tuple[Any, ...], ...] = ()  # cells[column][row]: scheduling.Cell
        self.now_row: int | None = None

    # ---- data ---------------------------------------------------------------------------

    def set_grid(
        self,
        headers: Sequence[str],
        times: Sequence[time],
        cells: Sequence[Sequence[Any]],
        *,
        cursor: tuple[int, int] | None = None,
        now_row: int | None = None,
    ) -> None:
        self.headers, self.times = tuple(headers), tuple(times)
        self.cells = tuple(tuple(column) for column in cells)
        self.now_row = now_row
        column, row = cursor if cursor is not None else (self.cursor_column, self.cursor_row)
        self._update_size()
        self._place(column, row, announce=True)
        self.refresh()

    def set_headers(self, headers: Sequence[str]) -> None:
        """New column titles (the language changed); the cells stay."""
        self.headers = tuple(headers)
        self.refresh()

    def cell(self, column: int, row: int) -> Any:
        return self.cells[column][row]

    @property
    def column_width(self) -> int:
        columns = len(self.headers)
        room = self.scrollable_content_region.width - TIME_WIDTH
        if columns == 0 or room <= 0:
            return MIN_COLUMN
        return max(MIN_COLUMN, min(MAX_COLUMN, room // columns))

    def _update_size(self) -> None:
        width = TIME_WIDTH + len(self.headers) * self.column_width
        self.virtual_size = Size(width, len(self.times) + 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._update_size()
        self._scroll_to_cursor()

    # ---- the cursor ---------------------------------------------------------------------

    def _place(self, column: int, row: int, *, announce: bool) -> None:
        column = max(0, min(column, len(self.headers) - 1))
        row = max(0, min(row, len(self.times) - 1))
        moved = (column, row) != (self.cursor_column, self.cursor_row)
        self.cursor_column, self.cursor_row = column, row
        self._scroll_to_cursor()
        self.refresh()
        if (moved or announce) and self.headers and self.times:
            self.post_message(self.CursorMoved(self, column, row))

    def move_to(self, column: int, row: int) -> None:
        self._place(column, row, announce=True)

    def action_move(self, columns: int, rows: int) -> None:
        self._place(self.cursor_column + columns, self.cursor_row + rows, announce=False)

    def action_edge(self, direction: int) -> None:
        column = 0 if direction < 0 else len(self.headers) - 1
        self._place(column, self.cursor_row, announce=False)

    def action_choose(self) -> None:
        if self.headers and self.times:
            self.post_message(self.CellChosen(self, self.cursor_column, self.cursor_row))

    def _scroll_to_cursor(self) -> None:
        if not self.headers or not self.times:
            return
        width = self.column_width
        view_width = max(1, self.scrollable_content_region.width - TIME_WIDTH)
        view_height = max(1, self.scrollable_content_region.height - 1)
        x, y = self.scroll_offset
        left = self.cursor_column * width
        if left < x:
            x = left
        elif left + width > x + view_width:
            x = left + width - view_width
        if self.cursor_row < y:
            y = self.cursor_row
        elif self.cursor_row >= y + view_height:
            y = self.cursor_row - view_height + 1
        self.scroll_to(x, y, animate=False, force=True)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or offset.x < TIME_WIDTH:
            return
        x, y = self.scroll_offset
        column = (offset.x - TIME_WIDTH + x) // self.column_width
        row = offset.y - 1 + y
        if column < len(self.headers) and row < len(self.times):
            self._place(column, row, announce=False)
            if event.chain >= 2:
                self.action_choose()

    # ---- drawing ------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"schedule-grid--{name}")

    def cell_text(self, cell: Any, width: int) -> str:
        symbol = CELL_SYMBOLS.get(str(cell.state), "?")
        if cell.appointment_id is None:
            return fit(f" {symbol}", width)
        label = cell.patient_short if cell.starts_here else CONTINUED
        return fit(f" {symbol} {label}", width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        column_width = self.column_width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            header = self._style("header")
            left = Strip([Segment(" " * TIME_WIDTH, header)])
            segments = [Segment(fit(" " + title, column_width), header) for title in self.headers]
        else:
            row = y - 1 + scroll_y
            if row >= len(self.times):
                return Strip.blank(width, base)
            time_style = self._style("now" if row == self.now_row else "time")
            left = Strip([Segment(fit(hhmm(self.times[row]), TIME_WIDTH), time_style)])
            cursor = self._style("cursor")
            segments = []
            for column, cells in enumerate(self.cells):
                cell = cells[row]
                style = self._style(str(cell.state))
                if column == self.cursor_column and row == self.cursor_row:
                    style = style + cursor
                segments.append(Segment(self.cell_text(cell, column_width), style))
        right = Strip(segments).crop(scroll_x, scroll_x + max(0, width - TIME_WIDTH))
        return Strip.join([left, right]).adjust_cell_length(width, base).apply_style(base)
