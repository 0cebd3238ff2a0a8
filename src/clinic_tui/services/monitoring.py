"""Watching the database (the deployment guide's "monitor" step): sizes, rows, index use, the
busiest tables, the database's size and its connections, read from PostgreSQL's statistics.

Everything here only reads, so nothing is audited. A partitioned table (outcome_measures) is one
row: its partitions' sizes, rows and counters are added up, and `partitions` says how many there
are; its indexes likewise. The counters run from the last statistics reset (`stats_since`), so an
index that was never scanned since then is flagged unused, unless it enforces a constraint
(primary key, unique, exclusion), which it does whether or not a query reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from clinic_tui.services.access import Actor, Permission, require

SCHEMA = "public"
BUSIEST_LIMIT = 10


@dataclass(frozen=True)
class TableStats:
    name: str
    partitions: int  # 0: a plain table
    total_bytes: int  # table, TOAST and indexes
    table_bytes: int  # the rows themselves, with TOAST
    index_bytes: int
    live_rows: int
    dead_rows: int
    last_vacuum: datetime | None
    last_autovacuum: datetime | None
    last_analyze: datetime | None
    last_autoanalyze: datetime | None
    seq_scans: int
    index_scans: int
    rows_inserted: int
    rows_updated: int
    rows_deleted: int

    @property
    def scans(self) -> int:
        return self.seq_scans + self.index_scans

    @property
    def writes(self) -> int:
        return self.rows_inserted + self.rows_updated + self.rows_deleted

    @property
    def vacuumed(self) -> datetime | None:
        """The latest vacuum, by hand or by autovacuum."""
        return _latest(self.last_vacuum, self.last_autovacuum)

    @property
    def analyzed(self) -> datetime | None:
        return _latest(self.last_analyze, self.last_autoanalyze)


@dataclass(frozen=True)
class IndexStats:
    table: str
    name: str
    scans: int
    tuples_read: int
    tuples_fetched: int
    size_bytes: int
    enforces_constraint: bool  # primary key, unique or exclusion

    @property
    def unused(self) -> bool:
        """Never scanned since the statistics were reset, and no constraint depends on it."""
        return self.scans == 0 and not self.enforces_constraint


@dataclass(frozen=True)
class ConnectionGroup:
    state: str | None  # "active", "idle", "idle in transaction", …; None when not visible to us
    application_name: str
    count: int


@dataclass(frozen=True)
class DatabaseOverview:
    name: str
    size_bytes: int
    connections: tuple[ConnectionGroup, ...]
    max_connections: int
    stats_since: datetime | None  # when the counters were last reset

    @property
    def connection_count(self) -> int:
        return sum(group.count for group in self.connections)


@dataclass(frozen=True)
class BusiestTables:
    by_scans: tuple[TableStats, ...]
    by_writes: tuple[TableStats, ...]


@dataclass(frozen=True)
class MonitoringSnapshot:
    taken_at: datetime
    database: DatabaseOverview
    tables: tuple[TableStats, ...]
    indexes: tuple[IndexStats, ...]
    busiest: BusiestTables


# ---- the services ---------------------------------------------------------------------------


def table_sizes(session: Session, actor: Actor) -> tuple[TableStats, ...]:
    """Every table of the application, largest first."""
    require(actor, Permission.DATABASE_ADMIN)
    return read_tables(session.connection())


def index_usage(session: Session, actor: Actor) -> tuple[IndexStats, ...]:
    """Every index, unused ones first, then by size."""
    require(actor, Permission.DATABASE_ADMIN)
    return read_indexes(session.connection())


def busiest_tables(session: Session, actor: Actor, *, limit: int = BUSIEST_LIMIT) -> BusiestTables:
    require(actor, Permission.DATABASE_ADMIN)
    return busiest(read_tables(session.connection()), limit)


def database_overview(session: Session, actor: Actor) -> DatabaseOverview:
    require(actor, Permission.DATABASE_ADMIN)
    return read_overview(session.connection())


def snapshot(session: Session, actor: Actor, *, limit: int = BUSIEST_LIMIT) -> MonitoringSnapshot:
    """All of the above from one statistics snapshot: what the monitoring tab shows."""
    require(actor, Permission.DATABASE_ADMIN)
    conn = session.connection()
    conn.execute(text("SELECT pg_stat_clear_snapshot()"))
    tables = read_tables(conn)
    return MonitoringSnapshot(
        taken_at=conn.execute(text("SELECT now()")).scalar_one(),
        database=read_overview(conn),
        tables=tables,
        indexes=read_indexes(conn),
        busiest=busiest(tables, limit),
    )


def busiest(tables: tuple[TableStats, ...], limit: int = BUSIEST_LIMIT) -> BusiestTables:
    """The most read and the most written tables; idle ones are left out."""
    by_scans = sorted((t for t in tables if t.scans), key=lambda t: (-t.scans, t.name))
    by_writes = sorted((t for t in tables if t.writes), key=lambda t: (-t.writes, t.name))
    return BusiestTables(tuple(by_scans[:limit]), tuple(by_writes[:limit]))


# ---- reading the statistics (plain connections: maintenance reads them too) -----------------

# Each partition is counted under its root table; pg_partition_root is NULL for a plain table.
# pg_class is the base, not pg_stat_user_tables, so the partitioned parent is there on every
# supported server version.
_TABLES = text("""
    SELECT coalesce(pg_partition_root(c.oid), c.oid)::regclass::text AS name,
           count(*) FILTER (WHERE c.relispartition) AS partitions,
           sum(pg_total_relation_size(c.oid)) AS total_bytes,
           sum(pg_table_size(c.oid)) AS table_bytes,
           sum(pg_indexes_size(c.oid)) AS index_bytes,
           coalesce(sum(s.n_live_tup), 0) AS live_rows,
           coalesce(sum(s.n_dead_tup), 0) AS dead_rows,
           max(s.last_vacuum) AS last_vacuum,
           max(s.last_autovacuum) AS last_autovacuum,
           max(s.last_analyze) AS last_analyze,
           max(s.last_autoanalyze) AS last_autoanalyze,
           coalesce(sum(s.seq_scan), 0) AS seq_scans,
           coalesce(sum(s.idx_scan), 0) AS index_scans,
           coalesce(sum(s.n_tup_ins), 0) AS rows_inserted,
           coalesce(sum(s.n_tup_upd), 0) AS rows_updated,
           coalesce(sum(s.n_tup_del), 0) AS rows_deleted
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'm')
     GROUP BY 1
     ORDER BY total_bytes DESC, name
""")

_INDEXES = text("""
    SELECT coalesce(pg_partition_root(i.indrelid), i.indrelid)::regclass::text AS table_name,
           coalesce(pg_partition_root(i.indexrelid), i.indexrelid)::regclass::text AS name,
           coalesce(sum(s.idx_scan), 0) AS scans,
           coalesce(sum(s.idx_tup_read), 0) AS tuples_read,
           coalesce(sum(s.idx_tup_fetch), 0) AS tuples_fetched,
           sum(pg_relation_size(i.indexrelid)) AS size_bytes,
           bool_or(i.indisprimary OR i.indisunique OR i.indisexclusion) AS enforces_constraint
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
     WHERE n.nspname = :schema AND c.relkind IN ('i', 'I')
     GROUP BY 1, 2
""")

_OVERVIEW = text("""
    SELECT current_database() AS name,
           pg_database_size(current_database()) AS size_bytes,
           current_setting('max_connections')::int AS max_connections,
           (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database())
               AS stats_since
""")

_CONNECTIONS = text("""
    SELECT state, coalesce(application_name, '') AS application_name, count(*) AS count
      FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend'
     GROUP BY 1, 2
     ORDER BY count DESC, 2, 1
""")


def read_tables(conn: Connection) -> tuple[TableStats, ...]:
    rows = conn.execute(_TABLES, {"schema": SCHEMA}).mappings()
    return tuple(
        TableStats(**{key: int(value) if key in _COUNTS else value for key, value in row.items()})
        for row in rows
    )


_COUNTS = frozenset(
    {"partitions", "total_bytes", "table_bytes", "index_bytes", "live_rows", "dead_rows",
     "seq_scans", "index_scans", "rows_inserted", "rows_updated", "rows_deleted",
     "scans", "tuples_read", "tuples_fetched", "size_bytes"}
)  # fmt: skip


def read_indexes(conn: Connection) -> tuple[IndexStats, ...]:
    rows = conn.execute(_INDEXES, {"schema": SCHEMA}).mappings()
    indexes = [
        IndexStats(
            table=row["table_name"],
            name=row["name"],
            scans=int(row["scans"]),
            tuples_read=int(row["tuples_read"]),
            tuples_fetched=int(row["tuples_fetched"]),
            size_bytes=int(row["size_bytes"]),
            enforces_constraint=bool(row["enforces_constraint"]),
        )
        for row in rows
    ]
    indexes.sort(key=lambda index: (not index.unused, -index.size_bytes, index.table, index.name))
    return tuple(indexes)


def read_overview(conn: Connection) -> DatabaseOverview:
    row = conn.execute(_OVERVIEW).one()
    groups = tuple(
        ConnectionGroup(state, application_name, int(count))
        for state, application_name, count in conn.execute(_CONNECTIONS)
    )
    return DatabaseOverview(
        name=row.name,
        size_bytes=int(row.size_bytes),
        connections=groups,
        max_connections=int(row.max_connections),
        stats_since=row.stats_since,
    )


def dead_rows(conn: Connection) -> dict[str, int]:
    """Dead rows per table, as the statistics know them now."""
    return {table.name: table.dead_rows for table in read_tables(conn)}


def _latest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None
