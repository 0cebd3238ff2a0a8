"""The admin's migration and verify tabs (F9): a downgrade with its typed confirmation and an
upgrade through the screen on a populated database, the lock held elsewhere, other screens
closed while the schema is behind, the checklist; snapshots mid-upgrade and of the checklist."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Input

from clinic_tui.db import migrations
from clinic_tui.services.schema_admin import MigrationEvent
from clinic_tui.ui.screens.admin_migrations import MigrationsPanel
from clinic_tui.ui.screens.typed_confirm import TypedConfirmScreen
from tests.db.populate import populate_every_table, table_counts
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_terms import signed_in


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return table_counts(conn)
    finally:
        engine.dispose()


async def _open_migrations(app, pilot) -> MigrationsPanel:
    await signed_in(app, pilot, "admin@clinic.vn", "f9")
    assert app.screen.id == "admin"
    panel = app.screen.query_one(MigrationsPanel)
    panel.query_one("#migrations-table", DataTable).focus()
    await settle(app, pilot)
    return panel


async def test_downgrade_then_upgrade_through_the_screen(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        populate_every_table(conn)
    engine.dispose()
    before = _counts(db_url)
    ids = [revision.id for revision in migrations.chain()]
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open_migrations(app, pilot)
        assert f"Database at {ids[-1]}" in screen_text(app)
        await pilot.press("b")  # no backup: this test is about the migration itself
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        await type_text(pilot, ids[-1])  # the wrong id: the current one, not the target
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        assert f"That is not {ids[-2]}" in screen_text(app)
        assert migrations.current(db_url) == ids[-1]
        box = app.screen.query_one("#typed-confirm-input", Input)
        box.value = ""
        await type_text(pilot, ids[-2])
        await pilot.press("enter")
        await settle(app, pilot)
        assert migrations.current(db_url) == ids[-2]
        assert panel.outcome is not None and panel.outcome.succeeded
        assert f"Done: the database is at {ids[-2]}" in screen_text(app)
        assert app.status.revision == ids[-2]

        await pilot.press("f3")  # other screens wait for the upgrade
        await settle(app, pilot)
        assert app.screen.id == "admin"

        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("enter")  # "Upgrade" is the first answer
        await settle(app, pilot)
        assert migrations.current(db_url) == ids[-1]
        assert f"✓ {ids[-1]}" in "\n".join(str(line) for line in panel.query_one("Log").lines)
    after = _counts(db_url)
    recreated = {"audit_log", "clinic_settings", "dated_settings"}  # 0019's tables, re-seeded
    assert {t: n for t, n in after.items() if t not in recreated} == {
        t: n for t, n in before.items() if t not in recreated
    }


async def test_the_lock_held_elsewhere_is_named(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    ids = [revision.id for revision in migrations.chain()]
    engine = create_engine(db_url)
    app = app_factory()
    with engine.connect() as holder:
        holder.execute(
            text("SELECT set_config('application_name', 'clinic-tui migrate: b@c', false)")
        )
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY})
        holder.commit()
        async with app.run_test(size=(120, 40)) as pilot:
            panel = await _open_migrations(app, pilot)
            await pilot.press("b", "d")
            await settle(app, pilot)
            await type_text(pilot, ids[-2])
            await pilot.press("enter")
            await settle(app, pilot)
            assert panel.outcome is not None and panel.outcome.locked_by
            assert "another migration is running" in screen_text(app)
            assert "b@c" in screen_text(app)
        holder.rollback()
    engine.dispose()
    assert migrations.current(db_url) == ids[-1]


async def test_verify_checklist(app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "admin@clinic.vn", "f9")
        app.screen.action_show_tab("verify")
        await settle(app, pilot)
        table = app.screen.query_one("#verify-table", DataTable)
        assert table.row_count > 10
        marks = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert marks == {"✓"}


def footer_actions(app) -> set[str]:
    from clinic_tui.ui.widgets.footer import FooterKey

    return {key.action for key in app.screen.query(FooterKey)}


async def test_the_footer_offers_migrating_only_while_nothing_runs(app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await _open_migrations(app, pilot)
        assert {"upgrade_to_head", "downgrade_one"} <= footer_actions(app)
        panel.running = True  # what starting a migration does
        await settle(app, pilot)
        assert not {"upgrade_to_head", "downgrade_one"} & footer_actions(app)
        panel.running = False
        await settle(app, pilot)
        assert {"upgrade_to_head", "downgrade_one"} <= footer_actions(app)


def test_snapshot_mid_upgrade(snap_compare, app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    chain = migrations.chain()

    async def run_before(pilot) -> None:
        await _open_migrations(app, pilot)
        panel = app.screen.query_one(MigrationsPanel)
        panel.running = True
        steps = chain[12:19]
        for done, revision in enumerate(steps[:3], start=1):
            panel.post_message(
                MigrationsPanel.Progress(
                    MigrationEvent(done, len(steps), "✓ {revision} {title}",
                                   {"revision": revision.id, "revision_obj": revision})
                )
            )  # fmt: skip
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_snapshot_verify_checklist(snap_compare, app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN", locale="vi")
    app = app_factory(lang="vi")

    async def run_before(pilot) -> None:
        await signed_in(app, pilot, "admin@clinic.vn", "f9")
        app.screen.action_show_tab("verify")
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_ctrl_page_keys_change_tabs_from_inside_a_table(app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_migrations(app, pilot)
        assert isinstance(app.focused, DataTable)
        tabs = [tab.id for tab in app.screen.visible_tabs()]
        await pilot.press("ctrl+pagedown")
        await settle(app, pilot)
        assert app.screen.active_tab().id == tabs[1]
        await pilot.press("ctrl+pageup", "ctrl+pageup")
        await settle(app, pilot)
        assert app.screen.active_tab().id == tabs[-1]


async def test_the_tabs_keys_are_in_the_command_palette(app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_migrations(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await type_text(pilot, "roll back one")
        await pilot.pause(0.3)
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await type_text(pilot, "administration verify")
        await pilot.pause(0.3)
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.active_tab().id == "verify"
