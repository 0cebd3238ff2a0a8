"""The current screen's own keys as command-palette entries (DESIGN §3: every action is also
reachable from the palette). A screen opts in with ``COMMANDS = {ScreenKeyCommands}``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from clinic_tui.i18n import _


class ScreenKeyCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object]]]:
        screen = self.screen
        found: list[tuple[str, Callable[[], object]]] = []
        seen: set[str] = set()
        for binding in type(screen).BINDINGS:  # the screen's own keys, not its widgets'
            if (
                not isinstance(binding, Binding)
                or not binding.description
                or binding.action in seen
            ):
                continue
            action, _sep, _rest = binding.action.partition("(")
            if screen.check_action(action, ()) is False:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            found.append((f"{_(binding.description)} ({key})",
                          partial(screen.run_action, binding.action)))  # fmt: skip
        return found

    async def discover(self) -> Hits:
        for title, callback in self._commands():
            yield DiscoveryHit(title, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback)
