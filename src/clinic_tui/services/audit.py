"""Writing the audit log: ids and actions, never patient details (DESIGN §5.4)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import insert, text
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
    notice: dict[str, str] | None = None,
) -> None:
    """Add an entry to the caller's transaction. With `notice` (the channel and payload of a
    NOTIFY), the same round trip also sends it on commit: a booking's last statement."""
    if notice is not None:
        session.execute(
            text(
                "WITH entry AS (INSERT INTO audit_log (user_id, action, entity, entity_id, details)"
                " VALUES (:user_id, :action, :entity, :entity_id, CAST(:details AS jsonb)))"
                " SELECT pg_notify(:channel, :payload)"
            ),
            {
                "user_id": user_id,
                "action": action,
                "entity": entity,
                "entity_id": None if entity_id is None else str(entity_id),
                "details": json.dumps(details or {}),
                **notice,
            },
        )
        return
    session.execute(
        insert(AuditEntry).values(
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            details=details or {},
        )
    )
