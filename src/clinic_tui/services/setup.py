"""What the app finds when it reaches a database, and the first-run work (DESIGN §4.1)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text

from clinic_tui.db.engine import current_revision
from clinic_tui.services.status import DatabaseStatus, SchemaState


def inspect_database(conn: Connection) -> DatabaseStatus:
    from clinic_tui.db import migrations  # Alembic: loaded in a worker, after the first screen

    revisions = [revision.id for revision in migrations.chain()]
    head = revisions[-1]
    revision = current_revision(conn)
    if revision is None:
        state = SchemaState.EMPTY
    elif revision == head:
        state = SchemaState.CURRENT
    elif revision in revisions:
        state = SchemaState.BEHIND
    else:
        state = SchemaState.UNKNOWN
    has_users = has_demo = False
    if (
        revision is not None
        and conn.execute(text("SELECT to_regclass('public.users') IS NOT NULL")).scalar_one()
    ):
        has_users, has_demo = conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM users), EXISTS (SELECT 1 FROM users WHERE is_demo)")
        ).one()
    return DatabaseStatus(state, revision, head, bool(has_users), bool(has_demo))


def migrate_to_head(url: str, progress: Callable[[int, int, str], None]) -> None:
    """Upgrade, calling progress(done, total, revision) after each revision."""
    from clinic_tui.db import migrations

    current = migrations.current(url)
    pending = list(migrations.steps_between(current, "head"))
    total = len(pending)
    done = 0

    def step(revision: str) -> None:
        nonlocal done
        done += 1
        progress(done, total, revision)

    progress(0, total, current or "")
    migrations.upgrade(url, "head", on_step=step)
