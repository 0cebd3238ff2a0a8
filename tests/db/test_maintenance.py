"""Maintenance on a real server: the retention clean-up removes exactly the rows past each limit,
ANALYZE and VACUUM really run and say what they did, one audit entry per run, admins only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text

from clinic_tui.config import CLINIC_TIMEZONE as ICT
from clinic_tui.db.engine import Database
from clinic_tui.models import AuditEntry, TwilioWebhookEvent, User, VideoCallEvent
from clinic_tui.services import maintenance
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.maintenance import (
    TWILIO_WEBHOOK_EVENT_RETENTION_DAYS,
    VIDEO_CALL_EVENT_RETENTION_DAYS,
    Operation,
)
from tests.db.populate import populate_every_table

VIDEO, WEBHOOK = "video_call_events", "twilio_webhook_events"


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.close()


def add_actor(engine: Engine, role: Role) -> Actor:
    email = f"{role.lower()}.{uuid.uuid4().hex[:8]}@clinic.vn"
    with engine.begin() as conn:
        user_id = conn.execute(
            insert(User.__table__)
            .values(email=email, password_hash="x", full_name="Trương Mỹ Linh", role=role.value)
            .returning(User.__table__.c.id)
        ).scalar_one()
    return Actor(user_id, email, "Trương Mỹ Linh", role)


@pytest.fixture
def admin(database: Database) -> Actor:
    return add_actor(database.engine, Role.ADMIN)


def audit_entries(engine: Engine) -> list[tuple[str, uuid.UUID | None, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.action, AuditEntry.user_id, AuditEntry.details)
            .where(AuditEntry.entity == "database")
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


def add_events(engine: Engine, video: dict[str, datetime], webhook: dict[str, datetime]) -> None:
    """Telehealth events with chosen creation times, named by their room / participant."""
    with engine.begin() as conn:
        populate_every_table(conn)
        session_id = conn.execute(text("SELECT id FROM video_call_sessions LIMIT 1")).scalar_one()
        for name, created in video.items():
            conn.execute(
                insert(VideoCallEvent.__table__).values(
                    session_id=session_id,
                    event_type="participant-connected",
                    participant_identity=name,
                    created_at=created,
                )
            )
        for name, created in webhook.items():
            conn.execute(
                insert(TwilioWebhookEvent.__table__).values(
                    event_type="room-ended", room_name=name, created_at=created
                )
            )


def names_left(engine: Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:
        video = set(
            conn.execute(text("SELECT participant_identity FROM video_call_events")).scalars()
        )
        hooks = set(conn.execute(text("SELECT room_name FROM twilio_webhook_events")).scalars())
    return video, hooks


def flush_stats(conn) -> None:
    """Make this backend's counters visible to others as soon as its transaction ends."""
    conn.execute(text("SELECT pg_stat_force_next_flush()"))


def test_limits_are_the_healthcare_documents() -> None:
    assert (VIDEO_CALL_EVENT_RETENTION_DAYS, TWILIO_WEBHOOK_EVENT_RETENTION_DAYS) == (90, 30)
    # 17:30 UTC on the 21st is already the 22nd at the clinic: days count from the clinic's date.
    now = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    assert maintenance.retention_cutoff(now, 90) == datetime(2026, 8, 24, tzinfo=ICT)
    assert maintenance.retention_cutoff(now, 30) == datetime(2026, 10, 23, tzinfo=ICT)


def test_cleanup_removes_exactly_the_rows_past_each_limit(database: Database, admin: Actor) -> None:
    engine = database.engine
    now = datetime.now(ICT)
    video_cutoff = maintenance.retention_cutoff(now, 90)
    hook_cutoff = maintenance.retention_cutoff(now, 30)
    second = timedelta(seconds=1)
    add_events(
        engine,
        video={
            "v-year-old": now - timedelta(days=365),
            "v-just-past": video_cutoff - second,
            "v-at-limit": video_cutoff,
            "v-inside": video_cutoff + second,
            "v-between-limits": hook_cutoff - second,  # past 30 days, not past 90: stays
        },
        webhook={
            "w-year-old": now - timedelta(days=365),
            "w-just-past": hook_cutoff - second,
            "w-at-limit": hook_cutoff,
            "w-today": now,
        },
    )
    video_before, hooks_before = names_left(engine)

    preview = maintenance.retention_preview(database, admin, now=now)
    assert [(c.table, c.days, c.cutoff, c.rows) for c in preview.counts] == [
        (VIDEO, 90, video_cutoff, 2),
        (WEBHOOK, 30, hook_cutoff, 2),
    ]
    assert preview.rows == 4
    assert audit_entries(engine) == []  # counting is not a change

    summary = maintenance.retention_cleanup(database, admin, now=preview.now)

    assert summary.operation is Operation.RETENTION_CLEANUP
    assert summary.tables_processed == 2
    assert (summary.removed(VIDEO), summary.removed(WEBHOOK), summary.rows_removed) == (2, 2, 4)
    assert [c.rows for c in summary.retention] == [2, 2]
    assert summary.dead_rows_before is None and summary.seconds >= 0
    video_after, hooks_after = names_left(engine)
    assert video_after == video_before - {"v-year-old", "v-just-past"}
    assert hooks_after == hooks_before - {"w-year-old", "w-just-past"}
    assert {"v-at-limit", "v-inside", "v-between-limits"} <= video_after
    assert {"w-at-limit", "w-today"} <= hooks_after

    [(action, user_id, details)] = audit_entries(engine)
    assert (action, user_id) == ("retention_cleanup", admin.user_id)
    assert (details[VIDEO], details[WEBHOOK]) == (2, 2)
    assert details["cutoffs"][VIDEO] == video_cutoff.isoformat()

    again = maintenance.retention_cleanup(database, admin, now=now)
    assert again.rows_removed == 0
    assert names_left(engine) == (video_after, hooks_after)
    assert len(audit_entries(engine)) == 2  # one entry per run, even when nothing was removed


def test_cleanup_without_a_time_uses_the_database_clock(database: Database, admin: Actor) -> None:
    engine = database.engine
    with engine.connect() as conn:
        now = conn.execute(text("SELECT now()")).scalar_one()
    add_events(
        engine,
        video={"v-old": now - timedelta(days=91), "v-recent": now - timedelta(days=89)},
        webhook={"w-old": now - timedelta(days=31), "w-recent": now - timedelta(days=29)},
    )
    assert maintenance.retention_preview(database, admin).rows == 2
    summary = maintenance.retention_cleanup(database, admin)
    assert (summary.removed(VIDEO), summary.removed(WEBHOOK)) == (1, 1)
    video, hooks = names_left(engine)
    assert "v-recent" in video and "v-old" not in video
    assert "w-recent" in hooks and "w-old" not in hooks


def top_level_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname"
                )
            ).scalars()
        )


def test_analyze_processes_every_table_once(database: Database, admin: Actor) -> None:
    seen: list[tuple[int, int, str]] = []
    summary = maintenance.analyze(database, admin, progress=lambda *step: seen.append(step))

    tables = top_level_tables(database.engine)
    assert [result.table for result in summary.tables] == tables
    assert "outcome_measures" in tables and "outcome_measures_y2026" not in tables
    assert summary.tables_processed == len(tables)
    assert summary.rows_removed == 0 and summary.dead_rows_before is None
    assert [step[0] for step in seen] == list(range(len(tables) + 1))
    assert seen[0] == (0, len(tables), tables[0]) and seen[-1] == (len(tables), len(tables), "")
    with database.engine.connect() as conn:
        never = conn.execute(
            text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NULL")
        ).scalars()
        assert list(never) == []  # partitions too: ANALYZE of the parent reaches them
    [(action, user_id, details)] = audit_entries(database.engine)
    assert (action, user_id, details["tables"]) == ("database_analyzed", admin.user_id, len(tables))


def test_vacuum_removes_dead_rows(database: Database, admin: Actor) -> None:
    engine = database.engine
    with engine.begin() as conn:
        # autovacuum must not get there first
        conn.execute(text("ALTER TABLE twilio_webhook_events SET (autovacuum_enabled = false)"))
        conn.execute(
            text(
                "INSERT INTO twilio_webhook_events (event_type, room_name) "
                "SELECT 'room-ended', 'room-' || g FROM generate_series(1, 400) g"
            )
        )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM twilio_webhook_events WHERE room_name LIKE 'room-%'"))
        flush_stats(conn)

    summary = maintenance.vacuum_analyze(database, admin)

    [hooks] = [result for result in summary.tables if result.table == WEBHOOK]
    assert hooks.dead_rows_before is not None and hooks.dead_rows_before >= 400
    assert hooks.dead_rows_after == 0
    assert summary.dead_rows_before is not None and summary.dead_rows_after is not None
    assert summary.dead_rows_before - summary.dead_rows_after >= 400
    assert summary.tables_processed == len(top_level_tables(engine))
    with engine.connect() as conn:
        last_vacuum, dead = conn.execute(
            text(
                "SELECT last_vacuum, n_dead_tup FROM pg_stat_user_tables "
                "WHERE relname = 'twilio_webhook_events'"
            )
        ).one()
    assert last_vacuum is not None and dead == 0
    [(action, _user, details)] = audit_entries(engine)
    assert action == "database_vacuumed" and details["tables"] == summary.tables_processed


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.DOCTOR])
def test_only_admins_maintain_the_database(database: Database, role: Role) -> None:
    actor = add_actor(database.engine, role)
    add_events(database.engine, video={"v-old": datetime(2020, 1, 1, tzinfo=ICT)}, webhook={})
    before = names_left(database.engine)
    for operation in (
        maintenance.analyze,
        maintenance.vacuum_analyze,
        maintenance.retention_preview,
        maintenance.retention_cleanup,
    ):
        with pytest.raises(PermissionDenied):
            operation(database, actor)
    with pytest.raises(PermissionDenied):
        maintenance.analyze(database, None)  # type: ignore[arg-type]
    assert names_left(database.engine) == before
    assert audit_entries(database.engine) == []
