"""Alembic environment: the app's own engine and settings.

Run from the app (`clinic_tui.db.migrations`) it receives the URL, or an open connection, in
`config.attributes`; run as plain `alembic upgrade head` from the repository root it reads
the same settings as `clinic-tui` (CLINIC_DATABASE_URL, or the embedded server).

Every run holds a PostgreSQL advisory lock so two processes never migrate at once; the second
is refused at once with the holder's name rather than left waiting behind it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool, text

from clinic_tui.db.migrations import (
    MIGRATION_APPLICATION_NAME,
    MIGRATION_LOCK_KEY,
    MigrationLocked,
    lock_holder,
)
from clinic_tui.models import Base

# Revisions import `shapes` from this directory, in the repository and in the installed wheel.
sys.path.insert(0, str(Path(__file__).resolve().parent))

config = context.config
target_metadata = Base.metadata


def _database_url() -> tuple[str, object | None]:
    url = config.attributes.get("database_url")
    if url:
        return url, None
    from clinic_tui.config import Settings
    from clinic_tui.db.engine import Database

    database = Database.from_settings(Settings())
    return database.url, database


def _include_object(obj, name, type_, reflected, compare_to):
    # Partitions of outcome_measures are created by the migration, not declared as models.
    return not (
        type_ == "table"
        and reflected
        and name
        and name.startswith(("outcome_measures_y", "outcome_measures_default"))
    )


def _run(connection) -> None:
    on_step = config.attributes.get("on_step")

    def _announce(ctx, step, heads, run_args):
        if on_step is not None:
            on_step(
                step.up_revision_id
                if step.is_upgrade
                else step.down_revision_ids[0]
                if step.down_revision_ids
                else "base"
            )

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        transaction_per_migration=True,
        compare_type=True,
        compare_server_default=False,
        on_version_apply=_announce,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url, owner = _database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            # Named, so a second admin is told who is migrating (see migrations.lock_holder).
            who = config.attributes.get("who") or "alembic"
            connection.execute(
                text("SELECT set_config('application_name', :name, false)"),
                {"name": f"{MIGRATION_APPLICATION_NAME}: {who}"[:63]},
            )
            if not connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY}
            ).scalar_one():
                holder = lock_holder(connection)
                connection.rollback()
                raise MigrationLocked(holder)
            connection.commit()
            try:
                _run(connection)
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()
        if owner is not None:
            owner.close()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; connect to a database.")
run_migrations_online()
