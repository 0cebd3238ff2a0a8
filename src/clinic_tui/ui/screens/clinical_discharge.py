"""The discharge tab of a patient's clinical record (issue 12 item 4): the plan's comparison of
every instrument's baseline with its latest score, the home exercise program (taken from the
protocol, then edited), the summary in both languages, finalising, and the take-home sheet
written in the language the patient reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import LANGUAGE_NAMES, N_, _, current_language, format_date
from clinic_tui.ui.screens.clinical import ClinicalPanel

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_tui.services.access import Actor
    from clinic_tui.services.discharge import DischargeView

COMPARISON_COLUMNS = (
    N_("Instrument"),
    N_("Baseline"),
    N_("Latest"),
    N_("Change"),
    N_("Improvement"),
    N_("MCID"),
)
EXERCISE_COLUMNS = ("#", N_("Exercise"), N_("Dose"))
# A result is a msgid and its values, or a line already in words (a database error).
Result = tuple[str, dict[str, Any], str]
PLAIN = "{text}"
FAILURES = {
    "denied": N_("Only doctors and administrators can work on discharge plans."),
    "conflict": N_("This plan was changed by someone else meanwhile: shown as it is now."),
    "gone": N_("This plan is no longer there."),
}


def _today() -> Any:
    from clinic_tui.ui.screens.patients import today

    return today()


class DischargePanel(ClinicalPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "start", N_("Start a discharge plan"), id="discharge.start"),
        Binding("s", "summary", N_("Edit the date and summary"), id="discharge.summary"),
        Binding("a", "add_exercise", N_("Add an exercise"), id="discharge.add"),
        Binding("c", "change_exercise", N_("Change the selected exercise"), id="discharge.change"),
        Binding("x", "remove_exercise", N_("Remove the selected exercise"), id="discharge.remove"),
        Binding(
            "p",
            "from_protocol",
            N_("Take the exercises from the protocol"),
            id="discharge.protocol",
        ),
        Binding("f", "finalize", N_("Finalise the plan"), id="discharge.finalize"),
        Binding("w", "write", N_("Write the hand-out"), id="discharge.write"),
        Binding("l", "refresh", N_("Refresh"), id="discharge.refresh"),
    ]

    class Loaded(Message):
        def __init__(self, plan: DischargeView | None, result: Result | None = None) -> None:
            super().__init__()
            self.plan, self.result = plan, result

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan: DischargeView | None = None
        self.loaded = False
        self.busy = False
        self._result: Result | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="discharge-status")
        yield Static(id="discharge-comparison-title", classes="discharge-heading")
        yield DataTable(id="discharge-comparison", cursor_type="row", zebra_stripes=True)
        yield Static(id="discharge-exercises-title", classes="discharge-heading")
        yield DataTable(id="discharge-exercises", cursor_type="row", zebra_stripes=True)
        yield Static(id="discharge-summary-title", classes="discharge-heading")
        yield Static(id="discharge-summary")
        yield Static(id="discharge-notice")

    def on_mount(self) -> None:
        for table_id, columns in (
            ("#discharge-comparison", COMPARISON_COLUMNS),
            ("#discharge-exercises", EXERCISE_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            for index in range(len(columns)):
                table.add_column("", key=str(index))
        self.relabel()

    # ---- rendering --------------------------------------------------------------------------

    def relabel(self) -> None:
        from clinic_tui.ui.screens.admin_reference_forms import label_columns

        label_columns(self.query_one("#discharge-comparison", DataTable), COMPARISON_COLUMNS)
        label_columns(self.query_one("#discharge-exercises", DataTable), EXERCISE_COLUMNS)
        for key, title in (
            ("comparison", N_("Baseline and latest score of each instrument")),
            ("exercises", N_("Home exercise program")),
            ("summary", N_("Summary")),
        ):
            self.query_one(f"#discharge-{key}-title", Static).update(_(title))
        self._render_plan()

    def _render_plan(self) -> None:
        from clinic_tui.ui.screens.clinical_discharge_view import (
            fill_comparison,
            fill_exercises,
            status_text,
            summary_text,
        )

        self.query_one("#discharge-status", Static).update(status_text(self.plan, self.loaded))
        fill_comparison(self.query_one("#discharge-comparison", DataTable), self.plan)
        fill_exercises(self.query_one("#discharge-exercises", DataTable), self.plan)
        self.query_one("#discharge-summary", Static).update(summary_text(self.plan))
        self._render_notice()

    def _render_notice(self) -> None:
        notice = self.query_one("#discharge-notice", Static)
        if self._result is None:
            notice.update("")
            return
        msgid, values, style = self._result
        notice.update(Text(_(msgid).format(**values), style=style))

    def selected_exercise(self) -> int | None:
        table = self.query_one("#discharge-exercises", DataTable)
        count = len(self.plan.exercises) if self.plan else 0
        return table.cursor_row if 0 <= table.cursor_row < count else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        draft = self.plan is not None and self.plan.status == "DRAFT"
        if action == "start":
            return self.loaded and (self.plan is None or self.plan.status == "FINAL")
        if action in (
            "summary",
            "add_exercise",
            "change_exercise",
            "remove_exercise",
            "from_protocol",
            "finalize",
        ):
            return draft
        if action == "write":
            return self.plan is not None
        return True

    # ---- loading ----------------------------------------------------------------------------

    def shown(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        if not self.busy:  # a save under way reads the plan again when it is done
            self._run(None, None)

    @work(thread=True, exclusive=True, group="discharge", exit_on_error=False)
    def _run(self, call: Callable[[Session, Actor], Any] | None, done: Result | None) -> None:
        """Make `call` (none: just read), then read the plan as it is now and show `done`."""
        from clinic_tui.services import discharge
        from clinic_tui.services.access import PermissionDenied

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        result = done
        try:
            if call is not None:
                try:
                    with database.session() as session:
                        answer = call(session, actor)
                    if isinstance(answer, dict):  # values for the message shown after
                        result = (done[0], answer, done[2]) if done else None
                except discharge.DischargeInvalid as error:
                    result = (next(iter(error.problems.values())), {}, "bold red")
                except discharge.DischargeConflict:
                    result = (FAILURES["conflict"], {}, "bold yellow")
                except discharge.DischargeNotFound:
                    result = (FAILURES["gone"], {}, "bold red")
            with database.session() as session:
                plan = discharge.current_plan(session, actor, self.patient_id)
        except PermissionDenied:
            self.post_message(self.Loaded(None, (FAILURES["denied"], {}, "bold red")))
            return
        except Exception as error:
            self.post_message(
                self.Loaded(
                    self.plan, (PLAIN, {"text": describe_database_error(error)}, "bold red")
                )
            )
            return
        self.post_message(self.Loaded(plan, result))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.plan, self.loaded, self.busy = message.plan, True, False
        self._result = message.result
        self._render_plan()
        self.refresh_bindings()

    def _do(self, call: Callable[[Session, Actor], Any], done: Result) -> None:
        if not self.busy:
            self.busy = True
            self._result = (N_("Saving…"), {}, "dim")
            self._render_notice()
            self._run(call, done)

    # ---- the plan ---------------------------------------------------------------------------

    def action_start(self) -> None:
        from clinic_tui.services import discharge

        patient = self.patient_id
        self._do(
            lambda session, actor: discharge.start_plan(session, actor, patient_id=patient),
            (
                N_("Discharge plan started: check the exercises, then write the summary (s)."),
                {},
                "bold green",
            ),
        )

    def save(self, plan: DischargeView, done: Result, **changes: Any) -> None:
        """Save the draft with `changes` over what is shown."""
        from clinic_tui.services import discharge

        values: dict[str, Any] = {
            "planned_date": plan.planned_date,
            "exercises": plan.exercises,
            "summary_en": plan.summary_en,
            "summary_vi": plan.summary_vi,
            "recommendations_en": plan.recommendations_en,
            "recommendations_vi": plan.recommendations_vi,
            **changes,
        }
        self._do(
            lambda session, actor: discharge.save_plan(
                session, actor, plan.id, expected_version=plan.version, **values
            ),
            done,
        )

    def action_from_protocol(self) -> None:
        from clinic_tui.services import discharge

        plan = self.plan
        if plan is None:
            return

        def call(session: Session, actor: Actor) -> Any:
            exercises = discharge.protocol_exercises(session, actor, plan.patient_id)
            return discharge.save_plan(
                session,
                actor,
                plan.id,
                expected_version=plan.version,
                planned_date=plan.planned_date,
                exercises=exercises,
                summary_en=plan.summary_en,
                summary_vi=plan.summary_vi,
                recommendations_en=plan.recommendations_en,
                recommendations_vi=plan.recommendations_vi,
            )

        self._do(call, (N_("Exercises taken from the protocol again."), {}, "bold green"))

    def action_remove_exercise(self) -> None:
        index, plan = self.selected_exercise(), self.plan
        if plan is None or index is None:
            return
        kept = plan.exercises[:index] + plan.exercises[index + 1 :]
        name = plan.exercises[index].text("name", current_language())
        self.save(
            plan, (N_("Removed from the program: {name}"), {"name": name}, "bold"), exercises=kept
        )

    def action_add_exercise(self) -> None:
        self._edit_exercise(None)

    def action_change_exercise(self) -> None:
        index = self.selected_exercise()
        if index is not None:
            self._edit_exercise(index)

    @on(DataTable.RowSelected, "#discharge-exercises")
    def _exercise_chosen(self) -> None:
        if self.check_action("change_exercise", ()):
            self.action_change_exercise()

    def _edit_exercise(self, index: int | None) -> None:
        from clinic_tui.ui.screens.clinical_discharge_dialogs import ExerciseDialog

        if self.plan is not None:
            self.app.push_screen(ExerciseDialog(self.plan, index), self._dialog_closed)

    def action_summary(self) -> None:
        from clinic_tui.ui.screens.clinical_discharge_dialogs import SummaryDialog

        if self.plan is not None:
            self.app.push_screen(SummaryDialog(self.plan), self._dialog_closed)

    def _dialog_closed(self, saved: DischargeView | None) -> None:
        if saved is not None:
            self.plan, self._result = saved, (N_("Discharge plan saved."), {}, "bold green")
            self._render_plan()

    def action_finalize(self) -> None:
        from clinic_tui.services import discharge
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        plan = self.plan
        if plan is None:
            return
        day = plan.planned_date or _today()

        def answered(choice: str | None) -> None:
            if choice == "finalize":
                self._do(
                    lambda session, actor: discharge.finalize_plan(
                        session, actor, plan.id, expected_version=plan.version, discharged_on=day
                    ),
                    (
                        N_("The plan is final. Press w to write the patient's hand-out."),
                        {},
                        "bold green",
                    ),
                )

        self.app.push_screen(
            ConfirmScreen(
                N_("Finalise the discharge plan?"),
                N_("The patient is discharged on {date}. A final plan can no longer be changed."),
                [("finalize", N_("Finalise")), ("cancel", N_("Not yet"))],
                date=format_date(day),
            ),
            answered,
        )

    def action_write(self) -> None:
        from clinic_tui.services import discharge
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        plan = self.plan
        if plan is None:
            return
        folder = self.app.settings.data_dir / "discharge"  # type: ignore[attr-defined]

        def answered(choice: str | None) -> None:
            if choice not in LANGUAGE_NAMES:
                return

            def call(session: Session, actor: Actor) -> dict[str, Any]:
                path = discharge.export_handout(
                    session, actor, plan.id, language=choice, directory=folder
                )
                return {"path": str(path), "language": LANGUAGE_NAMES[choice]}

            self._do(call, (N_("Hand-out in {language} written to {path}"), {}, "bold green"))

        # The clinic's patients mostly read Vietnamese: it comes first.
        answers = [
            ("vi", LANGUAGE_NAMES["vi"]),
            ("en", LANGUAGE_NAMES["en"]),
            ("cancel", N_("Cancel")),
        ]
        self.app.push_screen(
            ConfirmScreen(
                N_("Write the patient's hand-out"),
                N_("Which language does the patient read? The file is written to {folder}."),
                answers,
                folder=str(folder),
            ),
            answered,
        )
