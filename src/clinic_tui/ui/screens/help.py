"""Every key, for the signed-in role (F12 or the command palette)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from clinic_tui.i18n import N_, _
from clinic_tui.ui.navigation import allowed

GENERAL_KEYS = (
    ("F2", N_("Switch language English / Vietnamese")),
    ("F8", N_("Sign out")),
    ("F10", N_("Quit")),
    ("F12", N_("This help")),
    ("Ctrl+P", N_("Command palette: open any screen, switch theme")),
    ("Tab / Shift+Tab", N_("Next / previous field")),
    ("Enter", N_("Confirm, or go to the next field")),
    ("Esc", N_("Close a dialog")),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f12", "dismiss", N_("Close"), id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-panel"):
            yield Static(id="help-title", classes="panel-title")
            yield Static(id="help-keys")

    def on_mount(self) -> None:
        self.relabel()

    def relabel(self) -> None:
        self.query_one("#help-title", Static).update(_("Keys"))
        actor = getattr(self.app, "actor", None)
        rows = [((d.key or "").upper(), f"{_(d.title)} — {_(d.help)}") for d in allowed(actor)]
        rows += [(key, _(text)) for key, text in GENERAL_KEYS]
        width = max(len(key) for key, _text in rows)
        self.query_one("#help-keys", Static).update(
            "\n".join(f"{key.rjust(width)}  {text}" for key, text in rows)
        )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
