"""Administration (F9): the database, staff and reference data, one tab each.

Each tab is a panel in its own module (`admin_<name>.py`), imported when the screen opens. A
panel re-reads its data when its tab is shown and re-renders its texts on F2.
"""

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


class AdminPanel(Vertical):
    """One tab of the admin screen. `shown` runs each time its tab becomes active."""

    def relabel(self) -> None:
        """Re-render texts in the current language (F2)."""

    def shown(self) -> None:
        """Refresh from the database: the tab became visible."""

    def has_unsaved_changes(self) -> bool:
        """Typing not yet saved: leaving the admin screen asks first."""
        return False


@dataclass(frozen=True)
class AdminTab:
    id: str
    title: str  # msgid
    panel: str  # "module:Class"
    permission: Permission

    @property
    def built(self) -> bool:
        return module_exists(self.panel.partition(":")[0])

    def create(self) -> AdminPanel:
        module, _sep, name = self.panel.partition(":")
        panel_class = getattr(importlib.import_module(module), name)
        return panel_class(id=f"admin-{self.id}")  # type: ignore[no-any-return]


_SCREENS = "clinic_tui.ui.screens"
TABS: tuple[AdminTab, ...] = (
    AdminTab("migrations", N_("Migrations"), f"{_SCREENS}.admin_migrations:MigrationsPanel",
             Permission.DATABASE_ADMIN),
    AdminTab("verify", N_("Verify"), f"{_SCREENS}.admin_verify:VerifyPanel",
             Permission.DATABASE_ADMIN),
    AdminTab("backups", N_("Backups"), f"{_SCREENS}.admin_backups:BackupsPanel",
             Permission.DATABASE_ADMIN),
    AdminTab("maintenance", N_("Maintenance"), f"{_SCREENS}.admin_maintenance:MaintenancePanel",
             Permission.DATABASE_ADMIN),
    AdminTab("monitoring", N_("Monitoring"), f"{_SCREENS}.admin_monitoring:MonitoringPanel",
             Permission.DATABASE_ADMIN),
    AdminTab("staff", N_("Staff"), f"{_SCREENS}.admin_staff:StaffPanel", Permission.USER_ADMIN),
    AdminTab("reference", N_("Reference data"), f"{_SCREENS}.admin_reference:ReferencePanel",
             Permission.REFERENCE_ADMIN),
)  # fmt: skip


class AdminTabCommands(Provider):
    """Each tab as a palette entry ("Administration: Backups"), and the open tab's own keys
    ("Backups: Back up now (b)"), so every action is reachable from the palette."""

    def _commands(self) -> list[tuple[str, Callable[[], object]]]:
        screen = self.screen
        if not isinstance(screen, AdminScreen):
            return []
        prefix = _("Administration")
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


class AdminScreen(ClinicScreen):
    COMMANDS: ClassVar = {ScreenKeyCommands, AdminTabCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+pagedown", "next_tab", N_("Next tab"), id="admin.next_tab", show=False),
        Binding(
            "ctrl+pageup", "previous_tab", N_("Previous tab"), id="admin.previous_tab", show=False
        ),
    ]

    def __init__(self, tab: str | None = None) -> None:
        super().__init__(id="admin")
        self._first_tab = tab

    def visible_tabs(self) -> list[AdminTab]:
        actor = getattr(self.app, "actor", None)
        return [t for t in TABS if t.built and actor is not None and actor.can(t.permission)]

    def compose_body(self) -> ComposeResult:
        tabs = self.visible_tabs()
        initial = self._first_tab if any(t.id == self._first_tab for t in tabs) else None
        with TabbedContent(id="admin-tabs", initial=f"tab-{initial}" if initial else ""):
            for tab in tabs:
                with TabPane(_(tab.title), id=f"tab-{tab.id}"):
                    yield tab.create()

    def on_mount(self) -> None:
        self.relabel()
        tab = self.active_tab()
        if tab is not None:  # the keys of the open tab work at once, and show in the footer
            self.call_after_refresh(self._focus_tab, tab.id)

    def relabel(self) -> None:
        super().relabel()
        tabbed = self.query_one("#admin-tabs", TabbedContent)
        for tab in self.visible_tabs():
            tabbed.get_tab(f"tab-{tab.id}").label = _(tab.title)
        for panel in self.query(AdminPanel):
            panel.relabel()

    def has_unsaved_changes(self) -> bool:
        return any(panel.has_unsaved_changes() for panel in self.query(AdminPanel))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_tab":
            return any(t.id == parameters[0] for t in self.visible_tabs()) if parameters else True
        return True

    @on(TabbedContent.TabActivated, "#admin-tabs")
    def _activated(self, message: TabbedContent.TabActivated) -> None:
        panel = message.pane.query(AdminPanel).first(AdminPanel)
        panel.shown()

    def action_show_tab(self, tab_id: str) -> None:
        if any(t.id == tab_id for t in self.visible_tabs()):
            self.query_one("#admin-tabs", TabbedContent).active = f"tab-{tab_id}"
            # From the palette, focus returns to where it was (the old tab) once it closes,
            # which would switch back: move it into the new tab after that.
            self.call_after_refresh(self._focus_tab, tab_id)

    def _focus_tab(self, tab_id: str) -> None:
        tabbed = self.query_one("#admin-tabs", TabbedContent)
        tabbed.active = f"tab-{tab_id}"
        focusable = [w for w in tabbed.get_pane(f"tab-{tab_id}").query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def _move(self, step: int) -> None:
        ids = [f"tab-{t.id}" for t in self.visible_tabs()]
        tabbed = self.query_one("#admin-tabs", TabbedContent)
        if ids:
            index = ids.index(tabbed.active) if tabbed.active in ids else 0
            self.action_show_tab(ids[(index + step) % len(ids)].removeprefix("tab-"))

    def action_next_tab(self) -> None:
        self._move(1)

    def action_previous_tab(self) -> None:
        self._move(-1)

    def active_tab(self) -> AdminTab | None:
        active = self.query_one("#admin-tabs", TabbedContent).active.removeprefix("tab-")
        return next((tab for tab in self.visible_tabs() if tab.id == active), None)

    def active_panel(self) -> AdminPanel | None:
        tabbed = self.query_one("#admin-tabs", TabbedContent)
        if not tabbed.active:
            return None
        return tabbed.get_pane(tabbed.active).query(AdminPanel).first(AdminPanel)
