"""Medical terms (F6): look a term up in English or Vietnamese, with or without accents, or by
its ICD-10 code, and read it in both languages; admins add and edit terms."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, other_language
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.widgets.key_commands import ScreenKeyCommands
from clinic_tui.ui.widgets.term_input import TermInput, category_label, term_in

if TYPE_CHECKING:
    from clinic_tui.services.terms import TermDetail


def can(screen: object, permission: Permission) -> bool:
    actor = getattr(getattr(screen, "app", None), "actor", None)
    return actor is not None and actor.can(permission)


class TermsScreen(ClinicScreen):
    COMMANDS: ClassVar = {ScreenKeyCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_term", N_("New term"), id="terms.new"),
        Binding("a", "new_term", N_("New term"), id="terms.new_letter", show=False),
        Binding("e", "edit_term", N_("Edit term"), id="terms.edit"),
        Binding("escape", "focus_search", N_("Search"), id="terms.search", show=False),
    ]

    class Loaded(Message):
        def __init__(self, detail: TermDetail) -> None:
            super().__init__()
            self.detail = detail

    class LoadFailed(Message):
        def __init__(self, term_id: uuid.UUID, error: str) -> None:
            super().__init__()
            self.term_id, self.error = term_id, error

    def __init__(self) -> None:
        super().__init__(id="terms")
        self.detail: TermDetail | None = None
        self._wanted: uuid.UUID | None = None  # the term whose detail is on its way
        self._status: tuple[str, dict[str, object]] | None = None

    def compose_body(self) -> ComposeResult:
        yield TermInput(
            id="term-query",
            placeholder=N_(
                "A term in English or Vietnamese, with or without accents, or an ICD-10 code"
            ),
        )
        yield Static(id="terms-status")
        with VerticalScroll(id="term-detail"):
            yield Static(id="term-detail-title", classes="panel-title")
            yield Static(id="term-detail-body")

    def on_mount(self) -> None:
        self.query_one("#term-detail", VerticalScroll).can_focus = True
        self.relabel()
        self.query_one("#term-query", TermInput).focus()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#term-query", TermInput).relabel()
        self._render_status()
        self._render_detail()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_term":
            return can(self, Permission.TERM_WRITE)
        if action == "edit_term":
            return can(self, Permission.TERM_WRITE) and self.detail is not None
        return True

    # ---- picking and showing a term ----------------------------------------------------

    @on(TermInput.Picked, "#term-query")
    def _picked(self, message: TermInput.Picked) -> None:
        self._wanted = message.term_id
        self.query_one("#term-detail", VerticalScroll).focus()
        self._load(message.term_id)

    @on(TermInput.Submitted, "#term-query")
    def _submitted(self) -> None:
        # Enter with the dropdown closed: the text matches no term (or is one already shown).
        box = self.query_one("#term-query", TermInput)
        if box.value.strip() and box.term_id is None:
            self._set_status(N_("No term picked: choose one from the list as you type."))

    @work(thread=True, exclusive=True, group="term-detail", exit_on_error=False)
    def _load(self, term_id: uuid.UUID) -> None:
        from clinic_tui.services import terms

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                detail = terms.get_term(session, actor, term_id)
        except Exception as error:
            self.post_message(self.LoadFailed(term_id, describe_database_error(error)))
            return
        self.post_message(self.Loaded(detail))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.detail.id != self._wanted:
            return
        self.show_term(message.detail)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        if message.term_id == self._wanted:
            self._status = None
            self.query_one("#terms-status", Static).update(message.error)

    def show_term(self, detail: TermDetail) -> None:
        self.detail, self._wanted = detail, detail.id
        self._set_status(None)
        self._render_detail()
        self.refresh_bindings()

    def _render_detail(self) -> None:
        title = self.query_one("#term-detail-title", Static)
        body = self.query_one("#term-detail-body", Static)
        detail = self.detail
        if detail is None:
            title.update(_("Medical terms"))
            body.update(Text(_("Type a few letters: matches appear as you type. Enter or Tab "
                               "picks one."), style="dim"))  # fmt: skip
            return
        title.update(f"{term_in(detail)} · {term_in(detail, other_language())}")
        rows = [
            (N_("English"), detail.term_en),
            (N_("Vietnamese"), detail.term_vi),
            (N_("Category"), category_label(detail.category)),
            (N_("ICD-10"), detail.icd10_code or "—"),
            (N_("Aliases"), "; ".join(detail.aliases) or "—"),
        ]
        width = max(len(_(label)) for label, _value in rows) + 2
        text = Text()
        for label, value in rows:
            text.append(f"{_(label):<{width}}", style="dim")
            text.append(value + "\n")
        for heading, description in (
            (N_("Description (English)"), detail.description_en),
            (N_("Description (Vietnamese)"), detail.description_vi),
        ):
            text.append("\n" + _(heading) + "\n", style="bold")
            text.append((description or "—") + "\n")
        if not detail.is_active:
            text.append("\n" + _("Inactive: hidden from search.") + "\n", style="bold red")
        body.update(text)

    def _set_status(self, msgid: str | None, **values: object) -> None:
        self._status = (msgid, values) if msgid else None
        self._render_status()

    def _render_status(self) -> None:
        text = _(self._status[0]).format(**self._status[1]) if self._status else ""
        self.query_one("#terms-status", Static).update(text)

    # ---- adding and editing ------------------------------------------------------------

    def action_new_term(self) -> None:
        from clinic_tui.ui.screens.term_form import TermFormScreen

        if not can(self, Permission.TERM_WRITE):
            return
        box = self.query_one("#term-query", TermInput)
        typed = box.value.strip() if box.term_id is None else ""
        self.app.push_screen(TermFormScreen(prefill=typed))

    def action_edit_term(self) -> None:
        from clinic_tui.ui.screens.term_form import TermFormScreen

        if can(self, Permission.TERM_WRITE) and self.detail is not None:
            self.app.push_screen(TermFormScreen(term_id=self.detail.id))

    def action_focus_search(self) -> None:
        self.query_one("#term-query", TermInput).focus()

    def term_saved(self, detail: TermDetail) -> None:
        """After the form saved a term: searches see it at once, and it is shown here."""
        box = self.query_one("#term-query", TermInput)
        box.forget()
        box.set_term(detail)
        self.show_term(detail)
