"""Add or edit a medical term (admins): both languages, category, ICD-10 code, aliases and
descriptions, each problem explained at its field; a term changed by someone else since it
was opened is never overwritten."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.screens.terms import can
from clinic_tui.ui.widgets.fields import ChoiceField, Field
from clinic_tui.ui.widgets.term_input import TERM_CATEGORIES

if TYPE_CHECKING:
    from clinic_tui.services.terms import TermDetail

TEXT_FIELDS = (
    ("term_en", N_("Term (English)"), 200, ""),
    ("term_vi", N_("Term (Vietnamese)"), 200, ""),
    ("icd10_code", N_("ICD-10 code"), 10, N_("e.g. M54.5 (optional)")),
    ("aliases", N_("Aliases"), 2000, N_("Other names, separated by ;")),
    ("description_en", N_("Description (EN)"), 4000, ""),
    ("description_vi", N_("Description (VI)"), 4000, ""),
)
ACTIVE = [(N_("Active: found by search"), "yes"), (N_("Inactive: hidden from search"), "no")]
PROBLEMS = {
    "required": N_("Required."),
    "too_long": N_("Too long."),
    "category": N_("Choose a category."),
    "icd10_format": N_(
        "Not an ICD-10 code: a letter, two digits, then optionally a dot and "
        "up to four more (M54.5)."
    ),
    "duplicate": N_("This term already exists (the same English and Vietnamese)."),
    "invalid": N_("This value cannot be used."),
}


def split_aliases(text: str) -> list[str]:
    """Aliases as typed in one field: separated by semicolons (or |, as in the seed files)."""
    return [part.strip() for part in text.replace("|", ";").split(";") if part.strip()]


class TermFormScreen(ClinicScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="term_form.save", priority=True),
        Binding("escape", "close", N_("Back"), id="term_form.close"),
    ]

    class Loaded(Message):
        def __init__(self, detail: TermDetail) -> None:
            super().__init__()
            self.detail = detail

    class Saved(Message):
        def __init__(self, detail: TermDetail) -> None:
            super().__init__()
            self.detail = detail

    class Invalid(Message):
        def __init__(self, problems: dict[str, str]) -> None:
            super().__init__()
            self.problems = problems

    class Conflict(Message):
        pass

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, term_id: uuid.UUID | None = None, prefill: str = "") -> None:
        super().__init__(id="term-form")
        self.term_id = term_id
        self.prefill = prefill
        self.detail: TermDetail | None = None
        self._notice: tuple[str, dict[str, object]] | None = None
        self._saving = False
        self._loaded_values: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(id="term-form-title", classes="panel-title")
        yield Static(id="term-form-notice")
        with VerticalScroll(id="term-form-body"):
            for field_id, label, length, hint in TEXT_FIELDS[:2]:
                yield Field(label, field_id, max_length=length, placeholder=hint)
            yield ChoiceField(N_("Category"), "category", list(
                (label, code) for code, label in TERM_CATEGORIES.items()))  # fmt: skip
            for field_id, label, length, hint in TEXT_FIELDS[2:]:
                yield Field(label, field_id, max_length=length, placeholder=hint)
            yield ChoiceField(N_("Status"), "is_active", ACTIVE)
            with Horizontal(classes="choices"):
                yield Button(id="save", variant="primary")
                yield Button(id="close")

    def on_mount(self) -> None:
        active = self.query_one("#field-is_active", ChoiceField)
        active.set_value("yes")
        active.display = self.term_id is not None
        if self.prefill:
            field = "term_vi" if current_language() == "vi" else "term_en"
            self._input(field).value = self.prefill
        self.relabel()
        self._input("term_en").focus()
        if self.term_id is not None:
            self._load()
        else:
            self._loaded_values = self.raw_values()

    def relabel(self) -> None:
        super().relabel()
        if self.term_id is None:
            title = _("New medical term")
        elif self.detail is not None:
            title = _("Edit term: {term}").format(
                term=self.detail.term_vi if current_language() == "vi" else self.detail.term_en
            )
        else:
            title = _("Edit term")
        self.query_one("#term-form-title", Static).update(title)
        for field in self.query(Field):
            field.relabel()
        for choice in self.query(ChoiceField):
            choice.relabel()
        self.query_one("#save", Button).label = _("Save (Ctrl+S)")
        self.query_one("#close", Button).label = _("Back (Esc)")
        self._render_notice()

    def _input(self, field_id: str) -> Input:
        return self.query_one(f"#{field_id}", Input)

    def _show_notice(self, msgid: str | None, **values: object) -> None:
        self._notice = (msgid, values) if msgid else None
        self._render_notice()

    def _render_notice(self) -> None:
        text = _(self._notice[0]).format(**self._notice[1]) if self._notice else ""
        self.query_one("#term-form-notice", Static).update(text)

    # ---- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="term-form-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import terms

        database, actor = self.app.database, self.app.actor  # type: ignore[attr-defined]
        try:
            with database.session() as session:
                detail = terms.get_term(session, actor, self.term_id)  # type: ignore[arg-type]
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Loaded(detail))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._fill(message.detail)
        self._loaded_values = self.raw_values()
        self.relabel()

    def _fill(self, detail: TermDetail) -> None:
        self.detail = detail
        values = {
            "term_en": detail.term_en, "term_vi": detail.term_vi,
            "icd10_code": detail.icd10_code or "", "aliases": "; ".join(detail.aliases),
            "description_en": detail.description_en or "",
            "description_vi": detail.description_vi or "",
        }  # fmt: skip
        for field_id, value in values.items():
            self._input(field_id).value = value
        self.query_one("#field-category", ChoiceField).set_value(detail.category)
        self.query_one("#field-is_active", ChoiceField).set_value(
            "yes" if detail.is_active else "no"
        )

    # ---- what was typed -----------------------------------------------------------------

    def raw_values(self) -> dict[str, str]:
        values = {field.field_id: field.value for field in self.query(Field)}
        for choice in self.query(ChoiceField):
            values[choice.field_id] = choice.value
        return values

    def has_unsaved_changes(self) -> bool:
        return can(self, Permission.TERM_WRITE) and self.raw_values() != self._loaded_values

    # ---- saving -------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving or not can(self, Permission.TERM_WRITE):
            return
        if self.term_id is not None and self.detail is None:
            return  # still loading
        self._saving = True
        self._show_notice(N_("Saving…"))
        self._save(self.raw_values(), self.detail.version if self.detail else None)

    @work(thread=True, exclusive=True, group="term-save", exit_on_error=False)
    def _save(self, raw: dict[str, str], version: int | None) -> None:
        from clinic_tui.services import terms

        values: dict[str, Any] = {
            "term_en": raw["term_en"], "term_vi": raw["term_vi"], "category": raw["category"],
            "icd10_code": raw["icd10_code"] or None, "aliases": split_aliases(raw["aliases"]),
            "description_en": raw["description_en"], "description_vi": raw["description_vi"],
        }  # fmt: skip
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                actor = self.app.actor  # type: ignore[attr-defined]
                if self.term_id is None:
                    detail = terms.add_term(session, actor, **values)
                else:
                    detail = terms.update_term(session, actor, self.term_id, **values,
                                               is_active=raw["is_active"] != "no",
                                               expected_version=version or 0)  # fmt: skip
        except terms.TermEditConflict:
            self.post_message(self.Conflict())
            return
        except terms.TermInvalid as error:
            self.post_message(self.Invalid({k: str(v) for k, v in error.problems.items()}))
            return
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Saved(detail))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self._saving = False
        self.term_id = message.detail.id
        self._fill(message.detail)
        self._loaded_values = self.raw_values()
        self._show_problems({})
        self.query_one("#field-is_active", ChoiceField).display = True
        self.relabel()
        self._show_notice(N_("Saved."))
        for screen in self.app.screen_stack:
            term_saved = getattr(screen, "term_saved", None)
            if callable(term_saved):
                term_saved(message.detail)

    def _show_problems(self, problems: dict[str, str]) -> None:
        for field in self.query(Field):
            problem = problems.get(field.field_id)
            field.show_error(PROBLEMS.get(problem, PROBLEMS["invalid"]) if problem else None)
        for choice in self.query(ChoiceField):
            problem = problems.get(choice.field_id)
            choice.show_error(PROBLEMS.get(problem, PROBLEMS["invalid"]) if problem else None)

    @on(Invalid)
    def _invalid(self, message: Invalid) -> None:
        self._saving = False
        self._show_problems(message.problems)
        self._show_notice(N_("Some fields need attention: see the messages under them."))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._saving = False
        self._notice = None
        self.query_one("#term-form-notice", Static).update(
            message.text + " " + _("Your entries are kept: press Ctrl+S to try again.")
        )

    @on(Conflict)
    def _conflict(self) -> None:
        from clinic_tui.ui.screens.confirm import offer_reload_after_conflict

        self._saving = False
        self._show_notice(N_("Not saved: this term was changed since you opened it."))
        offer_reload_after_conflict(
            self.app,
            N_(
                "Someone else saved this term after you opened it. Nothing was overwritten. "
                "Reload to see their version (your changes here are dropped), or keep your "
                "text to copy what you need."
            ),
            self._reload,
        )

    def _reload(self) -> None:
        self._loaded_values = {}
        self._load()

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
