"""A screen of tabs, each a panel in its own module imported when the screen opens: the
administration (F9) and a patient's clinical record. A panel re-reads its data when its tab is
shown, re-renders its texts on F2, and may hold unsaved typing that leaving asks about."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from clinic_tui.i18n import N_, _
from clinic_tui.services.access import Permission
from clinic_tui.ui.navigation import module_exists
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.widgets.key_commands import ScreenKeyCommands


class TabPanel(Vertical):
    """One tab of a tabbed screen. `shown` runs each time its tab becomes active."""

    def relabel(self) -> None:
        """Re-render texts in the current language (F2)."""

    def shown(self) -> None:
        """Refresh from the database: the tab became visible."""

    def has_unsaved_changes(self) -> bool:
        """Typing not yet saved: leaving the screen asks first."""
        return False


@dataclass(frozen=True)
class PanelTab:
    id: str
    title: str  # msgid
    panel: str  # "module:Class"
    permission: Permission

    @property
    def built(self) -> bool:
        return module_exists(self.panel.partition(":")[0])

    def create(self, prefix: str, **kwargs: object) -> TabPanel:
        module, _sep, name = self.panel.partition(":")
        panel_class = getattr(importlib.import_module(module), name)
        return panel_class(id=f"{prefix}-{self.id}", **kwargs)  # type: ignore[no-any-return]


class TabCommands(Provider):
    """Each tab as a palette entry ("Administration: Backups"), and the open tab's own keys
    ("Backups: Back up now (b)"), so every action is reachable from the palette."""

    def _commands(self) -> list[tuple[str, Callable[[], object]]]:
        screen = self.screen
        if not isinstance(screen, TabbedScreen):
            return []
        prefix = _(screen.HEADING)
        found: list[tuple[str, Callable[[], object]]] = [
            (f"{prefix}: {_(tab.title)}", partial(screen.action_show_tab, tab.id))
            for tab in screen.visible_tabs()
        ]
        panel, tab = screen.active_panel(), screen.active_tab()
        if panel is None or tab is None:
            return found
        for binding in type(panel).BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            action = binding.action.partition("(")[0]
            if panel.check_action(action, ()) is False:
                continue
            key = self.app.get_key_display(binding)
            found.append((f"{_(tab.title)}: {_(binding.description)} ({key})",
                          partial(panel.run_action, binding.action)))  # fmt: skip
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


class TabbedScreen(ClinicScreen):
    """Subclasses set HEADING (a msgid), TABS and PREFIX, and may pass panel arguments."""

    HEADING: ClassVar[str] = ""
    PREFIX: ClassVar[str] = "tabs"
    TABS: ClassVar[tuple[PanelTab, ...]] = ()
    COMMANDS: ClassVar = {ScreenKeyCommands, TabCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: a focused DataTable (every tab has one) takes ctrl+page keys to scroll
        # sideways, and the tab would never change.
        Binding("ctrl+pagedown", "next_tab", N_("Next tab"), id="tabs.next_tab", show=False,
                priority=True),
        Binding("ctrl+pageup", "previous_tab", N_("Previous tab"), id="tabs.previous_tab",
                show=False, priority=True),
    ]  # fmt: skip

    def __init__(self, *, screen_id: str, tab: str | None = None) -> None:
        super().__init__(id=screen_id)
        self._first_tab = tab
        self._showing: str | None = None  # the pane whose panel last read its data

    def panel_arguments(self) -> dict[str, object]:
        """What every panel of this screen is built with (the patient, for instance)."""
        return {}

    def visible_tabs(self) -> list[PanelTab]:
        actor = getattr(self.app, "actor", None)
        return [t for t in self.TABS if t.built and actor is not None and actor.can(t.permission)]

    def compose_body(self) -> ComposeResult:
        tabs = self.visible_tabs()
        initial = self._first_tab if any(t.id == self._first_tab for t in tabs) else None
        arguments = self.panel_arguments()
        with TabbedContent(id=f"{self.PREFIX}-tabs", initial=f"tab-{initial}" if initial else ""):
            for tab in tabs:
                with TabPane(_(tab.title), id=f"tab-{tab.id}"):
                    yield tab.create(self.PREFIX, **arguments)

    def on_mount(self) -> None:
        self.relabel()
        tab = self.active_tab()
        if tab is not None:  # the keys of the open tab work at once, and show in the footer
            self.call_after_refresh(self._focus_tab, tab.id)

    def relabel(self) -> None:
        super().relabel()
        tabbed = self.query_one(f"#{self.PREFIX}-tabs", TabbedContent)
        for tab in self.visible_tabs():
            tabbed.get_tab(f"tab-{tab.id}").label = _(tab.title)
        for panel in self.query(TabPanel):
            panel.relabel()

    def has_unsaved_changes(self) -> bool:
        return any(panel.has_unsaved_changes() for panel in self.query(TabPanel))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_tab":
            return any(t.id == parameters[0] for t in self.visible_tabs()) if parameters else True
        return True

    @on(TabbedContent.TabActivated)
    def _activated(self, message: TabbedContent.TabActivated) -> None:
        # The same tab activated again (by focus moving inside it) is not newly shown.
        if message.pane.id == self._showing:
            return
        self._showing = message.pane.id
        message.pane.query(TabPanel).first(TabPanel).shown()

    def action_show_tab(self, tab_id: str) -> None:
        if any(t.id == tab_id for t in self.visible_tabs()):
            # Hiding the focused widget would hand focus to a neighbour in the old tab, whose
            # "focused" notice would switch back to it: let go of focus first.
            self.set_focus(None)
            self.query_one(f"#{self.PREFIX}-tabs", TabbedContent).active = f"tab-{tab_id}"
            # From the palette, focus returns to where it was (the old tab) once it closes,
            # which would switch back: move it into the new tab after that.
            self.call_after_refresh(self._focus_tab, tab_id)

    def _focus_tab(self, tab_id: str) -> None:
        tabbed = self.query_one(f"#{self.PREFIX}-tabs", TabbedContent)
        tabbed.active = f"tab-{tab_id}"
        focusable = [w for w in tabbed.get_pane(f"tab-{tab_id}").query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def _move(self, step: int) -> None:
        ids = [f"tab-{t.id}" for t in self.visible_tabs()]
        tabbed = self.query_one(f"#{self.PREFIX}-tabs", TabbedContent)
        if ids:
            index = ids.index(tabbed.active) if tabbed.active in ids else 0
            self.action_show_tab(ids[(index + step) % len(ids)].removeprefix("tab-"))

    def action_next_tab(self) -> None:
        self._move(1)

    def action_previous_tab(self) -> None:
        self._move(-1)

    def active_tab(self) -> PanelTab | None:
        active = self.query_one(f"#{self.PREFIX}-tabs", TabbedContent).active.removeprefix("tab-")
        return next((tab for tab in self.visible_tabs() if tab.id == active), None)

    def active_panel(self) -> TabPanel | None:
        tabbed = self.query_one(f"#{self.PREFIX}-tabs", TabbedContent)
        if not tabbed.active:
            return None
        return tabbed.get_pane(tabbed.active).query(TabPanel).first(TabPanel)
