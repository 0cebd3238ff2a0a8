"""Column shapes and helpers the revisions share.

Revisions are history: once a revision uses a helper here, that helper's behaviour is frozen.
Add new helpers instead of changing old ones. Nothing here imports the app's models.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

# seeds/ sits beside alembic/ both in the repository and inside the installed package.
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


def uuid_pk() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), primary_key=True, server_default=sa.text("gen_random_uuid()"))


def created_at() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def timestamps() -> list[sa.Column[Any]]:
    """created_at, updated_at (kept by a trigger) and version (optimistic locking)."""
    return [
        created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    ]


def money(name: str, *, nullable: bool = False, default: str | None = None) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.Numeric(12, 2),
        nullable=nullable,
        server_default=sa.text(default) if default is not None else None,
    )


def one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def touch_updated_at(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER trg_{table}_touch BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
    )


def read_csv(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_json(name: str) -> Any:
    with (SEEDS_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def yes(value: str) -> bool:
    return value.strip().lower() in {"yes", "true", "1"}
