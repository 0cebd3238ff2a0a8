"""Administration (F9): the database, staff and reference data, one tab each.

Each tab is a panel in its own module (`admin_<name>.py`), imported when the screen opens.
"""

from __future__ import annotations

from typing import ClassVar

from clinic_tui.i18n import N_
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.tabbed import PanelTab, TabbedScreen, TabPanel


class AdminPanel(TabPanel):
    """One tab of the admin screen."""


_SCREENS = "clinic_tui.ui.screens"
TABS: tuple[PanelTab, ...] = (
    PanelTab("migrations", N_("Migrations"), f"{_SCREENS}.admin_migrations:MigrationsPanel",
             Permission.DATABASE_ADMIN),
    PanelTab("verify", N_("Verify"), f"{_SCREENS}.admin_verify:VerifyPanel",
             Permission.DATABASE_ADMIN),
    PanelTab("backups", N_("Backups"), f"{_SCREENS}.admin_backups:BackupsPanel",
             Permission.DATABASE_ADMIN),
    PanelTab("maintenance", N_("Maintenance"), f"{_SCREENS}.admin_maintenance:MaintenancePanel",
             Permission.DATABASE_ADMIN),
    PanelTab("monitoring", N_("Monitoring"), f"{_SCREENS}.admin_monitoring:MonitoringPanel",
             Permission.DATABASE_ADMIN),
    PanelTab("staff", N_("Staff"), f"{_SCREENS}.admin_staff:StaffPanel", Permission.USER_ADMIN),
    PanelTab("webhooks", N_("Webhook events"), f"{_SCREENS}.admin_webhooks:WebhooksPanel",
             Permission.DATABASE_ADMIN),
    PanelTab("checklists", N_("Check-in checklists"),
             f"{_SCREENS}.admin_checklists:ChecklistsPanel", Permission.REFERENCE_ADMIN),
    PanelTab("reference", N_("Reference data"), f"{_SCREENS}.admin_reference:ReferencePanel",
             Permission.REFERENCE_ADMIN),
)  # fmt: skip


class AdminScreen(TabbedScreen):
    HEADING: ClassVar[str] = N_("Administration")
    PREFIX: ClassVar[str] = "admin"
    TABS = TABS

    def __init__(self, tab: str | None = None) -> None:
        super().__init__(screen_id="admin", tab=tab)
