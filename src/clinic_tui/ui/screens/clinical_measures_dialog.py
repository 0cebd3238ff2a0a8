"""Recording a score (measures tab, n): the instrument, its instructions in the current
language with its range and direction, the date in the locale's order, the score and a note.
A refused score is explained at its field and nothing is saved; Ctrl+S saves, Esc cancels."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_date
from clinic_tui.ui.screens.clinical_measures_chart import DIRECTIONS, instrument_title, score, unit
from clinic_tui.ui.screens.patient_problems import DATE_HINTS
from clinic_tui.ui.widgets.fields import ChoiceField, Field

if TYPE_CHECKING:
    from clinic_tui.services.outcomes import Instrument, Score

NOT_A_DATE = N_("Not a date: type it as {hint}.")


class RecordScoreScreen(ModalScreen["tuple[str, Score] | None"]):
    """Dismisses with (instrument code, the score saved), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="record_score.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="record_score.cancel"),
    ]

    class Listed(Message):
        def __init__(self, instruments: list[Instrument], error: str = "") -> None:
            super().__init__()
            self.instruments, self.error = instruments, error

    class Done(Message):
        def __init__(
            self,
            saved: Score | None = None,
            problems: dict[str, str] | None = None,
            values: dict[str, Any] | None = None,
            error: str = "",
        ) -> None:
            super().__init__()
            self.saved, self.problems, self.error = saved, problems or {}, error
            self.values = values or {}

    def __init__(self, patient_id: uuid.UUID, library_id: uuid.UUID | None = None) -> None:
        super().__init__(id="record-score", classes="measures-dialog")
        self.patient_id, self.library_id = patient_id, library_id
        self.instruments: list[Instrument] = []
        self._notice: tuple[str, dict[str, object]] | None = None
        self._error = ""
        self._saving = False
        self._date_language = current_language()

    def compose(self) -> ComposeResult:
        with Vertical(classes="measures-dialog-panel"):
            yield Static(id="score-title", classes="panel-title")
            yield ChoiceField(N_("Instrument"), "library_id", [])
            yield Static(id="score-instructions", classes="measures-instructions")
            yield Field(N_("Date"), "measured_on", max_length=20)
            yield Field(N_("Score"), "score", max_length=12)
            yield Field(N_("Notes"), "notes", max_length=2000)
            yield Static(classes="measures-dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(id="score-save", variant="primary")
                yield Button(id="score-cancel")

    def on_mount(self) -> None:
        from clinic_tui.ui.screens.clinical_measures import _today

        self.query_one("#measured_on", Input).value = format_date(_today())
        self.relabel()
        self._list()
        self.query_one("#library_id", Select).focus()

    # ---- the instruments --------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="record-score-list", exit_on_error=False)
    def _list(self) -> None:
        from clinic_tui.services import outcomes

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                found = outcomes.list_instruments(session, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Listed([], describe_database_error(error)))
            return
        self.post_message(self.Listed(found))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        self.instruments, self._error = message.instruments, message.error
        field = self.query_one("#field-library_id", ChoiceField)
        field.choices = [(instrument_title(i), str(i.id)) for i in self.instruments]
        field.relabel()
        if self.library_id is not None:
            field.set_value(str(self.library_id))
        self.relabel()

    def chosen(self) -> Instrument | None:
        picked = self.query_one("#field-library_id", ChoiceField).value
        return next((i for i in self.instruments if str(i.id) == picked), None)

    @on(Select.Changed, "#library_id")
    def _instrument_changed(self) -> None:
        inst = self.chosen()
        if inst is not None and inst.id != self.library_id:
            # Another instrument, another range: the score's old complaint no longer holds.
            self.library_id = inst.id
            self.query_one("#field-score", Field).show_error(None)
        self._render_instrument()

    def _render_instrument(self) -> None:
        inst = self.chosen()
        box = self.query_one("#score-instructions", Static)
        score_input = self.query_one("#score", Input)
        if inst is None:
            box.update(Text(_("Choose the instrument: its instructions appear here."), "dim"))
            score_input.placeholder = ""
            return
        language = current_language()
        text = Text(inst.instructions(language) or "—")
        text.append("\n")
        scale = _("Scale {min} to {max} {unit} · {direction} · MCID {mcid}").format(
            min=score(inst.min_score),
            max=score(inst.max_score),
            unit=unit(inst.unit),
            direction=_(DIRECTIONS[inst.higher_is_better]),
            mcid=score(inst.mcid),
        )
        text.append(scale, style="dim")
        box.update(text)
        score_input.placeholder = (
            f"{score(inst.min_score)}–{score(inst.max_score)} {unit(inst.unit)}"
        )

    # ---- texts ------------------------------------------------------------------------------

    def relabel(self) -> None:
        from clinic_tui.forms.patient import parse_date_input
        from clinic_tui.ui.screens.clinical_measures import _today

        self.query_one("#score-title", Static).update(_("Record a score"))
        field = self.query_one("#field-library_id", ChoiceField)
        field.choices = [(instrument_title(i), str(i.id)) for i in self.instruments]
        for widget in (*self.query(Field), field):
            widget.relabel()
        day = self.query_one("#measured_on", Input)
        if self._date_language != current_language():
            # The same digits would be another day in the other order: rewrite them.
            typed = parse_date_input(day.value, self._date_language, today=_today())
            day.value = format_date(typed) if typed else day.value
            self._date_language = current_language()
        day.placeholder = DATE_HINTS[current_language()]
        self._render_instrument()
        self.query_one("#score-save", Button).label = _("Save (Ctrl+S)")
        self.query_one("#score-cancel", Button).label = _("Cancel (Esc)")
        notice = _(self._notice[0]).format(**self._notice[1]) if self._notice else self._error
        self.query_one(".measures-dialog-notice", Static).update(notice)

    # ---- saving -----------------------------------------------------------------------------

    def action_save(self) -> None:
        from clinic_tui.forms.patient import parse_date_input
        from clinic_tui.ui.screens.clinical_measures import _today

        if self._saving:
            return
        typed = self.query_one("#measured_on", Input).value
        day = parse_date_input(typed, current_language(), today=_today())
        hint = DATE_HINTS[current_language()]
        self.query_one("#field-measured_on", Field).show_error(
            None if day or not typed.strip() else NOT_A_DATE, hint=hint
        )
        if day is None and typed.strip():
            return
        inst = self.chosen()
        self._saving, self._notice, self._error = True, (N_("Saving…"), {}), ""
        self.relabel()
        self._save(
            inst.id if inst else None,
            day,
            self.query_one("#score", Input).value,
            self.query_one("#notes", Input).value,
        )

    @work(thread=True, exclusive=True, group="record-score-save", exit_on_error=False)
    def _save(self, library_id: uuid.UUID | None, day: Any, typed: str, notes: str) -> None:
        from clinic_tui.services import outcomes

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                saved = outcomes.record_score(
                    session,
                    actor,
                    patient_id=self.patient_id,
                    library_id=library_id,
                    measured_on=day,
                    score=typed,
                    notes=notes,
                )
        except outcomes.OutcomeInvalid as error:
            self.post_message(self.Done(problems=error.problems, values=error.values))
        except Exception as error:
            self.post_message(self.Done(error=describe_database_error(error)))
        else:
            self.post_message(self.Done(saved))

    @on(Done)
    def _done(self, message: Done) -> None:
        self._saving = False
        inst = self.chosen()
        if message.saved is not None and inst is not None:
            self.dismiss((inst.code, message.saved))
            return
        values = {key: score(value) for key, value in message.values.items() if key != "unit"}
        values["unit"] = unit(str(message.values.get("unit", "")))
        for name in ("library_id", "measured_on", "score", "notes"):
            widget = self.query_one(f"#field-{name}")
            widget.show_error(message.problems.get(name), **values)  # type: ignore[attr-defined]
        self._error = message.error
        self._notice = None if message.error else (N_("Not saved: see the fields above."), {})
        if "patient_id" in message.problems:
            self._notice = (message.problems["patient_id"], {})
        self.relabel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "score-save" else self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "notes":
            self.action_save()
        else:
            self.focus_next()
