"""Backups of the clinic database and restoring one (DESIGN §4, §5.4).

A backup is two files in the backup folder (the folder 0700, the files 0600, owned by whoever
made them, whatever system user the embedded server runs as):

    clinic-20261122T143000Z-0019.dump   `pg_dump -Fc` of the whole database
    clinic-20261122T143000Z-0019.json   revision, when, by whom, size, rows of every table

The row counts are read in the very snapshot pg_dump saves (an exported snapshot), so after a
restore the counts prove that exactly what was saved came back. The list reads only the small
JSON files.

A restore replaces the whole `public` schema in one transaction (see `clinic_tui.db.dumps`):
nothing of a newer or older schema survives beside the backup's, and if any statement fails the
database is left exactly as it was. A restore holds the migration lock, so it never runs beside
a migration.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, pool, text

from clinic_tui.db import migrations
from clinic_tui.db.dumps import (
    DATA_TABLES_SQL,
    BackupError,
    Progress,
    client_program,
    dump_database,
    inspect_dump,
    restore_dump,
    row_counts,
)
from clinic_tui.db.engine import current_revision, normalise_url
from clinic_tui.i18n import N_
from clinic_tui.services.access import Actor, Permission, Role, require

__all__ = [
    "BackupError",
    "BackupInfo",
    "RestoreResult",
    "backup_now",
    "backup_revision",
    "console_actor",
    "list_backups",
    "prune",
    "read_info",
    "restore",
    "row_counts",
]

SIDECAR_FORMAT = "clinic-tui-backup"
_LOCK = migrations.MIGRATION_LOCK_KEY
_NAME = re.compile(r"^clinic-(\d{8}T\d{6}Z)-([A-Za-z0-9_]+?)(?:-\d+)?\.dump$")
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: datetime  # UTC
    revision: str | None
    size: int  # bytes
    created_by: str | None  # an e-mail, or login@host for the command line
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    revision: str  # the database's revision now
    head: str  # this program's newest; differs when the backup came from an older version
    row_counts: dict[str, int]
    expected_counts: dict[str, int]  # from the backup's JSON; empty when it is missing
    actor_present: bool  # whether the restoring user's account exists in the restored data
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def differences(self) -> list[str]:
        """Tables whose count differs from the one saved with the backup."""
        if not self.expected_counts:
            return []
        names = sorted(set(self.row_counts) | set(self.expected_counts))
        return [n for n in names if self.row_counts.get(n) != self.expected_counts.get(n)]


def console_actor() -> Actor:
    """Whoever runs `clinic-tui db backup | restore`: they hold the database's credentials,
    so they act as its administrator; audited by login and host (not a clinic account)."""
    import getpass
    import socket

    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "console"
    return Actor(uuid.UUID(int=0), f"{login}@{socket.gethostname()}", "console", Role.ADMIN)


# ---- backing up --------------------------------------------------------------------------


def backup_now(
    database_url: str,
    actor: Actor | None,
    *,
    backup_dir: Path,
    keep: int,
    on_progress: Progress | None = None,
) -> BackupInfo:
    """Back up the whole database into `backup_dir` and return the new backup.

    Afterwards only the newest `keep` backups remain in the folder (never fewer than this
    one). `on_progress(done, total, table)` is called, on the calling thread, as pg_dump reaches
    each table. Blocks until done: call it from a worker. Raises `PermissionDenied`, or
    `BackupError` (show `error.describe(_)`).
    """
    actor = require(actor, Permission.DATABASE_ADMIN)
    progress = on_progress or (lambda done, total, what: None)
    pg_dump = client_program("pg_dump")
    folder = prepare_folder(backup_dir)
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            info = _write_backup(conn, pg_dump, database_url, folder, actor, progress)
        details = {"file": info.name, "revision": info.revision, "size": info.size}
        _audit(engine, actor, "database_backup", details)
    finally:
        engine.dispose()
    prune(folder, keep, made=info.path)
    return info


def _write_backup(
    conn: Connection, pg_dump: str, url: str, folder: Path, actor: Actor, progress: Progress
) -> BackupInfo:
    """Dump what one exported snapshot sees, and count its rows in that same snapshot."""
    conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        revision = current_revision(conn)
        if revision is None:
            raise BackupError(N_("The database has no clinic data yet: nothing to back up."))
        counts = row_counts(conn)
        tables = max(conn.execute(text(DATA_TABLES_SQL)).scalar_one(), 1)
        created_at = datetime.now(UTC)
        final, partial = _reserve(folder, created_at, revision)
        try:
            dump_database(pg_dump, url, snapshot, partial, tables, progress)
            size = partial.stat().st_size
            info = BackupInfo(final, created_at, revision, size, actor.email, counts)
            _write_sidecar(info)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            final.with_suffix(".json").unlink(missing_ok=True)
            raise
    return info


def prepare_folder(backup_dir: Path) -> Path:
    """The backup folder, created if needed, readable by its owner only."""
    folder = Path(backup_dir).expanduser().absolute()
    try:
        from clinic_tui.private_files import private_folder

        private_folder(folder)
    except OSError as error:
        raise BackupError(
            N_("The backup folder {folder} cannot be used: {error}"),
            detail=error.strerror or str(error),
            folder=str(folder),
        ) from None
    return folder


def _reserve(folder: Path, created_at: datetime, revision: str) -> tuple[Path, Path]:
    """A free name for the backup, and the private file pg_dump writes before it is complete."""
    stem = f"clinic-{created_at.strftime(_STAMP)}-{re.sub(r'[^A-Za-z0-9_]', '_', revision)}"
    for number in itertools.count(1):
        final = folder / (f"{stem}.dump" if number == 1 else f"{stem}-{number}.dump")
        partial = folder / f".{final.name}.partial"
        if final.exists():
            continue
        try:
            handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.fchmod(handle, 0o600)
        os.close(handle)
        return final, partial
    raise AssertionError("unreachable")


def _write_sidecar(info: BackupInfo) -> None:
    data = {
        "format": SIDECAR_FORMAT,
        "version": 1,
        "file": info.name,
        "revision": info.revision,
        "created_at": info.created_at.isoformat(),
        "created_by": info.created_by,
        "size": info.size,
        "row_counts": info.row_counts,
    }
    target = info.path.with_suffix(".json")
    temporary = target.with_name(f".{target.name}.partial")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, sort_keys=True)
    os.replace(temporary, target)


# ---- listing and retention ------------------------------------------------------------------


def list_backups(backup_dir: Path) -> list[BackupInfo]:
    """The backups in the folder, newest first (reads only their JSON files)."""
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    found = [read_info(path) for path in folder.glob("clinic-*.dump") if path.is_file()]
    return sorted(found, key=lambda info: (info.created_at, info.name), reverse=True)


def read_info(path: Path) -> BackupInfo:
    """What the backup's JSON says; for a dump without one, what its name and file say."""
    path = Path(path)
    stat = path.stat()
    try:
        data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if data.get("format") != SIDECAR_FORMAT:
            raise ValueError("not a clinic-tui backup description")
        return BackupInfo(
            path,
            datetime.fromisoformat(data["created_at"]).astimezone(UTC),
            data.get("revision"),
            stat.st_size,
            data.get("created_by"),
            {str(k): int(v) for k, v in (data.get("row_counts") or {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    named = _NAME.match(path.name)
    if named:
        created = datetime.strptime(named.group(1), _STAMP).replace(tzinfo=UTC)
        return BackupInfo(path, created, named.group(2), stat.st_size, None)
    return BackupInfo(path, datetime.fromtimestamp(stat.st_mtime, UTC), None, stat.st_size, None)


def prune(backup_dir: Path, keep: int, *, made: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups (never `made`); return what was deleted."""
    backups = list_backups(backup_dir)
    kept = {info.path for info in backups[: max(keep, 1)]}
    if made is not None:
        kept.add(Path(made))
    deleted = []
    for info in backups:
        if info.path not in kept:
            info.path.unlink(missing_ok=True)
            info.path.with_suffix(".json").unlink(missing_ok=True)
            deleted.append(info.path)
    return deleted


# ---- restoring ------------------------------------------------------------------------------


def backup_revision(path: Path) -> str:
    """The schema revision saved inside a dump; BackupError when it is not a clinic backup."""
    return inspect_dump(client_program("pg_restore"), Path(path))[1]


def restore(
    database_url: str, actor: Actor | None, path: Path, *, on_progress: Progress | None = None
) -> RestoreResult:
    """Replace everything in the database with the backup at `path`, in one transaction.

    `on_progress(done, total, entry)` follows the dump's entries as they are restored. Refuses
    a file that is not a clinic backup and a backup newer than this program. Afterwards the
    tables are analysed and the row counts read; the audit entry is written last, so the
    restore does not erase it. Connections pooled before the restore should be disposed.
    """
    actor = require(actor, Permission.DATABASE_ADMIN)
    progress = on_progress or (lambda done, total, what: None)
    started = time.monotonic()
    path = Path(path).expanduser().absolute()
    pg_restore, psql = client_program("pg_restore"), client_program("psql")
    total, revision = inspect_dump(pg_restore, path)
    known = [step.id for step in migrations.chain()]
    if revision not in known:
        raise BackupError(
            N_(
                "The backup {file} is at revision {revision}, newer than this program's "
                "{head}: restore it with a newer version of clinic-tui."
            ),
            file=path.name,
            revision=revision,
            head=known[-1] if known else "?",
        )
    expected = read_info(path).row_counts
    engine = _engine(database_url)
    try:
        with engine.connect() as guard:
            _take_migration_lock(guard, actor)
            try:
                restore_dump(pg_restore, psql, path, database_url, total, progress)
            finally:
                guard.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY}
                )
                guard.commit()
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        with engine.connect() as conn:
            counts = row_counts(conn)
            now_at = current_revision(conn) or revision
            present = _user_exists(conn, actor)
        details = {"file": path.name, "revision": now_at, "rows": sum(counts.values())}
        _audit(engine, actor, "database_restore", details)
    finally:
        engine.dispose()
    return RestoreResult(
        path, now_at, known[-1], counts, expected, present, time.monotonic() - started
    )


def _take_migration_lock(guard: Connection, actor: Actor) -> None:
    """No migration may run while the schema is replaced (the same lock as migrations)."""
    guard.execute(
        text("SELECT set_config('application_name', :name, false)"),
        {"name": f"clinic-tui restore: {actor.email}"[:63]},
    )
    locked = guard.execute(
        text("SELECT pg_try_advisory_lock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY}
    )
    if not locked.scalar_one():
        holder = migrations.lock_holder(guard)
        guard.rollback()
        raise BackupError(
            N_("A migration or another restore is running ({holder}): try again when it is done."),
            holder=holder,
        )
    guard.commit()  # the lock is the session's; the connection must not sit in a transaction


# ---- shared -------------------------------------------------------------------------------


def _engine(database_url: str) -> Engine:
    return create_engine(normalise_url(database_url), poolclass=pool.NullPool)


def _user_exists(conn: Connection, actor: Actor) -> bool:
    if not conn.execute(text("SELECT to_regclass('public.users') IS NOT NULL")).scalar():
        return False
    query = text("SELECT EXISTS (SELECT 1 FROM users WHERE id = :id)")
    return bool(conn.execute(query, {"id": actor.user_id}).scalar())


def _audit(engine: Engine, actor: Actor, action: str, details: dict[str, Any]) -> None:
    """An audit entry, by user id when the account exists in this database (a restore may
    bring back data from before the account was made; the command line has no account)."""
    with engine.begin() as conn:
        if not conn.execute(text("SELECT to_regclass('public.audit_log') IS NOT NULL")).scalar():
            return
        present = _user_exists(conn, actor)
        if not present:
            details = {**details, "by": actor.email}
        conn.execute(
            text(
                "INSERT INTO audit_log (user_id, action, entity, entity_id, details) "
                "VALUES (:user, :action, 'database', :entity_id, CAST(:details AS jsonb))"
            ),
            {
                "user": actor.user_id if present else None,
                "action": action,
                "entity_id": str(details.get("file", ""))[:64],
                "details": json.dumps(details),
            },
        )
