"""The migration runner behind the admin's screen: plans, the lock and who holds it, a failing
revision leaving the database at the last completed one, audit, and the titles it shows."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from clinic_tui.db import migrations
from clinic_tui.db.engine import classify_error
from clinic_tui.resources import alembic_dir
from clinic_tui.services import schema_admin
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.schema_admin import BASE, Direction, PlanError
from tests.db.populate import populate_every_table, table_counts

ADMIN = Actor(uuid.uuid4(), "admin@clinic.vn", "Admin", Role.ADMIN)
RECEPTION = Actor(uuid.uuid4(), "le.tan@clinic.vn", "Lễ tân", Role.RECEPTIONIST)


def _scalar(url: str, sql: str, **params: object) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def test_every_revision_has_a_title_in_both_languages() -> None:
    for revision in migrations.chain():
        assert revision.title_en and revision.title_vi, revision.id
        assert revision.title("vi") != revision.title("en"), revision.id


def test_plans_go_up_and_down_in_order() -> None:
    ids = [revision.id for revision in migrations.chain()]
    up = schema_admin.plan(ids[2], "head")
    assert up.direction is Direction.UPGRADE
    assert [step.id for step in up.steps] == ids[3:]
    down = schema_admin.plan(ids[-1], ids[-4])
    assert down.direction is Direction.DOWNGRADE
    assert [step.id for step in down.steps] == list(reversed(ids[-3:]))
    to_base = schema_admin.plan(ids[1], BASE)
    assert [step.id for step in to_base.steps] == [ids[1], ids[0]]
    with pytest.raises(PlanError):
        schema_admin.plan(ids[-1], "head")
    with pytest.raises(PlanError):
        schema_admin.plan(ids[-1], "9999")


def test_overview_marks_applied_pending_and_current(db_url: str) -> None:
    ids = [revision.id for revision in migrations.chain()]
    migrations.downgrade(db_url, ids[-3])
    overview = schema_admin.overview(db_url, ADMIN)
    assert overview.current == ids[-3]
    assert overview.pending == 2
    assert [state.current for state in overview.revisions].count(True) == 1
    assert [state.applied for state in overview.revisions] == [True] * (len(ids) - 2) + [False] * 2
    with pytest.raises(PermissionDenied):
        schema_admin.overview(db_url, RECEPTION)


def test_downgrade_and_upgrade_keep_surviving_rows_and_are_audited(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        populate_every_table(conn)
    with engine.connect() as conn:
        before = table_counts(conn)
    engine.dispose()
    ids = [revision.id for revision in migrations.chain()]
    events: list[schema_admin.MigrationEvent] = []
    down = schema_admin.run(
        db_url, ADMIN, schema_admin.plan(ids[-1], ids[-3]), backup_dir=None, on_event=events.append
    )
    assert down.succeeded and down.reached == ids[-3]
    assert [e.done for e in events if e.msgid.startswith("✓")] == [1, 2]
    up = schema_admin.run(db_url, ADMIN, schema_admin.plan(ids[-3], "head"), backup_dir=None)
    assert up.succeeded and up.reached == ids[-1]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        after = table_counts(conn)
        actions = conn.execute(
            text("SELECT action FROM audit_log WHERE action LIKE 'schema.%' ORDER BY id")
        ).scalars()
        assert list(actions) == ["schema.downgrade", "schema.upgrade"]
    engine.dispose()
    # 0019's own tables were dropped and re-seeded; every table that survived keeps its rows.
    recreated = {"audit_log", "clinic_settings", "dated_settings"}
    assert {t: n for t, n in after.items() if t not in recreated} == {
        t: n for t, n in before.items() if t not in recreated
    }
    assert len(before) - len(recreated) > 20


def test_a_second_migration_is_told_who_holds_the_lock(db_url: str) -> None:
    ids = [revision.id for revision in migrations.chain()]
    engine = create_engine(db_url)
    with engine.connect() as holder:
        holder.execute(
            text("SELECT set_config('application_name', 'clinic-tui migrate: x@y', false)")
        )
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY})
        holder.commit()
        assert "x@y" in (schema_admin.probe_lock(db_url) or "")
        outcome = schema_admin.run(
            db_url, ADMIN, schema_admin.plan(ids[-1], ids[-2]), backup_dir=None
        )
        assert not outcome.succeeded and "x@y" in (outcome.locked_by or "")
        # The CLI / plain Alembic path refuses too, naming the holder, instead of waiting.
        with pytest.raises(migrations.MigrationLocked) as refused:
            migrations.downgrade(db_url, ids[-2])
        assert "x@y" in refused.value.holder
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY})
        holder.commit()
    engine.dispose()
    assert migrations.current(db_url) == ids[-1]
    assert schema_admin.probe_lock(db_url) is None


def test_a_failing_revision_stops_at_the_last_completed_one(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [revision.id for revision in migrations.chain()]
    # The newest revision that creates a table, blocked by a table of that name made first;
    # the database starts two revisions below it, so one completes and the blocked one fails.
    blocked = next(i for i in reversed(ids) if _first_created_table(i))
    at = ids.index(blocked)
    migrations.downgrade(db_url, ids[at - 2])
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{_first_created_table(blocked)}" (x int)'))
    engine.dispose()
    outcome = schema_admin.run(
        db_url, ADMIN, schema_admin.plan(ids[at - 2], "head"), backup_dir=None
    )
    assert not outcome.succeeded
    assert outcome.failed_revision == blocked
    assert outcome.reached == ids[at - 1] == migrations.current(db_url)
    assert outcome.error
    assert (
        _scalar(db_url, "SELECT count(*) FROM audit_log WHERE details->>'error' IS NOT NULL") == 1
    )


def _first_created_table(revision_id: str) -> str | None:
    """A table name the revision creates (to block it in the test above), if any."""
    import re

    source = next((alembic_dir() / "versions").glob(f"{revision_id}_*.py"))
    match = re.search(r'op\.create_table\(\s*"([a-z_]+)"', source.read_text(encoding="utf-8"))
    return match.group(1) if match else None


def test_queries_on_a_rolled_back_schema_say_so(db_url: str) -> None:
    migrations.downgrade(db_url, "0018")  # 0019 reverted: clinic_settings is gone
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn, pytest.raises(Exception) as failed:
            conn.execute(text("SELECT * FROM clinic_settings"))
    finally:
        engine.dispose()
    assert classify_error(failed.value).reason == "schema"


def test_verify_stays_green_when_admins_add_reference_rows(db_url: str) -> None:
    from clinic_tui.services.verify import run_checks

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO pt_service_codes (code, name_en, name_vi, category, unit_price)"
                    " VALUES ('PT901', 'Extra', 'Thêm', 'therapy', 100000)"
                )
            )
        with engine.connect() as conn:
            failed = [check for check in run_checks(conn) if not check.ok]
    finally:
        engine.dispose()
    assert failed == []
