"""Keeping the database in shape (the deployment guide's "maintain" step): ANALYZE, VACUUM
(ANALYZE), and the retention clean-up of the telehealth logs.

ANALYZE and VACUUM run table by table, so a progress callback can say which table is being
worked on and a partitioned table is handled once (PostgreSQL recurses into its partitions).
VACUUM cannot run inside a transaction, so both use an autocommit connection of their own.
Each run returns a summary and leaves one audit entry; a run that fails leaves none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.db.engine import Database
from clinic_tui.models import TwilioWebhookEvent, VideoCallEvent
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.billing_ledger import clinic_now
from clinic_tui.services.monitoring import SCHEMA, dead_rows

# Retention of the telehealth logs, from the Healthcare document's data-retention rules (its
# "clean up old data" step; DESIGN §4.2, revision 0016): a row goes once its created_at is
# before the start of the day that many days ago, as `CURRENT_DATE - INTERVAL 'n days'` does
# there, with the day taken in the clinic's time zone.
VIDEO_CALL_EVENT_RETENTION_DAYS: Final = 90
TWILIO_WEBHOOK_EVENT_RETENTION_DAYS: Final = 30
RETENTION: Final = (
    (VideoCallEvent, VIDEO_CALL_EVENT_RETENTION_DAYS),
    (TwilioWebhookEvent, TWILIO_WEBHOOK_EVENT_RETENTION_DAYS),
)

Progress = Callable[[int, int, str], None]  # (tables done, tables in all, the table starting)


class Operation(StrEnum):
    ANALYZE = "analyze"
    VACUUM_ANALYZE = "vacuum_analyze"
    RETENTION_CLEANUP = "retention_cleanup"


AUDIT_ACTIONS: Final = {
    Operation.ANALYZE: "database_analyzed",
    Operation.VACUUM_ANALYZE: "database_vacuumed",
    Operation.RETENTION_CLEANUP: "retention_cleanup",
}


@dataclass(frozen=True)
class TableResult:
    table: str
    rows_removed: int = 0
    dead_rows_before: int | None = None  # None where the operation does not change them
    dead_rows_after: int | None = None


@dataclass(frozen=True)
class RetentionCount:
    table: str
    days: int
    cutoff: datetime  # rows created before this moment are past the limit
    rows: int  # past the limit (a preview) or removed (a clean-up)


@dataclass(frozen=True)
class RetentionPreview:
    now: datetime  # pass it to `retention_cleanup` so the same rows are removed
    counts: tuple[RetentionCount, ...]

    @property
    def rows(self) -> int:
        return sum(count.rows for count in self.counts)


@dataclass(frozen=True)
class MaintenanceSummary:
    operation: Operation
    tables: tuple[TableResult, ...]
    seconds: float
    finished_at: datetime
    retention: tuple[RetentionCount, ...] = ()

    @property
    def tables_processed(self) -> int:
        return len(self.tables)

    @property
    def rows_removed(self) -> int:
        return sum(result.rows_removed for result in self.tables)

    @property
    def dead_rows_before(self) -> int | None:
        return _total(result.dead_rows_before for result in self.tables)

    @property
    def dead_rows_after(self) -> int | None:
        return _total(result.dead_rows_after for result in self.tables)

    def removed(self, table: str) -> int:
        return sum(result.rows_removed for result in self.tables if result.table == table)


# ---- ANALYZE and VACUUM ---------------------------------------------------------------------


def analyze(
    database: Database, actor: Actor, *, progress: Progress | None = None
) -> MaintenanceSummary:
    """Refresh the planner's statistics of every table."""
    require(actor, Permission.DATABASE_ADMIN)
    return _each_table(database, actor, Operation.ANALYZE, "ANALYZE", progress, count_dead=False)


def vacuum_analyze(
    database: Database, actor: Actor, *, progress: Progress | None = None
) -> MaintenanceSummary:
    """Reclaim the space of dead rows and refresh statistics, table by table. It takes no lock
    that blocks reading or writing, so the clinic keeps working while it runs."""
    require(actor, Permission.DATABASE_ADMIN)
    return _each_table(
        database, actor, Operation.VACUUM_ANALYZE, "VACUUM (ANALYZE)", progress, count_dead=True
    )


_TOP_LEVEL_TABLES = text("""
    SELECT c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
     ORDER BY c.relname
""")


def _each_table(
    database: Database,
    actor: Actor,
    operation: Operation,
    command: str,
    progress: Progress | None,
    *,
    count_dead: bool,
) -> MaintenanceSummary:
    started = time.monotonic()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = list(conn.execute(_TOP_LEVEL_TABLES, {"schema": SCHEMA}).scalars())
        before = dead_rows(conn) if count_dead else {}
        for done, table in enumerate(tables):
            if progress is not None:
                progress(done, len(tables), table)
            conn.execute(text(f"{command} {_quoted(conn, table)}"))
        if progress is not None:
            progress(len(tables), len(tables), "")
        after = _fresh_dead_rows(conn) if count_dead else {}
    seconds = time.monotonic() - started
    with database.session() as session:
        _audit(session, actor, operation, {"tables": len(tables), "seconds": round(seconds, 3)})
    results = tuple(TableResult(table, 0, before.get(table), after.get(table)) for table in tables)
    return MaintenanceSummary(operation, results, seconds, _now())


def _fresh_dead_rows(conn: Connection) -> dict[str, int]:
    conn.execute(text("SELECT pg_stat_clear_snapshot()"))
    return dead_rows(conn)


def _quoted(conn: Connection, table: str) -> str:
    preparer = conn.dialect.identifier_preparer
    return f"{preparer.quote_identifier(SCHEMA)}.{preparer.quote_identifier(table)}"


# ---- retention ------------------------------------------------------------------------------


def retention_cutoff(now: datetime, days: int) -> datetime:
    """The start of the clinic's day `days` days before `now`'s."""
    day = now.astimezone(CLINIC_TIMEZONE).date() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=CLINIC_TIMEZONE)


def retention_preview(
    database: Database, actor: Actor, *, now: datetime | None = None
) -> RetentionPreview:
    """How many rows the clean-up would remove, per table: said before it is confirmed."""
    require(actor, Permission.DATABASE_ADMIN)
    with database.session() as session:
        now = now or clinic_now(session)
        counts = []
        for model, days, cutoff in _limits(now):
            past = select(func.count()).select_from(model).where(model.created_at < cutoff)
            counts.append(RetentionCount(model.__tablename__, days, cutoff, session.scalar(past)))
    return RetentionPreview(now, tuple(counts))


def retention_cleanup(
    database: Database, actor: Actor, *, now: datetime | None = None
) -> MaintenanceSummary:
    """Delete the telehealth log rows past their retention limit, all in one transaction with
    its audit entry."""
    require(actor, Permission.DATABASE_ADMIN)
    started = time.monotonic()
    with database.session() as session:
        now = now or clinic_now(session)
        counts = []
        for model, days, cutoff in _limits(now):
            removed = session.execute(delete(model).where(model.created_at < cutoff)).rowcount
            counts.append(RetentionCount(model.__tablename__, days, cutoff, removed))
        seconds = time.monotonic() - started
        details: dict[str, object] = {count.table: count.rows for count in counts}
        details["cutoffs"] = {count.table: count.cutoff.isoformat() for count in counts}
        details["seconds"] = round(seconds, 3)
        _audit(session, actor, Operation.RETENTION_CLEANUP, details)
    results = tuple(TableResult(count.table, count.rows) for count in counts)
    return MaintenanceSummary(Operation.RETENTION_CLEANUP, results, seconds, _now(), tuple(counts))


def _limits(now: datetime) -> list[tuple[type[VideoCallEvent | TwilioWebhookEvent], int, datetime]]:
    return [(model, days, retention_cutoff(now, days)) for model, days in RETENTION]


# ---- the audit entry ------------------------------------------------------------------------


def _audit(
    session: Session, actor: Actor, operation: Operation, details: dict[str, object]
) -> None:
    audit.record(
        session,
        AUDIT_ACTIONS[operation],
        user_id=actor.user_id,
        entity="database",
        details=details,
    )


def _now() -> datetime:
    return datetime.now(CLINIC_TIMEZONE)


def _total(values: Iterable[int | None]) -> int | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None
