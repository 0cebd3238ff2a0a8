"""A patient's clinical record: treatment plans and sessions, outcome measures with trends,
discharge, video visits (issue 12). Opened from the patient's record (F3) or from the day's
list (F1) with Ctrl+R; Esc goes back. Each tab is a panel in its own `clinical_<name>.py`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, format_date
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.tabbed import PanelTab, TabbedScreen, TabPanel

if TYPE_CHECKING:
    from clinic_tui.services.patients import PatientRecord


class ClinicalPanel(TabPanel):
    """One tab of a patient's clinical record; `patient_id` is whose record it is."""

    def __init__(self, *, patient_id: uuid.UUID, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.patient_id = patient_id


_SCREENS = "clinic_tui.ui.screens"
TABS: tuple[PanelTab, ...] = (
    PanelTab("plans", N_("Treatment plans"), f"{_SCREENS}.clinical_plans:PlansPanel",
             Permission.CLINICAL_WRITE),
    PanelTab("measures", N_("Outcome measures"), f"{_SCREENS}.clinical_measures:MeasuresPanel",
             Permission.CLINICAL_WRITE),
    PanelTab("discharge", N_("Discharge"), f"{_SCREENS}.clinical_discharge:DischargePanel",
             Permission.CLINICAL_WRITE),
    # Receptionists see a video visit's status (DESIGN §5.4); writing it is checked inside.
    PanelTab("video", N_("Video visits"), f"{_SCREENS}.clinical_video:VideoPanel",
             Permission.SCHEDULE_READ),
)  # fmt: skip


def can_open(actor: object) -> bool:
    """Whether this person sees at least one tab of a clinical record."""
    can = getattr(actor, "can", None)
    return callable(can) and any(tab.built and can(tab.permission) for tab in TABS)


class ClinicalRecordScreen(TabbedScreen):
    HEADING: ClassVar[str] = N_("Clinical record")
    PREFIX: ClassVar[str] = "clinical"
    TABS = TABS
    BINDINGS: ClassVar[list[BindingType]] = [
        *TabbedScreen.BINDINGS,
        Binding("escape", "back", N_("Back"), id="clinical.back"),
    ]

    class PatientLoaded(Message):
        def __init__(self, record: PatientRecord | None, error: str | None = None) -> None:
            super().__init__()
            self.record, self.error = record, error

    def __init__(self, patient_id: uuid.UUID, tab: str | None = None) -> None:
        super().__init__(screen_id="clinical-record", tab=tab)
        self.patient_id = patient_id
        self.record: PatientRecord | None = None
        self._error: str | None = None

    def panel_arguments(self) -> dict[str, object]:
        return {"patient_id": self.patient_id}

    def compose_body(self) -> ComposeResult:
        yield Static(id="clinical-patient", classes="panel-title")
        yield from super().compose_body()

    def on_mount(self) -> None:
        super().on_mount()
        self._load_patient()

    def relabel(self) -> None:
        super().relabel()
        self._render_patient()

    def _render_patient(self) -> None:
        line = self.query_one("#clinical-patient", Static)
        if self._error:
            line.update(self._error)
        elif self.record is None:
            line.update(_("Clinical record"))
        else:
            born = format_date(self.record.date_of_birth) if self.record.date_of_birth else "—"
            line.update(
                Text(  # the patient's name as typed, never markup
                    _("Clinical record: {name} · {code} · born {born}").format(
                        name=self.record.full_name, code=self.record.patient_code, born=born
                    )
                )
            )

    @work(thread=True, exclusive=True, group="clinical-patient", exit_on_error=False)
    def _load_patient(self) -> None:
        from clinic_tui.services import patients

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                record = patients.get(session, self.app.actor, self.patient_id)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.PatientLoaded(None, describe_database_error(error)))
            return
        self.post_message(self.PatientLoaded(record))

    @on(PatientLoaded)
    def _patient_loaded(self, message: PatientLoaded) -> None:
        self.record, self._error = message.record, message.error
        self._render_patient()

    def action_back(self) -> None:
        from clinic_tui.ui.screens.confirm import ask_before_discarding

        def leave() -> None:
            if self.app.screen is self:
                self.app.pop_screen()

        if len(self.app.screen_stack) <= 2:
            return
        if self.has_unsaved_changes():
            ask_before_discarding(self.app, leave)
        else:
            self.app.pop_screen()
