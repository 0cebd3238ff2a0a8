"""The application frame: settings, the database handle, language, and screen switching."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.worker import get_current_worker

from clinic_tui.config import Settings
from clinic_tui.db.engine import Database, DatabaseUnavailable, ServerInfo
from clinic_tui.i18n import N_, _, current_language, other_language, set_language


class ClinicApp(App[int]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "clinic-tui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "toggle_language", N_("EN/VI"), id="app.language", priority=True),
        Binding("f10", "quit", N_("Quit"), id="app.quit"),
    ]

    class Connected(Message):
        def __init__(self, database: Database, info: ServerInfo) -> None:
            super().__init__()
            self.database, self.info = database, info

    class ConnectionFailed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, settings: Settings, *, database: Database | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.database = database
        self._owns_database = database is None
        self.server_info: ServerInfo | None = None
        set_language(settings.lang)

    def on_mount(self) -> None:
        from clinic_tui.ui.screens.connection import ConnectionScreen

        self.push_screen(ConnectionScreen())
        self.connect_database()

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def connect_database(self) -> None:
        """Start or join the embedded server, or reach the configured one, off the UI thread."""
        from clinic_tui.cli import describe_server_failure, describe_unavailable
        from clinic_tui.db.embedded import EmbeddedServerError

        worker = get_current_worker()
        try:
            database = self.database or Database.from_settings(self.settings)
            info = database.check()
        except EmbeddedServerError as error:
            self.post_message(self.ConnectionFailed(describe_server_failure(error, self.settings)))
            return
        except DatabaseUnavailable as error:
            self.post_message(self.ConnectionFailed(describe_unavailable(error)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Connected(database, info))

    def on_clinic_app_connected(self, message: Connected) -> None:
        self.database = message.database
        self.server_info = message.info
        self.screen.post_message(message)

    def on_clinic_app_connection_failed(self, message: ConnectionFailed) -> None:
        self.screen.post_message(message)

    def action_toggle_language(self) -> None:
        set_language(other_language())
        self.refresh_bindings()
        from clinic_tui.ui.widgets.footer import ClinicFooter

        for screen in self.screen_stack:
            relabel = getattr(screen, "relabel", None)
            if callable(relabel):
                relabel()
            for footer in screen.query(ClinicFooter):
                footer.refresh(recompose=True)
        self.notify(
            _("Language: English") if current_language() == "en" else _("Language: Vietnamese")
        )

    def on_unmount(self) -> None:
        if self.database is not None and self._owns_database:
            self.database.close()
