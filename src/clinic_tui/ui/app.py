"""The application: reaching the database, who is signed in, language, and screen switching.

Screens are switched, not stacked: signing out replaces everything with a fresh login screen,
so no screen that showed patient data survives it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import constants as textual_constants
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from clinic_tui.config import Settings
from clinic_tui.i18n import N_, _, current_language, other_language, set_language
from clinic_tui.services.access import Actor
from clinic_tui.services.status import DatabaseStatus, SchemaState
from clinic_tui.ui import live
from clinic_tui.ui.commands import ClinicCommands
from clinic_tui.ui.messages import ConnectionFailed, DatabaseReady
from clinic_tui.ui.navigation import Destination, allowed, by_id, landing

if TYPE_CHECKING:
    # SQLAlchemy loads in the connecting worker, after the first screen is drawn.
    from clinic_tui.db.engine import Database, ServerInfo

THEMES = {"dark": "textual-dark", "light": "textual-light"}


class ClinicApp(App[int]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "clinic-tui"
    COMMANDS: ClassVar = {ClinicCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "open('today')", N_("Today"), id="app.today"),
        Binding("f3", "open('patients')", N_("Patients"), id="app.patients"),
        Binding("f4", "open('schedule')", N_("Availability"), id="app.schedule"),
        Binding("f5", "open('invoicing')", N_("Invoicing"), id="app.invoicing"),
        Binding("f6", "open('terms')", N_("Terms"), id="app.terms"),
        Binding("f7", "open('protocols')", N_("Protocols"), id="app.protocols"),
        Binding("f9", "open('admin')", N_("Admin"), id="app.admin"),
        Binding("f2", "toggle_language", N_("EN/VI"), id="app.language", priority=True),
        Binding("f8", "logout", N_("Sign out"), id="app.logout"),
        Binding("f10", "quit", N_("Quit"), id="app.quit"),
        Binding("f12", "help", N_("Help"), id="app.help"),
    ]

    db_state: reactive[str] = reactive("connecting")

    def __init__(self, settings: Settings, *, database: Database | None = None) -> None:
        # TEXTUAL_LOG would have Textual append every key and message, typed passwords and
        # patients' names among them, to a file readable by anyone: not in a clinic.
        textual_constants.LOG_FILE = None  # type: ignore[misc]
        super().__init__()
        self.settings = settings
        self.database = database
        self._owns_database = database is None
        self.server_info: ServerInfo | None = None
        self.status: DatabaseStatus | None = None
        self.actor: Actor | None = None
        self._language_chosen_before_sign_in = False
        set_language(settings.lang)
        self.theme = THEMES[settings.theme]

    # ---- start --------------------------------------------------------------------------

    def on_mount(self) -> None:
        # The login screen is up (and takes typing) before the database is reached.
        from clinic_tui.ui.screens.login import LoginScreen

        self.push_screen(LoginScreen())
        self.connect_database()

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def connect_database(self) -> None:
        """Start or join the embedded server, or reach the configured one, off the UI thread."""
        from clinic_tui.cli import describe_server_failure, describe_unavailable
        from clinic_tui.db.embedded import EmbeddedServerError
        from clinic_tui.db.engine import Database, DatabaseUnavailable, classify_error
        from clinic_tui.services.setup import inspect_database

        try:
            database = self.database or Database.from_settings(self.settings)
            info = database.check()
            with database.engine.connect() as conn:
                status = inspect_database(conn)
        except EmbeddedServerError as error:
            self.post_message(ConnectionFailed(describe_server_failure(error, self.settings)))
            return
        except DatabaseUnavailable as error:
            self.post_message(ConnectionFailed(describe_unavailable(error)))
            return
        except Exception as error:
            self.post_message(ConnectionFailed(describe_unavailable(classify_error(error))))
            return
        self.post_message(DatabaseReady(database, info, status))

    @on(DatabaseReady)
    def _database_ready(self, message: DatabaseReady) -> None:
        self.database = message.database
        self.server_info = message.info
        self.status = message.status
        self.db_state = "connected"
        if message.status.needs_first_run:
            from clinic_tui.ui.screens.first_run import FirstRunScreen

            self.switch_screen(FirstRunScreen(message.status))
            return
        database_known = getattr(self.screen, "database_known", None)
        if callable(database_known):
            database_known(message.status)

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        self.db_state = "unavailable"
        show_text = getattr(self.screen, "show_text", None)
        if callable(show_text):
            show_text(message.text)
        else:
            self.notify(message.text, severity="error", timeout=15)

    def first_run_finished(self) -> None:
        """After the demo clinic is loaded: look at the database again, then sign in."""
        from clinic_tui.ui.screens.login import LoginScreen

        self.switch_screen(LoginScreen())
        self.connect_database()

    # ---- signing in and out -------------------------------------------------------------

    def signed_in(self, actor: Actor) -> None:
        self.actor = actor
        live.start(self)  # other terminals' bookings appear here; never breaks signing in
        if self._language_chosen_before_sign_in:
            # F2 on the login screen is this person's choice now: keep it and remember it.
            self._remember_language(actor, current_language())
        else:
            set_language(actor.locale)
        self._language_chosen_before_sign_in = False
        if self.status is not None and self.status.schema is SchemaState.BEHIND:
            from clinic_tui.ui.screens.upgrade import UpgradeScreen

            self.switch_screen(UpgradeScreen())
            return
        self.open_destination(landing(actor).id)

    def database_upgraded(self) -> None:
        """The upgrade screen finished: the schema is current now."""
        from dataclasses import replace

        if self.status is not None:
            self.status = replace(
                self.status, schema=SchemaState.CURRENT, revision=self.status.head
            )
        self.open_destination(landing(self.actor).id)

    def schema_moved(self, revision: str | None) -> None:
        """The admin migrated (either way) or found the database elsewhere than expected."""
        from dataclasses import replace

        if self.status is None or revision == self.status.revision:
            return
        if revision is None:
            schema = SchemaState.EMPTY
        elif revision == self.status.head:
            schema = SchemaState.CURRENT
        else:
            schema = SchemaState.BEHIND
        self.status = replace(self.status, schema=schema, revision=revision)

    def schema_is_current(self) -> bool:
        return self.status is None or self.status.schema is SchemaState.CURRENT

    def action_logout(self) -> None:
        if self.actor is None:
            return
        self._leave_screens(self._sign_out)

    def _sign_out(self) -> None:
        if self.actor is None:
            return
        actor, self.actor = self.actor, None
        live.stop(self)
        self._audit_logout(actor)
        from clinic_tui.ui.screens.login import LoginScreen

        # Every screen that showed patient data goes; only the fresh login screen remains.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen())

    @work(thread=True, group="audit", exit_on_error=False)
    def _audit_logout(self, actor: Actor) -> None:
        from clinic_tui.services import auth

        if self.database is not None:
            with self.database.session() as session:
                auth.logout(session, actor)

    # ---- navigation ---------------------------------------------------------------------

    def open_destination(self, destination_id: str) -> None:
        destination = by_id(destination_id)
        if destination not in allowed(self.actor):
            self.bell()
            return
        if not self.schema_is_current() and destination.id != "admin":
            # Screens would meet tables that are not there (yet, or any more).
            self.notify(
                _("The database is at revision {revision}; this program needs {head}. "
                  "Upgrade it first (F9, Migrations).").format(
                    revision=self.status.revision if self.status else "?",
                    head=self.status.head if self.status else "?",
                ),
                severity="warning",
                timeout=10,
            )  # fmt: skip
            return
        self._leave_screens(lambda: self._switch_to(destination))

    def _switch_to(self, destination: Destination) -> None:
        # One destination at a time: close forms opened from the current one first.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if self.screen.id == destination.id:
            return
        self.switch_screen(destination.load()())

    def _leave_screens(self, then: Callable[[], None]) -> None:
        """Run `then` unless a form holds unsaved typing; then ask first (nothing typed is lost
        without a yes)."""
        while self.screen.is_modal:
            self.pop_screen()
        dirty = any(
            callable(getattr(screen, "has_unsaved_changes", None)) and screen.has_unsaved_changes()  # type: ignore[attr-defined]
            for screen in self.screen_stack
        )
        if not dirty:
            then()
            return
        from clinic_tui.ui.screens.confirm import ask_before_discarding

        ask_before_discarding(self, then)

    def action_open(self, destination_id: str) -> None:
        self.open_destination(destination_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return self.actor is not None and by_id(str(parameters[0])) in allowed(self.actor)
        if action == "logout":
            return self.actor is not None
        return True

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(
                    placeholder=_("Search for a screen or command…"), id="--command-palette"
                )
            )

    def action_help(self) -> None:
        from clinic_tui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.theme == THEMES["dark"] else THEMES["dark"]

    def watch_db_state(self, state: str) -> None:
        from clinic_tui.ui.widgets.header import ClinicHeader

        for screen in self.screen_stack:
            for header in screen.query(ClinicHeader):
                header.db_state = state

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
        if self.actor is not None:
            self._remember_language(self.actor, current_language())
        else:
            self._language_chosen_before_sign_in = True
        self.notify(
            _("Language: English") if current_language() == "en" else _("Language: Vietnamese")
        )

    @work(thread=True, group="language", exit_on_error=False)
    def _remember_language(self, actor: Actor, language: str) -> None:
        from clinic_tui.services import auth

        if self.database is not None:
            with self.database.session() as session:
                auth.set_locale(session, actor, language)

    def on_schedule_changed(self, message: live.ScheduleChanged) -> None:
        if message.full_refresh:  # the listener reconnected: the server is back
            self.db_state = "connected"
        live.forward(self, message)

    def on_connection_lost(self, message: live.ConnectionLost) -> None:
        self.db_state = "unavailable"

    def on_unmount(self) -> None:
        live.stop(self)
        if self.database is not None and self._owns_database:
            self.database.close()
