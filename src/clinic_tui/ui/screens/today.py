"""Today (F1): the day's appointments by time, with status, patient, therapist, type and card;
check in (c), no-show (x), complete (d), Enter for every action. A therapist sees their own
list first (`a` shows every therapist's). Other terminals' changes reload the list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from clinic_tui.i18n import N_, _, ngettext
from clinic_tui.services.access import Role
from clinic_tui.ui.live import Debounced, ScheduleChanged
from clinic_tui.ui.screens.appointment_actions import (
    ActionOutcome,
    checklist_applies,
    done_text,
    perform,
    permitted,
    refusal,
)
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.widgets import schedule_text as say
from clinic_tui.ui.widgets.key_commands import ScreenKeyCommands
from clinic_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from clinic_tui.services.appointments import DayListEntry

COLUMNS = (
    ("time", N_("Time")),
    ("status", N_("Status")),
    ("patient", N_("Patient")),
    ("doctor", N_("Therapist")),
    ("type", N_("Type")),
    ("card", N_("BHYT card")),
)
STATUS_STYLES = {"CHECKED_IN": "bold", "COMPLETED": "dim", "CANCELLED": "dim strike",
                 "NO_SHOW": "dim"}  # fmt: skip


class TodayScreen(ClinicScreen):
    COMMANDS: ClassVar = {ScreenKeyCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "act('check_in')", N_("Check in"), id="today.check_in"),
        Binding("x", "act('no_show')", N_("No-show"), id="today.no_show"),
        Binding("d", "act('complete')", N_("Complete"), id="today.complete"),
        Binding("a", "toggle_all", N_("All therapists"), id="today.all"),
        Binding("ctrl+r", "clinical_record", N_("Clinical record"), id="today.clinical"),
        Binding(
            "pageup",
            "shift(-1)",
            N_("Previous day"),
            id="today.previous",
            show=False,
            priority=True,
        ),
        Binding("pagedown", "shift(1)", N_("Next day"), id="today.next", show=False, priority=True),
        Binding("t", "today", N_("Today"), id="today.today", show=False),
        Binding("r", "reload_schedule", N_("Reload"), id="today.reload", show=False),
    ]

    class Loaded(Message):
        def __init__(self, seq: int, entries: list[DayListEntry]) -> None:
            super().__init__()
            self.seq, self.entries = seq, entries

    class Said(Message):
        def __init__(
            self, text: Callable[[], str], *, reload: bool = True, completed: object = None
        ) -> None:
            super().__init__()
            self.text, self.reload = text, reload
            self.completed = completed  # the entry just completed: its session comes next

    def __init__(self, day: date | None = None) -> None:
        super().__init__(id="today")
        self.day = day or say.clinic_today()
        self.show_all = False
        self.entries: list[DayListEntry] = []
        self._seq = 0
        self._loaded = False
        self._busy = False
        self._live = Debounced(self, self.reload_schedule)

    def compose_body(self) -> ComposeResult:
        yield Static(id="today-title")
        yield DataTable(id="today-list", cursor_type="row", zebra_stripes=True)
        yield StatusLine(id="today-status", idle=self._nothing_said)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, _title in COLUMNS:
            table.add_column("", key=key)
        self.relabel()
        table.focus()
        self.reload_schedule()

    @property
    def is_doctor(self) -> bool:
        actor = getattr(self.app, "actor", None)
        return actor is not None and actor.role is Role.DOCTOR

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act":
            return str(parameters[0]) in permitted(getattr(self.app, "actor", None))
        if action == "toggle_all":
            return self.is_doctor
        if action == "clinical_record":
            from clinic_tui.ui.screens.clinical import can_open

            return can_open(getattr(self.app, "actor", None))
        return True

    def action_clinical_record(self) -> None:
        from clinic_tui.ui.screens.clinical import ClinicalRecordScreen

        entry = self._selected()
        if entry is not None:
            self.app.push_screen(ClinicalRecordScreen(entry.patient_id))

    # ---- loading ------------------------------------------------------------------------

    def reload_schedule(self) -> None:
        self._seq += 1
        self._load(self._seq, self.day, self.show_all)

    @work(thread=True, exclusive=True, group="today-load", exit_on_error=False)
    def _load(self, seq: int, day: date, show_all: bool) -> None:
        from clinic_tui.services import appointments, scheduling

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                if show_all and actor.role is Role.DOCTOR:
                    # A therapist's day_list is their own; every therapist's, one by one.
                    doctors = scheduling.day_grid(session, actor, day).doctors
                    entries = [
                        e
                        for d in doctors
                        for e in appointments.day_list(session, actor, day, doctor_id=d.id)
                    ]
                    entries.sort(key=lambda e: (e.start, e.doctor_name, e.patient_name))
                else:
                    entries = appointments.day_list(session, actor, day)
        except Exception as error:
            self.post_message(self.Said(say.explained(error), reload=False))
            return
        self.post_message(self.Loaded(seq, entries))

    @on(Loaded)
    def _loaded_list(self, message: Loaded) -> None:
        if message.seq != self._seq:
            return
        self._loaded = True
        self.entries = message.entries
        self._show_entries()
        self._render_title()
        self.query_one(StatusLine).relabel()

    def on_schedule_changed(self, message: ScheduleChanged) -> None:
        if message.touches(self.day):
            self._live.poke()

    # ---- showing ------------------------------------------------------------------------

    def relabel(self) -> None:
        super().relabel()
        table = self.query_one(DataTable)
        for (_key, title), column in zip(COLUMNS, table.ordered_columns, strict=True):
            column.label = Text(_(title))
        self._show_entries()
        self._render_title()
        self.query_one(StatusLine).relabel()

    def _render_title(self) -> None:
        heading = _("Today") if self.day == say.clinic_today() else _("Appointments")
        whose = ""
        if self.is_doctor:
            whose = _("all therapists") if self.show_all else _("my appointments")
        parts = [heading, say.day_title(self.day), *([whose] if whose else [])]
        if self._loaded:
            active = [e for e in self.entries if e.status not in ("CANCELLED", "NO_SHOW")]
            waiting = sum(e.status == "CHECKED_IN" for e in self.entries)
            parts.append(ngettext("{count} appointment", "{count} appointments",
                                  len(active)).format(count=len(active)))  # fmt: skip
            parts.append(_("{count} checked in").format(count=waiting))
        self.query_one("#today-title", Static).update(" · ".join(parts))

    def _show_entries(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        selected = self._selected()
        table.clear()
        for entry in self.entries:
            style = STATUS_STYLES.get(entry.status, "")
            table.add_row(
                Text(say.span(entry.start, entry.end), style=style),
                Text(say.status_text(entry.status), style=style),
                Text(entry.patient_name, style=style),
                Text(entry.doctor_name, style=style),
                Text(say.type_text(entry.appointment_type), style=style),
                Text(
                    say.card_text(str(entry.card_status), entry.card_valid_to),
                    style="bold red" if str(entry.card_status) == "expired" else style,
                ),
                key=str(entry.appointment_id),
            )
        if not self.entries:
            return
        ids = [e.appointment_id for e in self.entries]
        if selected is not None and selected.appointment_id in ids:
            row = ids.index(selected.appointment_id)
        table.move_cursor(row=min(max(row, 0), len(ids) - 1))

    def _selected(self) -> DayListEntry | None:
        table = self.query_one(DataTable)
        if not table.row_count or not self.entries:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((e for e in self.entries if str(e.appointment_id) == key), None)

    def _say(self, text: Callable[[], str] | None) -> None:
        self.query_one(StatusLine).say(text)

    def _nothing_said(self) -> str:
        return _("No appointments on this day.") if self._loaded and not self.entries else ""

    # ---- acting -------------------------------------------------------------------------

    def action_act(self, action: str) -> None:
        from clinic_tui.ui.screens.checklist_dialog import ChecklistDialog

        entry = self._selected()
        if entry is None or self._busy:
            return
        if action == "check_in" and checklist_applies(entry):
            # Checking in goes through the clinic's checklist (consent, ID, card, …).
            def checked(done: bool | None) -> None:
                if done:
                    self._say(done_text("check_in", entry))
                    self.reload_schedule()

            self.app.push_screen(
                ChecklistDialog(appointment_id=entry.appointment_id,
                                patient_name=entry.patient_name, expected_version=entry.version),
                checked,
            )  # fmt: skip
            return
        self._busy = True
        self._act(action, entry)

    @work(thread=True, exclusive=True, group="today-write", exit_on_error=False)
    def _act(self, action: str, entry: DayListEntry) -> None:
        try:
            perform(self.app, action, entry)
        except Exception as error:
            self.post_message(self.Said(refusal(error, entry)))
            return
        completed = entry if action == "complete" else None
        self.post_message(self.Said(done_text(action, entry), completed=completed))

    @on(Said)
    def _said(self, message: Said) -> None:
        self._busy = False
        self._say(message.text)
        if message.reload:
            self.reload_schedule()
        if message.completed is not None:
            self.record_session(message.completed)  # type: ignore[arg-type]

    def record_session(self, entry: DayListEntry) -> None:
        """A therapist (or admin) who completes a visit records its treatment session."""
        from clinic_tui.services.access import Permission
        from clinic_tui.ui.screens.clinical_session_dialog import SessionDialog, session_saved

        actor = getattr(self.app, "actor", None)
        if actor is None or not actor.can(Permission.CLINICAL_WRITE):
            return

        def recorded(session: object) -> None:
            text = session_saved(session)  # type: ignore[arg-type]
            if text is not None:
                self._say(text)

        self.app.push_screen(
            SessionDialog(appointment_id=entry.appointment_id, patient_id=entry.patient_id),
            recorded,
        )

    @on(DataTable.RowSelected, "#today-list")
    def _open(self, event: DataTable.RowSelected) -> None:
        from clinic_tui.ui.screens.appointment_actions import AppointmentActionsScreen

        entry = next((e for e in self.entries if str(e.appointment_id) == event.row_key.value),
                     None)  # fmt: skip
        if entry is not None:
            self.app.push_screen(AppointmentActionsScreen(entry), self._acted)

    def _acted(self, outcome: ActionOutcome | None) -> None:
        from clinic_tui.ui.screens.schedule_grid import ScheduleScreen

        if outcome is None:
            return
        if outcome.move is not None:
            self.app.push_screen(ScheduleScreen(outcome.move.day, moving=outcome.move,
                                                back_after_move=True))  # fmt: skip
            return
        self._say(outcome.text)
        self.reload_schedule()
        if outcome.completed is not None:
            self.record_session(outcome.completed)

    # ---- days and whose -----------------------------------------------------------------

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self._say(None)
        self.reload_schedule()
        self._render_title()

    def _go(self, day: date) -> None:
        self.day, self._loaded, self.entries = day, False, []
        self._say(None)
        self._show_entries()
        self._render_title()
        self.reload_schedule()

    def action_shift(self, direction: int) -> None:
        self._go(self.day + timedelta(days=direction))

    def action_today(self) -> None:
        self._go(say.clinic_today())
