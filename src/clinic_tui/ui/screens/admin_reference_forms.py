"""The reference-data dialogs: a service code, a BHYT object-code rule, a dated setting's new
value. Each saves itself in a worker; the service checks what was typed and its problems are
shown at their fields, with the typing kept. Dates are typed in the language's order. Also
what the tab's sections share: the status message and table filling."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_number
from clinic_tui.ui.widgets.fields import ChoiceField, Field
from clinic_tui.ui.widgets.schedule_dialogs import DATE_HINTS
from clinic_tui.ui.widgets.schedule_text import clinic_today

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_tui.services.access import Actor
    from clinic_tui.services.reference import ServiceCodeRow

SERVICE_CATEGORIES = {
    "assessment": N_("Assessment"),
    "therapy": N_("Therapy"),
    "modality": N_("Modality"),
    "exercise": N_("Exercise"),
    "education": N_("Education"),
}
DATED_SETTINGS = {
    "base_salary": N_("Base salary"),
    "self_referral_factor": N_("Self-referral factor"),
}
COVERED = [(N_("Covered by BHYT"), "yes"), (N_("Not covered by BHYT"), "no")]
ACTIVE = [(N_("Active: can be billed"), "yes"), (N_("Retired: kept for old invoices"), "no")]
CONFIRMED = [
    (N_("Confirmed in the official list"), "yes"),
    (N_("Seen on cards, unconfirmed"), "no"),
]
NOT_A_DATE = N_("Not a date: type it as {hint}.")
SOME_FIELDS = N_("Some fields need attention: see the messages under them.")
CONFLICT = N_("Not saved: someone else changed this row since you opened it. Close and reopen it.")


class Said(Message):
    """Something to show on the tab's status line (re-rendered on F2); ``reload``: the data
    changed, read it again."""

    def __init__(self, text: Callable[[], str], *, reload: bool = False) -> None:
        super().__init__()
        self.text, self.reload = text, reload


def failure(error: BaseException) -> Callable[[], str]:
    text = describe_database_error(error)
    return lambda: text


def label_columns(table: DataTable[Any], titles: Iterable[str]) -> None:
    """Column titles in the current language, each column at least as wide as its title."""
    for title, column in zip(titles, table.ordered_columns, strict=True):
        column.label = Text(_(title))
        column.content_width = max(column.content_width, column.label.cell_len)
    table.refresh()


def fill_table(table: DataTable[Any], rows: Iterable[tuple[str, Iterable[object]]]) -> None:
    """Replace the rows (key, cells), keeping the cursor's place."""
    row = table.cursor_row
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if table.row_count:
        table.move_cursor(row=min(max(row, 0), table.row_count - 1))


def category_label(code: str) -> str:
    return _(SERVICE_CATEGORIES[code]) if code in SERVICE_CATEGORIES else code


def typed_date(text: str) -> date | None:
    from clinic_tui.forms.patient import parse_date_input

    return parse_date_input(text, current_language(), today=clinic_today(), years_ahead=10)


class ReferenceDialog(ModalScreen[Any]):
    """A form the service checks. Subclasses yield their fields, turn what was typed into the
    service's arguments (`arguments`: dates are parsed here) and call the service (`submit`).
    Dismisses with what was saved, or None on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Cancel"), id="reference_dialog.cancel"),
        Binding("ctrl+s", "save", N_("Save"), id="reference_dialog.save", priority=True),
    ]
    title_msgid = ""

    class Saved(Message):
        def __init__(self, result: object) -> None:
            super().__init__()
            self.result = result

    class Refused(Message):
        def __init__(self, problems: dict[str, str], notice: str = "") -> None:
            super().__init__()
            self.problems, self.notice = problems, notice

    def __init__(self) -> None:
        super().__init__()
        self._busy = False
        self._notice: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="reference-dialog"):
            yield Static(classes="panel-title", id="reference-dialog-title")
            yield from self.compose_fields()
            yield Static(id="reference-dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(id="reference-dialog-save", variant="primary", compact=True)
                yield Button(id="reference-dialog-cancel", compact=True)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.fill()
        self.relabel()
        next(box for box in self.query(Input) if not box.disabled).focus()

    def fill(self) -> None:
        """Put the row being edited into the fields."""

    def relabel(self) -> None:
        self.query_one("#reference-dialog-title", Static).update(self.heading())
        for field in self.query(Field):
            field.relabel()
            if field.field_id in ("effective_from", "active_from", "active_to"):
                field.input.placeholder = DATE_HINTS[current_language()]
        for choice in self.query(ChoiceField):
            choice.relabel()
        self.query_one("#reference-dialog-save", Button).label = _("Save (Ctrl+S)")
        self.query_one("#reference-dialog-cancel", Button).label = _("Cancel (Esc)")
        notice = _(self._notice) if self._notice else ""
        self.query_one("#reference-dialog-notice", Static).update(notice)

    def heading(self) -> str:
        return _(self.title_msgid)

    def typed(self) -> dict[str, str]:
        values = {field.field_id: field.value.strip() for field in self.query(Field)}
        values.update({choice.field_id: choice.value for choice in self.query(ChoiceField)})
        return values

    def arguments(self, typed: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
        return dict(typed)

    def submit(self, session: Session, actor: Actor, arguments: dict[str, Any]) -> object:
        raise NotImplementedError

    def _show(self, problems: dict[str, str], notice: str | None) -> None:
        for field in self.query(Field):
            problem = problems.get(field.field_id)
            field.show_error(problem, hint=DATE_HINTS[current_language()])
        for choice in self.query(ChoiceField):
            choice.show_error(problems.get(choice.field_id))
        self._notice = notice
        self.relabel()

    def action_save(self) -> None:
        if self._busy:
            return
        problems: dict[str, str] = {}
        arguments = self.arguments(self.typed(), problems)
        if problems:
            self._show(problems, SOME_FIELDS)
            return
        self._busy = True
        self._show({}, N_("Saving…"))
        self._save(arguments)

    @work(thread=True, exclusive=True, group="reference-dialog", exit_on_error=False)
    def _save(self, arguments: dict[str, Any]) -> None:
        from clinic_tui.services.reference_checks import ReferenceConflict, ReferenceDataError

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                result = self.submit(session, self.app.actor, arguments)  # type: ignore[attr-defined]
        except ReferenceDataError as error:
            self.post_message(self.Refused(error.problems))
        except ReferenceConflict:
            self.post_message(self.Refused({}, CONFLICT))
        except Exception as error:
            self.post_message(self.Refused({}, describe_database_error(error)))
        else:
            self.post_message(self.Saved(result))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._busy = False
        self.dismiss(message.result)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._busy = False
        notice = message.notice or SOME_FIELDS
        self._show(message.problems, notice)

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#reference-dialog-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#reference-dialog-cancel")
    def _cancel_pressed(self) -> None:
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)


class ServiceCodeDialog(ReferenceDialog):
    """A new service code, or an edit of one (its code stays: invoices show it)."""

    def __init__(self, row: ServiceCodeRow | None = None) -> None:
        super().__init__()
        self.row = row

    def heading(self) -> str:
        if self.row is None:
            return _("New service code")
        return _("Edit service code {code}").format(code=self.row.code)

    def compose_fields(self) -> ComposeResult:
        yield Field(N_("Code"), "code", max_length=10, placeholder=N_("e.g. PT401"))
        yield Field(N_("Name (English)"), "name_en", max_length=200)
        yield Field(N_("Name (Vietnamese)"), "name_vi", max_length=200)
        yield ChoiceField(
            N_("Category"),
            "category",
            [(label, code) for code, label in SERVICE_CATEGORIES.items()],
        )
        yield Field(N_("Price (VND)"), "price", max_length=20)
        yield Field(
            N_("BHYT price (VND)"),
            "bhyt_price",
            max_length=20,
            placeholder=N_("empty: no BHYT cap"),
        )
        yield ChoiceField(N_("BHYT"), "covered", COVERED)
        yield Field(N_("Length (minutes)"), "duration_minutes", max_length=3)
        yield ChoiceField(N_("Status"), "active", ACTIVE)

    def fill(self) -> None:
        row = self.row
        self.query_one("#field-active").display = row is not None
        self.query_one("#field-covered", ChoiceField).set_value("yes")
        self.query_one("#field-active", ChoiceField).set_value("yes")
        self.query_one("#duration_minutes", Input).value = "30"
        if row is None:
            return
        code = self.query_one("#code", Input)
        code.value, code.disabled = row.code, True
        values = {
            "name_en": row.name_en,
            "name_vi": row.name_vi,
            "price": format_number(row.price),
            "duration_minutes": str(row.duration_minutes),
            "bhyt_price": "" if row.bhyt_price is None else format_number(row.bhyt_price),
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value
        self.query_one("#field-category", ChoiceField).set_value(row.category)
        self.query_one("#field-covered", ChoiceField).set_value("yes" if row.covered else "no")
        self.query_one("#field-active", ChoiceField).set_value("yes" if row.active else "no")

    def arguments(self, typed: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "name_en": typed["name_en"],
            "name_vi": typed["name_vi"],
            "category": typed["category"],
            "price": typed["price"],
            "bhyt_price": typed["bhyt_price"] or None,
            "covered": typed["covered"] != "no",
            "duration_minutes": typed["duration_minutes"],
        }
        if self.row is None:
            arguments["code"] = typed["code"]
        else:
            arguments["active"] = typed["active"] != "no"
        return arguments

    def submit(self, session: Session, actor: Actor, arguments: dict[str, Any]) -> object:
        from clinic_tui.services import reference

        if self.row is None:
            return reference.create_service_code(session, actor, **arguments)
        return reference.update_service_code(
            session, actor, self.row.id, **arguments, expected_version=self.row.version
        )


class BhytRuleDialog(ReferenceDialog):
    """A new object code and its usual level; codes are disabled, never deleted."""

    title_msgid = N_("New BHYT object code")

    def compose_fields(self) -> ComposeResult:
        yield Field(N_("Object code"), "object_code", max_length=2, placeholder=N_("e.g. DN"))
        yield Field(N_("Usual level (1–5)"), "usual_level", max_length=1)
        yield Field(N_("Meaning (Vietnamese)"), "meaning_vi", max_length=1000)
        yield Field(N_("Meaning (English)"), "meaning_en", max_length=1000)
        yield ChoiceField(N_("Confirmed"), "confirmed", CONFIRMED)
        yield Field(
            N_("Source"),
            "source",
            max_length=1000,
            placeholder=N_("The decision or document it comes from"),
        )
        yield Field(N_("Valid from"), "active_from", max_length=20)
        yield Field(N_("Valid to"), "active_to", max_length=20)

    def fill(self) -> None:
        self.query_one("#field-confirmed", ChoiceField).set_value("no")

    def arguments(self, typed: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            key: typed[key] for key in ("object_code", "usual_level", "meaning_vi", "meaning_en")
        }
        arguments["confirmed"] = typed["confirmed"] == "yes"
        arguments["source"] = typed["source"] or None
        for key in ("active_from", "active_to"):
            arguments[key] = typed_date(typed[key]) if typed[key] else None
            if typed[key] and arguments[key] is None:
                problems[key] = NOT_A_DATE
        return arguments

    def submit(self, session: Session, actor: Actor, arguments: dict[str, Any]) -> object:
        from clinic_tui.services import reference

        return reference.add_bhyt_rule(session, actor, **arguments)


class DatedValueDialog(ReferenceDialog):
    """A base salary or self-referral factor in force from a date, past or future."""

    title_msgid = N_("New value with an effective date")

    def __init__(self, key: str = "base_salary") -> None:
        super().__init__()
        self.key = key

    def compose_fields(self) -> ComposeResult:
        yield ChoiceField(
            N_("Setting"), "key", list((label, key) for key, label in DATED_SETTINGS.items())
        )
        yield Field(N_("In force from"), "effective_from", max_length=20)
        yield Field(
            N_("Value"),
            "value",
            max_length=20,
            placeholder=N_("VND for the base salary, percent for the factor"),
        )
        yield Field(
            N_("Source"),
            "source",
            max_length=1000,
            placeholder=N_("The decree or decision that sets it"),
        )

    def fill(self) -> None:
        self.query_one("#field-key", ChoiceField).set_value(self.key)

    def arguments(self, typed: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
        day = typed_date(typed["effective_from"])
        if day is None:
            problems["effective_from"] = NOT_A_DATE
        return {
            "key": typed["key"] or self.key,
            "effective_from": day,
            "value": typed["value"],
            "source": typed["source"] or None,
        }

    def submit(self, session: Session, actor: Actor, arguments: dict[str, Any]) -> object:
        from clinic_tui.services import reference

        key = arguments.pop("key")
        return reference.add_dated_setting(session, actor, key, **arguments)
