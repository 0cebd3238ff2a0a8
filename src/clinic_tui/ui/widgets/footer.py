"""A footer whose key descriptions follow the current language.

Textual's own Footer shows `Binding.description` as it was when the binding was declared;
ours passes it through gettext each time the bindings change or the language switches.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from clinic_tui.i18n import _


class FooterKey(Static):
    def __init__(self, key_display: str, description: str, action: str) -> None:
        super().__init__(f"[b]{key_display}[/b] {description}", markup=True)
        self.action = action

    async def on_click(self) -> None:
        await self.app.run_action(self.action, self.screen)


class ClinicFooter(Horizontal):
    DEFAULT_CSS = """
    ClinicFooter { dock: bottom; height: 1; background: $panel; }
    ClinicFooter FooterKey { width: auto; padding: 0 1; }
    ClinicFooter FooterKey:hover { background: $accent; }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, _screen: object) -> None:
        self.call_after_refresh(self.recompose)

    def compose(self) -> ComposeResult:
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            yield FooterKey(
                self.app.get_key_display(binding), _(binding.description), binding.action
            )
