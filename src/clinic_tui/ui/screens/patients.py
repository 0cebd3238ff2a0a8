"""Patients (F3): one search box, results as you type; Enter opens the record."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_date, ngettext
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.base import ClinicScreen

if TYPE_CHECKING:
    from clinic_tui.services.patient_search import PatientHit

# Typing pauses shorter than this do not start a query; each keystroke restarts the wait.
DEBOUNCE_SECONDS = 0.12
COLUMNS = (
    ("name", N_("Full name")),
    ("dob", N_("Date of birth")),
    ("age", N_("Age")),
    ("phone", N_("Phone")),
    ("card", N_("BHYT card")),
    ("valid", N_("Valid to")),
    ("visit", N_("Last visit")),
)


def today() -> date:
    from datetime import datetime

    return datetime.now(CLINIC_TIMEZONE).date()


class PatientsScreen(ClinicScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_patient", N_("New patient"), id="patients.new"),
        Binding("n", "new_patient", N_("New patient"), id="patients.new_letter", show=False),
        Binding("escape", "focus_search", N_("Search"), id="patients.search", show=False),
    ]

    class Found(Message):
        def __init__(self, text: str, hits: list[PatientHit]) -> None:
            super().__init__()
            self.text, self.hits = text, hits

    class SearchFailed(Message):
        def __init__(self, text: str, error: str) -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(self) -> None:
        super().__init__(id="patients")
        self._timer: Timer | None = None
        self._hits: list[PatientHit] = []
        self._status: tuple[str, dict[str, object]] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="patients-search-row"):
            yield Input(id="patient-query", compact=True, max_length=200)
        yield Static(id="patients-status")
        yield DataTable(id="patient-results", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#patient-query", Input).focus()

    def relabel(self) -> None:
        super().relabel()
        query = self.query_one("#patient-query", Input)
        query.placeholder = _(
            "Name (with or without accents), phone, patient code, national ID or BHYT card"
        )
        # Columns are rebuilt with the labels of the current language, so their widths fit
        # the new labels; the rows are drawn again just after.
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for key, title in COLUMNS:
            table.add_column(_(title), key=key)
        self._show_hits(self._hits)
        self._render_status()

    def can_write(self) -> bool:
        actor = getattr(self.app, "actor", None)
        return actor is not None and actor.can(Permission.PATIENT_WRITE)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_patient":
            return self.can_write()
        return True

    # ---- searching ----------------------------------------------------------------------

    @on(Input.Changed, "#patient-query")
    def _query_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        if not text.strip():
            self._hits = []
            self._show_hits([])
            self._set_status(None)
            return
        self._timer = self.set_timer(DEBOUNCE_SECONDS, lambda: self._search(text))

    @on(Input.Submitted, "#patient-query")
    def _query_submitted(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.focus()

    @work(thread=True, exclusive=True, group="patient-search", exit_on_error=False)
    def _search(self, text: str) -> None:
        from clinic_tui.services import patient_search

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                hits = patient_search.search(
                    session,
                    self.app.actor,
                    text,  # type: ignore[attr-defined]
                    today=today(),
                )
        except Exception as error:
            from clinic_tui.cli import describe_unavailable
            from clinic_tui.db.engine import classify_error

            self.post_message(self.SearchFailed(text, describe_unavailable(classify_error(error))))
            return
        self.post_message(self.Found(text, hits))

    @on(Found)
    def _found(self, message: Found) -> None:
        # A slower, older answer must never replace the one for what is typed now.
        if message.text != self.query_one("#patient-query", Input).value:
            return
        self._hits = message.hits
        self._show_hits(message.hits)
        if message.hits:
            self._set_status(None)
        else:
            self._set_status(N_("No patient matches. Ctrl+N registers a new one."))

    @on(SearchFailed)
    def _search_failed(self, message: SearchFailed) -> None:
        if message.text == self.query_one("#patient-query", Input).value:
            self._status = None
            self.query_one("#patients-status", Static).update(message.error)

    def _set_status(self, msgid: str | None, **values: object) -> None:
        self._status = (msgid, values) if msgid else None
        self._render_status()

    def _render_status(self) -> None:
        if self._status is None:
            count = len(self._hits)
            text = (
                ngettext("{count} patient", "{count} patients", count).format(count=count)
                if count
                else ""
            )
        else:
            text = _(self._status[0]).format(**self._status[1])
        self.query_one("#patients-status", Static).update(text)

    def _show_hits(self, hits: list[PatientHit]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        now = today()
        for hit in hits:
            if hit.card_number is None:
                card = Text("—", style="dim")
                valid = Text("")
            elif hit.card_status == "expired":
                card = Text(f"✗ {hit.card_number}", style="bold red")
                valid = (
                    Text(_("expired") + " " + format_date(hit.card_valid_to), style="red")
                    if hit.card_valid_to
                    else Text(_("expired"), style="red")
                )
            else:
                card = Text(f"✓ {hit.card_number}")
                valid = Text(format_date(hit.card_valid_to) if hit.card_valid_to else "")
            table.add_row(
                Text(hit.full_name, style="bold" if hit.rank == 0 else ""),
                format_date(hit.date_of_birth),
                str(hit.age(now)),
                hit.phone or "",
                card,
                valid,
                format_date(hit.last_visit) if hit.last_visit else "",
                key=str(hit.id),
            )
        self._render_status()

    # ---- opening ------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#patient-results")
    def _open(self, event: DataTable.RowSelected) -> None:
        from clinic_tui.ui.screens.patient_form import PatientFormScreen

        if event.row_key.value is not None:
            import uuid

            self.app.push_screen(PatientFormScreen(patient_id=uuid.UUID(event.row_key.value)))

    def action_new_patient(self) -> None:
        from clinic_tui.ui.screens.patient_form import PatientFormScreen

        if self.can_write():
            self.app.push_screen(PatientFormScreen(prefill_name=self._name_typed()))

    def action_focus_search(self) -> None:
        self.query_one("#patient-query", Input).focus()

    def _name_typed(self) -> str:
        text = self.query_one("#patient-query", Input).value.strip()
        return text if text and not any(char.isdigit() for char in text) else ""

    def refresh_results(self) -> None:
        """After a record was saved: run the same search again."""
        text = self.query_one("#patient-query", Input).value
        if text.strip():
            self._search(text)
