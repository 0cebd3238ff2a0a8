"""The start page after signing in: who you are, what you may open, the database."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from clinic_tui.db.engine import ServerInfo
from clinic_tui.i18n import _
from clinic_tui.services.access import ROLE_LABELS
from clinic_tui.ui.navigation import allowed
from clinic_tui.ui.screens.base import ClinicScreen


class HomeScreen(ClinicScreen):
    def __init__(self) -> None:
        super().__init__(id="home")

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="home-body"):
            with Vertical(classes="panel"):
                yield Static(id="home-welcome", classes="panel-title")
                yield Static(id="home-destinations")
            with Vertical(classes="panel"):
                yield Static(id="home-database-title", classes="panel-title")
                yield Static(id="home-database")

    class InfoLoaded(Message):
        def __init__(self, info: ServerInfo) -> None:
            super().__init__()
            self.info = info

    def on_mount(self) -> None:
        self._info: ServerInfo | None = None
        self.relabel()
        self._load_info()

    @work(thread=True, exclusive=True, group="home-info", exit_on_error=False)
    def _load_info(self) -> None:
        self.post_message(self.InfoLoaded(self.app.database.check()))  # type: ignore[attr-defined]

    @on(InfoLoaded)
    def _info_loaded(self, message: InfoLoaded) -> None:
        self._info = message.info
        self.relabel()

    def relabel(self) -> None:
        super().relabel()
        actor = self.app.actor  # type: ignore[attr-defined]
        self.query_one("#home-welcome", Static).update(
            _("Welcome, {name} ({role})").format(
                name=actor.full_name, role=_(ROLE_LABELS[actor.role])
            )
        )
        lines = [f"{(d.key or '').upper():>4}  {_(d.title)} — {_(d.help)}" for d in allowed(actor)]
        # Translated outside the f-strings: the message extractor does not look inside them.
        help_text, palette_text = _("Help: every key"), _("Command palette")
        lines.append(f"{'F12':>4}  {help_text}")
        lines.append(f"{'^P':>4}  {palette_text}")
        self.query_one("#home-destinations", Static).update("\n".join(lines))
        self.query_one("#home-database-title", Static).update(_("Database"))
        info = self._info
        if info is None:
            self.query_one("#home-database", Static).update(_("Connecting to the database…"))
            return
        rows = [
            (_("Database"), info.database),
            (_("Server"), info.location),
            (_("Server version"), f"PostgreSQL {info.version}"),
            (_("Schema revision"), info.revision or _("empty database")),
        ]
        width = max(len(label) for label, _value in rows)
        self.query_one("#home-database", Static).update(
            "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)
        )
