"""The maintenance and monitoring tabs (F9): an admin runs ANALYZE and the retention clean-up
(counts first, then a confirmation) and reads what each did; monitoring shows every table and
reads the statistics again on `r`, with numbers in the current language."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Input

from clinic_tui.config import CLINIC_TIMEZONE as ICT
from clinic_tui.i18n import format_date
from clinic_tui.services import maintenance
from clinic_tui.ui.screens.admin import AdminScreen
from clinic_tui.ui.screens.admin_maintenance import MaintenancePanel
from clinic_tui.ui.screens.admin_monitoring import MonitoringPanel
from clinic_tui.ui.screens.confirm import ConfirmScreen
from tests.db.populate import populate_every_table
from tests.ui.conftest import PASSWORD, screen_text, settle, type_text


def run_sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run statements in one committed transaction; the last one's rows."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = [tuple(row) for row in result] if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def add_old_events(url: str) -> None:
    """Two video call events and three webhook events past their limits, one of each inside."""
    engine = create_engine(url)
    now = datetime.now(ICT)
    try:
        with engine.begin() as conn:
            populate_every_table(conn)
            session_id = conn.execute(text("SELECT id FROM video_call_sessions LIMIT 1")).scalar()
            for days in (400, 120, 10):
                conn.execute(
                    text(
                        "INSERT INTO video_call_events (session_id, event_type, created_at) "
                        "VALUES (:session, 'participant-connected', :at)"
                    ),
                    {"session": session_id, "at": now - timedelta(days=days)},
                )
            for days in (400, 60, 45, 5):
                conn.execute(
                    text(
                        "INSERT INTO twilio_webhook_events (event_type, created_at) "
                        "VALUES ('room-ended', :at)"
                    ),
                    {"at": now - timedelta(days=days)},
                )
    finally:
        engine.dispose()


async def admin_tab(app, pilot, tab: str):
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, "admin@clinic.vn")
    await pilot.press("enter")
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("f9")
    await settle(app, pilot)
    assert isinstance(app.screen, AdminScreen)
    app.screen.action_show_tab(tab)
    await settle(app, pilot)
    return app.screen.active_panel()


def cells(table: DataTable, column: int = 0) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_analyze_then_the_retention_cleanup(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    add_old_events(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await admin_tab(app, pilot, "maintenance")
        assert isinstance(panel, MaintenancePanel)
        assert "Nothing run yet" in screen_text(app)

        await pilot.press("a")
        await settle(app, pilot)
        tables = run_sql(
            db_url,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p') AND NOT relispartition",
        )[0][0]
        assert "ANALYZE finished in" in screen_text(app)
        assert f"statistics refreshed on {tables} tables." in screen_text(app)
        assert panel.running is None and not panel.query_one("#maintenance-running").display

        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-text").render())
        assert "Video call events older than 90 days" in question
        assert question.index("events older than 90 days") < question.index(": 2")
        assert "Twilio webhook events older than 30 days" in question and ": 3" in question
        # Nothing goes before the answer.
        assert run_sql(db_url, "SELECT count(*) FROM twilio_webhook_events")[0][0] >= 4

        await pilot.click("#answer-delete")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        shown = screen_text(app)
        assert "Retention clean-up finished in" in shown and "rows deleted:" in shown
        assert "Video call events older than 90 days" in shown
        video_left, hooks_left, old_left = run_sql(
            db_url,
            "SELECT (SELECT count(*) FROM video_call_events WHERE created_at > now() - '89 days'"
            "::interval), (SELECT count(*) FROM twilio_webhook_events WHERE created_at > now() "
            "- '29 days'::interval), (SELECT count(*) FROM video_call_events WHERE created_at < "
            "now() - '100 days'::interval) + (SELECT count(*) FROM twilio_webhook_events WHERE "
            "created_at < now() - '40 days'::interval)",
        )[0]
        assert old_left == 0 and video_left >= 2 and hooks_left >= 2  # incl. populate's own
        actions = run_sql(
            db_url, "SELECT action FROM audit_log WHERE entity = 'database' ORDER BY id"
        )
        assert actions == [("database_analyzed",), ("retention_cleanup",)]

        # A second clean-up has nothing to ask about; F2 tells the whole log again in
        # Vietnamese conventions (the cutoff dates day first).
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert "nothing is past its limit" in screen_text(app)
        cutoff = maintenance.retention_cutoff(datetime.now(ICT), 90).date()
        assert format_date(cutoff, "en") in screen_text(app)
        await pilot.press("f2")
        await settle(app, pilot)
        assert format_date(cutoff, "vi") in screen_text(app)
        if format_date(cutoff, "en") != format_date(cutoff, "vi"):  # not on 08/08 and the like
            assert format_date(cutoff, "en") not in screen_text(app)


async def test_cleanup_cancelled_deletes_nothing(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    add_old_events(db_url)
    before = run_sql(db_url, "SELECT count(*) FROM video_call_events")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await admin_tab(app, pilot, "maintenance")
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert "cancelled; nothing was deleted" in screen_text(app)
        assert run_sql(db_url, "SELECT count(*) FROM video_call_events") == before
        assert run_sql(db_url, "SELECT count(*) FROM audit_log WHERE entity = 'database'") == [(0,)]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_monitoring_shows_every_table_and_refreshes(app_factory, staff, db_url, size) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    app = app_factory()
    async with app.run_test(size=size) as pilot:
        panel = await admin_tab(app, pilot, "monitoring")
        assert isinstance(panel, MonitoringPanel)
        tables = panel.query_one("#monitoring-tables", DataTable)
        names = cells(tables)
        assert {"patients", "appointments", "invoices", "twilio_webhook_events"} <= set(names)
        assert any(name.startswith("outcome_measures (") for name in names)
        assert "connections" in screen_text(app) and "Database " in screen_text(app)
        assert panel.query_one("#monitoring-indexes", DataTable).row_count > 20

        def hooks_live_rows() -> str:
            row = names.index("twilio_webhook_events")
            return str(tables.get_row_at(row)[4])

        assert hooks_live_rows() == "0"
        run_sql(
            db_url,
            "INSERT INTO twilio_webhook_events (event_type) "
            "SELECT 'room-ended' FROM generate_series(1, 1234)",
            "SELECT pg_stat_force_next_flush()",
        )
        await pilot.press("r")
        await settle(app, pilot)
        names = cells(tables)
        assert hooks_live_rows() == "1,234"
        written = cells(panel.query_one("#monitoring-written", DataTable))
        assert written[0] == "twilio_webhook_events"

        await pilot.press("f2")
        await settle(app, pilot)
        assert hooks_live_rows() == "1.234"  # Vietnamese groups thousands with dots
        if size == (80, 24):
            assert panel.query_one("#monitoring-body").max_scroll_y > 0
