"""The discharge tab's dialogs: the planned date with the summary and recommendations in both
languages (s), and one exercise of the home program (a adds, c changes). Each saves the draft
through `discharge.save_plan`; a refusal is explained at its field and keeps what was typed.
Ctrl+S saves, Esc cancels."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_date
from clinic_tui.ui.screens.patient_problems import DATE_HINTS
from clinic_tui.ui.widgets.fields import Field

if TYPE_CHECKING:
    from clinic_tui.services.discharge import DischargeView

NOT_A_DATE = N_("Not a date: type it as {hint}.")
NOT_SAVED = N_("Not saved: see the fields above.")
CONFLICT = N_("Not saved: someone else changed this plan meanwhile. Close, and open it again.")
TEXTS = (
    ("summary_en", N_("Summary (English)")),
    ("summary_vi", N_("Summary (Vietnamese)")),
    ("recommendations_en", N_("Recommendations (English)")),
    ("recommendations_vi", N_("Recommendations (Vietnamese)")),
)
EXERCISE_FIELDS = (
    ("name_en", N_("Name (English)"), 200),
    ("name_vi", N_("Name (Vietnamese)"), 200),
    ("sets", N_("Sets"), 3),
    ("reps", N_("Repetitions"), 4),
    ("hold_seconds", N_("Hold (seconds)"), 5),
    ("frequency_en", N_("How often (English)"), 200),
    ("frequency_vi", N_("How often (Vietnamese)"), 200),
    ("instructions_en", N_("Instructions (English)"), 4000),
    ("instructions_vi", N_("Instructions (Vietnamese)"), 4000),
)


class PlanDialog(ModalScreen["DischargeView | None"]):
    """Saves the draft with `changes()` over it; dismisses with the plan saved, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="discharge_dialog.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="discharge_dialog.cancel"),
    ]
    TITLE_MSGID = ""

    class Done(Message):
        def __init__(
            self,
            plan: DischargeView | None = None,
            problems: dict[str, str] | None = None,
            error: str = "",
        ) -> None:
            super().__init__()
            self.plan, self.problems, self.error = plan, problems or {}, error

    def __init__(self, plan: DischargeView, dialog_id: str) -> None:
        super().__init__(id=dialog_id, classes="measures-dialog")
        self.plan = plan
        self._notice: str | None = None  # a msgid
        self._error = ""
        self._saving = False

    def compose_end(self) -> ComposeResult:
        yield Static(classes="measures-dialog-notice")
        with Horizontal(classes="choices"):
            yield Button(id="dialog-save", variant="primary")
            yield Button(id="dialog-cancel")

    def relabel(self) -> None:
        self.query_one(".panel-title", Static).update(_(self.TITLE_MSGID))
        for field in self.query(Field):
            field.relabel()
        self.query_one("#dialog-save", Button).label = _("Save (Ctrl+S)")
        self.query_one("#dialog-cancel", Button).label = _("Cancel (Esc)")
        notice = _(self._notice) if self._notice else self._error
        self.query_one(".measures-dialog-notice", Static).update(notice)

    def changes(self) -> dict[str, Any] | None:
        """What to save over the plan, or None when a field says what is wrong."""
        raise NotImplementedError

    def action_save(self) -> None:
        changes = None if self._saving else self.changes()
        if changes is None:
            return
        self._saving, self._notice, self._error = True, N_("Saving…"), ""
        self.relabel()
        self._save(changes)

    @work(thread=True, exclusive=True, group="discharge-dialog", exit_on_error=False)
    def _save(self, changes: dict[str, Any]) -> None:
        from clinic_tui.services import discharge

        plan = self.plan
        values: dict[str, Any] = {
            "planned_date": plan.planned_date,
            "exercises": plan.exercises,
            **{key: getattr(plan, key) for key, _label in TEXTS},
            **changes,
        }
        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                saved = discharge.save_plan(
                    session,
                    actor,
                    plan.id,
                    expected_version=plan.version,
                    **values,
                )
        except discharge.DischargeInvalid as error:
            self.post_message(self.Done(problems=error.problems))
        except discharge.DischargeConflict:
            self.post_message(self.Done(problems={"plan": CONFLICT}))
        except Exception as error:
            self.post_message(self.Done(error=describe_database_error(error)))
        else:
            self.post_message(self.Done(saved))

    @on(Done)
    def _done(self, message: Done) -> None:
        self._saving = False
        if message.plan is not None:
            self.dismiss(message.plan)
            return
        self.refused(message.problems)
        self._error = message.error
        self._notice = message.problems.get("plan") or (NOT_SAVED if message.problems else None)
        self.relabel()

    def refused(self, problems: dict[str, str]) -> None:
        """Show each problem at its field."""

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "dialog-save" else self.dismiss(None)


class SummaryDialog(PlanDialog):
    TITLE_MSGID = N_("Discharge date and summary")

    def __init__(self, plan: DischargeView) -> None:
        super().__init__(plan, "discharge-summary-dialog")
        self._date_language = current_language()

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="measures-dialog-panel"):
            yield Static(classes="panel-title")
            yield Field(N_("Planned discharge"), "planned_date", max_length=20)
            for key, _label in TEXTS:
                yield Label(id=f"{key}-label", classes="measures-dialog-label")
                yield TextArea(getattr(self.plan, key), id=key, soft_wrap=True)
                yield Static(id=f"{key}-error", classes="measures-dialog-error")
            yield from self.compose_end()

    def on_mount(self) -> None:
        day = self.plan.planned_date
        self.query_one("#planned_date", Input).value = format_date(day) if day else ""
        self.relabel()
        self.query_one("#planned_date", Input).focus()

    def relabel(self) -> None:
        from clinic_tui.forms.patient import parse_date_input
        from clinic_tui.ui.screens.clinical_discharge import _today

        day = self.query_one("#planned_date", Input)
        if self._date_language != current_language():
            # The same digits would be another day in the other order: rewrite them.
            typed = parse_date_input(day.value, self._date_language, today=_today(), years_ahead=1)
            day.value = format_date(typed) if typed else day.value
            self._date_language = current_language()
        super().relabel()
        day.placeholder = DATE_HINTS[current_language()]
        for key, label in TEXTS:
            self.query_one(f"#{key}-label", Label).update(_(label))

    def changes(self) -> dict[str, Any] | None:
        from clinic_tui.forms.patient import parse_date_input
        from clinic_tui.ui.screens.clinical_discharge import _today

        typed = self.query_one("#planned_date", Input).value
        day = parse_date_input(typed, current_language(), today=_today(), years_ahead=1)
        wrong = day is None and bool(typed.strip())
        self.query_one("#field-planned_date", Field).show_error(
            NOT_A_DATE if wrong else None, hint=DATE_HINTS[current_language()]
        )
        if wrong:
            return None
        return {
            "planned_date": day,
            **{key: self.query_one(f"#{key}", TextArea).text for key, _label in TEXTS},
        }

    def refused(self, problems: dict[str, str]) -> None:
        for key, _label in TEXTS:
            message = problems.get(key)
            self.query_one(f"#{key}-error", Static).update(_(message) if message else "")


class ExerciseDialog(PlanDialog):
    """One exercise of the home program: added at the end (index None) or changed in place."""

    def __init__(self, plan: DischargeView, index: int | None) -> None:
        super().__init__(plan, "discharge-exercise-dialog")
        self.index = index
        self.TITLE_MSGID = N_("Add an exercise") if index is None else N_("Change the exercise")

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="measures-dialog-panel"):
            yield Static(classes="panel-title")
            for key, label, length in EXERCISE_FIELDS:
                yield Field(label, key, max_length=length)
            yield from self.compose_end()

    def on_mount(self) -> None:
        if self.index is not None:
            item = self.plan.exercises[self.index]
            for key, _label, _length in EXERCISE_FIELDS:
                value = getattr(item, key)
                self.query_one(f"#{key}", Input).value = "" if value is None else str(value)
        self.relabel()
        self.query_one(f"#{EXERCISE_FIELDS[0][0]}", Input).focus()

    def changes(self) -> dict[str, Any] | None:
        from clinic_tui.services.discharge import NOT_A_COUNT
        from clinic_tui.services.discharge_handout import COUNT_LIMITS, HomeExercise

        values: dict[str, Any] = {}
        bad = False
        for key, _label, _length in EXERCISE_FIELDS:
            typed = self.query_one(f"#{key}", Input).value.strip()
            if key not in COUNT_LIMITS:
                values[key] = typed
                continue
            number = int(typed) if typed.isdigit() else None
            wrong = bool(typed) and (number is None or not 1 <= number <= COUNT_LIMITS[key])
            self.query_one(f"#field-{key}", Field).show_error(
                NOT_A_COUNT if wrong else None, max=COUNT_LIMITS[key]
            )
            bad = bad or wrong
            values[key] = number
        if bad:
            return None
        named: dict[str, Any] = {f.name: values.get(f.name) for f in fields(HomeExercise)}
        item = HomeExercise(**named)
        program = list(self.plan.exercises)
        if self.index is None:
            program.append(item)
        else:
            program[self.index] = replace(program[self.index], **values)
        return {"exercises": program}

    def refused(self, problems: dict[str, str]) -> None:
        from clinic_tui.services.discharge_handout import COUNT_LIMITS

        at = len(self.plan.exercises) if self.index is None else self.index
        prefix = f"exercises.{at}."
        for key, _label, _length in EXERCISE_FIELDS:
            problem = problems.get(prefix + key) or (
                problems.get(prefix + "name") if key == "name_en" else None
            )
            self.query_one(f"#field-{key}", Field).show_error(problem, max=COUNT_LIMITS.get(key, 0))
