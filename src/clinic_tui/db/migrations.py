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


@dataclass(frozen=True)
class Revision:
    id: str
    down_revision: str | None
    description: str


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
    url: str, target: str = "head", *, on_step: Callable[[str], None] | None = None
) -> None:
    _run(url, "upgrade", target, on_step)


def downgrade(url: str, target: str, *, on_step: Callable[[str], None] | None = None) -> None:
    _run(url, "downgrade", target, on_step)


def _run(url: str, direction: str, target: str, on_step: Callable[[str], None] | None) -> None:
    from alembic import command

    config = alembic_config(url)
    if on_step is not None:
        config.attributes["on_step"] = on_step
    getattr(command, direction)(config, target)


def steps_between(source: str | None, target: str) -> Iterator[Revision]:
    revisions = chain()
    ids = [r.id for r in revisions]
    start = ids.index(source) + 1 if source else 0
    end = ids.index(target) + 1 if target != "head" else len(ids)
    yield from revisions[start:end]


def advisory_lock_sql() -> Any:
    return text("SELECT pg_advisory_lock(:key)").bindparams(key=MIGRATION_LOCK_KEY)
