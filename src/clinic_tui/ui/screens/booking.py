"""The booking dialog: patient (searched as on F3), length, type, reason, and "first available".

Opened from a free cell of the grid (the slot is given) or, later, from a patient's record
(the patient is given; `f` finds the slot). Warnings are said, never blocking: another
appointment that day, an expired card, no card. Refusals are explained and the dialog stays as
typed: outside the hours, an overlap, a slot another terminal took a moment ago (the grid
behind reloads), a database error (Ctrl+S tries again).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from clinic_tui.i18n import N_, _
from clinic_tui.ui.widgets import schedule_text as say
from clinic_tui.ui.widgets.fields import ChoiceField, Field
from clinic_tui.ui.widgets.patient_picker import PatientPicker
from clinic_tui.ui.widgets.term_input import TermInput

if TYPE_CHECKING:
    from clinic_tui.services.appointments import BookingResult, Offer
    from clinic_tui.services.patient_search import PatientHit

MAX_SLOTS = 8
TYPES = [(label, code) for code, label in say.TYPE_LABELS.items()]


@dataclass(frozen=True)
class Slot:
    doctor_id: uuid.UUID
    doctor_name: str
    specialization: str
    day: date
    start: time


@dataclass(frozen=True)
class BookingDone:
    result: BookingResult
    patient_name: str
    slot: Slot

    def describe(self) -> str:
        """What the grid says afterwards, warnings included (in the current language)."""
        info = self.result.appointment
        text = _("Booked: {patient}, {doctor}, {when}.").format(
            patient=self.patient_name, doctor=self.slot.doctor_name,
            when=f"{say.day_title(info.day)} {say.span(info.start, info.end)}")  # fmt: skip
        return " ".join([text, *(say.warning_text(w) for w in self.result.warnings)])


class BookingScreen(ModalScreen[BookingDone | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Cancel"), id="booking.cancel"),
        Binding("ctrl+s", "book", N_("Book"), id="booking.book", priority=True),
        Binding("f", "first_available", N_("First available"), id="booking.first"),
    ]

    class SameDay(Message):
        def __init__(self, patient_id: uuid.UUID, day: date, times: list[str]) -> None:
            super().__init__()
            self.patient_id, self.day, self.times = patient_id, day, times

    class Offers(Message):
        def __init__(self, seq: int, offers: list[Offer]) -> None:
            super().__init__()
            self.seq, self.offers = seq, offers

    class Booked(Message):
        def __init__(self, done: BookingDone) -> None:
            super().__init__()
            self.done = done

    class Problem(Message):
        """A refusal or a database error: the dialog stays as typed."""

        def __init__(self, text: Callable[[], str], *, taken: bool = False) -> None:
            super().__init__()
            self.text, self.taken = text, taken

    def __init__(self, slot: Slot | None, *, slot_minutes: int = 30,
                 patient: PatientHit | None = None) -> None:  # fmt: skip
        super().__init__(classes="booking")
        self.slot, self.slot_minutes, self.patient = slot, slot_minutes, patient
        self.offers: list[Offer] = []
        self._same_day: list[str] = []
        self._notice: Callable[[], str] | None = None
        self._seq = 0
        self._saving = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="booking-panel"):
            yield Static(id="booking-title", classes="panel-title")
            yield Static(id="booking-slot")
            yield PatientPicker("booking-query")
            yield Static(id="booking-patient")
            with Horizontal(classes="booking-row"):
                yield Label(id="booking-length-label", classes="field-label")
                yield Select(self._lengths(), id="booking-length", value=1, compact=True,
                             allow_blank=False)  # fmt: skip
            yield ChoiceField(N_("Type"), "booking-type", TYPES)
            yield Label(id="booking-reason-label", classes="field-label")
            yield TermInput(
                id="booking-reason",
                max_length=500,
                placeholder=N_("A medical term in English or Vietnamese, or free text"),
            )
            with Horizontal(classes="booking-row"):
                yield Label(id="booking-scope-label", classes="field-label")
                yield Select(self._scopes(), id="booking-scope", compact=True,
                             allow_blank=False)  # fmt: skip
            yield OptionList(id="booking-offers", compact=True)
            yield Static(id="booking-notice")
            with Horizontal(classes="choices"):
                yield Button(id="booking-book", variant="primary", compact=True)
                yield Button(id="booking-first", compact=True)
                yield Button(id="booking-close", compact=True)

    def reason_value(self) -> tuple[str | None, uuid.UUID | None]:
        """The reason as typed, and the medical term's id when one was picked from the list
        (free text stays free text)."""
        box = self.query_one("#booking-reason", TermInput)
        return box.value.strip() or None, box.term_id

    def on_mount(self) -> None:
        self.query_one("#booking-offers", OptionList).display = False
        self.query_one(ChoiceField).set_value("FOLLOW_UP")
        if self.patient is not None:
            self._pick(self.patient)
        self.relabel()
        self.query_one("#booking-query", Input).focus()

    def _lengths(self) -> list[tuple[str, int]]:
        return [(say.slots_text(n, self.slot_minutes), n) for n in range(1, MAX_SLOTS + 1)]

    def _scopes(self) -> list[tuple[str, str]]:
        return say.search_scopes(self.slot.specialization if self.slot else None)

    def relabel(self) -> None:
        self.query_one("#booking-title", Static).update(_("New appointment"))
        for field in self.query(Field):
            field.relabel()
        self.query_one(PatientPicker).relabel()
        self.query_one(ChoiceField).relabel()
        self.query_one("#booking-reason-label", Label).update(_("Reason"))
        self.query_one("#booking-reason", TermInput).relabel()
        self.query_one("#booking-length-label", Label).update(_("Length"))
        self.query_one("#booking-scope-label", Label).update(_("First available for"))
        for select_id, options in (
            ("#booking-length", self._lengths()),
            ("#booking-scope", self._scopes()),
        ):
            select: Select[Any] = self.query_one(select_id, Select)
            current = select.value
            select.set_options(options)
            select.value = current
        self.query_one("#booking-book", Button).label = _("Book (Ctrl+S)")
        self.query_one("#booking-first", Button).label = _("First available (F)")
        self.query_one("#booking-close", Button).label = _("Cancel (Esc)")
        self._render_slot()
        self._render_patient()
        self._render_offers()
        self._render_notice()

    @property
    def slots(self) -> int:
        return int(self.query_one("#booking-length", Select).value)  # type: ignore[arg-type]

    def _render_slot(self) -> None:
        slot = self.slot
        if slot is None:
            text = _("No time chosen yet: press F for the first available slot.")
        else:
            end = (datetime.combine(slot.day, slot.start)
                   + timedelta(minutes=self.slots * self.slot_minutes)).time()  # fmt: skip
            text = say.slot_line(slot.doctor_name, slot.specialization, slot.day, slot.start, end)
        self.query_one("#booking-slot", Static).update(text)

    def _render_patient(self) -> None:
        day = self.slot.day if self.slot is not None else say.clinic_today()
        lines = say.patient_lines(self.patient, day, self._same_day) if self.patient else []
        self.query_one("#booking-patient", Static).update("\n".join(lines))

    def _render_notice(self) -> None:
        text = self._notice() if self._notice is not None else ""
        self.query_one("#booking-notice", Static).update(text)

    def _say(self, text: Callable[[], str] | None) -> None:
        self._notice = text
        self._render_notice()

    # ---- the patient --------------------------------------------------------------------

    @on(PatientPicker.Picked)
    def _patient_chosen(self, event: PatientPicker.Picked) -> None:
        hit = event.hit
        self._pick(hit)
        self.query_one(ChoiceField).set_value(
            "FOLLOW_UP" if hit.last_visit else "INITIAL_EVALUATION"
        )
        self.set_focus(self.query_one("#booking-length", Select))

    @on(PatientPicker.Failed)
    def _search_failed(self, event: PatientPicker.Failed) -> None:
        self._say(event.text)

    def _pick(self, hit: PatientHit) -> None:
        self.patient, self._same_day = hit, []
        self._render_patient()
        if self.slot is not None:
            self._check_day(hit.id, self.slot.day)

    @work(thread=True, exclusive=True, group="booking-same-day", exit_on_error=False)
    def _check_day(self, patient_id: uuid.UUID, day: date) -> None:
        from clinic_tui.services import appointments

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                entries = appointments.day_list(session, actor, day, active_only=True)
        except Exception:
            return  # a hint only; booking says it again
        times = [say.span(e.start, e.end) for e in entries if e.patient_id == patient_id]
        self.post_message(self.SameDay(patient_id, day, times))

    @on(SameDay)
    def _same_day_found(self, message: SameDay) -> None:
        slot = self.slot
        if (
            self.patient is not None
            and self.patient.id == message.patient_id
            and slot is not None
            and slot.day == message.day
        ):
            self._same_day = message.times
            self._render_patient()

    @on(Select.Changed, "#booking-length")
    def _length_changed(self) -> None:
        self._render_slot()

    # ---- first available ----------------------------------------------------------------

    def action_first_available(self) -> None:
        scope = str(self.query_one("#booking-scope", Select).value)
        slot = self.slot
        self._seq += 1
        self._say(lambda: _("Looking for the first free slot…"))
        from_day = max(slot.day if slot else say.clinic_today(), say.clinic_today())
        self._first_available(self._seq, scope, slot, self.slots, from_day)

    @work(thread=True, exclusive=True, group="booking-first", exit_on_error=False)
    def _first_available(self, seq: int, scope: str, slot: Slot | None, slots: int,
                         from_day: date) -> None:  # fmt: skip
        from clinic_tui.services import appointments

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                offers = appointments.first_available(
                    session, self.app.actor,  # type: ignore[attr-defined]
                    doctor_id=slot.doctor_id if slot and scope == "doctor" else None,
                    specialization=slot.specialization if slot and scope == "specialization"
                    else None,
                    from_moment=datetime.combine(from_day, time(0)), slots=slots,
                    slot_minutes=self.slot_minutes, limit=6)  # fmt: skip
        except Exception as error:
            self.post_message(self.Problem(say.explained(error)))
            return
        self.post_message(self.Offers(seq, offers))

    @on(Offers)
    def _offers_found(self, message: Offers) -> None:
        if message.seq != self._seq:
            return
        self.offers = message.offers
        self._render_offers()
        if self.offers:
            self._say(lambda: _("Enter books the highlighted slot."))
            self.query_one("#booking-offers", OptionList).focus()
        else:
            self._say(lambda: _("No free slot of that length in the next four weeks."))

    def _render_offers(self) -> None:
        offers = self.query_one("#booking-offers", OptionList)
        highlighted = offers.highlighted
        offers.clear_options()
        for index, offer in enumerate(self.offers):
            line = say.slot_line(offer.doctor_name, offer.specialization, offer.day,
                                 offer.start, offer.end)  # fmt: skip
            offers.add_option(Option(line, id=str(index)))
        offers.display = bool(self.offers)
        if self.offers:
            offers.highlighted = highlighted if highlighted is not None else 0

    @on(OptionList.OptionSelected, "#booking-offers")
    def _offer_chosen(self, event: OptionList.OptionSelected) -> None:
        offer = self.offers[int(event.option.id or 0)]
        self.slot = Slot(offer.doctor_id, offer.doctor_name, offer.specialization, offer.day,
                         offer.start)  # fmt: skip
        self._render_slot()
        if self.patient is None:
            self._say(lambda: _("Slot chosen. Now find the patient."))
            self.query_one("#booking-query", Input).focus()
            return
        self._check_day(self.patient.id, offer.day)
        self.action_book()

    # ---- booking ------------------------------------------------------------------------

    def action_book(self) -> None:
        if self._saving:
            return
        if self.patient is None:
            self._say(lambda: _("Choose the patient first: type a name, then pick from the list."))
            self.query_one("#booking-query", Input).focus()
            return
        if self.slot is None:
            self._say(lambda: _("No time chosen yet: press F for the first available slot."))
            return
        appointment_type = self.query_one(ChoiceField).value or "FOLLOW_UP"
        self._saving = True
        self._say(lambda: _("Booking…"))
        reason, term_id = self.reason_value()
        self._book(self.slot, self.patient, self.slots, appointment_type, reason, term_id)

    @work(thread=True, exclusive=True, group="booking-save", exit_on_error=False)
    def _book(self, slot: Slot, patient: PatientHit, slots: int, appointment_type: str,
              reason: str | None, term_id: uuid.UUID | None) -> None:  # fmt: skip
        from clinic_tui.services import appointments
        from clinic_tui.services.access import PermissionDenied
        from clinic_tui.services.scheduling import SchedulingError

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                result = appointments.book(
                    session, self.app.actor, patient_id=patient.id,  # type: ignore[attr-defined]
                    doctor_id=slot.doctor_id, day=slot.day, start=slot.start, slots=slots,
                    appointment_type=appointment_type, reason=reason, medical_term_id=term_id,
                    slot_minutes=self.slot_minutes)  # fmt: skip
        except appointments.SlotTaken as error:
            self.post_message(self.Problem(say.explained(error), taken=True))
            return
        except Exception as error:
            refused = isinstance(error, SchedulingError | PermissionDenied)
            text = say.explained(error)
            if not refused:  # the database: nothing was booked, everything typed is kept
                text = _retry(text)
            self.post_message(self.Problem(text))
            return
        self.post_message(self.Booked(BookingDone(result, patient.full_name, slot)))

    @on(Booked)
    def _booked(self, message: Booked) -> None:
        self._saving = False
        self.dismiss(message.done)

    @on(Problem)
    def _problem(self, message: Problem) -> None:
        self._saving = False
        self._say(message.text)
        if message.taken:
            self.offers = []
            self._render_offers()
            for screen in self.app.screen_stack:
                reload = getattr(screen, "reload_schedule", None)
                if callable(reload):
                    reload()

    # ---- closing ------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#booking-book")
    def _book_pressed(self) -> None:
        self.action_book()

    @on(Button.Pressed, "#booking-first")
    def _first_pressed(self) -> None:
        self.action_first_available()

    @on(Button.Pressed, "#booking-close")
    def _close_pressed(self) -> None:
        self.dismiss(None)


def _retry(text: Callable[[], str]) -> Callable[[], str]:
    return lambda: text() + " " + _("Your entries are kept: press Ctrl+S to try again.")
