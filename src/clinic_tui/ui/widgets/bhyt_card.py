"""BHYT card entry: typed any way, shown grouped, and explained while typing.

Validation is the pure rule of `domain.bhyt` against reference data loaded once (object codes,
levels, provinces), so each keystroke costs no database round trip.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from clinic_tui.domain import bhyt
from clinic_tui.i18n import N_, _, current_language, format_date
from clinic_tui.ui.widgets.fields import Field

if TYPE_CHECKING:
    from clinic_tui.services.patients import BhytReference

CARD_PROBLEMS = {
    bhyt.CardProblem.EMPTY: N_("Type the card number."),
    bhyt.CardProblem.TOO_SHORT: N_("Too short: a card has 15 characters."),
    bhyt.CardProblem.TOO_LONG: N_("Too long: a card has 15 characters."),
    bhyt.CardProblem.OBJECT_CODE_FORMAT: N_("The first two characters must be letters."),
    bhyt.CardProblem.OBJECT_CODE_UNKNOWN: N_("Unknown object code."),
    bhyt.CardProblem.LEVEL: N_("The benefit level (3rd character) must be 1 to 5."),
    bhyt.CardProblem.PROVINCE: N_("Characters 4–5 are not an issuing province code."),
    bhyt.CardProblem.NUMBER: N_("The last 10 characters must be digits."),
}


class CardEntry(Vertical):
    """Card number (or the 10-digit number with code, level and province) and its meaning."""

    DEFAULT_CSS = """
    CardEntry { height: auto; }
    CardEntry #card-parts { height: auto; display: none; }
    CardEntry.-bare-number #card-parts { display: block; }
    CardEntry #card-feedback { padding-left: 24; height: auto; }
    CardEntry #card-feedback.-problem { color: $text-error; }
    CardEntry #card-feedback.-expired { color: $text-error; text-style: bold; }
    CardEntry #card-holder { padding-left: 24; height: auto; color: $text-warning; }
    """

    class Changed(Message):
        """The card text changed; carries the normalised number when it is complete."""

        def __init__(self, card_number: str | None) -> None:
            super().__init__()
            self.card_number = card_number

    def __init__(self) -> None:
        super().__init__(id="card-entry")
        self.reference: BhytReference | None = None
        self.valid_to: date | None = None
        self.today: date = date.today()
        self.holder_text = ""

    def compose(self) -> ComposeResult:
        yield Field(
            N_("BHYT card"),
            "card_number",
            max_length=40,
            placeholder=N_("DN 4 79 1234567890, or the 10-digit number"),
        )
        with Horizontal(id="card-parts"):
            yield Field(N_("Object code"), "card_object_code", max_length=2)
            yield Field(N_("Level (1–5)"), "card_level", max_length=1)
            yield Field(N_("Province code"), "card_province", max_length=2)
        yield Static(id="card-feedback")
        yield Static(id="card-holder")

    def on_mount(self) -> None:
        self.relabel()

    def relabel(self) -> None:
        for field in self.query(Field):
            field.relabel()
        self.refresh_feedback()

    @on(Input.Changed, "#card_number, #card_object_code, #card_level, #card_province")
    def _changed(self) -> None:
        self.refresh_feedback()

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def refresh_feedback(self) -> None:
        feedback = self.query_one("#card-feedback", Static)
        text = self.value("card_number")
        feedback.set_classes("")
        bare = bhyt.is_bare_number(text)
        self.set_class(bare, "-bare-number")
        if not text.strip() or self.reference is None:
            feedback.update("")
            self.post_message(self.Changed(None))
            return
        codes, provinces = self.reference.codes, self.reference.provinces
        try:
            if bare:
                card = bhyt.card_from_parts(
                    self.value("card_object_code"),
                    self.value("card_level"),
                    self.value("card_province"),
                    text,
                    known_codes=codes,
                    provinces=provinces,
                )
            else:
                card = bhyt.parse_card(text, known_codes=codes, provinces=provinces)
        except bhyt.CardError as error:
            if bare and not all(
                self.value(f) for f in ("card_object_code", "card_level", "card_province")
            ):
                feedback.update(
                    _(
                        "Cards since 2021 print only this number: enter the object "
                        "code, level and province beside it."
                    )
                )
            else:
                problems = (
                    bhyt.problems_while_typing(text, known_codes=codes, provinces=provinces)
                    if not bare
                    else error.problems
                ) or error.problems
                feedback.update(" ".join(_(CARD_PROBLEMS[p]) for p in problems))
                feedback.add_class("-problem")
            self.post_message(self.Changed(None))
            return
        description = self.reference.describe(card, current_language())
        lines = [
            f"{card.display} · {description.meaning}",
            _("Covers {coverage} %, patient pays {copay} % · province: {province}").format(
                coverage=description.coverage_percent,
                copay=description.copay_percent,
                province=description.province_name,
            ),
        ]
        if description.level_note:
            lines.append(
                _("Note: level {level} differs from this code's usual level.").format(
                    level=card.level
                )
            )
        if self.valid_to is not None and self.valid_to < self.today:
            lines.insert(
                0,
                "✗ "
                + _("EXPIRED on {day}: no coverage for visits after it.").format(
                    day=format_date(self.valid_to)
                ),
            )
            feedback.add_class("-expired")
        feedback.update("\n".join(lines))
        self.post_message(self.Changed(card.compact))

    def show_holder(self, text: str) -> None:
        self.holder_text = text
        self.query_one("#card-holder", Static).update(text)
