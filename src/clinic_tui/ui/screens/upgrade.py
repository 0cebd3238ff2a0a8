"""An administrator signed in on a database behind this program: upgrade it first."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _
from clinic_tui.ui.screens.admin_migrations import event_text
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.widgets.migration_progress import MigrationProgress


class UpgradeScreen(ClinicScreen):
    class Progress(Message):
        def __init__(self, done: int, total: int, line: str) -> None:
            super().__init__()
            self.done, self.total, self.line = done, total, line

    class Finished(Message):
        def __init__(self, error: str | None) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__(id="upgrade")
        self._state = "ask"
        self._error: str | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="panel", id="upgrade-panel"):
            yield Static(id="upgrade-title", classes="panel-title")
            yield Static(id="upgrade-text")
            yield MigrationProgress()
            with Horizontal(classes="choices"):
                yield Button(id="upgrade-now", variant="warning")
                yield Button(id="upgrade-sign-out")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#upgrade-now", Button).focus()

    def relabel(self) -> None:
        super().relabel()
        status = self.app.status  # type: ignore[attr-defined]
        texts = {
            "ask": N_(
                "The database is at revision {current}; this program needs {head}. "
                "Upgrade it now? Everyone else should stay signed out meanwhile."
            ),
            "running": N_("Upgrading from {current} to {head}…"),
            "failed": N_("The upgrade stopped: {error}"),
        }
        self.query_one("#upgrade-title", Static).update(_("Database upgrade needed"))
        self.query_one("#upgrade-text", Static).update(
            _(texts[self._state]).format(
                current=status.revision, head=status.head, error=self._error or ""
            )
        )
        self.query_one("#upgrade-now", Button).label = _("Upgrade now")
        self.query_one("#upgrade-sign-out", Button).label = _("Sign out")

    @on(Button.Pressed, "#upgrade-sign-out")
    def _sign_out(self) -> None:
        self.app.action_logout()  # type: ignore[attr-defined]

    @on(Button.Pressed, "#upgrade-now")
    def _upgrade(self) -> None:
        if self._state == "running":
            return
        self._state = "running"
        self.query_one("#upgrade-now", Button).disabled = True
        self.relabel()
        self._run()

    @work(thread=True, exclusive=True, group="upgrade", exit_on_error=False)
    def _run(self) -> None:
        from clinic_tui.services import schema_admin

        app = self.app
        status = app.status  # type: ignore[attr-defined]
        try:
            outcome = schema_admin.run(
                app.database.url,  # type: ignore[attr-defined]
                app.actor,  # type: ignore[attr-defined]
                schema_admin.plan(status.revision, "head"),
                backup_dir=app.settings.backup_dir,  # type: ignore[attr-defined]
                keep_backups=app.settings.backup_keep,  # type: ignore[attr-defined]
                on_event=lambda event: self.post_message(
                    self.Progress(event.done, event.total, event_text(event))
                ),
            )
        except Exception as error:
            self.post_message(self.Finished(describe_database_error(error)))
            return
        if outcome.locked_by:
            self.post_message(self.Finished(_("another migration is running ({holder})").format(
                holder=outcome.locked_by)))  # fmt: skip
            return
        self.post_message(self.Finished(outcome.error))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.query_one(MigrationProgress).step(message.done, message.total, message.line)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        if message.error:
            self._state, self._error = "failed", message.error
            self.query_one("#upgrade-now", Button).disabled = False
            self.relabel()
            return
        self.app.database_upgraded()  # type: ignore[attr-defined]
