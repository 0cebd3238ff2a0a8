"""Register or edit a patient: every field explained at the field, the BHYT card checked while
typing, similar patients shown before a duplicate is created, and a form that survives a
database error as typed."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_date
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.screens.patient_problems import DATE_HINTS, problem_message
from clinic_tui.ui.screens.patients import today
from clinic_tui.ui.widgets.bhyt_card import CardEntry
from clinic_tui.ui.widgets.fields import ChoiceField, Field
from clinic_tui.ui.widgets.patient_protocols import PatientProtocols

if TYPE_CHECKING:
    from clinic_tui.services.patient_search import PatientHit
    from clinic_tui.services.patients import BhytReference, PatientRecord

GENDERS = [(N_("Male"), "MALE"), (N_("Female"), "FEMALE"), (N_("Other"), "OTHER")]
TEXT_FIELDS = (
    ("full_name", N_("Full name"), 200),
    ("date_of_birth", N_("Date of birth"), 20),
    ("national_id", N_("National ID (CCCD)"), 20),
    ("phone", N_("Phone"), 30),
    ("email", N_("Email"), 254),
    ("address", N_("Address"), 500),
    ("emergency_contact_name", N_("Emergency contact"), 200),
    ("emergency_contact_phone", N_("Emergency phone"), 30),
    ("medical_history", N_("Medical history"), 2000),
    ("alerts", N_("Alerts"), 500),
)
CARD_FIELDS = (
    ("card_valid_from", N_("Valid from"), 20),
    ("card_valid_to", N_("Valid to"), 20),
    ("registered_facility_code", N_("Registered facility code"), 10),
    ("registered_facility_name", N_("Registered facility"), 200),
    ("five_year_continuous_from", N_("5 continuous years from"), 20),
)
DATE_FIELDS = ("date_of_birth", "card_valid_from", "card_valid_to", "five_year_continuous_from")
SIMILAR_DEBOUNCE_SECONDS = 0.3


class PatientFormScreen(ClinicScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="patient_form.save", priority=True),
        Binding("escape", "close", N_("Back"), id="patient_form.close"),
        Binding("ctrl+r", "clinical_record", N_("Clinical record"), id="patient_form.clinical"),
    ]

    class Loaded(Message):
        def __init__(self, reference: BhytReference, record: PatientRecord | None) -> None:
            super().__init__()
            self.reference, self.record = reference, record

    class Saved(Message):
        def __init__(self, record: PatientRecord) -> None:
            super().__init__()
            self.record = record

    class Invalid(Message):
        def __init__(self, problems: dict[str, Any]) -> None:
            super().__init__()
            self.problems = problems

    class Conflict(Message):
        pass

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class SimilarFound(Message):
        def __init__(self, hits: list[PatientHit], holder: PatientHit | None) -> None:
            super().__init__()
            self.hits, self.holder = hits, holder

    def __init__(self, *, patient_id: uuid.UUID | None = None, prefill_name: str = "") -> None:
        # No fixed id: one form may replace another (a similar patient opened instead).
        super().__init__(classes="patient-form")
        self.patient_id = patient_id
        self.prefill_name = prefill_name
        self.record: PatientRecord | None = None
        self.reference: BhytReference | None = None
        self._notice: tuple[str, dict[str, object]] | None = None
        self._saving = False
        self._similar_timer: Timer | None = None
        self._similar: list[PatientHit] = []
        self._loaded_values: dict[str, str] = {}

    # ---- layout -------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield Static(id="patient-form-title", classes="panel-title")
        yield Static(id="patient-form-notice")
        with VerticalScroll(id="patient-form-body"):
            yield Static(id="section-identity", classes="form-section")
            for field_id, label, length in TEXT_FIELDS[:3]:
                yield Field(label, field_id, max_length=length)
            yield ChoiceField(N_("Gender"), "gender", GENDERS)
            yield Static(id="section-contact", classes="form-section")
            for field_id, label, length in TEXT_FIELDS[3:]:
                yield Field(label, field_id, max_length=length)
            yield Static(id="section-card", classes="form-section")
            yield CardEntry()
            for field_id, label, length in CARD_FIELDS:
                yield Field(label, field_id, max_length=length)
            with Horizontal(classes="choices"):
                yield Button(id="save", variant="primary")
                yield Button(id="close")
            yield PatientProtocols(id="patient-protocols-summary")
        yield Static(id="similar-title")
        yield OptionList(id="similar-patients")

    def on_mount(self) -> None:
        self.query_one("#similar-patients", OptionList).display = False
        self.query_one(PatientProtocols).show_patient(self.patient_id)
        if self.prefill_name:
            self._input("full_name").value = self.prefill_name
        self.relabel()
        self._input("full_name").focus()
        if not self._can_write():
            for widget in self.query(Input):
                widget.disabled = True
            self.query_one("#save", Button).display = False
        self._load()

    def relabel(self) -> None:
        super().relabel()
        self.query_one(PatientProtocols).relabel()
        if self.patient_id is None:
            title = _("New patient")
        elif self.record is not None:
            title = Text(f"{self.record.full_name} · {self.record.patient_code}")  # not markup
        else:
            title = _("Patient record")
        self.query_one("#patient-form-title", Static).update(title)
        self.query_one("#section-identity", Static).update(_("Identity"))
        self.query_one("#section-contact", Static).update(_("Contact and clinical notes"))
        self.query_one("#section-card", Static).update(_("BHYT health insurance"))
        for field in self.query(Field):
            field.relabel()
            if field.field_id in DATE_FIELDS:
                field.input.placeholder = DATE_HINTS[current_language()]
        for choice in self.query(ChoiceField):
            choice.relabel()
        self.query_one(CardEntry).relabel()
        self.query_one("#save", Button).label = _("Save (Ctrl+S)")
        self.query_one("#close", Button).label = _("Back (Esc)")
        self._render_notice()
        self._render_similar()

    def _input(self, field_id: str) -> Input:
        return self.query_one(f"#{field_id}", Input)

    def _can_write(self) -> bool:
        actor = getattr(self.app, "actor", None)
        return actor is not None and actor.can(Permission.PATIENT_WRITE)

    def _show_notice(self, msgid: str | None, **values: object) -> None:
        self._notice = (msgid, values) if msgid else None
        self._render_notice()

    def _render_notice(self) -> None:
        text = _(self._notice[0]).format(**self._notice[1]) if self._notice else ""
        self.query_one("#patient-form-notice", Static).update(text)

    # ---- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="patient-form-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import patients

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                reference = patients.load_bhyt_reference(session)
                record = (
                    patients.get(session, self.app.actor, self.patient_id)  # type: ignore[attr-defined]
                    if self.patient_id is not None
                    else None
                )
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Loaded(reference, record))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.reference = message.reference
        card_entry = self.query_one(CardEntry)
        card_entry.reference = message.reference
        card_entry.today = today()
        if message.record is not None:
            self._fill(message.record)
        self._loaded_values = self.raw_values()
        self.relabel()

    def _fill(self, record: PatientRecord) -> None:
        from clinic_tui.services.patients import form_input

        self.record = record
        values = form_input(record, current_language())
        for widget in self.query(Input):
            if widget.id in values:
                widget.value = values[widget.id]
        self.query_one(ChoiceField).set_value(record.gender)
        self.query_one(CardEntry).valid_to = record.card.valid_to if record.card else None

    # ---- what was typed -----------------------------------------------------------------

    def raw_values(self) -> dict[str, str]:
        values = {widget.id: widget.value for widget in self.query(Input) if widget.id}
        values["gender"] = self.query_one(ChoiceField).value
        return values

    def has_unsaved_changes(self) -> bool:
        return self._can_write() and self.raw_values() != self._loaded_values

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id == "card_valid_to":
            self._update_expiry(event.value)
        if self.reference is not None and event.input.id in (
            "full_name",
            "date_of_birth",
            "phone",
            "card_number",
            "card_object_code",
            "card_level",
            "card_province",
        ):
            if self._similar_timer is not None:
                self._similar_timer.stop()
            self._similar_timer = self.set_timer(SIMILAR_DEBOUNCE_SECONDS, self._look_for_similar)

    def _update_expiry(self, text: str) -> None:
        from clinic_tui.forms.patient import parse_date_input

        card_entry = self.query_one(CardEntry)
        card_entry.valid_to = parse_date_input(
            text, current_language(), today=today(), years_ahead=30
        )
        card_entry.refresh_feedback()

    # ---- similar patients and the card's holder -----------------------------------------

    def _look_for_similar(self) -> None:
        values = self.raw_values()
        self._find_similar(values)

    @work(thread=True, exclusive=True, group="patient-similar", exit_on_error=False)
    def _find_similar(self, values: dict[str, str]) -> None:
        from clinic_tui.domain.search_text import normalise_phone
        from clinic_tui.forms.patient import parse_date_input
        from clinic_tui.services import patient_search

        card_number = self._complete_card(values)
        birth = parse_date_input(values.get("date_of_birth", ""), current_language(), today=today())
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                hits = (
                    []
                    if self.patient_id is not None
                    else patient_search.similar_patients(
                        session,
                        self.app.actor,  # type: ignore[attr-defined]
                        full_name=values.get("full_name", ""),
                        date_of_birth=birth,
                        phone=normalise_phone(values.get("phone", "")),
                        card_number=card_number,
                    )
                )
                holder = (
                    patient_search.card_holder(session, card_number, exclude_id=self.patient_id)
                    if card_number
                    else None
                )
        except Exception:
            return  # a hint, not a save: the next keystroke tries again
        self.post_message(self.SimilarFound(hits, holder))

    def _complete_card(self, values: dict[str, str]) -> str | None:
        from clinic_tui.domain import bhyt

        if self.reference is None:
            return None
        codes, provinces = self.reference.codes, self.reference.provinces
        text = values.get("card_number", "")
        try:
            if bhyt.is_bare_number(text):
                return bhyt.card_from_parts(
                    values.get("card_object_code", ""),
                    values.get("card_level", ""),
                    values.get("card_province", ""),
                    text,
                    known_codes=codes,
                    provinces=provinces,
                ).compact
            return bhyt.parse_card(text, known_codes=codes, provinces=provinces).compact
        except bhyt.CardError:
            return None

    @on(SimilarFound)
    def _similar_found(self, message: SimilarFound) -> None:
        self._similar = message.hits
        holder = message.holder
        self.query_one(CardEntry).show_holder(
            _("Possible duplicate: this card is on {name} ({code}).").format(
                name=holder.full_name, code=holder.patient_code
            )
            if holder
            else ""
        )
        self._render_similar()

    def _render_similar(self) -> None:
        options = self.query_one("#similar-patients", OptionList)
        title = self.query_one("#similar-title", Static)
        options.clear_options()
        if not self._similar:
            options.display = False
            title.update("")
            return
        title.update(
            _(
                "Similar patients already registered — select one and press Enter to "
                "open it instead of creating a duplicate:"
            )
        )
        for hit in self._similar:
            options.add_option(
                Option(
                    Text(
                        f"{hit.full_name} · {format_date(hit.date_of_birth)} · "
                        f"{hit.phone or '—'} · {hit.card_number or '—'} · {hit.patient_code}"
                    ),
                    id=str(hit.id),
                )
            )
        options.highlighted = 0
        options.display = True

    @on(OptionList.OptionSelected, "#similar-patients")
    def _open_similar(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            # The existing record replaces this unsaved new one (opening it instead of
            # creating a duplicate is the point), so nothing typed here needs keeping.
            self.app.switch_screen(PatientFormScreen(patient_id=uuid.UUID(event.option.id)))

    # ---- saving -------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving or not self._can_write() or self.reference is None:
            return
        from clinic_tui.forms.patient import validate_patient

        raw = self.raw_values()
        form, problems = validate_patient(
            raw,
            language=current_language(),
            today=today(),
            known_codes=self.reference.codes,
            provinces=self.reference.provinces,
        )
        self._show_problems(problems)
        if form is None:
            self._show_notice(N_("Some fields need attention: see the messages under them."))
            return
        self._saving = True
        self._show_notice(N_("Saving…"))
        self._save(form, self.record.version if self.record else None)

    def _show_problems(self, problems: dict[str, Any]) -> None:
        hint = DATE_HINTS[current_language()]
        for field in self.query(Field):
            problem = problems.get(field.field_id)
            field.show_error(problem_message(problem) if problem else None, hint=hint)
        gender = problems.get("gender")
        self.query_one(ChoiceField).show_error(problem_message(gender) if gender else None)

    @work(thread=True, exclusive=True, group="patient-save", exit_on_error=False)
    def _save(self, form: Any, version: int | None) -> None:
        from clinic_tui.services import patients

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                actor = self.app.actor  # type: ignore[attr-defined]
                if self.patient_id is None:
                    record = patients.register(session, actor, form)
                else:
                    record = patients.update(
                        session, actor, self.patient_id, form, expected_version=version or 0
                    )
        except patients.EditConflict:
            self.post_message(self.Conflict())
            return
        except patients.PatientFormInvalid as error:
            self.post_message(self.Invalid(dict(error.problems)))
            return
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Saved(record))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._saving = False
        self.patient_id = message.record.id
        self._fill(message.record)
        self._loaded_values = self.raw_values()
        self._similar = []
        self.relabel()
        self._show_notice(N_("Saved: {code}."), code=message.record.patient_code)
        for screen in self.app.screen_stack:
            refresh = getattr(screen, "refresh_results", None)
            if callable(refresh):
                refresh()

    @on(Invalid)
    def _invalid(self, message: Invalid) -> None:
        self._saving = False
        self._show_problems(message.problems)
        self._show_notice(N_("Some fields need attention: see the messages under them."))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._saving = False
        self._notice = None
        self.query_one("#patient-form-notice", Static).update(
            message.text + " " + _("Your entries are kept: press Ctrl+S to try again.")
        )

    @on(Conflict)
    def _conflict(self) -> None:
        from clinic_tui.ui.screens.confirm import offer_reload_after_conflict

        self._saving = False
        self._show_notice(N_("Not saved: this record was changed since you opened it."))
        offer_reload_after_conflict(
            self.app,
            N_(
                "Someone else saved this patient after you opened the record. Nothing was "
                "overwritten. Reload to see their version (your changes here are dropped), or "
                "keep your text to copy what you need."
            ),
            self._reload,
        )

    def _reload(self) -> None:
        self._loaded_values = {}
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clinical_record":
            from clinic_tui.ui.screens.clinical import can_open

            return self.patient_id is not None and can_open(getattr(self.app, "actor", None))
        return True

    def action_clinical_record(self) -> None:
        from clinic_tui.ui.screens.clinical import ClinicalRecordScreen

        if self.check_action("clinical_record", ()) and self.patient_id is not None:
            self.app.push_screen(ClinicalRecordScreen(self.patient_id))

    def action_close(self) -> None:
        from clinic_tui.ui.screens.confirm import ask_before_discarding

        if self.has_unsaved_changes():
            ask_before_discarding(self.app, self.app.pop_screen)
        else:
            self.app.pop_screen()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close()
