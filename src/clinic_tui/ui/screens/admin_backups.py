"""The backups tab: the backup folder's list, "back up now", and restoring a chosen backup
after its revision id is typed, each with a progress bar and a status line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, ProgressBar, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_datetime, format_number, format_size
from clinic_tui.ui.screens.admin import AdminPanel

if TYPE_CHECKING:
    from clinic_tui.services.backups import BackupInfo, RestoreResult

# A status is a msgid with its values, translated when shown (F2 re-renders it), and a style.
Status = tuple[str, dict[str, Any], str]
PLAIN = "{text}"  # a line already in words (a database error): shown as it is


class BackupsPanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "backup", N_("Back up now"), id="backups.backup"),
        Binding("r", "restore", N_("Restore the selected backup"), id="backups.restore"),
        Binding("l", "refresh", N_("Refresh the list"), id="backups.refresh"),
    ]

    class Listed(Message):
        def __init__(self, backups: list[BackupInfo]) -> None:
            super().__init__()
            self.backups = backups

    class Progressed(Message):
        def __init__(self, done: int, total: int, what: str) -> None:
            super().__init__()
            self.done, self.total, self.what = done, total, what

    class Finished(Message):
        def __init__(self, status: Status, result: RestoreResult | None = None) -> None:
            super().__init__()
            self.status, self.result = status, result

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backups: list[BackupInfo] = []
        self.running: str | None = None  # "backup" or "restore" while one runs
        self._status: Status | None = None
        self._progress: tuple[int, int, str] = (0, 0, "")

    def compose(self) -> ComposeResult:
        yield Static(id="backups-summary", classes="panel-title")
        yield DataTable(id="backups-table", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="backups-bar", total=None, show_eta=False)
        yield Static(id="backups-status")
        with Horizontal(classes="choices"):
            yield Button(id="backups-backup", variant="primary")
            yield Button(id="backups-restore", variant="error")
            yield Button(id="backups-refresh")

    def on_mount(self) -> None:
        self.query_one("#backups-bar", ProgressBar).display = False
        self.relabel()

    def shown(self) -> None:
        self.action_refresh()

    # ---- rendering ----------------------------------------------------------------------

    def relabel(self) -> None:
        settings = self.app.settings  # type: ignore[attr-defined]
        self.query_one("#backups-summary", Static).update(
            _("Backups in {folder} (the newest {keep} are kept)").format(
                folder=settings.backup_dir, keep=settings.backup_keep
            )
        )
        for button, label in (
            ("#backups-backup", N_("Back up now")),
            ("#backups-restore", N_("Restore…")),
            ("#backups-refresh", N_("Refresh")),
        ):
            self.query_one(button, Button).label = _(label)
        self._render_table()
        self._render_status()

    def _render_table(self) -> None:
        table = self.query_one("#backups-table", DataTable)
        selected = self.selected()
        table.clear(columns=True)
        for key, title in (
            ("date", N_("Date")),
            ("size", N_("Size")),
            ("revision", N_("Revision")),
            ("by", N_("Made by")),
            ("file", N_("File")),
        ):
            table.add_column(_(title), key=key)
        for info in self.backups:
            table.add_row(
                format_datetime(info.created_at.astimezone(CLINIC_TIMEZONE)),
                Text(format_size(info.size), justify="right"),
                info.revision or "?",
                info.created_by or "—",
                Text(info.name, style="dim"),
                key=str(info.path),
            )
        if selected is not None and selected in self.backups:
            table.move_cursor(row=self.backups.index(selected))

    def _render_status(self) -> None:
        status = self.query_one("#backups-status", Static)
        if self.running:
            done, total, what = self._progress
            if not total:
                msgid = (
                    N_("Starting the backup…")
                    if self.running == "backup"
                    else N_("Checking the backup file…")
                )
            elif self.running == "backup":
                msgid = N_("Backing up ({done} of {total}): {what}")
            else:
                msgid = N_("Restoring ({done} of {total}): {what}")
            status.update(_(msgid).format(done=done, total=total, what=what))
        elif self._status is not None:
            msgid, values, style = self._status
            status.update(Text(_(msgid).format(**values), style=style))
        elif not self.backups:
            status.update(Text(_("No backups yet: press b to make one."), style="dim"))
        else:
            status.update("")

    def _set_status(self, msgid: str, style: str = "", **values: Any) -> None:
        self._status = (msgid, values, style)
        self._render_status()

    def selected(self) -> BackupInfo | None:
        table = self.query_one("#backups-table", DataTable)
        if not self.backups or table.cursor_row < 0 or table.cursor_row >= len(self.backups):
            return None
        return self.backups[table.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("backup", "restore"):
            return self.running is None
        return True

    # ---- listing --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._list()

    @work(thread=True, exclusive=True, group="backups-list", exit_on_error=False)
    def _list(self) -> None:
        from clinic_tui.services.backups import list_backups

        self.post_message(self.Listed(list_backups(self.app.settings.backup_dir)))  # type: ignore[attr-defined]

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        self.backups = message.backups
        self._render_table()
        self._render_status()

    # ---- backing up and restoring ---------------------------------------------------------

    @on(Button.Pressed, "#backups-backup")
    def action_backup(self) -> None:
        if self.running is None:
            self._start("backup")
            self._back_up()

    @on(Button.Pressed, "#backups-restore")
    def action_restore(self) -> None:
        from clinic_tui.ui.screens.typed_confirm import TypedConfirmScreen

        info = self.selected()
        if self.running is not None:
            return
        if info is None:
            self._set_status(N_("Choose a backup in the list first."), "bold")
            return
        when = format_datetime(info.created_at.astimezone(CLINIC_TIMEZONE))
        screen = TypedConfirmScreen(
            N_("Restore the backup of {date}?"),
            N_(
                "Everything in the database is replaced by this backup, for every user: "
                "whatever was recorded after {date} is lost. Backup {file}, revision "
                "{revision}, {size}, made by {by}."
            ),
            info.revision or info.name,
            date=when,
            file=info.name,
            revision=info.revision or "?",
            size=format_size(info.size),
            by=info.created_by or "—",
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._start("restore")
                self._restore(info)
            else:
                self._set_status(N_("Nothing was restored."), "dim")

        self.app.push_screen(screen, answered)

    @on(Button.Pressed, "#backups-refresh")
    def _refresh_pressed(self) -> None:
        self.action_refresh()

    def _start(self, kind: str) -> None:
        self.running, self._status, self._progress = kind, None, (0, 0, "")
        bar = self.query_one("#backups-bar", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        for button in self.query(Button):
            button.disabled = button.id != "backups-refresh"
        self._render_status()
        self.refresh_bindings()

    def _post_progress(self, done: int, total: int, what: str) -> None:
        self.post_message(self.Progressed(done, total, what))  # from the worker: thread-safe

    @work(thread=True, exclusive=True, group="backups-job", exit_on_error=False)
    def _back_up(self) -> None:
        from clinic_tui.services import backups

        app = self.app
        try:
            info = backups.backup_now(
                app.database.url,  # type: ignore[attr-defined]
                app.actor,  # type: ignore[attr-defined]
                backup_dir=app.settings.backup_dir,  # type: ignore[attr-defined]
                keep=app.settings.backup_keep,  # type: ignore[attr-defined]
                on_progress=self._post_progress,
            )
        except Exception as error:
            self.post_message(self.Finished(_failure(error)))
            return
        values = {"file": info.name, "size": format_size(info.size), "revision": info.revision}
        written = N_("Backup written: {file} ({size}, revision {revision}).")
        self.post_message(self.Finished((written, values, "bold green")))

    @work(thread=True, exclusive=True, group="backups-job", exit_on_error=False)
    def _restore(self, info: BackupInfo) -> None:
        from clinic_tui.services import backups

        app = self.app
        database = app.database  # type: ignore[attr-defined]
        try:
            result = backups.restore(
                database.url,
                app.actor,  # type: ignore[attr-defined]
                info.path,
                on_progress=self._post_progress,
            )
        except Exception as error:
            self.post_message(self.Finished(_failure(error)))
            return
        # Pooled connections knew the replaced tables: new ones are opened from here on.
        database.engine.dispose()
        self.post_message(self.Finished(_restored(result), result))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        # The closing tick names nothing: keep showing the last table or entry.
        self._progress = (message.done, message.total, message.what or self._progress[2])
        if message.total:
            self.query_one("#backups-bar", ProgressBar).update(
                total=message.total, progress=message.done
            )
        self._render_status()

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = None
        self.query_one("#backups-bar", ProgressBar).display = False
        for button in self.query(Button):
            button.disabled = False
        self._status = message.status
        self._render_status()
        self.refresh_bindings()
        self.action_refresh()
        if message.result is not None:
            # A backup from an older version leaves the schema behind: other screens wait.
            self.app.schema_moved(message.result.revision)  # type: ignore[attr-defined]


def _failure(error: Exception) -> Status:
    from clinic_tui.services.access import PermissionDenied
    from clinic_tui.services.backups import BackupError

    if isinstance(error, BackupError):
        return (error.msgid, dict(error.values), "bold red")
    if isinstance(error, PermissionDenied):
        return (N_("Only an administrator may back up or restore the database."), {}, "bold red")
    return (PLAIN, {"text": describe_database_error(error)}, "bold red")


def _restored(result: RestoreResult) -> Status:
    values: dict[str, Any] = {
        "file": result.path.name,
        "revision": result.revision,
        "head": result.head,
        "rows": format_number(result.total_rows),
        "tables": ", ".join(result.differences),
    }
    if result.differences:
        msgid = N_("Restored {file}, but row counts differ from the backup's in: {tables}")
        return (msgid, values, "bold red")
    if result.revision != result.head:
        msgid = N_(
            "Restored {file}: {rows} rows, revision {revision}. This program needs {head}: "
            "upgrade from the Migrations tab."
        )
        return (msgid, values, "bold yellow")
    if not result.actor_present:
        msgid = N_(
            "Restored {file}: {rows} rows. Your account is not in the restored data: sign out (F8)."
        )
        return (msgid, values, "bold yellow")
    return (N_("Restored {file}: {rows} rows, as when it was backed up."), values, "bold green")
