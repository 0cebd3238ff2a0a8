"""The admin's backups tab (F9): back up now, the list, a wrong typed confirmation refused, and
a restore that brings every row back while the app keeps working on fresh connections."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Input

from clinic_tui.i18n import _
from clinic_tui.services.backups import list_backups, row_counts
from clinic_tui.ui.screens.admin_backups import BackupsPanel
from clinic_tui.ui.screens.typed_confirm import TypedConfirmScreen
from tests.db.populate import populate_every_table
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_terms import signed_in


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return row_counts(conn)
    finally:
        engine.dispose()


def _populate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        populate_every_table(conn)
    engine.dispose()


async def _open_backups(app, pilot) -> BackupsPanel:
    await signed_in(app, pilot, "admin@clinic.vn", "f9")
    assert app.screen.id == "admin"
    app.screen.action_show_tab("backups")
    await settle(app, pilot)
    panel = app.screen.query_one(BackupsPanel)
    panel.query_one("#backups-table", DataTable).focus()
    await settle(app, pilot)
    return panel


async def test_back_up_then_restore_through_the_screen(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    _populate(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open_backups(app, pilot)
        assert panel.backups == []
        assert "No backups yet" in screen_text(app)

        before = _counts(db_url)
        await pilot.press("b")
        await settle(app, pilot)
        (info,) = list_backups(app.settings.backup_dir)
        assert panel.backups == [info]
        assert info.row_counts == before and info.created_by == "admin@clinic.vn"
        table = panel.query_one("#backups-table", DataTable)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[2:] == [info.revision, "admin@clinic.vn", info.name]
        assert row[1].endswith(" kB")
        assert f"Backup written: {info.name}" in screen_text(app)

        _populate(db_url)  # what is recorded after the backup is lost by the restore
        assert _counts(db_url) != before

        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        assert "Everything in the database is replaced" in screen_text(app)
        await type_text(pilot, "0001")  # not the backup's revision
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        assert f"That is not {info.revision}: nothing was done." in screen_text(app)
        assert _counts(db_url) != before

        app.screen.query_one("#typed-confirm-input", Input).value = ""
        await type_text(pilot, info.revision)
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, TypedConfirmScreen)
        assert panel.running is None
        assert f"Restored {info.name}" in screen_text(app)
        assert "as when it was backed up" in screen_text(app)
        after = _counts(db_url)
        assert after == {**before, "audit_log": before["audit_log"] + 1}  # + the restore's entry

        # The app's own connections were replaced: it reads the restored data at once.
        with app.database.session() as session:
            patients = session.execute(text("SELECT count(*) FROM patients")).scalar_one()
        assert patients == before["patients"]


async def test_cancelled_restore_changes_nothing(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open_backups(app, pilot)
        await pilot.press("b")
        await settle(app, pilot)
        assert len(panel.backups) == 1
        _populate(db_url)
        changed = _counts(db_url)
        await pilot.press("r")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, TypedConfirmScreen)
        assert "Nothing was restored." in screen_text(app)
        assert _counts(db_url) == changed


async def test_progress_shows_while_a_backup_runs(app_factory, staff, db_url) -> None:
    from textual.widgets import ProgressBar

    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open_backups(app, pilot)
        bar = panel.query_one("#backups-bar", ProgressBar)
        assert not bar.display
        # What the worker posts while pg_dump runs, without waiting for a slow dump.
        panel._start("backup")
        panel.post_message(BackupsPanel.Progressed(12, 40, "public.patients"))
        await pilot.pause()
        assert bar.display and (bar.progress, bar.total) == (12, 40)
        assert "Backing up (12 of 40): public.patients" in screen_text(app)
        assert not panel.check_action("backup", ()) and not panel.check_action("restore", ())
        await pilot.press("f2")  # the running line follows the language
        await pilot.pause()
        running = _("Backing up ({done} of {total}): {what}")  # in Vietnamese now
        assert running.format(done=12, total=40, what="public.patients") in screen_text(app)
        await pilot.press("f2")
        panel.post_message(BackupsPanel.Finished(("Nothing was restored.", {}, "")))
        await settle(app, pilot)
        assert not bar.display and panel.running is None
