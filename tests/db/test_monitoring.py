"""Monitoring reads PostgreSQL's statistics: every application table with its sizes and rows,
partitions under their table, index use, the busiest tables, size and connections; admins only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from clinic_tui.db.engine import Database
from clinic_tui.models import Base
from clinic_tui.services import monitoring
from clinic_tui.services.access import Actor, PermissionDenied, Role

ADMIN = Actor(uuid.uuid4(), "admin@clinic.vn", "Phan Quốc Bảo", Role.ADMIN)
WEBHOOK = "twilio_webhook_events"


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.close()


def snapshot(database: Database) -> monitoring.MonitoringSnapshot:
    with database.session() as session:
        return monitoring.snapshot(session, ADMIN)


def test_every_application_table_with_its_sizes(db_session: Session) -> None:
    tables = {table.name: table for table in monitoring.table_sizes(db_session, ADMIN)}

    assert set(Base.metadata.tables) <= set(tables)
    for table in tables.values():
        assert table.total_bytes == table.table_bytes + table.index_bytes, table
        assert table.total_bytes > 0 or table.partitions, table
    assert tables["patients"].index_bytes > 0  # the search indexes
    assert tables["vietnamese_medical_terms"].table_bytes > 0  # seeded

    partitions = db_session.execute(
        text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'outcome_measures'::regclass")
    ).scalar_one()
    assert tables["outcome_measures"].partitions == partitions >= 7
    assert tables["outcome_measures"].total_bytes > 0
    assert not any(name.startswith("outcome_measures_y") for name in tables)
    assert tables["patients"].partitions == 0
    sizes = [table.total_bytes for table in tables.values()]
    assert list(monitoring.table_sizes(db_session, ADMIN)) == list(tables.values())
    assert sizes == sorted(sizes, reverse=True)


def test_live_and_dead_rows_and_the_busiest_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO twilio_webhook_events (event_type, room_name) "
                "SELECT 'room-ended', 'room-' || g FROM generate_series(1, 30) g"
            )
        )
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM twilio_webhook_events "
                "WHERE room_name = ANY (SELECT 'room-' || g FROM generate_series(1, 10) g)"
            )
        )
        conn.execute(text("SELECT pg_stat_force_next_flush()"))

    shot = snapshot(database)

    [hooks] = [table for table in shot.tables if table.name == WEBHOOK]
    assert (hooks.live_rows, hooks.dead_rows) == (20, 10)
    assert (hooks.rows_inserted, hooks.rows_deleted, hooks.writes) == (30, 10, 40)
    assert hooks.vacuumed is None  # autovacuum has had no reason to come yet
    writes = [table.writes for table in shot.busiest.by_writes]
    assert hooks in shot.busiest.by_writes
    assert writes == sorted(writes, reverse=True) and all(writes)
    assert len(shot.busiest.by_writes) <= monitoring.BUSIEST_LIMIT
    scans = [table.scans for table in shot.busiest.by_scans]
    assert scans == sorted(scans, reverse=True) and all(scans)


def test_index_usage_counts_scans_and_flags_unused(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO twilio_webhook_events (event_type, room_sid) VALUES ('x', 'RM1')")
        )
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        for _ in range(3):
            conn.execute(text("SELECT * FROM twilio_webhook_events WHERE room_sid = 'RM1'")).all()
        conn.execute(text("SELECT pg_stat_force_next_flush()"))

    with database.session() as session:
        indexes = {index.name: index for index in monitoring.index_usage(session, ADMIN)}

    used = indexes["ix_twilio_webhook_events_room_sid"]
    assert used.table == WEBHOOK
    assert used.scans == 3 and used.tuples_read >= 3 and used.size_bytes > 0
    assert not used.unused
    # Never read, nothing depends on it: a candidate to drop.
    assert indexes["ix_twilio_webhook_events_received_at"].unused
    # Enforcing a key is a use, scanned or not.
    assert not indexes["pk_twilio_webhook_events"].unused
    # Partitioned indexes are one row under the partitioned table.
    assert indexes["pk_outcome_measures"].table == "outcome_measures"
    assert not any(index.table.startswith("outcome_measures_y") for index in indexes.values())
    order = [index.unused for index in indexes.values()]
    assert order == sorted(order, reverse=True)  # the unused first


def test_database_size_and_connections(database: Database) -> None:
    with database.engine.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        overview = snapshot(database).database
    assert overview.name == name
    assert overview.size_bytes > 1_000_000
    assert overview.max_connections > 0
    ours = [group for group in overview.connections if group.application_name == "clinic-tui"]
    assert sum(group.count for group in ours) >= 2  # the snapshot's and the one held above
    assert {group.state for group in ours} <= {"active", "idle", "idle in transaction"}
    assert overview.connection_count == sum(group.count for group in overview.connections)


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.DOCTOR])
def test_only_admins_read_the_statistics(db_session: Session, role: Role) -> None:
    actor = Actor(uuid.uuid4(), "staff@clinic.vn", "Hồ Thị Thu", role)
    for read in (
        monitoring.table_sizes,
        monitoring.index_usage,
        monitoring.busiest_tables,
        monitoring.database_overview,
        monitoring.snapshot,
    ):
        with pytest.raises(PermissionDenied):
            read(db_session, actor)
