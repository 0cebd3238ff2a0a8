"""The clinic's own settings, edited in place (name, address, phone, slot length, opening
hours), and the histories of the dated values behind the invoice split (base salary,
self-referral factor). Part of the reference-data tab (`admin_reference`)."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static

from clinic_tui.i18n import (
    N_,
    _,
    format_date,
    format_money,
    format_number,
    format_percent,
    ngettext,
)
from clinic_tui.ui.screens.admin_reference_forms import (
    DATED_SETTINGS,
    SOME_FIELDS,
    Said,
    failure,
    fill_table,
    label_columns,
)
from clinic_tui.ui.widgets.fields import Field

if TYPE_CHECKING:
    from clinic_tui.services.settings import ClinicInfo, DatedEntry

FIELDS = (
    ("name", N_("Clinic name"), 200),
    ("address", N_("Address"), 300),
    ("phone", N_("Phone"), 20),
    ("slot_minutes", N_("Slot length (minutes)"), 3),
    ("opening_from", N_("Opens at"), 5),
    ("opening_to", N_("Closes at"), 5),
)
DATED_COLUMNS = (N_("In force from"), N_("Value"), N_("Source"), N_("Added by"))
NOT_A_TIME = N_("Not a time: type it as hh:mm.")


class ClinicSettingsSection(VerticalScroll):
    class Refused(Message):
        def __init__(self, problems: dict[str, str]) -> None:
            super().__init__()
            self.problems = problems

    class Saved(Message):
        def __init__(self, slot_minutes: int, therapists_off_the_rows: int) -> None:
            super().__init__()
            self.slot_minutes, self.therapists_off_the_rows = slot_minutes, therapists_off_the_rows

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: dict[str, tuple[DatedEntry, ...]] = {}
        self._stored: dict[str, str] | None = None  # the form as last filled from the database

    def compose(self) -> ComposeResult:
        for field_id, label, length in FIELDS:
            yield Field(label, field_id, max_length=length)
        yield Button(id="reference-save", variant="primary", compact=True)
        for key in DATED_SETTINGS:
            yield Static(id=f"reference-{key}-title", classes="panel-title")
            yield DataTable(id=f"reference-{key}", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for key in DATED_SETTINGS:
            table = self.query_one(f"#reference-{key}", DataTable)
            for index in range(len(DATED_COLUMNS)):
                table.add_column("", key=str(index))

    def relabel(self) -> None:
        for field in self.query(Field):
            field.relabel()
        for key, title in DATED_SETTINGS.items():
            heading = _("{setting}: n adds a value with its effective date")
            self.query_one(f"#reference-{key}-title", Static).update(
                heading.format(setting=_(title))
            )
            label_columns(self.query_one(f"#reference-{key}", DataTable), DATED_COLUMNS)
        self.query_one("#reference-save", Button).label = _("Save settings (s, Ctrl+S)")
        self._render_history()

    def typed(self) -> dict[str, str]:
        return {field.field_id: field.value for field in self.query(Field)}

    def has_unsaved_changes(self) -> bool:
        return self._stored is not None and self._stored != self.typed()

    def show(self, clinic: ClinicInfo, history: dict[str, tuple[DatedEntry, ...]]) -> None:
        """What is stored now; the form keeps typing not yet saved."""
        self.history = history
        self._render_history()
        if self._stored is not None and self._stored != self.typed():
            return
        values = {
            "name": clinic.name,
            "address": clinic.address,
            "phone": clinic.phone,
            "slot_minutes": str(clinic.slot_minutes),
            "opening_from": clinic.opening_from,
            "opening_to": clinic.opening_to,
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value
        self._stored = self.typed()

    def _render_history(self) -> None:
        for key in DATED_SETTINGS:
            shown = format_money if key == "base_salary" else format_percent
            rows = (
                (
                    entry.effective_from.isoformat(),
                    (
                        format_date(entry.effective_from),
                        Text(shown(entry.value), justify="right"),
                        entry.source or "",
                        entry.created_by or "—",
                    ),
                )
                for entry in self.history.get(key, ())
            )
            fill_table(self.query_one(f"#reference-{key}", DataTable), rows)

    def dated_key(self) -> str:
        """The dated setting whose history has the focus (the base salary otherwise)."""
        focused = self.screen.focused
        return next(
            (key for key in DATED_SETTINGS if focused and focused.id == f"reference-{key}"),
            "base_salary",
        )

    # ---- saving -------------------------------------------------------------------------

    def save(self) -> None:
        from clinic_tui.ui.widgets.schedule_dialogs import parse_time

        typed = self.typed()
        hours = {key: parse_time(typed[key]) for key in ("opening_from", "opening_to")}
        problems = {key: NOT_A_TIME for key, value in hours.items() if value is None}
        if problems:
            self._refuse(problems)
            return
        self._show_problems({})
        self.post_message(Said(lambda: _("Saving…")))
        self._save({**typed, **hours})

    @work(thread=True, exclusive=True, group="reference-settings", exit_on_error=False)
    def _save(self, values: dict[str, str | time]) -> None:
        from clinic_tui.services import reference
        from clinic_tui.services.reference_checks import ReferenceDataError
        from clinic_tui.services.scheduling import clinic_now

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                clinic = reference.update_clinic_settings(session, actor, **values)  # type: ignore[arg-type]
                off = reference.therapists_off_the_rows(session, actor, today=clinic_now().date())
        except ReferenceDataError as error:
            self.post_message(self.Refused(error.problems))
        except Exception as error:
            self.post_message(Said(failure(error)))
        else:
            self.post_message(self.Saved(clinic.slot_minutes, off))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        message.stop()
        self._stored = None  # refill with what was stored, as the service cleaned it
        count, minutes = message.therapists_off_the_rows, message.slot_minutes

        def said() -> str:
            text = _("Clinic settings saved.")
            if count:
                text += " " + ngettext(
                    "{count} therapist's weekly hours start or end inside a {minutes}-minute"
                    " row; the grid shows such rows as unavailable. Move those hours onto the"
                    " rows, or choose a slot length they fit.",
                    "{count} therapists' weekly hours start or end inside a {minutes}-minute"
                    " row; the grid shows such rows as unavailable. Move those hours onto the"
                    " rows, or choose a slot length they fit.",
                    count,
                ).format(count=format_number(count), minutes=format_number(minutes))
            return text

        self.post_message(Said(said, reload=True))

    def _show_problems(self, problems: dict[str, str]) -> None:
        for field in self.query(Field):
            field.show_error(problems.get(field.field_id))

    def _refuse(self, problems: dict[str, str]) -> None:
        self._show_problems(problems)
        self.post_message(Said(lambda: _(SOME_FIELDS)))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        message.stop()
        self._refuse(message.problems)

    @on(Button.Pressed, "#reference-save")
    def _save_pressed(self) -> None:
        self.save()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.screen.focus_next()
