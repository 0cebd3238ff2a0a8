"""What the app shows while it reaches the database, and what it reached."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from clinic_tui.db.engine import ServerInfo
from clinic_tui.i18n import _
from clinic_tui.ui.widgets.footer import ClinicFooter


class ConnectionScreen(Screen[None]):
    """Database, server version and schema revision (or "empty database")."""

    def __init__(self) -> None:
        super().__init__()
        self._info: ServerInfo | None = None
        self._failure: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="connection-panel"):
            yield Static(id="connection-title")
            yield Static(id="connection-details")
        yield ClinicFooter()

    def on_mount(self) -> None:
        self.relabel()

    def on_clinic_app_connected(self, message: object) -> None:
        self._info = message.info  # type: ignore[attr-defined]
        self._failure = None
        self.relabel()

    def on_clinic_app_connection_failed(self, message: object) -> None:
        self._failure = message.text  # type: ignore[attr-defined]
        self.relabel()

    def relabel(self) -> None:
        title = self.query_one("#connection-title", Static)
        details = self.query_one("#connection-details", Static)
        title.update(_("Clinic front desk"))
        if self._failure:
            details.update(self._failure)
            details.set_class(True, "-error")
            return
        details.set_class(False, "-error")
        if self._info is None:
            details.update(_("Connecting to the database…"))
            return
        info = self._info
        rows = [
            (_("Database"), info.url),
            (_("Server version"), f"PostgreSQL {info.version}"),
            (_("Schema revision"), info.revision or _("empty database")),
        ]
        width = max(len(label) for label, _value in rows)
        details.update("\n".join(f"{label.ljust(width)}  {value}" for label, value in rows))
