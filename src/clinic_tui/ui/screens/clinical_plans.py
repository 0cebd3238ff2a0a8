"""The treatment-plans tab of a patient's clinical record (issue 12): the patient's plans with
their status in words, doctor, dates, protocol and phase; `n` a new plan, `e` edit the selected
one, `s` record a session on it; Enter shows its goals, its sessions and the exercises of its
protocol's current phase. Doctors and admins only (DESIGN §5.4)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static, TextArea

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, format_date, format_number, ngettext
from clinic_tui.ui.screens.clinical import ClinicalPanel
from clinic_tui.ui.screens.clinical_session_dialog import (
    DENIED,
    BoxField,
    TreatmentDialog,
    exercise_name,
    protocol_line,
    session_saved,
)
from clinic_tui.ui.screens.patients import today
from clinic_tui.ui.screens.protocol_assign import PHASES, STATUSES, label, protocol_name
from clinic_tui.ui.widgets.fields import ChoiceField, Field
from clinic_tui.ui.widgets.status_line import StatusLine
from clinic_tui.ui.widgets.term_input import TermInput

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from clinic_tui.services.access import Actor
    from clinic_tui.services.treatment import PhaseExercises, PlanView, SessionView

# Words and a mark, so a status reads the same without colour.
PLAN_STATUSES = {"ACTIVE": N_("Ongoing"), "COMPLETED": N_("Completed"),
                 "DISCONTINUED": N_("Discontinued")}  # fmt: skip
STATUS_MARKS = {"ACTIVE": "●", "COMPLETED": "✓", "DISCONTINUED": "✗"}
STATUS_STYLES = {"ACTIVE": "bold", "COMPLETED": "dim", "DISCONTINUED": "dim"}
COLUMNS = (
    ("status", N_("Status")), ("diagnosis", N_("Diagnosis")), ("icd10", N_("ICD-10")),
    ("doctor", N_("Doctor")), ("dates", N_("Start – planned end")), ("per_week", N_("A week")),
    ("protocol", N_("Protocol · phase")), ("sessions", N_("Sessions")),
)  # fmt: skip
STALE = N_(
    "Not saved: this plan was changed by someone else since it was opened. What you "
    "typed is kept: press Ctrl+S to save it over the change."
)
SESSION_COLUMNS = (
    ("date", N_("Date")), ("pain", N_("Pain")), ("minutes", N_("Minutes")),
    ("exercises", N_("Exercises done")), ("therapist", N_("Therapist")), ("notes", N_("Notes")),
)  # fmt: skip


def status_text(code: str) -> str:
    return f"{STATUS_MARKS.get(code, '?')} {label(PLAN_STATUSES, code)}"


def plan_protocol_text(plan: PlanView) -> str:
    if plan.protocol is None:
        return "—"
    return f"{plan.protocol.code} · {label(PHASES, plan.protocol.current_phase)}"


class PlansPanel(ClinicalPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_plan", N_("New plan"), id="plans.new"),
        Binding("e", "edit_plan", N_("Edit plan"), id="plans.edit"),
        Binding("s", "record_session", N_("Record a session"), id="plans.session"),
        # The table answers Enter itself; this one names it in the footer and the palette.
        Binding("enter", "show_plan", N_("Sessions and phase"), id="plans.show"),
        Binding("r", "reload", N_("Refresh"), id="plans.reload", show=False),
    ]

    class Loaded(Message):
        def __init__(self, plans: list[PlanView] | None, error: str = "") -> None:
            super().__init__()
            self.plans, self.error = plans, error

    class DetailLoaded(Message):
        def __init__(self, plan_id: uuid.UUID, sessions: list[SessionView] | None = None,
                     phase: PhaseExercises | None = None, error: str = "") -> None:  # fmt: skip
            super().__init__()
            self.plan_id, self.sessions, self.phase, self.error = plan_id, sessions, phase, error

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plans: list[PlanView] = []
        self.loaded = False
        self.detail: PlansPanel.DetailLoaded | None = None  # the plan opened with Enter
        self._select_after: uuid.UUID | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="plans-title", classes="panel-title")
        yield StatusLine(id="plans-status", idle=self._nothing_said)
        yield DataTable(id="plans-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="plans-detail")
        yield DataTable(id="plans-sessions", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#plans-sessions").display = False
        self.relabel()

    def shown(self) -> None:
        self._load()
        self.query_one("#plans-table", DataTable).focus()

    # ---- texts ------------------------------------------------------------------------

    def relabel(self) -> None:
        self.query_one("#plans-title", Static).update(_("Treatment plans"))
        selected = self.selected()
        for table_id, columns in (("#plans-table", COLUMNS), ("#plans-sessions", SESSION_COLUMNS)):
            # Added again, so each column is as wide as its title in this language.
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            for key, title in columns:
                table.add_column(_(title), key=key)
        self._render_plans(selected.id if selected else None)
        self._render_detail()
        self.query_one(StatusLine).relabel()

    def _say(self, text: Callable[[], str] | None) -> None:
        self.query_one(StatusLine).say(text)

    def _nothing_said(self) -> str:
        if self.loaded and not self.plans:
            return _("No treatment plan yet. Press n to create one.")
        return ""

    def _render_plans(self, keep: uuid.UUID | None = None) -> None:
        table = self.query_one("#plans-table", DataTable)
        selected = self.selected()
        table.clear()
        for plan in self.plans:
            style = STATUS_STYLES.get(plan.status, "")
            table.add_row(
                Text(status_text(plan.status), style=style), plan.diagnosis,
                plan.diagnosis_icd10 or "—", plan.doctor_name or "—",
                f"{format_date(plan.start_date)} – " + (
                    format_date(plan.planned_end_date) if plan.planned_end_date else "…"),
                format_number(plan.sessions_per_week), plan_protocol_text(plan),
                format_number(plan.session_count), key=str(plan.id),
            )  # fmt: skip
        wanted = self._select_after or keep or (selected.id if selected else None)
        if wanted is not None:
            self.select(wanted)

    def _render_detail(self) -> None:
        detail, sessions = self.detail, self.query_one("#plans-sessions", DataTable)
        plan = next((p for p in self.plans if detail and p.id == detail.plan_id), None)
        sessions.display = plan is not None and bool(detail and detail.sessions)
        if detail is None or plan is None:
            self.query_one("#plans-detail", Static).update("")
            return
        lines = [_("Plan: {diagnosis} · {status}").format(
            diagnosis=plan.diagnosis, status=status_text(plan.status))]  # fmt: skip
        lines.append(_("Goals: {goals}").format(goals=plan.goals or "—"))
        lines.append(protocol_line(plan))
        if plan.protocol is not None:
            lines[-1] += " · " + label(STATUSES, plan.protocol.progress_status)
        if detail.phase is not None and detail.phase.exercises:
            names = ", ".join(exercise_name(e) for e in detail.phase.exercises)
            lines.append(_("Exercises of this phase: {names}").format(names=names))
        if detail.error:
            lines.append(detail.error)
        elif not detail.sessions:
            lines.append(_("No session recorded yet."))
        else:
            count = len(detail.sessions)
            lines.append(ngettext("{count} session", "{count} sessions", count).format(
                count=format_number(count)))  # fmt: skip
        self.query_one("#plans-detail", Static).update("\n".join(lines))
        sessions.clear()
        for item in detail.sessions or []:
            sessions.add_row(
                format_date(item.session_date),
                "—" if item.pain_level is None else format_number(item.pain_level),
                "—" if item.minutes is None else format_number(item.minutes),
                ", ".join(exercise_name(e) for e in item.exercises_done) or "—",
                item.therapist_name or "—", (item.notes or "—").replace("\n", " "),
                key=str(item.id),
            )  # fmt: skip

    # ---- the selected plan -------------------------------------------------------------

    def selected(self) -> PlanView | None:
        table = self.query_one("#plans-table", DataTable)
        if not table.row_count or not table.is_valid_row_index(table.cursor_row):
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((p for p in self.plans if str(p.id) == key), None)

    def select(self, plan_id: uuid.UUID) -> None:
        table = self.query_one("#plans-table", DataTable)
        try:
            table.move_cursor(row=table.get_row_index(str(plan_id)))
        except Exception:  # no longer listed
            return

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        plan = self.selected()
        if action in ("edit_plan", "show_plan"):
            return plan is not None
        if action == "record_session":
            return plan is not None and plan.status == "ACTIVE"
        return True

    @on(DataTable.RowHighlighted, "#plans-table")
    def _highlighted(self) -> None:
        self.screen.refresh_bindings()

    @on(DataTable.RowSelected, "#plans-table")
    def _opened(self, event: DataTable.RowSelected) -> None:
        plan = next((p for p in self.plans if str(p.id) == event.row_key.value), None)
        if plan is not None:
            self._load_detail(plan.id)

    def action_show_plan(self) -> None:
        plan = self.selected()
        if plan is not None:
            self._load_detail(plan.id)

    # ---- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="plans-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import treatment
        from clinic_tui.services.access import PermissionDenied

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                plans = treatment.list_plans(session, self.app.actor, self.patient_id)  # type: ignore[attr-defined]
        except PermissionDenied:
            self.post_message(self.Loaded(None, _(DENIED)))
            return
        except Exception as error:
            self.post_message(self.Loaded(None, describe_database_error(error)))
            return
        self.post_message(self.Loaded(plans))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.plans is None:
            error = message.error
            self._say(lambda: error)
            return
        self.plans, self.loaded = message.plans, True
        self._render_plans()
        self._select_after = None
        self.query_one(StatusLine).relabel()
        if self.detail is not None:
            self._load_detail(self.detail.plan_id)
        self.screen.refresh_bindings()

    @work(thread=True, exclusive=True, group="plans-detail", exit_on_error=False)
    def _load_detail(self, plan_id: uuid.UUID) -> None:
        from clinic_tui.services import treatment

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                actor = self.app.actor  # type: ignore[attr-defined]
                sessions = treatment.list_sessions(session, actor, plan_id)
                phase = treatment.plan_exercises(session, actor, plan_id)
        except Exception as error:
            self.post_message(self.DetailLoaded(plan_id, error=describe_database_error(error)))
            return
        self.post_message(self.DetailLoaded(plan_id, sessions, phase))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        self.detail = message
        self._render_detail()

    # ---- changes -----------------------------------------------------------------------

    def action_new_plan(self) -> None:
        self.app.push_screen(PlanDialog(self.patient_id), self._plan_saved)

    def action_edit_plan(self) -> None:
        plan = self.selected()
        if plan is not None:
            self.app.push_screen(PlanDialog(self.patient_id, plan), self._plan_saved)

    def _plan_saved(self, plan: PlanView | None) -> None:
        if plan is None:
            return
        self._say(lambda: _("Plan saved: {diagnosis}.").format(diagnosis=plan.diagnosis))
        self._select_after = plan.id
        self._load()

    def action_record_session(self) -> None:
        from clinic_tui.ui.screens.clinical_session_dialog import SessionDialog

        plan = self.selected()
        if plan is None or plan.status != "ACTIVE":
            return

        def recorded(result: SessionView | None) -> None:
            said = session_saved(result)
            if said is not None and result is not None:
                self._say(said)
                self._select_after = result.treatment_plan_id
                self._load_detail(result.treatment_plan_id)
                self._load()

        self.app.push_screen(SessionDialog(patient_id=self.patient_id, plan_id=plan.id), recorded)


class PlanDialog(TreatmentDialog):
    """A new plan for the patient, or `plan` edited; dismisses with the plan as saved, or
    None. The diagnosis is a medical term picked from the dropdown (its ICD-10 code is kept)
    or free text; an edited plan keeps its code while its diagnosis text is left as it was."""

    FIELDS: ClassVar[dict[str, str]] = {
        "doctor_id": "plan-doctor", "diagnosis": "plan-diagnosis", "goals": "plan-goals",
        "sessions_per_week": "plan-per-week", "start_date": "plan-start",
        "planned_end_date": "plan-end", "status": "plan-status", "protocol_id": "plan-protocol",
    }  # fmt: skip
    DATE_FIELDS = ("plan-start", "plan-end")

    class Choices(Message):
        def __init__(self, doctors: list[Any], protocols: list[Any], error: str = "") -> None:
            super().__init__()
            self.doctors, self.protocols, self.error = doctors, protocols, error

    def __init__(self, patient_id: uuid.UUID, plan: PlanView | None = None) -> None:
        super().__init__("plan-dialog")
        self.patient_id, self.plan = patient_id, plan
        self.protocols: list[Any] = []
        self._kept = (plan.diagnosis, plan.diagnosis_icd10) if plan else ("", None)

    def compose_fields(self) -> ComposeResult:
        yield BoxField(N_("Doctor"), "plan-doctor",
                       Select([], id="plan-doctor", compact=True, prompt="—"))  # fmt: skip
        yield BoxField(N_("Diagnosis"), "plan-diagnosis", TermInput(
            id="plan-diagnosis", max_length=500,
            placeholder=N_("A medical term in English or Vietnamese, or free text")))  # fmt: skip
        yield Static(id="plan-icd10", classes="dialog-hint")
        yield BoxField(N_("Goals"), "plan-goals", TextArea(id="plan-goals", compact=True))
        yield Field(N_("Sessions a week"), "plan-per-week", max_length=2)
        yield Field(N_("Start"), "plan-start", max_length=20)
        yield Field(N_("Planned end"), "plan-end", max_length=20)
        yield ChoiceField(N_("Status"), "plan-status", [(t, c) for c, t in PLAN_STATUSES.items()])
        yield BoxField(N_("Protocol"), "plan-protocol",
                       Select([], id="plan-protocol", compact=True, prompt="—"))  # fmt: skip

    def title_text(self) -> str:
        return _("Edit treatment plan") if self.plan else _("New treatment plan")

    def on_mount(self) -> None:
        plan = self.plan
        values = {"#plan-diagnosis": plan.diagnosis if plan else "",
                  "#plan-per-week": str(plan.sessions_per_week if plan else 3),
                  "#plan-start": format_date(plan.start_date if plan else today()),
                  "#plan-end": format_date(plan.planned_end_date)
                  if plan and plan.planned_end_date else ""}  # fmt: skip
        for selector, value in values.items():
            self.query_one(selector, Input).value = value
        self.query_one("#plan-goals", TextArea).text = (plan.goals or "") if plan else ""
        self.query_one(ChoiceField).set_value(plan.status if plan else "ACTIVE")
        self.relabel()
        self._load()

    @work(thread=True, exclusive=True, group="plan-dialog-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import protocols, treatment

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                doctors = treatment.plan_doctors(session, actor)
                found = protocols.list_protocols(session, actor)
        except Exception as error:
            self.post_message(self.Choices([], [], describe_database_error(error)))
            return
        self.post_message(self.Choices(doctors, found))

    @on(Choices)
    def _choices(self, message: Choices) -> None:
        plan, doctors = self.plan, [(d.full_name, str(d.id)) for d in message.doctors]
        if plan and plan.doctor_id and str(plan.doctor_id) not in {v for _n, v in doctors}:
            doctors.append((plan.doctor_name or "—", str(plan.doctor_id)))  # no longer active
        box = self.query_one("#plan-doctor", Select)
        box.set_options(doctors)
        mine = next((str(d.id) for d in message.doctors if d.is_actor), None)
        wanted = str(plan.doctor_id) if plan and plan.doctor_id else mine
        if wanted:
            box.value = wanted
        self.protocols = list(message.protocols)
        linked = plan.protocol if plan else None
        if linked and linked.protocol_id not in {p.id for p in self.protocols}:
            # No longer offered to new plans, but still the one this plan follows.
            kept = {"id": linked.protocol_id, "code": linked.code, "name_en": linked.name_en,
                    "name_vi": linked.name_vi}  # fmt: skip
            self.protocols.append(SimpleNamespace(**kept))
        self._protocol_options()
        if plan and plan.protocol:
            self.query_one("#plan-protocol", Select).value = str(plan.protocol.protocol_id)
        self.ready = not message.error
        if message.error:
            self._notice, self._text = None, message.error
            self.relabel()
        else:
            self.say(None)
        self.query_one("#plan-diagnosis", TermInput).focus()

    def _protocol_options(self) -> None:
        box, current = self.query_one("#plan-protocol", Select), None
        current = box.value
        box.set_options([(f"{p.code} · {protocol_name(p)}", str(p.id)) for p in self.protocols])
        if current != Select.NULL:
            box.value = current

    def _render_code(self) -> None:
        box = self.query_one("#plan-diagnosis", TermInput)
        term = box.term
        if term is not None:
            code = term.icd10_code
        else:
            code = self._kept[1] if box.value.strip() == self._kept[0] else None
        self.query_one("#plan-icd10", Static).update(
            _("ICD-10: {code}").format(code=code) if code else _("No ICD-10 code: free text.")
        )

    @on(TermInput.Picked, "#plan-diagnosis")
    @on(Input.Changed, "#plan-diagnosis")
    def _diagnosis_changed(self) -> None:
        self._render_code()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#plan-diagnosis", TermInput).relabel()
        self._protocol_options()
        self._render_code()

    def prepare(self, problems: dict[str, Any]) -> Callable[[Session, Actor], object] | None:
        from clinic_tui.services import treatment

        per_week = self.number_value("plan-per-week", problems)
        start = self.date_value("plan-start", problems)
        end = self.date_value("plan-end", problems)
        if problems:
            return None
        box = self.query_one("#plan-diagnosis", TermInput)
        term_id = box.term_id
        kept = term_id is None and box.value.strip() == self._kept[0]

        def chosen(selector: str) -> uuid.UUID | None:
            value = self.query_one(selector, Select).value
            return None if value == Select.NULL else uuid.UUID(str(value))

        form = treatment.PlanInput(
            doctor_id=chosen("#plan-doctor"), diagnosis=box.value, start_date=start,
            diagnosis_term_id=term_id, diagnosis_icd10=self._kept[1] if kept else None,
            goals=self.query_one("#plan-goals", TextArea).text, sessions_per_week=per_week,
            planned_end_date=end, status=self.query_one(ChoiceField).value,
            protocol_id=chosen("#plan-protocol"),
        )  # fmt: skip
        plan, patient_id = self.plan, self.patient_id
        if plan is None:
            return lambda session, actor: treatment.create_plan(session, actor, patient_id, form)
        version = plan.version
        return lambda session, actor: treatment.update_plan(
            session, actor, plan.id, form, expected_version=version)  # fmt: skip

    def fresh(self, conflict: Exception) -> object:
        from clinic_tui.services import treatment

        plan_id = getattr(conflict, "plan_id", None)
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                return treatment.get_plan(session, self.app.actor, plan_id)  # type: ignore[attr-defined,arg-type]
        except Exception:
            return None

    def took_stale(self, stale: object) -> None:
        self.plan = stale  # type: ignore[assignment]
        self.say(STALE)
