"""Small dialogs of the availability grid: a date to go to, a range of hours to close or open
(saved by the dialog). Each checks what was typed at the field and keeps it until it makes
sense."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, time
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from clinic_tui.i18n import N_, _, current_language
from clinic_tui.ui.widgets.fields import Field
from clinic_tui.ui.widgets.schedule_text import clinic_today, day_title, explained, hhmm, span

DATE_HINTS = {"vi": "dd/mm/yyyy", "en": "mm/dd/yyyy"}


def parse_time(text: str) -> time | None:
    """ "9", "9:30", "09.30", "0930", "14h30" → a time; None when it is not one."""
    cleaned = text.strip().lower().replace("h", ":").replace(".", ":")
    if cleaned.isdigit() and len(cleaned) in (3, 4):
        cleaned = f"{cleaned[:-2]}:{cleaned[-2:]}"
    hours, _sep, minutes = cleaned.partition(":")
    minutes = minutes or "0"
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        return None


class GoToDateDialog(ModalScreen[date | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Cancel"), id="go_to_date.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="go-to-date-panel", classes="schedule-dialog"):
            yield Static(id="go-to-date-title", classes="panel-title")
            yield Field(N_("Date"), "go-to-date", max_length=20)
            yield Static(id="go-to-date-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#go-to-date", Input).focus()

    def relabel(self) -> None:
        self.query_one("#go-to-date-title", Static).update(_("Go to date"))
        self.query_one("#go-to-date-hint", Static).update(_("Enter goes there, Esc cancels."))
        self.query_one(Field).relabel()
        self.query_one("#go-to-date", Input).placeholder = DATE_HINTS[current_language()]

    @on(Input.Submitted, "#go-to-date")
    def _submitted(self, event: Input.Submitted) -> None:
        from clinic_tui.forms.patient import parse_date_input

        day = parse_date_input(event.value, current_language(), today=clinic_today(),
                               years_ahead=5)  # fmt: skip
        if day is None:
            self.query_one(Field).show_error(N_("Not a date: type it as {hint}."),
                                             hint=DATE_HINTS[current_language()])  # fmt: skip
            return
        self.dismiss(day)

    def action_close(self) -> None:
        self.dismiss(None)


class HoursDialog(ModalScreen["Callable[[], str] | None"]):
    """Close (``kind`` "unavailable") or open ("hours") a range of one therapist's day, and
    save it; a refusal (appointments stand there, already open, in the past) is explained
    here, with the range kept to change. Dismisses with what the grid then says."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Cancel"), id="hours.cancel"),
        Binding("ctrl+s", "save", N_("Save"), id="hours.save", priority=True),
    ]

    class Saved(Message):
        def __init__(self, text: Callable[[], str], *, ok: bool) -> None:
            super().__init__()
            self.text, self.ok = text, ok

    def __init__(self, kind: str, doctor_id: uuid.UUID, doctor_name: str, day: date,
                 start: time, end: time) -> None:  # fmt: skip
        super().__init__()
        self.kind, self.doctor_id, self.doctor_name, self.day = kind, doctor_id, doctor_name, day
        self.start, self.end = start, end
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="hours-panel", classes="schedule-dialog"):
            yield Static(id="hours-title", classes="panel-title")
            yield Static(id="hours-what")
            yield Field(N_("From"), "hours-from", placeholder=N_("hh:mm"), max_length=5)
            yield Field(N_("To"), "hours-to", placeholder=N_("hh:mm"), max_length=5)
            yield Field(N_("Reason"), "hours-reason", max_length=500)
            yield Static(id="hours-hint", classes="dialog-hint")
            yield Static(id="hours-notice")
            with Horizontal(classes="choices"):
                yield Button(id="hours-save", variant="primary", compact=True)
                yield Button(id="hours-cancel", compact=True)

    def relabel(self) -> None:
        title = _("Mark unavailable") if self.kind == "unavailable" else _("Add hours")
        self.query_one("#hours-title", Static).update(title)
        self.query_one("#hours-what", Static).update(f"{self.doctor_name} · {day_title(self.day)}")
        hint = _("Leave From and To empty to close the whole day.")
        self.query_one("#hours-hint", Static).update(hint if self.kind == "unavailable" else "")
        for field in self.query(Field):
            field.relabel()
        self.query_one("#hours-save", Button).label = _("Save (Ctrl+S)")
        self.query_one("#hours-cancel", Button).label = _("Cancel (Esc)")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#hours-from", Input).value = hhmm(self.start)
        self.query_one("#hours-to", Input).value = hhmm(self.end)
        self.query_one("#hours-from", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "hours-reason":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        fields = {field.field_id: field for field in self.query(Field)}
        texts = {key: field.value.strip() for key, field in fields.items()}
        for field in fields.values():
            field.show_error(None)
        start, end = parse_time(texts["hours-from"]), parse_time(texts["hours-to"])
        whole_day = self.kind == "unavailable" and not texts["hours-from"] and not texts["hours-to"]
        if not whole_day:
            if start is None:
                fields["hours-from"].show_error(N_("Not a time: type it as hh:mm."))
            if end is None:
                fields["hours-to"].show_error(N_("Not a time: type it as hh:mm."))
            elif start is not None and end <= start:
                fields["hours-to"].show_error(N_("The end must be after the start."))
            if start is None or end is None or end <= start:
                return
        if not self._busy:
            self._busy = True
            self._save(start, end, texts["hours-reason"] or None)

    @work(thread=True, exclusive=True, group="hours-save", exit_on_error=False)
    def _save(self, start: time | None, end: time | None, reason: str | None) -> None:
        from clinic_tui.services import scheduling

        edit = scheduling.set_unavailable if self.kind == "unavailable" else scheduling.add_hours
        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                edit(session, actor, doctor_id=self.doctor_id,
                     day=self.day, start=start, end=end, reason=reason)  # fmt: skip
        except Exception as error:
            self.post_message(self.Saved(explained(error), ok=False))
            return
        when = day_title(self.day) + (f" {span(start, end)}" if start and end else "")
        self.post_message(self.Saved(_saved_text(self.kind, self.doctor_name, when), ok=True))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._busy = False
        if message.ok:
            self.dismiss(message.text)
        else:
            self.query_one("#hours-notice", Static).update(message.text())

    @on(Button.Pressed, "#hours-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#hours-cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


def _saved_text(kind: str, doctor: str, when: str) -> Callable[[], str]:
    saved = (
        N_("Marked unavailable: {doctor}, {when}.")
        if kind == "unavailable"
        else N_("Hours added: {doctor}, {when}.")
    )
    return lambda: _(saved).format(doctor=doctor, when=when)
