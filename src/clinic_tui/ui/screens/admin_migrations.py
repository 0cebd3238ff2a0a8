"""The migration tab: every revision, applied or pending; upgrade and downgrade with a backup
first, a progress bar over the revisions and a live log (DESIGN §4, §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var
from textual.widgets import Checkbox, DataTable, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language
from clinic_tui.ui.screens.admin import AdminPanel
from clinic_tui.ui.widgets.migration_progress import MigrationProgress
from clinic_tui.ui.widgets.tables import fill_measured

if TYPE_CHECKING:
    from clinic_tui.services.schema_admin import (
        MigrationEvent,
        MigrationOutcome,
        MigrationPlan,
        SchemaOverview,
    )


def event_text(event: MigrationEvent) -> str:
    values = dict(event.values)
    revision = values.pop("revision_obj", None)
    if revision is not None:
        values["title"] = revision.title(current_language())
    return _(event.msgid).format(**values)


class MigrationsPanel(AdminPanel):
    # The footer offers upgrade and roll back only while nothing runs.
    running: var[bool] = var(False, bindings=True)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "upgrade_to_head", N_("Upgrade to the latest"), id="migrations.upgrade"),
        Binding(
            "enter", "go_to_selected", N_("Migrate to the selected revision"), id="migrations.go_to"
        ),
        Binding("d", "downgrade_one", N_("Roll back one revision"), id="migrations.downgrade"),
        Binding("b", "toggle_backup", N_("Back up first: on/off"), id="migrations.backup"),
        Binding("r", "refresh", N_("Refresh"), id="migrations.refresh"),
    ]

    class Loaded(Message):
        def __init__(self, overview: SchemaOverview) -> None:
            super().__init__()
            self.overview = overview

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Progress(Message):
        def __init__(self, event: MigrationEvent) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, outcome: MigrationOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.overview: SchemaOverview | None = None
        self.events: list[MigrationEvent] = []
        self.outcome: MigrationOutcome | None = None
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="migrations-summary", classes="panel-title")
        yield DataTable(id="migrations-table", cursor_type="row", zebra_stripes=True)
        yield Checkbox(value=True, id="migrations-backup", compact=True)
        yield MigrationProgress(id="migrations-progress")
        yield Static(id="migrations-result")

    def on_mount(self) -> None:
        # The log takes its room only once something runs: the chain gets the screen.
        self.query_one(MigrationProgress).display = False
        self.relabel()

    def shown(self) -> None:
        if not self.running:
            self._load()

    # ---- texts ---------------------------------------------------------------------------

    def relabel(self) -> None:
        self.query_one("#migrations-backup", Checkbox).label = _(
            "Back up the database before migrating (recommended)"
        )
        self._render_summary()
        self._render_table()
        self._render_log()
        self._render_result()

    def _render_summary(self) -> None:
        summary = self.query_one("#migrations-summary", Static)
        overview = self.overview
        if self._error:
            summary.update(Text(self._error, style="bold red"))
        elif overview is None:
            summary.update(_("Reading the database's revision…"))
        else:
            summary.update(
                _("Database at {current} · latest {head} · {pending} pending").format(
                    current=overview.current or _("empty"),
                    head=overview.head,
                    pending=overview.pending,
                )
            )

    def _render_table(self) -> None:
        table = self.query_one("#migrations-table", DataTable)
        cursor = table.cursor_row
        headers = ["", _("Revision"), _("Description"), _("State")]
        rows: list[tuple[str | None, list[str | Text]]] = []
        language = current_language()
        for state in self.overview.revisions if self.overview is not None else ():
            if state.current:
                mark, label = "▶", _("current")
            elif state.applied:
                mark, label = "✓", _("applied")
            else:
                mark, label = "·", _("pending")
            style = "bold" if state.current else ("dim" if not state.applied else "")
            rows.append((state.revision.id, [
                mark,
                Text(state.revision.id, style=style),
                Text(state.revision.title(language), style=style),
                Text(label, style=style),
            ]))  # fmt: skip
        fill_measured(table, headers, rows, fixed={0: 2})
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))

    def _render_log(self) -> None:
        progress = self.query_one(MigrationProgress)
        progress.clear()
        for event in self.events:
            progress.step(event.done, event.total, event_text(event))

    def _render_result(self) -> None:
        result = self.query_one("#migrations-result", Static)
        outcome = self.outcome
        if outcome is None:
            result.update("")
            return
        reached = outcome.reached or _("empty")
        if outcome.locked_by:
            text = Text(
                _("Nothing was changed: another migration is running ({holder}).").format(
                    holder=outcome.locked_by
                ),
                style="bold red",
            )
        elif outcome.error and outcome.failed_revision is None:
            text = Text(
                _("Nothing was changed: {error}").format(error=outcome.error), style="bold red"
            )
        elif outcome.error:
            text = Text(
                _(
                    "Revision {revision} failed: {error}\nThe database stays at {reached}, the "
                    "last revision that completed."
                ).format(revision=outcome.failed_revision, error=outcome.error, reached=reached),
                style="bold red",
            )
            if outcome.backup:
                restore = _("To return to where it was, restore the backup {path} (Backups tab).")
                text.append("\n" + restore.format(path=outcome.backup.name))
        else:
            text = Text(
                _("Done: the database is at {revision}.").format(revision=reached),
                style="bold green",
            )
            if outcome.backup:
                text.append("\n" + _("Backup taken first: {path}").format(path=outcome.backup.name))
        result.update(text)

    # ---- reading -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="migrations-load", exit_on_error=False)
    def _load(self) -> None:
        from clinic_tui.services import schema_admin

        try:
            overview = schema_admin.overview(self.app.database.url, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Loaded(overview))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.overview, self._error = message.overview, None
        self._render_summary()
        self._render_table()
        self.refresh_bindings()  # the actions wait for the chain
        self.app.schema_moved(message.overview.current)  # type: ignore[attr-defined]

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._error = message.text
        self._render_summary()

    # ---- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"upgrade_to_head", "go_to_selected", "downgrade_one", "toggle_backup"}:
            return not self.running and self.overview is not None
        return True

    def selected_revision(self) -> str | None:
        table = self.query_one("#migrations-table", DataTable)
        if self.overview is None or not table.row_count:
            return None
        return self.overview.revisions[table.cursor_row].revision.id

    def action_toggle_backup(self) -> None:
        box = self.query_one("#migrations-backup", Checkbox)
        box.value = not box.value

    def action_refresh(self) -> None:
        self.shown()

    def action_upgrade_to_head(self) -> None:
        self._ask("head")

    @on(DataTable.RowSelected, "#migrations-table")
    def _row_chosen(self) -> None:
        if self.check_action("go_to_selected", ()):
            self.action_go_to_selected()

    def action_go_to_selected(self) -> None:
        selected = self.selected_revision()
        if selected is not None:
            self._ask(selected)

    def action_downgrade_one(self) -> None:
        from clinic_tui.services.schema_admin import BASE

        if self.overview is None or self.overview.current is None:
            self.app.bell()
            return
        ids = [state.revision.id for state in self.overview.revisions]
        index = ids.index(self.overview.current)
        self._ask(ids[index - 1] if index > 0 else BASE)

    def _ask(self, target: str) -> None:
        from clinic_tui.services.schema_admin import Direction, PlanError, plan

        assert self.overview is not None
        try:
            migration = plan(self.overview.current, target)
        except PlanError as error:
            self.app.notify(_(error.msgid).format(**error.values), severity="warning")
            return
        backup = self.query_one("#migrations-backup", Checkbox).value
        values = {
            "source": migration.source or _("empty"),
            "target": migration.target,
            "count": len(migration.steps),
            "backup": _("A backup is taken first.") if backup else _("No backup will be taken."),
        }
        if migration.direction is Direction.UPGRADE:
            from clinic_tui.ui.screens.confirm import ConfirmScreen

            def answered(choice: str | None) -> None:
                if choice == "go":
                    self._start(migration)

            self.app.push_screen(
                ConfirmScreen(
                    N_("Upgrade the database"),
                    N_(
                        "From {source} to {target}: {count} revision(s). {backup} Others "
                        "should stay signed out meanwhile."
                    ),
                    [("go", N_("Upgrade")), ("cancel", N_("Cancel"))],
                    **values,
                ),
                answered,
            )
            return
        from clinic_tui.ui.screens.typed_confirm import TypedConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start(migration)

        self.app.push_screen(
            TypedConfirmScreen(
                N_("Roll the database back"),
                N_(
                    "From {source} down to {target}: {count} revision(s) are reverted and what "
                    "they hold is removed. {backup}"
                ),
                migration.target,
                **values,
            ),
            confirmed,
        )

    def _start(self, migration: MigrationPlan) -> None:
        self.running, self.events, self.outcome = True, [], None
        self.query_one(MigrationProgress).clear()
        self._render_result()
        self._migrate(migration, self.query_one("#migrations-backup", Checkbox).value)

    @work(thread=True, exclusive=True, group="migrations-run", exit_on_error=False)
    def _migrate(self, migration: MigrationPlan, backup: bool) -> None:
        from clinic_tui.services import schema_admin

        app = self.app
        settings = app.settings  # type: ignore[attr-defined]
        try:
            outcome = schema_admin.run(
                app.database.url,  # type: ignore[attr-defined]
                app.actor,  # type: ignore[attr-defined]
                migration,
                backup_dir=settings.backup_dir if backup else None,
                keep_backups=settings.backup_keep,
                on_event=lambda event: self.post_message(self.Progress(event)),
            )
        except Exception as error:
            from clinic_tui.services.schema_admin import MigrationOutcome

            outcome = MigrationOutcome(migration, None, error=describe_database_error(error))
        self.post_message(self.Finished(outcome))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.query_one(MigrationProgress).display = True
        self.events.append(message.event)
        self.query_one(MigrationProgress).step(
            message.event.done, message.event.total, event_text(message.event)
        )

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running, self.outcome = False, message.outcome
        self._render_result()
        self._load()
