"""A text field for medical terms, with a dropdown of matches as one types (issue 6).

textual-autocomplete asks for its candidates synchronously, on the UI thread; the database is
not asked there. The widget keeps a cache of answers by the exact text typed: a miss starts a
thread worker running `search_terms`, and the dropdown keeps what it showed until the answer
comes. An answer is used only while its text is still the field's value, so a slow, older
query never replaces a newer one. Picking a match (Enter or Tab) puts the term in the current
language into the field and keeps its id (`term_id`) until the text is edited away from it;
text that matches nothing stays as typed, for forms that allow free text.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual import on, work
from textual.content import Content
from textual.geometry import Offset, Region, Spacing
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input
from textual_autocomplete import AutoComplete, DropdownItem, TargetState

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language

if TYPE_CHECKING:
    from clinic_tui.services.terms import TermDetail, TermHit

TERM_CATEGORIES = {
    "anatomy": N_("Anatomy"),
    "symptom": N_("Symptom"),
    "condition": N_("Condition"),
    "treatment": N_("Treatment"),
    "assessment": N_("Assessment"),
}
CACHE_SIZE = 256  # answers kept, by the exact text typed
TERM_WIDTH = 38  # cells of each language's column in the dropdown, at most


def category_label(code: str) -> str:
    """A term category in the current language."""
    return _(TERM_CATEGORIES[code]) if code in TERM_CATEGORIES else code


def term_in(hit: Any, language: str | None = None) -> str:
    """A term's (`TermHit`, `TermDetail`) name in the current language, or in `language`."""
    return str(hit.term_vi if (language or current_language()) == "vi" else hit.term_en)


def _fit(text: str, width: int) -> str:
    """`text` cut with an ellipsis or padded to exactly `width` cells."""
    if cell_len(text) > width:
        while text and cell_len(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - cell_len(text))


class TermDropdown(AutoComplete):
    """The dropdown of one `TermInput`: rows come ranked from the database, shown as they are
    (no fuzzy filtering here), and picking one goes back to the field as a term, not text."""

    DEFAULT_CSS = """
    TermDropdown { max-height: 12; background: $panel; }
    TermDropdown AutoCompleteList { max-height: 12; }
    """

    def __init__(self, target: TermInput) -> None:
        super().__init__(target, candidates=target.dropdown_items)
        self.term_input = target

    def get_search_string(self, target_state: TargetState) -> str:
        return target_state.text

    def get_matches(
        self, target_state: TargetState, candidates: list[DropdownItem], search_string: str
    ) -> list[DropdownItem]:
        return candidates

    def should_show_dropdown(self, search_string: str) -> bool:
        return (
            bool(search_string.strip())
            and self.option_list.option_count > 0
            and self.term_input.term_id is None
        )

    def apply_completion(self, value: str, state: TargetState) -> None:
        self.term_input.pick_row(value)

    def _align_to_target(self) -> None:
        """Under the field's first character (the library follows the cursor, as an editor
        does), or above it when there is no room below; kept inside the screen."""
        if not self.is_attached or not self.target.is_attached:
            return
        x, y = self.target.content_region.x, self.target.cursor_screen_offset.y
        width, height = self.option_list.outer_size
        room = self.screen.scrollable_content_region
        top = y - height if y + 1 + height > room.bottom and y - height >= room.y else y + 1
        x, top, _width, _height = Region(x, top, width, height).constrain(
            "inside", "none", Spacing.all(0), room
        )
        self.absolute_offset = Offset(x, top)

    def refresh_rows(self) -> None:
        """Show the rows for what the field holds now (an answer came, or the language
        changed); aligned again once drawn, as its width may have changed."""
        self._handle_target_update()
        self.call_after_refresh(self._align_to_target)


class TermInput(Input):
    """An `Input` for a medical term with its dropdown; `term_id` is the picked term's id."""

    class Picked(Message):
        """A term was picked from the dropdown."""

        def __init__(self, term_input: TermInput, term_id: uuid.UUID, term: TermHit) -> None:
            super().__init__()
            self.term_input, self.term_id, self.term = term_input, term_id, term

        @property
        def control(self) -> TermInput:
            return self.term_input

    class _Answered(Message):
        def __init__(self, text: str, hits: list[TermHit]) -> None:
            super().__init__()
            self.text, self.hits = text, hits

    class _Failed(Message):
        def __init__(self, text: str, error: str) -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(
        self,
        *,
        placeholder: str = "",
        limit: int = 10,
        id: str | None = None,
        classes: str | None = None,
        compact: bool = True,
        max_length: int = 200,
    ) -> None:
        super().__init__(id=id, classes=classes, compact=compact, max_length=max_length,
                         placeholder=_(placeholder) if placeholder else "")  # fmt: skip
        self.placeholder_msgid = placeholder
        self.limit = limit
        self._cache: OrderedDict[str, list[TermHit]] = OrderedDict()
        self._pending: set[str] = set()
        self._shown: list[TermHit] = []  # what the dropdown shows (kept while a query runs)
        self.shown_for: str | None = None  # the text whose answer the dropdown shows
        self._rows: dict[str, TermHit] = {}  # a dropdown row's text → its term
        self._picked: tuple[uuid.UUID, str, TermHit | TermDetail] | None = None
        self._last_error: str | None = None
        self.dropdown = TermDropdown(self)

    # ---- mounting ----------------------------------------------------------------------

    def on_mount(self) -> None:
        # The dropdown draws on the screen's overlay layer; it lives beside the field.
        parent = self.parent
        if isinstance(parent, Widget):
            parent.mount(self.dropdown, after=self)

    def on_unmount(self) -> None:
        if self.dropdown.is_attached:
            self.dropdown.remove()

    # ---- the picked term ---------------------------------------------------------------

    @property
    def term_id(self) -> uuid.UUID | None:
        """The picked term's id, while the field still holds the picked text."""
        if self._picked is None or self._picked[1] != self.value:
            return None
        return self._picked[0]

    @property
    def term(self) -> TermHit | TermDetail | None:
        return self._picked[2] if self.term_id is not None and self._picked else None

    def set_term(self, term: TermHit | TermDetail | None, text: str | None = None) -> None:
        """Show a known term (a record being edited, one just saved) as picked, or clear
        the field."""
        if term is None:
            self._picked = None
            self.value = text or ""
            return
        shown = text if text is not None else term_in(term)
        self._picked = (term.id, shown, term)
        self.value = shown
        self.cursor_position = len(shown)

    def pick_row(self, row: str) -> None:
        """The dropdown's row `row` was chosen."""
        hit = self._rows.get(row)
        if hit is None:
            return
        text = term_in(hit)
        self._picked = (hit.id, text, hit)
        self.value = text
        self.cursor_position = len(text)
        self.post_message(self.Picked(self, hit.id, hit))

    # ---- candidates --------------------------------------------------------------------

    def dropdown_items(self, state: TargetState) -> list[DropdownItem]:
        """The rows for `state.text`: cached, or what was shown while its query runs."""
        text = state.text
        if not text.strip():
            self._shown, self.shown_for = [], text
        elif text in self._cache:
            self._cache.move_to_end(text)
            self._shown, self.shown_for = self._cache[text], text
        elif text not in self._pending:
            self._pending.add(text)
            self._search(text)
        return self._items(self._shown)

    def _items(self, hits: list[TermHit]) -> list[DropdownItem]:
        other_language = "en" if current_language() == "vi" else "vi"
        mains = [term_in(hit) for hit in hits]
        others = [term_in(hit, other_language) for hit in hits]
        # Two term columns, the code and the category fit the screen's width.
        room = max(12, min(TERM_WIDTH, (self.screen.size.width - 28) // 2))
        main_width = min(max((cell_len(t) for t in mains), default=0), room)
        other_width = min(max((cell_len(t) for t in others), default=0), room)
        self._rows = {}
        items = []
        for hit, main, other in zip(hits, mains, others, strict=True):
            row = Content.assemble(
                (_fit(main, main_width), "bold"), "  ", (_fit(other, other_width), "dim"),
                "  ", (f"{hit.icd10_code or '':<7}", ""), "  ",
                (category_label(hit.category), "italic"),
            )  # fmt: skip
            self._rows[row.plain] = hit
            items.append(DropdownItem(row, id=f"term-{hit.id}"))
        return items

    @work(thread=True, group="term-search", exit_on_error=False)
    def _search(self, text: str) -> None:
        from clinic_tui.services import terms

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                hits = terms.search_terms(session, actor, text, limit=self.limit)
        except Exception as error:
            self.post_message(self._Failed(text, describe_database_error(error)))
            return
        self.post_message(self._Answered(text, hits))

    @on(_Answered)
    def _answered(self, message: _Answered) -> None:
        message.stop()
        self._pending.discard(message.text)
        if message.text != self.value:
            return  # an older keystroke's answer: what is typed now has its own query
        self._last_error = None
        self._cache[message.text] = message.hits
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self.dropdown.refresh_rows()

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        message.stop()
        self._pending.discard(message.text)
        if message.text == self.value and message.error != self._last_error:
            self._last_error = message.error
            self.notify(message.error, severity="error", timeout=8)

    def forget(self) -> None:
        """Drop the cached answers (a term was added or changed)."""
        self._cache.clear()

    def relabel(self) -> None:
        """The language changed: the placeholder, and the dropdown's rows if it is open."""
        if self.placeholder_msgid:
            self.placeholder = _(self.placeholder_msgid)
        if self.dropdown.is_mounted:
            self.dropdown.refresh_rows()
