"""The migration runner: the same Alembic chain for `alembic upgrade head`, `clinic-tui db …`
and the admin's migration screen. Alembic is imported here only, never on the start path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text

from clinic_tui.resources import alembic_dir

if TYPE_CHECKING:
    from alembic.config import Config

# One key for every process that migrates this database (app, CLI, plain `alembic`).
MIGRATION_LOCK_KEY = 0x636C696E  # "clin"
MIGRATION_APPLICATION_NAME = "clinic-tui migrate"


class MigrationLocked(RuntimeError):
    """Another session holds the migration lock. `holder` names it, as far as PostgreSQL knows."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"migration lock held by {holder}")
        self.holder = holder


def lock_holder(conn: Any) -> str:
    """Who holds the migration lock: the application name (which carries the admin's e-mail
    when the app migrates), the database user, the client address and since when."""
    row = conn.execute(
        text(
            "SELECT a.application_name, a.usename, a.client_addr, a.backend_start, a.pid "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 "
            "AND l.objid = :key AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"key": MIGRATION_LOCK_KEY},
    ).first()
    if row is None:
        return "?"
    name, user, address, since, pid = row
    where = f" @ {address}" if address else ""
    return f"{name or '?'} ({user}{where}, pid {pid}, {since:%Y-%m-%d %H:%M})"


@dataclass(frozen=True)
class Revision:
    id: str
    down_revision: str | None
    description: str
    title_en: str = ""
    title_vi: str = ""

    def title(self, language: str) -> str:
        """The short title in `language` ("en" / "vi"), falling back to the docstring."""
        return (self.title_vi if language == "vi" else self.title_en) or self.description


def alembic_config(url: str | None = None, *, connection: Any = None) -> Config:
    import sys

    from alembic.config import Config

    # Revisions import their shared helpers (`shapes`) from the chain's own directory.
    if str(alembic_dir()) not in sys.path:
        sys.path.insert(0, str(alembic_dir()))
    config = Config()
    config.set_main_option("script_location", str(alembic_dir()))
    if url is not None:
        config.attributes["database_url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def chain() -> list[Revision]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions(base="base", head="heads"))
    revisions.reverse()
    return [
        Revision(
            r.revision,
            r.down_revision if isinstance(r.down_revision, str) else None,
            (r.doc or "").strip().splitlines()[0] if r.doc else "",
            getattr(r.module, "title_en", ""),
            getattr(r.module, "title_vi", ""),
        )
        for r in revisions
    ]


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(url: str) -> str | None:
    from clinic_tui.db.engine import current_revision

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def upgrade(
    url: str,
    target: str = "head",
    *,
    on_step: Callable[[str], None] | None = None,
    who: str | None = None,
) -> None:
    _run(url, "upgrade", target, on_step, who)


def downgrade(
    url: str, target: str, *, on_step: Callable[[str], None] | None = None, who: str | None = None
) -> None:
    _run(url, "downgrade", target, on_step, who)


def _run(
    url: str,
    direction: str,
    target: str,
    on_step: Callable[[str], None] | None,
    who: str | None,
) -> None:
    from alembic import command

    config = alembic_config(url)
    if on_step is not None:
        config.attributes["on_step"] = on_step
    if who is not None:
        config.attributes["who"] = who
    getattr(command, direction)(config, target)


def steps_between(source: str | None, target: str) -> Iterator[Revision]:
    revisions = chain()
    ids = [r.id for r in revisions]
    start = ids.index(source) + 1 if source else 0
    end = ids.index(target) + 1 if target != "head" else len(ids)
    yield from revisions[start:end]
