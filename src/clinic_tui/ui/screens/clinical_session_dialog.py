"""Recording a treatment session (issue 12): on a plan from the clinical record (`s`), or for a
visit being completed from the day's list, on the patient's active plan. Date (a visit's is its
day), pain 0–10, minutes (a visit's length to start with), the exercises done, ticked from the
current phase of the protocol the plan follows, and notes. Ctrl+S saves, Esc closes; every
refusal is shown at its field and what was typed stays.

`TreatmentDialog` and `BoxField` are shared with the plan form (clinical_plans.py)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, SelectionList, Static, TextArea

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_date, format_number
from clinic_tui.ui.screens.patient_problems import DATE_HINTS
from clinic_tui.ui.screens.patients import today
from clinic_tui.ui.screens.protocol_assign import PHASES, label, protocol_name
from clinic_tui.ui.widgets.fields import ChoiceField, Field

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_tui.services.access import Actor
    from clinic_tui.services.treatment import PhaseExercises, PlanView, SessionView

DATE_FORMAT = N_("Not a date: type it as {hint}.")
WHOLE_NUMBER = N_("Type a whole number.")
DENIED = N_("Only doctors and administrators can write clinical records.")
SAVING = N_("Saving…")
LOADING = N_("Loading…")


class BoxField(Vertical):
    """Any input widget (a text area, a list, a term field) with its label and, beneath, the
    reason it was refused."""

    def __init__(self, label_msgid: str, field_id: str, widget: Widget) -> None:
        super().__init__(id=f"field-{field_id}", classes="box-field")
        self.label_msgid, self.field_id, self.widget = label_msgid, field_id, widget
        self._error: tuple[str, dict[str, object]] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="box-field-row"):
            yield Label(_(self.label_msgid), classes="field-label")
            yield self.widget
        yield Static("", classes="field-error")

    def show_error(self, msgid: str | None, **values: object) -> None:
        self._error = (msgid, values) if msgid else None
        self.set_class(msgid is not None, "-invalid")
        self.relabel()

    def relabel(self) -> None:
        self.query_one(".field-label", Label).update(_(self.label_msgid))
        error = _(self._error[0]).format(**self._error[1]) if self._error else ""
        self.query_one(".field-error", Static).update(error)


def number(text: str) -> tuple[int | None, bool]:
    """A whole number as typed (blank: None), and whether the text was one."""
    cleaned = unicodedata.normalize("NFKC", text).strip()  # full-width digits from an IME
    if not cleaned:
        return None, True
    return (int(cleaned), True) if re.fullmatch(r"-?[0-9]+", cleaned) else (None, False)


class TreatmentDialog(ModalScreen[Any]):
    """A form over one treatment service call: `prepare` says what is wrong before asking
    the database or returns the call; refusals come back to the fields (`FIELDS`: service
    field → form field id), anything else to the line above the buttons."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="treatment_dialog.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="treatment_dialog.cancel"),
    ]
    FIELDS: ClassVar[dict[str, str]] = {}
    SAVE_LABEL = N_("Save (Ctrl+S)")
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ()  # rewritten when the language changes

    class Saved(Message):
        def __init__(self, result: object) -> None:
            super().__init__()
            self.result = result

    class Refused(Message):
        def __init__(self, problems: dict[str, str] | None = None, msgid: str | None = None,
                     text: str = "", stale: object = None) -> None:  # fmt: skip
            super().__init__()
            self.problems, self.msgid, self.text, self.stale = problems or {}, msgid, text, stale

    def __init__(self, dialog_id: str) -> None:
        super().__init__(id=dialog_id, classes="plans-dialog")
        self._notice: tuple[str, dict[str, object]] | None = (LOADING, {})
        self._text = ""  # a database error, already in the user's language
        self._saving, self.ready = False, False
        self._date_language = current_language()

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="plans-dialog-panel"):
            yield Static(classes="panel-title plans-dialog-title")
            yield from self.compose_fields()
            yield Static(classes="plans-dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(id="plans-dialog-save", variant="primary", compact=True)
                yield Button(id="plans-dialog-cancel", compact=True)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def title_text(self) -> str:
        return ""

    def relabel(self) -> None:
        from clinic_tui.forms.patient import parse_date_input

        self.query_one(".plans-dialog-title", Static).update(self.title_text())
        for widget in (*self.query(Field), *self.query(ChoiceField), *self.query(BoxField)):
            widget.relabel()
        for field_id in self.DATE_FIELDS:
            box = self.query_one(f"#{field_id}", Input)
            if self._date_language != current_language():
                # The same digits would be another day in the other order: rewrite them.
                typed = parse_date_input(box.value, self._date_language, today=today(),
                                         years_ahead=2)  # fmt: skip
                box.value = format_date(typed) if typed else box.value
            box.placeholder = DATE_HINTS[current_language()]
        self._date_language = current_language()
        self.query_one("#plans-dialog-save", Button).label = _(self.SAVE_LABEL)
        self.query_one("#plans-dialog-cancel", Button).label = _("Cancel (Esc)")
        notice = _(self._notice[0]).format(**self._notice[1]) if self._notice else self._text
        self.query_one(".plans-dialog-notice", Static).update(notice)

    def say(self, msgid: str | None, **values: object) -> None:
        self._notice, self._text = ((msgid, values) if msgid else None), ""
        self.relabel()

    def date_value(self, field_id: str, problems: dict[str, Any]) -> date | None:
        """The date typed in `field_id` (blank: None); a bad one is added to `problems`."""
        from clinic_tui.forms.patient import parse_date_input

        text = self.query_one(f"#{field_id}", Input).value.strip()
        if not text:
            return None
        found = parse_date_input(text, current_language(), today=today(), years_ahead=2)
        if found is None:
            problems[field_id] = (DATE_FORMAT, {"hint": DATE_HINTS[current_language()]})
        return found

    def number_value(self, field_id: str, problems: dict[str, Any]) -> int | None:
        value, ok = number(self.query_one(f"#{field_id}", Input).value)
        if not ok:
            problems[field_id] = (WHOLE_NUMBER, {})
        return value

    def show_problems(self, problems: dict[str, Any]) -> None:
        """`problems`: form field id → msgid or (msgid, values); the others are cleared."""
        for field_id in self.FIELDS.values():
            problem = problems.get(field_id)
            msgid, values = problem if isinstance(problem, tuple) else (problem, {})
            self.query_one(f"#field-{field_id}").show_error(msgid, **values)  # type: ignore[attr-defined]

    def prepare(self, problems: dict[str, Any]) -> Callable[[Session, Actor], object] | None:
        raise NotImplementedError

    def action_save(self) -> None:
        if self._saving or not self.ready:
            return
        problems: dict[str, Any] = {}
        call = self.prepare(problems)
        self.show_problems(problems)
        if problems or call is None:
            self.say(None)
            return
        self._saving = True
        self.say(SAVING)
        self._run(call)

    @work(thread=True, exclusive=True, group="treatment-dialog", exit_on_error=False)
    def _run(self, call: Callable[[Session, Actor], object]) -> None:
        from clinic_tui.services.access import PermissionDenied
        from clinic_tui.services.treatment import PlanEditConflict, TreatmentError, TreatmentInvalid

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                result = call(session, actor)
        except TreatmentInvalid as refusal:
            self.post_message(self.Refused(problems=refusal.problems))
        except PlanEditConflict as conflict:
            self.post_message(self.Refused(msgid=conflict.msgid, stale=self.fresh(conflict)))
        except TreatmentError as refusal:
            self.post_message(self.Refused(msgid=refusal.msgid))
        except PermissionDenied:
            self.post_message(self.Refused(msgid=DENIED))
        except Exception as error:
            self.post_message(self.Refused(text=describe_database_error(error)))
        else:
            self.post_message(self.Saved(result))

    def fresh(self, conflict: Exception) -> object:
        """What was changed meanwhile, as it is now (a worker thread)."""
        return None

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.result)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._saving = False
        shown = {self.FIELDS[k]: v for k, v in message.problems.items() if k in self.FIELDS}
        self.show_problems(shown)
        others = [v for k, v in message.problems.items() if k not in self.FIELDS]
        msgid = message.msgid or (others[0] if others else None)
        if message.text:
            self._notice, self._text = None, message.text
            self.relabel()
        else:
            self.say(msgid)
        if message.stale is not None:
            self.took_stale(message.stale)

    def took_stale(self, stale: object) -> None:
        """The next save goes on top of `stale`."""

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "plans-dialog-save" else self.dismiss(None)


def plan_line(plan: PlanView) -> str:
    code = f" ({plan.diagnosis_icd10})" if plan.diagnosis_icd10 else ""
    return _("{diagnosis}{code}, from {start}").format(
        diagnosis=plan.diagnosis, code=code, start=format_date(plan.start_date)
    )


def protocol_line(plan: PlanView) -> str:
    if plan.protocol is None:
        return _("No protocol: no exercises to tick.")
    return _("Protocol {code} {name} · phase: {phase}").format(
        code=plan.protocol.code, name=protocol_name(plan.protocol),
        phase=label(PHASES, plan.protocol.current_phase))  # fmt: skip


def exercise_name(exercise: Any) -> str:
    return str(exercise.name_vi if current_language() == "vi" else exercise.name_en)


class SessionDialog(TreatmentDialog):
    """Dismisses with the recorded `SessionView`, or None (Esc). With `appointment_id`: the
    visit's session, on the patient's active plan (a choice when there are several); else on
    `plan_id`."""

    FIELDS: ClassVar[dict[str, str]] = {
        "session_date": "session-date",
        "pain_level": "session-pain", "minutes": "session-minutes",
        "exercises": "session-exercises", "notes": "session-notes",
    }  # fmt: skip
    DATE_FIELDS = ("session-date",)

    class Loaded(Message):
        def __init__(self, choices: list[PhaseExercises], day: date | None = None,
                     minutes: int | None = None, msgid: str | None = None,
                     text: str = "") -> None:  # fmt: skip
            super().__init__()
            self.choices, self.day, self.minutes = choices, day, minutes
            self.msgid, self.text = msgid, text

    def __init__(self, *, patient_id: uuid.UUID, appointment_id: uuid.UUID | None = None,
                 plan_id: uuid.UUID | None = None) -> None:  # fmt: skip
        super().__init__("session-dialog")
        self.patient_id, self.appointment_id, self.plan_id = patient_id, appointment_id, plan_id
        self.choices: list[PhaseExercises] = []
        self.day: date | None = None

    def compose_fields(self) -> ComposeResult:
        yield Static(id="session-context", classes="dialog-hint")
        yield BoxField(N_("Plan"), "session-plan",
                       Select([], id="session-plan", compact=True, prompt="—"))  # fmt: skip
        yield Field(N_("Date"), "session-date", max_length=20)
        yield Field(N_("Pain (0–10)"), "session-pain", max_length=3)
        yield Field(N_("Minutes"), "session-minutes", max_length=4)
        yield BoxField(N_("Exercises done"), "session-exercises",
                       SelectionList[str](id="session-exercises", compact=True))  # fmt: skip
        yield BoxField(N_("Notes"), "session-notes", TextArea(id="session-notes", compact=True))

    def title_text(self) -> str:
        return _("Treatment session")

    def on_mount(self) -> None:
        self.query_one("#field-session-plan").display = False
        self.query_one("#field-session-date").display = self.appointment_id is None
        self.relabel()
        self._load()

    @work(thread=True, exclusive=True, group="session-dialog-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import treatment

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                if self.appointment_id is not None:
                    visit = treatment.visit_context(session, actor, self.appointment_id)
                    msgid = treatment.ALREADY_RECORDED if visit.already_recorded else (
                        None if visit.plans else treatment.NO_ACTIVE_PLAN)  # fmt: skip
                    loaded = self.Loaded(list(visit.plans), visit.day, visit.minutes, msgid)
                else:
                    assert self.plan_id is not None
                    loaded = self.Loaded([treatment.plan_exercises(session, actor, self.plan_id)])
        except treatment.TreatmentError as refusal:
            loaded = self.Loaded([], msgid=refusal.msgid)
        except Exception as error:
            loaded = self.Loaded([], text=describe_database_error(error))
        self.post_message(loaded)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.choices, self.day = message.choices, message.day
        self.ready = bool(self.choices) and message.msgid is None and not message.text
        plan_select = self.query_one("#session-plan", Select)
        plan_select.set_options([(plan_line(c.plan), str(c.plan.id)) for c in self.choices])
        if self.choices:
            plan_select.value = str(self.choices[0].plan.id)
        self.query_one("#field-session-plan").display = len(self.choices) > 1
        self.query_one("#session-date", Input).value = format_date(today())
        if message.minutes:
            self.query_one("#session-minutes", Input).value = str(message.minutes)
        self._fill_exercises()
        self.query_one("#plans-dialog-save", Button).disabled = not self.ready
        if message.text:
            self._notice, self._text = None, message.text
        else:
            self._notice = (message.msgid, {}) if message.msgid else None
        self.relabel()
        if self.ready:
            self.query_one("#session-pain", Input).focus()

    def chosen(self) -> PhaseExercises | None:
        value = self.query_one("#session-plan", Select).value
        return next((c for c in self.choices if str(c.plan.id) == value), None)

    @on(Select.Changed, "#session-plan")
    def _plan_changed(self) -> None:
        self._fill_exercises()
        self._render_context()

    def _fill_exercises(self) -> None:
        box = self.query_one("#session-exercises", SelectionList)
        ticked = set(box.selected)
        chosen = self.chosen()
        box.clear_options()
        for exercise in chosen.exercises if chosen else ():
            box.add_option((exercise_name(exercise), exercise.name_en,
                            exercise.name_en in ticked))  # fmt: skip
        self.query_one("#field-session-exercises").display = bool(box.option_count)

    def _render_context(self) -> None:
        chosen, lines = self.chosen(), []
        if self.appointment_id is not None and self.day is not None:
            lines.append(_("Visit on {date}").format(date=format_date(self.day)))
        if chosen is not None:
            lines += [_("Plan: {plan}").format(plan=plan_line(chosen.plan)),
                      protocol_line(chosen.plan)]  # fmt: skip
            count = chosen.plan.session_count
            lines.append(_("Sessions so far: {count}").format(count=format_number(count)))
        self.query_one("#session-context", Static).update("\n".join(lines))

    def relabel(self) -> None:
        super().relabel()
        self._render_context()
        if self.choices:
            self._fill_exercises()

    def prepare(self, problems: dict[str, Any]) -> Callable[[Session, Actor], object] | None:
        from clinic_tui.services import treatment

        chosen = self.chosen()
        session_date = self.date_value("session-date", problems)
        pain = self.number_value("session-pain", problems)
        minutes = self.number_value("session-minutes", problems)
        if problems or chosen is None:
            return None
        exercises = list(self.query_one("#session-exercises", SelectionList).selected)
        notes = self.query_one("#session-notes", TextArea).text
        plan_id, visit = chosen.plan.id, self.appointment_id
        if visit is not None:
            return lambda session, actor: treatment.record_session_for_appointment(
                session, actor, visit, notes=notes, pain_level=pain, exercises=exercises,
                minutes=minutes, plan_id=plan_id)  # fmt: skip
        return lambda session, actor: treatment.record_session(
            session, actor, plan_id, session_date=session_date, notes=notes, pain_level=pain,
            exercises=exercises, minutes=minutes)  # fmt: skip


def session_saved(recorded: SessionView | None) -> Callable[[], str] | None:
    """What the caller says once the dialog closes, in the language of the moment it is shown
    (None: nothing was recorded)."""
    if recorded is None:
        return None
    day = recorded.session_date
    return lambda: _("Treatment session recorded for {date}.").format(date=format_date(day))
