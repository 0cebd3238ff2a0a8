"""The dialogs of a patient's protocol (doctors and admins): assign (patient, start date in the
locale's format, starting phase), move the phase on, record progress (note and status); and the
patient finder they share with the protocols screen. A refused save keeps the dialog as typed
and says why; on an assignment changed meanwhile it shows it as it is now (Ctrl+S again saves
on top of that)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_date, format_datetime
from clinic_tui.ui.screens.patient_problems import DATE_HINTS
from clinic_tui.ui.screens.patients import today
from clinic_tui.ui.widgets.fields import ChoiceField, Field

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_tui.services.access import Actor
    from clinic_tui.services.patient_search import PatientHit
    from clinic_tui.services.protocols import PatientProtocolView, ProtocolSummary

PROTOCOL_CATEGORIES = {
    "musculoskeletal": N_("Musculoskeletal"),
    "neurological": N_("Neurological"),
    "paediatric": N_("Paediatric"),
}
PHASES = {"initial": N_("Initial"), "intermediate": N_("Intermediate"), "advanced": N_("Advanced")}
STATUSES = {"NOT_STARTED": N_("Not started"), "IN_PROGRESS": N_("In progress"),
            "COMPLETED": N_("Completed"), "DISCONTINUED": N_("Discontinued")}  # fmt: skip
LAST_PHASE_KEY = "last_phase"  # a key, not a message: kept out of _() for the extractor
PROBLEMS = {
    "required": N_("Write a note, or change the status."),
    "too_long": N_("Too long: at most 4000 characters."),
    "phase": N_("Choose a phase."),
    "status": N_("Choose a status."),
    "patient_not_found": N_("This patient is no longer registered."),
    "already_assigned": N_("This patient is already following this protocol."),
    "last_phase": N_("Already in the last phase."),
    "closed": N_("This protocol is completed or discontinued: nothing more can be recorded."),
    "not_found": N_("This protocol is no longer offered."),
    "denied": N_("Only doctors and administrators can assign protocols and record progress."),
    "no_patient": N_("Choose the patient: type a name, phone or code, then pick from the list."),
    "date_format": N_("Not a date: type it as {hint}."),
    "conflict": N_("Not saved: this protocol was updated by someone else since it was shown "
                   "(as it is now, above). What you typed is kept: press Ctrl+S to save it."),
}  # fmt: skip


def label(labels: dict[str, str], code: str) -> str:
    """A code (phase, status, category) in the current language."""
    return _(labels[code]) if code in labels else code


def protocol_name(item: Any) -> str:
    """A protocol's (or an assignment's) name in the current language."""
    prefix = "protocol_name" if hasattr(item, "protocol_name_en") else "name"
    return str(getattr(item, f"{prefix}_{'vi' if current_language() == 'vi' else 'en'}"))


class PatientPicker(Vertical):
    """Find a patient as you type (name, phone, code, card); Enter or a click picks one."""

    class Chosen(Message):
        def __init__(self, picker: PatientPicker, patient: PatientHit) -> None:
            super().__init__()
            self.picker, self.patient = picker, patient

        @property
        def control(self) -> PatientPicker:
            return self.picker

    class _Found(Message):
        def __init__(self, text: str, hits: list[PatientHit], error: str = "") -> None:
            super().__init__()
            self.text, self.hits, self.error = text, hits, error

    def __init__(self, *, id: str | None = None, chosen: PatientHit | None = None) -> None:
        super().__init__(id=id, classes="patient-picker")
        self.chosen = chosen
        self._hits: list[PatientHit] = []
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(classes="patient-query", compact=True, max_length=200,
                    value=self.chosen.full_name if self.chosen else "")  # fmt: skip
        yield OptionList(classes="patient-hits")

    def on_mount(self) -> None:
        self.relabel()

    def relabel(self) -> None:
        self.input.placeholder = _("Find the patient: name, phone, patient code or BHYT card")
        self._show_hits()

    @property
    def input(self) -> Input:
        return self.query_one(".patient-query", Input)

    @on(Input.Changed, ".patient-query")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self.chosen is not None and event.value == self.chosen.full_name:
            return
        self.chosen = None
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        if not text.strip():
            self._hits = []
            self._show_hits()
        else:
            self._timer = self.set_timer(0.12, lambda: self._search(text))

    @work(thread=True, exclusive=True, group="patient-picker", exit_on_error=False)
    def _search(self, text: str) -> None:
        from clinic_tui.services import patient_search

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                hits = patient_search.search(session, actor, text, limit=8, today=today())
        except Exception as error:
            self.post_message(self._Found(text, [], describe_database_error(error)))
            return
        self.post_message(self._Found(text, hits))

    @on(_Found)
    def _found(self, message: _Found) -> None:
        message.stop()
        if message.text != self.input.value:
            return  # typed on since: the newer answer is on its way
        self._hits = message.hits
        self._show_hits()
        if message.error:
            self.notify(message.error, severity="error")

    def _show_hits(self) -> None:
        options = self.query_one(".patient-hits", OptionList)
        options.clear_options()
        for hit in self._hits:
            options.add_option(Option(Text(f"{hit.full_name} · {format_date(hit.date_of_birth)} · "
                                           f"{hit.patient_code}"), id=str(hit.id)))  # fmt: skip
        options.display = bool(self._hits)
        if self._hits:
            options.highlighted = 0

    @on(Input.Submitted, ".patient-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._hits:
            event.stop()
            if len(self._hits) == 1:
                self.choose(self._hits[0])
            else:
                self.query_one(".patient-hits", OptionList).focus()

    @on(OptionList.OptionSelected, ".patient-hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = next((h for h in self._hits if str(h.id) == event.option.id), None)
        if hit is not None:
            self.choose(hit)

    def choose(self, hit: PatientHit, *, announce: bool = True) -> None:
        self.chosen = hit
        self.input.value = hit.full_name
        self._hits = []
        self._show_hits()
        if announce:
            self.post_message(self.Chosen(self, hit))


class ProtocolDialog(ModalScreen["PatientProtocolView | None"]):
    """Ctrl+S saves through one service call (`save`), Esc cancels; dismisses with the
    assignment as saved, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="protocol_dialog.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="protocol_dialog.cancel"),
    ]
    SAVE_LABEL = N_("Save (Ctrl+S)")
    view: PatientProtocolView | None = None  # the assignment changed, if any

    class Done(Message):
        def __init__(self, view: PatientProtocolView | None = None, problem: str = "",
                     error: str = "", stale: Any = None) -> None:  # fmt: skip
            super().__init__()
            self.view, self.problem, self.error, self.stale = view, problem, error, stale

    def __init__(self, dialog_id: str) -> None:
        super().__init__(id=dialog_id, classes="protocol-dialog")
        self._notice: tuple[str, dict[str, object]] | None = None
        self._error = ""  # a database error, already in the user's language
        self._saving = False

    def compose_end(self) -> ComposeResult:
        yield Static(classes="protocol-dialog-notice")
        with Horizontal(classes="choices"):
            yield Button(id="dialog-save", variant="primary")
            yield Button(id="dialog-cancel")

    def relabel(self) -> None:
        for widget in (*self.query(Field), *self.query(ChoiceField)):
            widget.relabel()
        self.query_one("#dialog-save", Button).label = _(self.SAVE_LABEL)
        self.query_one("#dialog-cancel", Button).label = _("Cancel (Esc)")
        notice = _(self._notice[0]).format(**self._notice[1]) if self._notice else self._error
        self.query_one(".protocol-dialog-notice", Static).update(notice)

    def show_notice(self, msgid: str | None, **values: object) -> None:
        self._notice, self._error = ((msgid, values) if msgid else None), ""
        self.relabel()

    def action_save(self) -> None:
        call = None if self._saving else self.save()
        if call is not None:
            self._saving = True
            self.show_notice(N_("Saving…"))
            self._run(call)

    def save(self) -> Callable[[Session, Actor], PatientProtocolView] | None:
        """The service call to make, or None when the form says what is missing."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="protocol-dialog", exit_on_error=False)
    def _run(self, call: Callable[[Session, Actor], PatientProtocolView]) -> None:
        from clinic_tui.services import protocols
        from clinic_tui.services.access import PermissionDenied
        from clinic_tui.services.protocols import ProtocolInvalid, ProtocolNotFound

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                view = call(session, actor)
        except protocols.ProtocolEditConflict:
            shown = self.view
            with database.session() as session:  # how it is now, to show instead
                now = protocols.patient_protocols(session, actor, shown.patient_id) if shown \
                    else []  # fmt: skip
            fresh = next((v for v in now if shown and v.id == shown.id), None)
            self.post_message(self.Done(problem="conflict", stale=fresh))
        except ProtocolInvalid as error:
            self.post_message(self.Done(problem=str(next(iter(error.problems.values())))))
        except (ProtocolNotFound, PermissionDenied) as error:
            found = not isinstance(error, ProtocolNotFound)
            self.post_message(self.Done(problem="denied" if found else "not_found"))
        except Exception as error:
            self.post_message(self.Done(error=describe_database_error(error)))
        else:
            self.post_message(self.Done(view))

    @on(Done)
    def _done(self, message: Done) -> None:
        self._saving = False
        if message.view is not None:
            self.dismiss(message.view)
        elif message.error:
            self._notice, self._error = None, message.error
            self.relabel()
        else:
            self.refused(message.problem, message.stale)

    def refused(self, problem: str, stale: PatientProtocolView | None) -> None:
        self.view = stale or self.view  # the next save goes on top of what is shown now
        self.show_notice(PROBLEMS.get(problem, PROBLEMS["denied"]))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "dialog-save" else self.dismiss(None)


class AssignProtocolScreen(ProtocolDialog):
    SAVE_LABEL = N_("Assign (Ctrl+S)")

    def __init__(self, protocol: ProtocolSummary, patient: PatientHit | None = None) -> None:
        super().__init__("assign-protocol")
        self.protocol, self.patient = protocol, patient
        self._date_language = current_language()

    def compose(self) -> ComposeResult:
        with Vertical(classes="protocol-dialog-panel"):
            yield Static(id="assign-title", classes="panel-title")
            yield Static(id="assign-patient-label", classes="protocol-dialog-label")
            yield PatientPicker(id="assign-patient", chosen=self.patient)
            yield Field(N_("Start date"), "start_date", max_length=20)
            yield ChoiceField(N_("Starting phase"), "phase", [(t, c) for c, t in PHASES.items()])
            yield from self.compose_end()

    def on_mount(self) -> None:
        self.query_one("#start_date", Input).value = format_date(today())
        self.query_one("#field-phase", ChoiceField).set_value("initial")
        self.relabel()
        start = self.query_one("#start_date", Input)
        (start if self.patient else self.query_one(PatientPicker).input).focus()

    def relabel(self) -> None:
        from clinic_tui.forms.patient import parse_date_input

        self.query_one("#assign-title", Static).update(
            _("Assign a protocol: {name}").format(name=protocol_name(self.protocol))
        )
        self.query_one("#assign-patient-label", Static).update(_("Patient"))
        self.query_one(PatientPicker).relabel()
        start = self.query_one("#start_date", Input)
        if self._date_language != current_language():
            # The same digits would be another day in the other order: rewrite them.
            typed = parse_date_input(start.value, self._date_language, today=today(),
                                     years_ahead=1)  # fmt: skip
            start.value = format_date(typed) if typed else start.value
            self._date_language = current_language()
        super().relabel()
        start.placeholder = DATE_HINTS[current_language()]

    def save(self) -> Callable[[Session, Actor], PatientProtocolView] | None:
        from clinic_tui.forms.patient import parse_date_input
        from clinic_tui.services import protocols

        patient = self.query_one(PatientPicker).chosen
        start = parse_date_input(self.query_one("#start_date", Input).value, current_language(),
                                 today=today(), years_ahead=1)  # fmt: skip
        phase = self.query_one("#field-phase", ChoiceField).value
        self.query_one("#field-start_date", Field).show_error(
            None if start else PROBLEMS["date_format"], hint=DATE_HINTS[current_language()]
        )
        if patient is None or start is None:
            self.show_notice(None if patient else PROBLEMS["no_patient"])
            return None
        self.patient = patient
        return lambda session, actor: protocols.assign_protocol(
            session, actor, patient_id=patient.id, protocol_id=self.protocol.id,
            start_date=start, phase=phase)  # fmt: skip


class NextPhaseScreen(ProtocolDialog):
    """Move an assignment to its next phase, after saying from which to which."""

    SAVE_LABEL = N_("Move on (Ctrl+S)")

    def __init__(self, view: PatientProtocolView) -> None:
        super().__init__("next-phase")
        self.view: PatientProtocolView = view

    def compose(self) -> ComposeResult:
        with Vertical(classes="protocol-dialog-panel"):
            yield Static(id="next-phase-title", classes="panel-title")
            yield Static(id="next-phase-text")
            yield from self.compose_end()

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#dialog-save", Button).focus()

    def relabel(self) -> None:
        view, order = self.view, list(PHASES)
        at = order.index(view.current_phase) if view.current_phase in order else len(order)
        self.query_one("#next-phase-title", Static).update(_("Next phase"))
        self.query_one("#next-phase-text", Static).update(_(
            "Move {protocol} from the {old} phase to the {new} phase?").format(
            protocol=protocol_name(view), old=label(PHASES, view.current_phase),
            new=label(PHASES, order[at + 1])) if at + 1 < len(order)
            else _(PROBLEMS[LAST_PHASE_KEY]))  # fmt: skip
        super().relabel()

    def save(self) -> Callable[[Session, Actor], PatientProtocolView] | None:
        from clinic_tui.services import protocols

        view = self.view
        return lambda session, actor: protocols.advance_phase(
            session, actor, view.id, expected_version=view.version)  # fmt: skip


class ProgressScreen(ProtocolDialog):
    """A progress note and the status of an assignment."""

    def __init__(self, view: PatientProtocolView, patient_name: str) -> None:
        super().__init__("record-progress")
        self.view: PatientProtocolView = view
        self.patient_name = patient_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="protocol-dialog-panel"):
            yield Static(id="progress-title", classes="panel-title")
            yield Static(id="progress-state")
            yield ChoiceField(N_("Status"), "status", [(t, c) for c, t in STATUSES.items()])
            yield Field(N_("Progress note"), "note", max_length=4000)
            yield from self.compose_end()

    def on_mount(self) -> None:
        self.query_one("#field-status", ChoiceField).set_value(self.view.progress_status)
        self.relabel()
        self.query_one("#note", Input).focus()

    def relabel(self) -> None:
        view = self.view
        self.query_one("#progress-title", Static).update(_("Progress: {name} — {patient}")
            .format(name=protocol_name(view), patient=self.patient_name))  # fmt: skip
        lines = [_("Phase: {phase} · status: {status} · started {date}").format(
            phase=label(PHASES, view.current_phase), status=label(STATUSES, view.progress_status),
            date=format_date(view.start_date))]  # fmt: skip
        lines += [f"{format_datetime(note.at)} · {label(STATUSES, note.status)} · "
                  f"{note.note or '—'}" for note in view.progress_notes[-3:]]  # fmt: skip
        self.query_one("#progress-state", Static).update("\n".join(lines))
        super().relabel()

    def save(self) -> Callable[[Session, Actor], PatientProtocolView] | None:
        from clinic_tui.services import protocols

        view, note = self.view, self.query_one("#note", Input).value
        status = self.query_one("#field-status", ChoiceField).value
        return lambda session, actor: protocols.record_progress(
            session, actor, view.id, note=note, status=status, expected_version=view.version
        )

    def refused(self, problem: str, stale: PatientProtocolView | None) -> None:
        self.query_one("#field-note", Field).show_error(
            PROBLEMS[problem] if problem in ("required", "too_long") else None
        )
        super().refused(problem, stale)
