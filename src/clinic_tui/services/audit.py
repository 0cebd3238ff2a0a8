"""Writing the audit log: ids and actions, never patient details (DESIGN §5.4)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry


def record(
    session: Session,
    action: str,
    *,
    user_id: uuid.UUID | None = None,
    entity: str | None = None,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.execute(
        insert(AuditEntry).values(
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            details=details or {},
        )
    )
