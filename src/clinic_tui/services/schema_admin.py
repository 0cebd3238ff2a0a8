"""Running migrations for the admin's migration screen: the plan, a backup first, each revision
in its own transaction, and an honest account when something fails (DESIGN §4, §5.4).

The same Alembic chain as `clinic-tui db upgrade` and plain `alembic upgrade head`; all of them
take one advisory lock, so two admins never migrate at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, pool, text

from clinic_tui.db import migrations
from clinic_tui.i18n import N_
from clinic_tui.services.access import Actor, Permission, require

BASE = "base"  # below the first revision: an empty schema


class Direction(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class RevisionState:
    revision: migrations.Revision
    applied: bool
    current: bool


@dataclass(frozen=True)
class SchemaOverview:
    current: str | None
    head: str
    revisions: tuple[RevisionState, ...]

    @property
    def pending(self) -> int:
        return sum(not state.applied for state in self.revisions)


@dataclass(frozen=True)
class MigrationPlan:
    direction: Direction
    source: str | None
    target: str  # a revision id, or BASE
    steps: tuple[migrations.Revision, ...]  # in the order they run


@dataclass(frozen=True)
class MigrationEvent:
    """One line of the live log: a msgid with its values (translated by the screen), and how far
    along the plan is."""

    done: int
    total: int
    msgid: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MigrationOutcome:
    plan: MigrationPlan
    reached: str | None  # the revision the database is at now
    backup: Path | None = None
    error: str | None = None
    failed_revision: str | None = None
    locked_by: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.locked_by is None


class PlanError(ValueError):
    def __init__(self, msgid: str, **values: Any) -> None:
        super().__init__(msgid.format(**values))
        self.msgid, self.values = msgid, values


def overview(database_url: str, actor: Actor | None) -> SchemaOverview:
    require(actor, Permission.DATABASE_ADMIN)
    current = migrations.current(database_url)
    chain = migrations.chain()
    ids = [revision.id for revision in chain]
    applied_upto = ids.index(current) if current in ids else -1
    return SchemaOverview(
        current,
        ids[-1],
        tuple(
            RevisionState(revision, index <= applied_upto, revision.id == current)
            for index, revision in enumerate(chain)
        ),
    )


def plan(current: str | None, target: str) -> MigrationPlan:
    """The revisions that run to go from `current` to `target` ("head", BASE or an id)."""
    chain = migrations.chain()
    ids = [revision.id for revision in chain]
    if target == "head":
        target = ids[-1]
    if target != BASE and target not in ids:
        raise PlanError(N_("There is no revision {revision}."), revision=target)
    if current is not None and current not in ids:
        raise PlanError(
            N_("The database is at {revision}, which this program does not know."),
            revision=current,
        )
    here = ids.index(current) if current is not None else -1
    there = ids.index(target) if target != BASE else -1
    if there == here:
        raise PlanError(N_("The database is already at {revision}."), revision=target)
    if there > here:
        return MigrationPlan(Direction.UPGRADE, current, target, tuple(chain[here + 1 : there + 1]))
    return MigrationPlan(
        Direction.DOWNGRADE, current, target, tuple(reversed(chain[there + 1 : here + 1]))
    )


def probe_lock(database_url: str) -> str | None:
    """Who holds the migration lock right now, or None when it is free."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            if conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY}
            ).scalar_one():
                conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": migrations.MIGRATION_LOCK_KEY}
                )
                return None
            return migrations.lock_holder(conn)
    finally:
        engine.dispose()


def run(
    database_url: str,
    actor: Actor | None,
    migration: MigrationPlan,
    *,
    backup_dir: Path | None,
    keep_backups: int = 10,
    on_event: Callable[[MigrationEvent], None] = lambda event: None,
) -> MigrationOutcome:
    """Back up (unless `backup_dir` is None), then run the plan one revision per transaction.

    Never raises for a failing revision: the outcome says where the database stopped, the
    error, and the backup to restore.
    """
    actor = require(actor, Permission.DATABASE_ADMIN)
    total = len(migration.steps)
    holder = probe_lock(database_url)
    if holder is not None:
        on_event(
            MigrationEvent(
                0, total, N_("Another migration is running: {holder}."), {"holder": holder}
            )
        )
        return MigrationOutcome(migration, migrations.current(database_url), locked_by=holder)

    backup: Path | None = None
    if backup_dir is not None:
        on_event(MigrationEvent(0, total, N_("Backing up the database first…")))
        try:
            backup = _back_up(database_url, actor, backup_dir, keep_backups)
        except Exception as error:
            message = _first_line(error)
            on_event(MigrationEvent(0, total, N_("The backup failed: {error}"), {"error": message}))
            return MigrationOutcome(
                migration, migrations.current(database_url), error=message, failed_revision=None
            )
        on_event(MigrationEvent(0, total, N_("Backup written: {path}"), {"path": str(backup)}))

    done = 0
    announce_next(migration, done, on_event)

    def step_done(_revision: str) -> None:
        nonlocal done
        finished = migration.steps[done]
        done += 1
        on_event(
            MigrationEvent(
                done,
                total,
                N_("✓ {revision} {title}"),
                {"revision": finished.id, "revision_obj": finished},
            )
        )
        announce_next(migration, done, on_event)

    upgrading = migration.direction is Direction.UPGRADE
    runner = migrations.upgrade if upgrading else migrations.downgrade
    try:
        runner(database_url, migration.target, on_step=step_done, who=actor.email)
    except migrations.MigrationLocked as locked:
        on_event(
            MigrationEvent(
                done,
                total,
                N_("Another migration is running: {holder}."),
                {"holder": locked.holder},
            )
        )
        return MigrationOutcome(
            migration, migrations.current(database_url), backup, locked_by=locked.holder
        )
    except Exception as error:
        reached = migrations.current(database_url)
        failed = migration.steps[done].id if done < total else None
        message = _first_line(error)
        on_event(
            MigrationEvent(
                done,
                total,
                N_("✗ {revision} failed: {error}"),
                {"revision": failed or "?", "error": message},
            )
        )
        _audit(database_url, actor, migration, reached, error=message)
        return MigrationOutcome(migration, reached, backup, message, failed)
    reached = migrations.current(database_url)
    _audit(database_url, actor, migration, reached)
    on_event(
        MigrationEvent(
            total, total, N_("Done: the database is at {revision}."), {"revision": reached or BASE}
        )
    )
    return MigrationOutcome(migration, reached, backup)


def announce_next(
    migration: MigrationPlan, done: int, on_event: Callable[[MigrationEvent], None]
) -> None:
    if done < len(migration.steps):
        following = migration.steps[done]
        msgid = (
            N_("Applying {revision} {title}…")
            if migration.direction is Direction.UPGRADE
            else N_("Reverting {revision} {title}…")
        )
        on_event(
            MigrationEvent(
                done,
                len(migration.steps),
                msgid,
                {"revision": following.id, "revision_obj": following},
            )
        )


def _back_up(database_url: str, actor: Actor, backup_dir: Path, keep: int) -> Path:
    from clinic_tui.services import backups

    return backups.backup_now(database_url, actor, backup_dir=backup_dir, keep=keep).path


def _first_line(error: BaseException) -> str:
    text_ = str(getattr(error, "orig", None) or error).strip()
    return text_.splitlines()[0] if text_ else type(error).__name__


def _audit(
    database_url: str,
    actor: Actor,
    migration: MigrationPlan,
    reached: str | None,
    *,
    error: str | None = None,
) -> None:
    """One audit entry per run, when the schema still has the audit table (a downgrade below
    it removes the place to write)."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            has_audit = text("SELECT to_regclass('public.audit_log') IS NOT NULL")
            if not conn.execute(has_audit).scalar():
                return
            conn.execute(
                text(
                    "INSERT INTO audit_log (user_id, action, entity, entity_id, details) "
                    "VALUES (:user, :action, 'schema', :reached, CAST(:details AS jsonb))"
                ),
                {
                    "user": actor.user_id if _user_exists(conn, actor) else None,
                    "action": f"schema.{migration.direction.value}",
                    "reached": reached or BASE,
                    "details": _json(
                        {
                            "from": migration.source or BASE,
                            "to": migration.target,
                            "steps": [step.id for step in migration.steps],
                            "error": error,
                        }
                    ),
                },
            )
    finally:
        engine.dispose()


def _user_exists(conn: Any, actor: Actor) -> bool:
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM users WHERE id = :id)"),
            {"id": actor.user_id},
        ).scalar()
    )


def _json(value: object) -> str:
    import json

    return json.dumps(value)
