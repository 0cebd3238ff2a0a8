"""A question with a few answers, in the current language (destructive or surprising steps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from clinic_tui.i18n import N_, _


class ConfirmScreen(ModalScreen[str | None]):
    """Dismisses with the chosen answer's key, or None on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", N_("Cancel"), id="confirm.cancel"),
    ]

    def __init__(
        self, title: str, text: str, answers: list[tuple[str, str]], **values: object
    ) -> None:
        super().__init__()
        self.title_msgid, self.text_msgid, self.answers, self.values = title, text, answers, values

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-panel"):
            yield Static(_(self.title_msgid).format(**self.values), classes="panel-title")
            yield Static(_(self.text_msgid).format(**self.values), id="confirm-text")
            with Horizontal(classes="choices"):
                for index, (key, label) in enumerate(self.answers):
                    yield Button(
                        _(label), id=f"answer-{key}", variant="primary" if index == 0 else "default"
                    )

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("answer-"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def ask_before_discarding(app: App[object], then: Callable[[], None]) -> None:
    """Typed text is never dropped without a yes: `then` runs only on "Discard and leave"."""

    def answered(choice: str | None) -> None:
        if choice == "discard":
            then()

    app.push_screen(
        ConfirmScreen(
            N_("Unsaved changes"),
            N_("Leave this form and lose what was typed?"),
            [("stay", N_("Keep editing")), ("discard", N_("Discard and leave"))],
        ),
        answered,
    )


def offer_reload_after_conflict(app: App[object], text: str, reload: Callable[[], None]) -> None:
    """Someone else saved first: nothing was overwritten; `reload` runs only on "Reload", and
    "Keep my text" leaves the form as typed so it can be copied from."""

    def answered(choice: str | None) -> None:
        if choice == "reload":
            reload()

    app.push_screen(
        ConfirmScreen(
            N_("Changed since you opened it"),
            text,
            [("reload", N_("Reload")), ("keep", N_("Keep my text"))],
        ),
        answered,
    )
