"""Pick a patient by searching as on F3: type (name with or without accents, phone, code,
card), Enter goes to the results, Enter picks. Posts `PatientPicker.Picked`; a slower, older
answer never replaces the one for what is typed now."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from clinic_tui.i18n import N_, _, format_date
from clinic_tui.ui.widgets.fields import Field
from clinic_tui.ui.widgets.schedule_text import card_text, clinic_today, explained

if TYPE_CHECKING:
    from clinic_tui.services.patient_search import PatientHit

SEARCH_DEBOUNCE_SECONDS = 0.12


class PatientPicker(Vertical):
    # Enter is handled while the key is being dispatched (priority), not by a message after
    # it: a quick second Enter then reaches the results and picks, instead of submitting the
    # search field again.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "enter", N_("Pick"), show=False, priority=True, id="patient_picker.enter"),
        Binding("down", "to_results", N_("Results"), show=False, id="patient_picker.down"),
    ]
    DEFAULT_CSS = """
    PatientPicker { height: auto; }
    PatientPicker > OptionList { height: auto; max-height: 8; }
    """

    class Picked(Message):
        def __init__(self, hit: PatientHit) -> None:
            super().__init__()
            self.hit = hit

    class Failed(Message):
        def __init__(self, text: Callable[[], str]) -> None:
            super().__init__()
            self.text = text

    class _Found(Message):
        def __init__(self, text: str, hits: list[PatientHit]) -> None:
            super().__init__()
            self.text, self.hits = text, hits

    def __init__(self, input_id: str, *, limit: int = 8, id: str | None = None) -> None:
        super().__init__(id=id)
        self.input_id, self.limit = input_id, limit
        self.hits: list[PatientHit] = []
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Field(N_("Patient"), self.input_id, max_length=200)
        yield OptionList(id=f"{self.input_id}-results", compact=True)

    @property
    def input(self) -> Input:
        return self.query_one(f"#{self.input_id}", Input)

    @property
    def results(self) -> OptionList:
        return self.query_one(OptionList)

    def on_mount(self) -> None:
        self.results.display = False
        self.relabel()

    def relabel(self) -> None:
        self.query_one(Field).relabel()
        self.input.placeholder = _("Name, phone, patient code or BHYT card")
        self._show(self.hits)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        if not text.strip():
            self._show([])
            return
        self._timer = self.set_timer(SEARCH_DEBOUNCE_SECONDS, lambda: self._search(text))

    def action_enter(self) -> None:
        focused = self.screen.focused
        if focused is self.results:
            index = self.results.highlighted
            if index is not None and index < len(self.hits):
                self._pick(self.hits[index])
        else:
            self.action_to_results()

    def action_to_results(self) -> None:
        if self.results.display and self.results.option_count:
            self.screen.set_focus(self.results)

    def _pick(self, hit: PatientHit) -> None:
        self.results.display = False
        self.post_message(self.Picked(hit))

    @work(thread=True, exclusive=True, group="patient-picker", exit_on_error=False)
    def _search(self, text: str) -> None:
        from clinic_tui.services import patient_search

        actor = self.app.actor  # type: ignore[attr-defined]
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                hits = patient_search.search(session, actor, text, limit=self.limit,
                                             today=clinic_today())  # fmt: skip
        except Exception as error:
            self.post_message(self.Failed(explained(error)))
            return
        self.post_message(self._Found(text, hits))

    @on(_Found)
    def _found(self, message: _Found) -> None:
        if message.text == self.input.value:
            self._show(message.hits)

    def _show(self, hits: list[PatientHit]) -> None:
        self.hits = hits
        results = self.results
        results.clear_options()
        for hit in hits:
            card = card_text(hit.card_status, hit.card_valid_to)
            born, phone = format_date(hit.date_of_birth), hit.phone or "—"
            text = f"{hit.full_name} · {born} · {phone} · {hit.patient_code} · {card}"
            results.add_option(Option(Text(text), id=str(hit.id)))  # typed text, never markup
        results.display = bool(hits)
        if hits:
            results.highlighted = 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = next((h for h in self.hits if str(h.id) == event.option.id), None)
        if hit is not None:  # a click; Enter is `action_enter`
            self._pick(hit)
