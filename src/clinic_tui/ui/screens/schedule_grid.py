"""Availability (F4): therapists × slots for a day, or one therapist's week (DESIGN §6).

Enter on a free cell books, on a booking opens its actions; `u` / `h` close or open hours
(front desk only); a move picks the new cell here. Other terminals' changes arrive as
`live.ScheduleChanged` and reload the grid (debounced); answers for a view no longer shown
are dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from clinic_tui.i18n import N_, _
from clinic_tui.services.access import Permission
from clinic_tui.ui.live import Debounced, ScheduleChanged
from clinic_tui.ui.screens.appointment_actions import MoveRequest
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.widgets import schedule_text as say
from clinic_tui.ui.widgets.key_commands import ScreenKeyCommands
from clinic_tui.ui.widgets.schedule_grid import ScheduleGrid, lay_out
from clinic_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from clinic_tui.services.scheduling import Cell, DayGrid, GridDoctor, WeekGrid

MINE = "\x00mine"  # the filter showing only the signed-in therapist's own column


@dataclass(frozen=True)
class View:
    mode: str  # "day" or "week"
    day: date  # the day, or the week's Monday
    doctor_id: uuid.UUID | None = None  # the week's therapist


@dataclass(frozen=True)
class Target:
    doctor: GridDoctor
    day: date
    start: time
    cell: Cell
    slot_minutes: int

    @property
    def end(self) -> time:
        return (
            datetime.combine(self.day, self.start) + timedelta(minutes=self.slot_minutes)
        ).time()


class ScheduleScreen(ClinicScreen):
    COMMANDS: ClassVar = {ScreenKeyCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "shift(-1)", N_("Previous"), id="schedule.previous"),
        Binding("pagedown", "shift(1)", N_("Next"), id="schedule.next"),
        Binding("t", "today", N_("Today"), id="schedule.today"),
        Binding("g", "go_to_date", N_("Go to date"), id="schedule.go_to"),
        Binding("w", "week", N_("Week"), id="schedule.week"),
        Binding("s", "next_filter", N_("Specialization"), id="schedule.filter"),
        Binding("u", "edit_hours('unavailable')", N_("Unavailable"), id="schedule.unavailable"),
        Binding("h", "edit_hours('hours')", N_("Add hours"), id="schedule.add_hours"),
        Binding("escape", "back", N_("Back"), id="schedule.back"),
        Binding("r", "reload_schedule", N_("Reload"), id="schedule.reload", show=False),
    ]

    class Loaded(Message):
        def __init__(self, seq: int, grid: DayGrid | WeekGrid, own: uuid.UUID | None) -> None:
            super().__init__()
            self.seq, self.grid, self.own = seq, grid, own

    class Failed(Message):
        def __init__(self, seq: int, text: Callable[[], str]) -> None:
            super().__init__()
            self.seq, self.text = seq, text

    def __init__(self, day: date | None = None, *, moving: MoveRequest | None = None,
                 back_after_move: bool = False) -> None:  # fmt: skip
        super().__init__(id="schedule")
        self.view = View("day", day or say.clinic_today())
        self.moving = moving
        self.back_after_move = back_after_move
        self.grid: DayGrid | WeekGrid | None = None
        self.filter: str | None = None
        self.own: uuid.UUID | None = None
        self.columns: list[int] = []  # day view: indexes of the doctors shown
        self.focus_doctor: uuid.UUID | None = moving.doctor_id if moving else None
        self.focus_time: time | None = moving.start if moving else None
        self._selected_day: date | None = None
        self._seq = 0
        self._first_load = True
        self._live = Debounced(self, self.reload_schedule)

    def compose_body(self) -> ComposeResult:
        yield Static(id="schedule-title")
        yield Static(id="schedule-legend")
        yield ScheduleGrid(id="schedule-grid")
        yield Static(id="schedule-cursor")
        yield StatusLine(id="schedule-status", above=self._move_in_progress)

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(ScheduleGrid).focus()
        self.reload_schedule()

    # ---- who may do what ----------------------------------------------------------------

    def _can(self, permission: Permission) -> bool:
        actor = getattr(self.app, "actor", None)
        return actor is not None and actor.can(permission)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_hours":
            return self._can(Permission.SCHEDULE_WRITE)
        if action == "back":
            return self.view.mode == "week" or self.moving is not None
        if action in ("week", "next_filter"):
            return self.view.mode == "day"
        return True

    # ---- loading ------------------------------------------------------------------------

    def reload_schedule(self) -> None:
        self._seq += 1
        self._load(self._seq, self.view, self._first_load)

    @work(thread=True, exclusive=True, group="schedule-load", exit_on_error=False)
    def _load(self, seq: int, view: View, first: bool) -> None:
        from clinic_tui.services import scheduling

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                own = scheduling.own_doctor_id(session, actor) if first else self.own
                grid: DayGrid | WeekGrid
                if view.mode == "day":
                    grid = scheduling.day_grid(session, actor, view.day)
                else:
                    assert view.doctor_id is not None
                    grid = scheduling.week_grid(session, actor, view.doctor_id, view.day)
        except Exception as error:
            self.post_message(self.Failed(seq, say.explained(error)))
            return
        self.post_message(self.Loaded(seq, grid, own))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.seq != self._seq:
            return  # an older answer: a newer view or reload is on its way
        self.grid, self.own = message.grid, message.own
        if self._first_load:
            self._first_load = False
            if self.own is not None and self.moving is None:
                self.filter, self.focus_doctor = MINE, self.own
        self._show_grid()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        if message.seq == self._seq:
            self._say(message.text)

    def on_schedule_changed(self, message: ScheduleChanged) -> None:
        view = self.view
        last = view.day + timedelta(days=6) if view.mode == "week" else view.day
        if message.touches(view.day, last, view.doctor_id):
            self._live.poke()

    # ---- showing ------------------------------------------------------------------------

    def _visible(self, doctor: GridDoctor) -> bool:
        if self.filter == MINE:
            return doctor.id == self.own
        return self.filter is None or doctor.specialization == self.filter

    def _show_grid(self) -> None:
        if self.grid is None:
            return
        today = self.view.mode == "day" and self.view.day == say.clinic_today()
        layout = lay_out(
            self.grid, self._visible, doctor=self.focus_doctor, start=self.focus_time,
            day=self.day, now=say.clinic_now().time() if today else None,
        )  # fmt: skip
        self.columns = layout.columns
        widget, headers = self.query_one(ScheduleGrid), self._headers()
        widget.set_grid(headers, self.grid.times, layout.cells, cursor=layout.cursor,
                        now_row=layout.now_row)  # fmt: skip
        self.relabel()

    @property
    def day(self) -> date:
        """The day under the cursor (the view's day in the day view)."""
        return self._selected_day or self.view.day

    def _headers(self) -> list[str]:
        grid = self.grid
        if grid is None:
            return []
        if self.view.mode == "day":
            return [grid.doctors[i].name for i in self.columns]  # type: ignore[union-attr]
        return [say.short_day(day) for day in grid.days]  # type: ignore[union-attr]

    def relabel(self) -> None:
        super().relabel()
        view, grid = self.view, self.grid
        if view.mode == "day":
            where = _("My column") if self.filter == MINE else say.specialization(self.filter)
            title = " · ".join([_("Availability"), say.day_title(view.day), where])
        else:
            title = say.week_title(getattr(grid, "doctor", None), view.day)
        self.query_one("#schedule-title", Static).update(title)
        self.query_one("#schedule-legend", Static).update(say.legend())
        widget = self.query_one(ScheduleGrid)
        if widget.headers:
            widget.set_headers(self._headers())
        self._describe_cursor()
        self.query_one(StatusLine).relabel()

    def _say(self, text: Callable[[], str] | None) -> None:
        self.query_one(StatusLine).say(text)

    def _move_in_progress(self) -> list[str]:
        move = self.moving
        return [say.moving_text(move.patient_name, move.start, move.end)] if move else []

    # ---- the cursor ---------------------------------------------------------------------

    def target(self) -> Target | None:
        grid, widget = self.grid, self.query_one(ScheduleGrid)
        if grid is None or not widget.headers or not widget.times:
            return None
        column, row = widget.cursor_column, widget.cursor_row
        if self.view.mode == "day":
            doctors = grid.doctors  # type: ignore[union-attr]
            doctor, day = doctors[self.columns[column]], self.view.day
        else:
            doctor, day = grid.doctor, grid.days[column]  # type: ignore[union-attr]
        return Target(doctor, day, widget.times[row], widget.cell(column, row), grid.slot_minutes)

    @on(ScheduleGrid.CursorMoved)
    def _cursor_moved(self, event: ScheduleGrid.CursorMoved) -> None:
        target = self.target()
        if target is not None:
            self.focus_doctor, self.focus_time = target.doctor.id, target.start
            self._selected_day = target.day
        self._describe_cursor()

    def _describe_cursor(self) -> None:
        target = self.target()
        if target is None:
            no_one = _("No therapist to show.") if self.grid is not None else _("Loading…")
            self.query_one("#schedule-cursor", Static).update(no_one)
            return
        hint = ""
        if target.cell.state == "free" and self._can(Permission.APPOINTMENT_WRITE):
            hint = _("Enter: move here") if self.moving else _("Enter: book")
        elif target.cell.appointment_id is not None:
            hint = _("Enter: check in, move, cancel…")
        doctor = target.doctor
        line = say.cell_line(doctor.name, doctor.specialization, target.day, target.start,
                             target.end, target.cell)  # fmt: skip
        self.query_one("#schedule-cursor", Static).update(f"{line}   {hint}".rstrip())

    @on(ScheduleGrid.CellChosen)
    def _chosen(self, event: ScheduleGrid.CellChosen) -> None:
        from clinic_tui.ui.screens.appointment_actions import AppointmentActionsScreen
        from clinic_tui.ui.screens.booking import BookingScreen, Slot

        target = self.target()
        if target is None:
            return
        state = str(target.cell.state)
        if self.moving is not None:
            self._move_to(target)
        elif state == "free":
            if not self._can(Permission.APPOINTMENT_WRITE):
                self._say(lambda: _(say.NOT_ALLOWED))
                return
            slot = Slot(target.doctor.id, target.doctor.name, target.doctor.specialization,
                        target.day, target.start)  # fmt: skip
            self.app.push_screen(BookingScreen(slot, slot_minutes=target.slot_minutes),
                                 self._booked)  # fmt: skip
        elif state == "unavailable":
            self._say(say.not_available(self._can(Permission.SCHEDULE_WRITE)))
        elif target.cell.appointment_id is not None:
            actions = AppointmentActionsScreen(
                appointment_id=target.cell.appointment_id, day=target.day,
                doctor_id=target.doctor.id, slot_minutes=target.slot_minutes)  # fmt: skip
            self.app.push_screen(actions, self._acted)

    def _booked(self, done: Any) -> None:
        if done is None:
            return
        info = done.result.appointment
        self.focus_doctor, self.focus_time = info.doctor_id, info.start
        self._say(done.describe)
        if self.view.mode == "day" and info.day != self.view.day:
            self._go(View("day", info.day))  # booked on another day ("first available")
            self._say(done.describe)
        else:
            self.reload_schedule()

    def _acted(self, outcome: Any) -> None:
        if outcome is None:
            return
        if outcome.move is not None:
            self.moving = outcome.move
            self.refresh_bindings()
            self._say(None)
        else:
            self._say(outcome.text)
        self.reload_schedule()

    # ---- moving an appointment ----------------------------------------------------------

    def _move_to(self, target: Target) -> None:
        from clinic_tui.ui.screens.appointment_actions import MoveScreen

        move = self.moving
        assert move is not None
        if target.cell.state != "free" and target.cell.appointment_id != move.appointment_id:
            self._say(lambda: _("Choose a free slot for the move."))
            return
        screen = MoveScreen(move, target.doctor.id, target.doctor.name, target.day, target.start)
        self.app.push_screen(screen, self._moved)

    def _moved(self, done: Any) -> None:
        if done is None:
            return
        if done.over:
            self.moving = None
            self.refresh_bindings()
            if self.back_after_move:
                self.app.pop_screen()
                self.app.notify(done.text())
                return
        self._say(done.text)
        self.reload_schedule()

    # ---- keys ---------------------------------------------------------------------------

    def _go(self, view: View) -> None:
        self.view = view
        self.grid = None
        self.query_one(StatusLine).said = None
        self.refresh_bindings()
        self.relabel()
        self.reload_schedule()

    def action_shift(self, direction: int) -> None:
        step = timedelta(days=(7 if self.view.mode == "week" else 1) * direction)
        self._selected_day = self.day + step if self.view.mode == "week" else None
        self._go(View(self.view.mode, self.view.day + step, self.view.doctor_id))

    def _show_day(self, day: date) -> None:
        self._selected_day = None
        if self.view.mode == "week":
            self._go(View("week", day - timedelta(days=day.weekday()), self.view.doctor_id))
            self._selected_day = day
        else:
            self._go(View("day", day))

    def action_today(self) -> None:
        self._show_day(say.clinic_today())

    def action_go_to_date(self) -> None:
        from clinic_tui.ui.widgets.schedule_dialogs import GoToDateDialog

        def chosen(day: date | None) -> None:
            if day is not None:
                self._show_day(day)

        self.app.push_screen(GoToDateDialog(), chosen)

    def action_week(self) -> None:
        target = self.target()
        if target is None or self.view.mode != "day":
            return
        monday = target.day - timedelta(days=target.day.weekday())
        self._selected_day = target.day
        self._go(View("week", monday, target.doctor.id))

    def action_back(self) -> None:
        if self.moving is not None:
            self.moving = None
            self.refresh_bindings()
            self._say(lambda: _("Move stopped; the appointment stays where it was."))
            if self.back_after_move:
                self.app.pop_screen()
            return
        if self.view.mode == "week":
            day = self.day
            self._selected_day = None
            self._go(View("day", day))

    def action_next_filter(self) -> None:
        grid = self.grid
        if grid is None or self.view.mode != "day":
            return
        found = sorted({d.specialization for d in grid.doctors})  # type: ignore[union-attr]
        choices: list[str | None] = [MINE] if self.own is not None else []
        choices += [None, *found]
        index = choices.index(self.filter) if self.filter in choices else -1
        self.filter = choices[(index + 1) % len(choices)]
        self._show_grid()

    def action_edit_hours(self, kind: str) -> None:
        from clinic_tui.ui.widgets.schedule_dialogs import HoursDialog

        target = self.target()
        if target is None or not self._can(Permission.SCHEDULE_WRITE):
            return

        def saved(text: Callable[[], str] | None) -> None:
            if text is not None:
                self._say(text)
                self.reload_schedule()

        doctor = target.doctor
        dialog = HoursDialog(kind, doctor.id, doctor.name, target.day, target.start, target.end)
        self.app.push_screen(dialog, saved)
