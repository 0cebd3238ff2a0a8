"""The command palette (Ctrl+P): every screen the role may open, help, language, theme."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from clinic_tui.i18n import _
from clinic_tui.ui.navigation import allowed


class ClinicCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        commands: list[tuple[str, str, Callable[[], object]]] = []
        actor = getattr(app, "actor", None)
        for destination in allowed(actor):
            commands.append(
                (
                    _("Open: {name}").format(name=_(destination.title)),
                    _(destination.help),
                    partial(app.open_destination, destination.id),
                )
            )  # type: ignore[attr-defined]
        commands.append(
            (
                _("Help: every key"),
                _("List every key of the program"),
                partial(app.run_action, "help"),
            )
        )
        commands.append(
            (
                _("Switch language English / Vietnamese"),
                "",
                partial(app.run_action, "toggle_language"),
            )
        )
        commands.append(
            (_("Switch light / dark theme"), "", partial(app.run_action, "toggle_theme"))
        )
        if actor is not None:
            commands.append((_("Sign out"), "", partial(app.run_action, "logout")))
        commands.append((_("Quit"), "", partial(app.run_action, "quit")))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
