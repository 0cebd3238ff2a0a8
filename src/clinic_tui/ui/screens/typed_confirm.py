"""A confirmation that must be typed (a revision id, a backup's name) before something that
cannot be undone from the keyboard: a downgrade, a restore."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from clinic_tui.i18n import N_, _


class TypedConfirmScreen(ModalScreen[bool]):
    """Dismisses True only when `expected` was typed exactly; Esc or Cancel dismiss False."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="typed_confirm.cancel"),
    ]

    def __init__(self, title: str, text: str, expected: str, **values: object) -> None:
        super().__init__()
        self.title_msgid, self.text_msgid = title, text
        self.expected, self.values = expected, {**values, "expected": expected}

    def compose(self) -> ComposeResult:
        with Vertical(id="typed-confirm-panel"):
            yield Static(_(self.title_msgid).format(**self.values), classes="panel-title")
            yield Static(_(self.text_msgid).format(**self.values), id="typed-confirm-text")
            yield Static(
                _("Type {expected} to confirm:").format(expected=self.expected),
                classes="field-label",
            )
            yield Input(id="typed-confirm-input")
            yield Static("", id="typed-confirm-error", classes="field-error")
            with Horizontal(classes="choices"):
                yield Button(_("Confirm"), id="typed-confirm-ok", variant="error")
                yield Button(_("Cancel"), id="typed-confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#typed-confirm-input", Input).focus()

    @on(Input.Submitted, "#typed-confirm-input")
    @on(Button.Pressed, "#typed-confirm-ok")
    def _confirm(self) -> None:
        typed = self.query_one("#typed-confirm-input", Input).value.strip()
        if typed == self.expected:
            self.dismiss(True)
            return
        self.query_one("#typed-confirm-error", Static).update(
            _("That is not {expected}: nothing was done.").format(expected=self.expected)
        )

    @on(Button.Pressed, "#typed-confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
