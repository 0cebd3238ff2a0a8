"""Protocols (F7): the treatment protocols, by category and by diagnosis (a term or an ICD-10
code); the one selected in full, in the current language; and a chosen patient's protocols,
where doctors and admins assign one, move its phase on and record progress."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_date, ngettext
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.screens.protocol_assign import (
    PHASES,
    PROBLEMS,
    PROTOCOL_CATEGORIES,
    STATUSES,
    AssignProtocolScreen,
    NextPhaseScreen,
    PatientPicker,
    ProgressScreen,
    ProtocolDialog,
    label,
    protocol_name,
)
from clinic_tui.ui.screens.terms import can
from clinic_tui.ui.widgets.key_commands import ScreenKeyCommands
from clinic_tui.ui.widgets.term_input import TermInput

if TYPE_CHECKING:
    from clinic_tui.services.patient_search import PatientHit
    from clinic_tui.services.protocols import PatientProtocolView, ProtocolDetail

DIAGNOSIS_DEBOUNCE_SECONDS = 0.25
CRITERIA = {"initial_to_intermediate": N_("Initial → intermediate"),
            "intermediate_to_advanced": N_("Intermediate → advanced"),
            "discharge": N_("Discharge")}  # fmt: skip
COLUMNS = (N_("Protocol"), N_("Start date"), N_("Phase"), N_("Status"), N_("Last note"))


def _both(item: object, prefix: str = "") -> str:
    """A text stored in both languages (`name_en` / `name_vi`, or `en` / `vi`) in the current
    language, else in the other."""
    first, second = ("vi", "en") if current_language() == "vi" else ("en", "vi")
    name = f"{prefix}_" if prefix else ""
    return str(getattr(item, name + first, None) or getattr(item, name + second, None) or "")


def _dose(exercise: Any) -> str:
    """ "3 sets × 10 reps, hold 5 s, daily"."""
    sets, reps, hold = exercise.sets, exercise.reps, exercise.hold_seconds
    parts = [
        _("{sets} sets × {reps} reps").format(sets=sets, reps=reps)
        if sets and reps
        else _("{n} reps").format(n=reps)
        if reps
        else _("{n} sets").format(n=sets)
        if sets
        else "",
        _("hold {n} s").format(n=hold) if hold else "",
        _both(exercise, "frequency"),
    ]
    return ", ".join(part for part in parts if part)  # fmt: skip


def render_protocol(detail: ProtocolDetail) -> Text:
    """Everything a therapist works from, in the current language."""
    text = Text()
    heading = {"style": "bold underline"}
    text.append(f"{protocol_name(detail)}  ({detail.code})\n", style="bold")
    weeks = ngettext("{n} week", "{n} weeks", detail.duration_weeks)
    sessions = ngettext("{n} session a week", "{n} sessions a week", detail.sessions_per_week)
    text.append(" · ".join([
        label(PROTOCOL_CATEGORIES, detail.category), weeks.format(n=detail.duration_weeks),
        sessions.format(n=detail.sessions_per_week),
        _("{n} minutes a session").format(n=detail.session_minutes)]) + "\n")  # fmt: skip
    codes = ", ".join(detail.target_icd10_codes) or "—"
    text.append(_("ICD-10: {codes}").format(codes=codes) + "\n", style="dim")
    if description := _both(detail, "description"):
        text.append("\n" + description + "\n")
    text.append("\n" + _("Goals") + "\n", **heading)
    for term, title in (("short", N_("Short term")), ("long", N_("Long term"))):
        text.append(_(title) + "\n", style="bold")
        for goal in detail.goals_for(term):
            weeks_ = goal.timeframe_weeks
            extra = [ngettext("{n} week", "{n} weeks", weeks_).format(n=weeks_) if weeks_ else "",
                     goal.measure or ""]  # fmt: skip
            text.append(f"  • {_both(goal)}")
            extra_text = ", ".join(item for item in extra if item)
            text.append(f"  ({extra_text})\n" if extra_text else "\n", style="dim")
    text.append("\n" + _("Exercises") + "\n", **heading)
    for phase, exercises in detail.exercises.items():
        text.append(_("{phase} phase").format(phase=label(PHASES, phase)) + "\n", style="bold")
        for exercise in exercises:
            dose = _dose(exercise)
            text.append(f"  • {_both(exercise, 'name')}" + (f" — {dose}\n" if dose else "\n"))
            if instructions := _both(exercise, "instructions"):
                text.append(f"    {instructions}\n", style="dim")
    text.append("\n" + _("Progression criteria") + "\n", **heading)
    for criterion in detail.progression_criteria:
        text.append(f"  {label(CRITERIA, criterion.stage)}: ", style="bold")
        text.append(_both(criterion) + "\n")
    if precautions := _both(detail, "precautions"):
        text.append("\n" + _("Precautions") + "\n", **heading)
        text.append(precautions + "\n")
    return text


class ProtocolsScreen(ClinicScreen):
    COMMANDS: ClassVar = {ScreenKeyCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "assign", N_("Assign"), id="protocols.assign"),
        Binding("n", "next_phase", N_("Next phase"), id="protocols.next_phase"),
        Binding("r", "record_progress", N_("Progress"), id="protocols.progress"),
        Binding("p", "find_patient", N_("Patient"), id="protocols.patient", show=False),
        Binding("d", "find_diagnosis", N_("Diagnosis"), id="protocols.diagnosis", show=False),
        Binding("escape", "focus_list", N_("Protocols"), id="protocols.list", show=False),
    ]

    class Loaded(Message):
        """An answer from a worker: `what` is "list", "detail" or "assignments"."""

        def __init__(self, what: str, key: object, value: Any, error: str = "") -> None:
            super().__init__()
            self.what, self.key, self.value, self.error = what, key, value, error

    def __init__(self) -> None:
        super().__init__(id="protocols")
        self._filter: tuple[str, str] = ("", "")
        self._protocols: list[Any] = []  # ProtocolSummary
        self._details: dict[uuid.UUID, ProtocolDetail] = {}
        self._selected: uuid.UUID | None = None
        self._status: tuple[str, dict[str, object]] | None = None
        self._timer: Timer | None = None
        self.patient: PatientHit | None = None
        self.assignments: list[PatientProtocolView] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="protocol-filters"):
            yield Static(id="protocol-category-label", classes="protocols-label")
            yield Select([], id="protocol-category", compact=True)
            yield Static(id="protocol-diagnosis-label", classes="protocols-label")
            yield TermInput(
                id="protocol-diagnosis", placeholder=N_("A diagnosis: term, or ICD-10 code (M54)")
            )
        yield Static(id="protocols-status")
        with Horizontal(id="protocols-main"):
            yield OptionList(id="protocol-list")
            with VerticalScroll(id="protocol-detail"):
                yield Static(id="protocol-detail-body")
        with Vertical(id="patient-protocols-panel"):
            with Horizontal(id="protocol-patient-row"):
                yield Static(id="protocol-patient-label", classes="protocols-label")
                yield PatientPicker(id="protocol-patient")
            yield Static(id="patient-protocols-title")
            yield DataTable(id="patient-protocols", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#protocol-detail", VerticalScroll).can_focus = True
        self.relabel()
        self.query_one("#protocol-list", OptionList).focus()
        self._list(self._filter)

    def relabel(self) -> None:
        super().relabel()
        for widget_id, text in (("category", N_("Category")), ("diagnosis", N_("Diagnosis")),
                                ("patient", N_("Patient"))):  # fmt: skip
            self.query_one(f"#protocol-{widget_id}-label", Static).update(_(text))
        select: Select[str] = self.query_one("#protocol-category", Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.prompt = _("All categories")
            select.set_options([(_(title), code) for code, title in PROTOCOL_CATEGORIES.items()])
            select.value = current
        self.query_one("#protocol-diagnosis", TermInput).relabel()
        self.query_one(PatientPicker).relabel()
        table = self.query_one("#patient-protocols", DataTable)
        table.clear(columns=True)
        table.add_columns(*(_(title) for title in COLUMNS))
        self._show_list()
        self._show_detail()
        self._show_assignments()
        self._render_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "assign":
            return can(self, Permission.PROTOCOL_ASSIGN) and self._selected is not None
        if action in ("next_phase", "record_progress"):
            return can(self, Permission.PROTOCOL_ASSIGN) and bool(self.assignments)
        return True

    @work(thread=True, group="protocols-load", exit_on_error=False)
    def _fetch(self, what: str, key: object, call: Any) -> None:
        """Run `call(session, actor)` off the UI thread; post its answer as `Loaded`."""
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                value = call(session, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Loaded(what, key, None, describe_database_error(error)))
            return
        self.post_message(self.Loaded(what, key, value))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
        elif message.what == "list" and message.key == self._filter:
            self._listed(message.value)  # (an answer for older filters is dropped)
        elif message.what == "detail":
            self._details[message.value.id] = message.value
            self._show_detail()
        elif message.what == "assignments" and self.patient and message.key == self.patient.id:
            self.assignments = message.value
            self._show_assignments()
            self.refresh_bindings()

    # ---- the list and its filters -------------------------------------------------------

    @on(Select.Changed, "#protocol-category")
    def _category_changed(self) -> None:
        self._refilter()

    @on(TermInput.Picked, "#protocol-diagnosis")
    def _diagnosis_picked(self) -> None:
        self._refilter()
        self.query_one("#protocol-list", OptionList).focus()

    @on(Input.Changed, "#protocol-diagnosis")
    def _diagnosis_typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DIAGNOSIS_DEBOUNCE_SECONDS, self._refilter)

    def _refilter(self) -> None:
        value = self.query_one("#protocol-category", Select).value
        box = self.query_one("#protocol-diagnosis", TermInput)
        # A picked term filters by its ICD-10 code; typed text (a code, a term) as it is.
        diagnosis = (box.term.icd10_code if box.term else None) or box.value
        key = (value if isinstance(value, str) else "", diagnosis.strip())
        if key != self._filter:
            self._filter = key
            self._list(key)

    def _list(self, key: tuple[str, str]) -> None:
        from clinic_tui.services import protocols

        category, diagnosis = key
        self._fetch(
            "list",
            key,
            lambda session, actor: protocols.list_protocols(
                session, actor, category=category or None, diagnosis=diagnosis or None
            ),
        )

    def _listed(self, found: list[Any]) -> None:
        self._protocols = found
        if self._selected not in {p.id for p in found}:
            self._selected = found[0].id if found else None
        self._status = ((N_("No protocol for this category and diagnosis."), {}) if not found
                        else (ngettext("{n} protocol", "{n} protocols", len(found)),
                              {"n": len(found)}))  # fmt: skip
        self._render_status()
        self._show_list()
        self._open_selected()

    def _render_status(self) -> None:
        text = _(self._status[0]).format(**self._status[1]) if self._status else ""
        self.query_one("#protocols-status", Static).update(text)

    def _show_list(self) -> None:
        options = self.query_one("#protocol-list", OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{summary.code}\n{protocol_name(summary)}", id=str(summary.id))
            for summary in self._protocols
        )
        ids = [p.id for p in self._protocols]
        if self._selected in ids:
            options.highlighted = ids.index(self._selected)

    @on(OptionList.OptionHighlighted, "#protocol-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and uuid.UUID(event.option.id) != self._selected:
            self._selected = uuid.UUID(event.option.id)
            self._open_selected()

    def _open_selected(self) -> None:
        from clinic_tui.services import protocols

        self.refresh_bindings()
        selected = self._selected
        if selected is not None and selected not in self._details:
            self._fetch(
                "detail",
                selected,
                lambda session, actor: protocols.get_protocol(session, actor, selected),
            )
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self._details.get(self._selected) if self._selected else None
        self.query_one("#protocol-detail-body", Static).update(
            render_protocol(detail) if detail else ""
        )

    # ---- a patient's protocols ----------------------------------------------------------

    @on(PatientPicker.Chosen, "#protocol-patient")
    def _patient_chosen(self, message: PatientPicker.Chosen) -> None:
        self.patient, self.assignments = message.patient, []
        self._show_assignments()
        self._reload_assignments()
        self.query_one("#patient-protocols", DataTable).focus()

    def _reload_assignments(self) -> None:
        from clinic_tui.services import protocols

        if (patient := self.patient) is not None:
            self._fetch("assignments", patient.id, lambda session, actor:
                        protocols.patient_protocols(session, actor, patient.id))  # fmt: skip

    def _show_assignments(self) -> None:
        title = self.query_one("#patient-protocols-title", Static)
        table = self.query_one("#patient-protocols", DataTable)
        cursor = table.cursor_row
        table.clear()
        if self.patient is None:
            title.update(Text(_("Choose a patient to see their protocols."), style="dim"))
            return
        name = f"{self.patient.full_name} · {self.patient.patient_code}"
        title.update(_("Protocols of {patient}").format(patient=name) if self.assignments else
                     _("{patient} follows no protocol yet.").format(patient=name))  # fmt: skip
        for view in self.assignments:
            last = view.progress_notes[-1].note if view.progress_notes else ""
            table.add_row(protocol_name(view), format_date(view.start_date),
                          label(PHASES, view.current_phase), label(STATUSES, view.progress_status),
                          last, key=str(view.id))  # fmt: skip
        if self.assignments:
            table.move_cursor(row=min(cursor, len(self.assignments) - 1))

    def _current_assignment(self) -> PatientProtocolView | None:
        table = self.query_one("#patient-protocols", DataTable)
        if not self.assignments or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((view for view in self.assignments if str(view.id) == key), None)

    # ---- actions ------------------------------------------------------------------------

    def _open_dialog(self, dialog: ProtocolDialog, done: str) -> None:
        def finished(view: PatientProtocolView | None) -> None:
            self._reload_assignments()
            if view is not None:
                self.notify(_(done).format(name=protocol_name(view)))

        self.app.push_screen(dialog, finished)

    def action_assign(self) -> None:
        summary = next((p for p in self._protocols if p.id == self._selected), None)
        if summary is None or not can(self, Permission.PROTOCOL_ASSIGN):
            return
        dialog = AssignProtocolScreen(summary, self.patient)

        def assigned(view: PatientProtocolView | None) -> None:
            if view is not None and dialog.patient is not None:
                self.query_one(PatientPicker).choose(dialog.patient, announce=False)
                self.patient, self.assignments = dialog.patient, []
                self._reload_assignments()
                self.notify(_("Assigned: {name}.").format(name=protocol_name(view)))

        self.app.push_screen(dialog, assigned)

    def action_next_phase(self) -> None:
        view = self._current_assignment()
        if view is None or not can(self, Permission.PROTOCOL_ASSIGN):
            return
        if view.current_phase == list(PHASES)[-1]:
            message = PROBLEMS["last_phase"]  # looked up first: a key, not a message
            self.notify(_(message), severity="warning")
        else:
            self._open_dialog(NextPhaseScreen(view), N_("Moved to the next phase: {name}."))

    def action_record_progress(self) -> None:
        view = self._current_assignment()
        if view is not None and self.patient and can(self, Permission.PROTOCOL_ASSIGN):
            self._open_dialog(ProgressScreen(view, self.patient.full_name),
                              N_("Progress recorded: {name}."))  # fmt: skip

    def action_find_patient(self) -> None:
        self.query_one(PatientPicker).input.focus()

    def action_find_diagnosis(self) -> None:
        self.query_one("#protocol-diagnosis", TermInput).focus()

    def action_focus_list(self) -> None:
        self.query_one("#protocol-list", OptionList).focus()
