"""What can be done with one appointment: check in, no-show, complete, cancel with a reason,
move (`MoveScreen` confirms the cell picked on the grid). Every refusal (wrong status, too
early, changed meanwhile, slot taken) is explained; the services decide. The front desk sees
every action, a therapist only "complete"."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from clinic_tui.i18n import N_, _
from clinic_tui.services.access import Permission
from clinic_tui.ui.widgets import schedule_text as say
from clinic_tui.ui.widgets.fields import Field

if TYPE_CHECKING:
    from clinic_tui.services.appointments import DayListEntry

# action: key, label, what is said once done
ACTIONS = {
    "check_in": ("c", N_("Check in"), N_("Checked in: {patient}.")),
    "no_show": ("x", N_("No-show"), N_("Marked no-show: {patient}.")),
    "complete": ("d", N_("Complete"), N_("Completed: {patient}.")),
    "cancel": ("n", N_("Cancel the appointment"), N_("Cancelled: {patient}.")),
    "move": ("m", N_("Move to another slot"), ""),
}
TARGETS = {"check_in": "CHECKED_IN", "no_show": "NO_SHOW", "complete": "COMPLETED",
           "cancel": "CANCELLED", "move": "CANCELLED"}  # fmt: skip


def permitted(actor: Any) -> list[str]:
    """The actions this person may try (the service still checks, e.g. "own visit")."""
    if actor is None:
        return []
    if actor.can(Permission.APPOINTMENT_WRITE):
        return list(ACTIONS)
    return ["complete"] if actor.can(Permission.CLINICAL_WRITE) else []


def perform(app: Any, action: str, entry: DayListEntry, reason: str | None = None) -> None:
    """Run one status change in its own short session (call from a thread worker)."""
    from clinic_tui.services import appointments as appts

    with app.database.session() as session:
        actor, version = app.actor, entry.version
        if action == "check_in":
            appts.check_in(session, actor, entry.appointment_id, expected_version=version)
        elif action == "no_show":
            appts.mark_no_show(session, actor, entry.appointment_id, expected_version=version)
        elif action == "complete":
            appts.complete(session, actor, entry.appointment_id, expected_version=version)
        elif action == "cancel":
            appts.cancel(session, actor, entry.appointment_id, reason=reason or "",
                         expected_version=version)  # fmt: skip


def done_text(action: str, entry: DayListEntry) -> Callable[[], str]:
    return lambda: _(ACTIONS[action][2]).format(patient=entry.patient_name)


def refusal(error: BaseException, entry: DayListEntry) -> Callable[[], str]:
    return say.explained(error, day=entry.day, start=entry.start)


@dataclass(frozen=True)
class MoveRequest:
    """An appointment being moved: the new cell is picked on the grid, then confirmed."""

    appointment_id: uuid.UUID
    version: int
    patient_name: str
    doctor_id: uuid.UUID
    day: date
    start: time
    end: time
    slot_minutes: int = 30

    @property
    def slots(self) -> int:
        length = datetime.combine(self.day, self.end) - datetime.combine(self.day, self.start)
        return max(1, int(length.total_seconds() // 60) // self.slot_minutes)


def move_request(entry: DayListEntry, slot_minutes: int = 30) -> MoveRequest:
    return MoveRequest(entry.appointment_id, entry.version, entry.patient_name, entry.doctor_id,
                       entry.day, entry.start, entry.end, slot_minutes)  # fmt: skip


def checklist_applies(entry: DayListEntry) -> bool:
    """A visit that can be checked in now goes through the checklist first; any other gets the
    service's refusal straight away (too early, already checked in, …), not a form to fill."""
    from clinic_tui.ui.widgets.schedule_text import clinic_today

    return entry.status == "SCHEDULED" and entry.day == clinic_today()


@dataclass(frozen=True)
class ActionOutcome:
    text: Callable[[], str] | None = None
    move: MoveRequest | None = None
    completed: DayListEntry | None = None  # a visit just completed: its session comes next


class AppointmentActionsScreen(ModalScreen[ActionOutcome | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"run('{action}')", label, id=f"appointment.{action}", show=False)
            for action, (key, label, _done) in ACTIONS.items()
        ),
        Binding("escape", "close", N_("Close"), id="appointment.close"),
    ]

    class Loaded(Message):
        def __init__(self, entry: DayListEntry | None) -> None:
            super().__init__()
            self.entry = entry

    class Finished(Message):
        def __init__(
            self,
            text: Callable[[], str],
            *,
            ok: bool,
            stale: bool = False,
            completed: DayListEntry | None = None,
        ) -> None:
            super().__init__()
            self.text, self.ok, self.stale, self.completed = text, ok, stale, completed

    def __init__(self, entry: DayListEntry | None = None, *,
                 appointment_id: uuid.UUID | None = None, day: date | None = None,
                 doctor_id: uuid.UUID | None = None, slot_minutes: int = 30) -> None:  # fmt: skip
        super().__init__(classes="appointment-actions")
        self.entry = entry
        self.appointment_id = entry.appointment_id if entry else appointment_id
        self.day = entry.day if entry else day
        self.doctor_id = entry.doctor_id if entry else doctor_id
        self.slot_minutes = slot_minutes
        self._notice: Callable[[], str] | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="actions-panel"):
            yield Static(id="actions-title", classes="panel-title")
            yield Static(id="actions-details")
            yield OptionList(id="actions-list", compact=True)
            yield Field(N_("Cancellation reason"), "cancel-reason", max_length=500)
            yield Static(id="actions-notice")

    def on_mount(self) -> None:
        self.query_one("#field-cancel-reason").display = False
        self.relabel()
        self.query_one("#actions-list", OptionList).focus()
        if self.entry is None:
            self._load()

    def relabel(self) -> None:
        entry = self.entry
        title = Text(f"{entry.patient_name} · {entry.patient_code}") if entry else _("Appointment")
        self.query_one("#actions-title", Static).update(title)
        details = ""
        if entry is not None:
            card_label, reason_label = _("BHYT card"), _("Reason")
            details = "\n".join([
                f"{say.day_title(entry.day)} {say.span(entry.start, entry.end)} · "
                f"{entry.doctor_name}",
                f"{say.status_text(entry.status)} · {say.type_text(entry.appointment_type)} · "
                f"{card_label}: {say.card_text(entry.card_status, entry.card_valid_to)}",
                *([f"{reason_label}: {entry.reason}"] if entry.reason else []),
            ])  # fmt: skip
        elif self._notice is None:
            details = _("Loading…")
        self.query_one("#actions-details", Static).update(details)
        options = self.query_one("#actions-list", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for action in permitted(getattr(self.app, "actor", None)) if entry else ():
            key, label, _done = ACTIONS[action]
            options.add_option(Option(f"{key.upper()}  {_(label)}", id=action))
        options.add_option(Option("Esc  " + _("Close"), id="close"))
        options.highlighted = highlighted if highlighted is not None else 0
        self.query_one(Field).relabel()
        self.query_one("#actions-notice", Static).update(self._notice() if self._notice else "")

    def _say(self, text: Callable[[], str] | None) -> None:
        self._notice = text
        self.relabel()

    @work(thread=True, exclusive=True, group="appointment-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import appointments

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                entries = appointments.day_list(session, actor, self.day, doctor_id=self.doctor_id)
        except Exception as error:
            self.post_message(self.Finished(say.explained(error), ok=False))
            return
        found = next((e for e in entries if e.appointment_id == self.appointment_id), None)
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.entry = message.entry
        if message.entry is None:
            self._notice = lambda: _(say.GONE)
        self.relabel()

    @on(OptionList.OptionSelected, "#actions-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "close":
            self.dismiss(None)
        elif event.option.id:
            self.action_run(event.option.id)

    def action_run(self, action: str) -> None:
        entry = self.entry
        allowed = permitted(getattr(self.app, "actor", None))
        if entry is None or self._busy or action not in allowed:
            return
        if action == "move":
            if entry.status != "SCHEDULED":
                self._say(
                    lambda: _(say.TRANSITIONS["CANCELLED"]).format(
                        status=say.status_name(entry.status)
                    )
                )
                return
            self.dismiss(ActionOutcome(move=move_request(entry, self.slot_minutes)))
            return
        if action == "cancel":
            reason_field = self.query_one("#field-cancel-reason", Field)
            if not reason_field.display:
                reason_field.display = True
                self.set_focus(reason_field.input)  # now: typing goes there at once
                self._say(lambda: _("Type the reason, then press Enter."))
                return
            reason = reason_field.value.strip()
            if not reason:
                reason_field.show_error(N_("A reason is needed to cancel."))
                return
            reason_field.show_error(None)
            self._start(action, entry, reason)
            return
        if action == "check_in" and checklist_applies(entry):
            self._check_in_with_checklist(entry)
            return
        self._start(action, entry, None)

    def _check_in_with_checklist(self, entry: DayListEntry) -> None:
        from clinic_tui.ui.screens.checklist_dialog import ChecklistDialog

        def checked(done: bool | None) -> None:
            if done:
                self.dismiss(ActionOutcome(text=done_text("check_in", entry)))

        self.app.push_screen(
            ChecklistDialog(appointment_id=entry.appointment_id, patient_name=entry.patient_name,
                            expected_version=entry.version),
            checked,
        )  # fmt: skip

    @on(Input.Submitted, "#cancel-reason")
    def _reason_given(self) -> None:
        self.action_run("cancel")

    def _start(self, action: str, entry: DayListEntry, reason: str | None) -> None:
        self._busy = True
        self._act(action, entry, reason)

    @work(thread=True, exclusive=True, group="appointment-write", exit_on_error=False)
    def _act(self, action: str, entry: DayListEntry, reason: str | None) -> None:
        from clinic_tui.services.appointments import ScheduleConflict

        try:
            perform(self.app, action, entry, reason)
        except Exception as error:
            stale = isinstance(error, ScheduleConflict)
            self.post_message(self.Finished(refusal(error, entry), ok=False, stale=stale))
            return
        completed = entry if action == "complete" else None
        self.post_message(self.Finished(done_text(action, entry), ok=True, completed=completed))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self._busy = False
        if message.ok:
            self.dismiss(ActionOutcome(text=message.text, completed=message.completed))
            return
        self._say(message.text)
        if message.stale and self.entry is not None:
            self.day, self.doctor_id = self.entry.day, self.entry.doctor_id
            self._load()  # the appointment as it is now, with its new version

    def action_close(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class MoveDone:
    text: Callable[[], str]
    over: bool  # moved, or the appointment changed meanwhile: the move is over either way


class MoveScreen(ModalScreen[MoveDone | None]):
    """ "Move X to Y, Monday 09:00?" and, on yes, `appointments.reschedule`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Keep it where it is"), id="move.cancel"),
    ]

    class Finished(Message):
        def __init__(self, done: MoveDone) -> None:
            super().__init__()
            self.done = done

    def __init__(self, move: MoveRequest, doctor_id: uuid.UUID, doctor_name: str, day: date,
                 start: time) -> None:  # fmt: skip
        super().__init__(classes="move")
        self.move, self.doctor_id, self.doctor_name = move, doctor_id, doctor_name
        self.day, self.start = day, start

    def compose(self) -> ComposeResult:
        with Vertical(id="move-panel", classes="schedule-dialog"):
            yield Static(id="move-title", classes="panel-title")
            yield Static(id="move-question")
            with Horizontal(classes="choices"):
                yield Button(id="move-yes", variant="primary", compact=True)
                yield Button(id="move-no", compact=True)

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#move-yes", Button).focus()

    @property
    def when(self) -> str:
        return f"{say.day_title(self.day)} {say.hhmm(self.start)}"

    def relabel(self) -> None:
        question = _("Move {patient} to {doctor}, {when}?").format(
            patient=self.move.patient_name, doctor=self.doctor_name, when=self.when
        )
        self.query_one("#move-title", Static).update(_("Move the appointment"))
        self.query_one("#move-question", Static).update(question)
        self.query_one("#move-yes", Button).label = _("Move")
        self.query_one("#move-no", Button).label = _("Keep it where it is")

    @on(Button.Pressed, "#move-yes")
    def _yes(self) -> None:
        self.query_one("#move-yes", Button).disabled = True
        self._reschedule()

    @on(Button.Pressed, "#move-no")
    def _no(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="appointment-move", exit_on_error=False)
    def _reschedule(self) -> None:
        from clinic_tui.services import appointments as appts
        from clinic_tui.services.scheduling import NotFound

        move, actor = self.move, self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                appts.reschedule(session, actor, move.appointment_id,
                                 day=self.day, start=self.start, slots=move.slots,
                                 expected_version=move.version, doctor_id=self.doctor_id,
                                 slot_minutes=move.slot_minutes)  # fmt: skip
        except Exception as error:
            # Refused there: pick another cell. The appointment changed or went: stop.
            over = isinstance(error, appts.ScheduleConflict | appts.InvalidTransition | NotFound)
            self.post_message(self.Finished(MoveDone(say.explained(error), over)))
            return
        patient, doctor, when = move.patient_name, self.doctor_name, self.when
        text = _moved_text(patient, doctor, when)
        self.post_message(self.Finished(MoveDone(text, True)))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.dismiss(message.done)


def _moved_text(patient: str, doctor: str, when: str) -> Callable[[], str]:
    return lambda: _("Moved: {patient} to {doctor}, {when}.").format(
        patient=patient, doctor=doctor, when=when
    )
