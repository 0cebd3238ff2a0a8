"""What the app found in the database, as plain data (no database imports: the first screen
uses it before SQLAlchemy is loaded)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SchemaState(StrEnum):
    EMPTY = "empty"  # nothing yet: first run migrates and loads reference data
    BEHIND = "behind"  # older than this program: only an admin may go on, to upgrade
    CURRENT = "current"
    UNKNOWN = "unknown"  # a revision this program does not know (newer program used it)


@dataclass(frozen=True)
class DatabaseStatus:
    schema: SchemaState
    revision: str | None
    head: str
    has_users: bool
    has_demo_accounts: bool = False

    @property
    def needs_first_run(self) -> bool:
        return self.schema is SchemaState.EMPTY or (
            self.schema is SchemaState.CURRENT and not self.has_users
        )
