"""The protocols a patient follows, as lines on their record: name, since when, phase, status
and the latest progress note. Read-only here; assignment lives on the protocols screen (F7)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import _, format_date

if TYPE_CHECKING:
    from clinic_tui.services.protocols import PatientProtocolView


class PatientProtocols(Static):
    class Loaded(Message):
        def __init__(self, patient_id: uuid.UUID, views: list[PatientProtocolView]) -> None:
            super().__init__()
            self.patient_id, self.views = patient_id, views

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.patient_id: uuid.UUID | None = None
        self.views: list[PatientProtocolView] | None = None
        self._error: str | None = None

    def show_patient(self, patient_id: uuid.UUID | None) -> None:
        self.patient_id, self.views, self._error = patient_id, None, None
        self.display = patient_id is not None
        if patient_id is not None:
            self.relabel()
            self._load(patient_id)

    @work(thread=True, exclusive=True, group="patient-protocols", exit_on_error=False)
    def _load(self, patient_id: uuid.UUID) -> None:
        from clinic_tui.services import protocols

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                views = protocols.patient_protocols(session, self.app.actor, patient_id)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Loaded(patient_id, views))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.patient_id == self.patient_id:
            self.views = message.views
            self.relabel()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._error = message.text
        self.relabel()

    def relabel(self) -> None:
        from clinic_tui.ui.screens.protocol_assign import PHASES, STATUSES, label, protocol_name

        text = Text(_("Protocols") + "\n", style="bold")
        if self._error:
            text.append(self._error, style="red")
        elif self.views is None:
            text.append(_("Loading…"), style="dim")
        elif not self.views:
            text.append(_("No protocol yet (F7 to assign one)."), style="dim")
        for view in self.views or ():
            text.append(f"• {protocol_name(view)}", style="bold")
            text.append(" · " + _("since {date}").format(date=format_date(view.start_date)))
            text.append(f" · {label(PHASES, view.current_phase)}")
            text.append(f" · {label(STATUSES, view.progress_status)}\n")
            if view.progress_notes:
                note = view.progress_notes[-1]
                text.append(f"  {format_date(note.at.date())}: {note.note}\n", style="dim")
        self.update(text)
