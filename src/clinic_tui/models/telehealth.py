"""Video visits and the provider's webhook log (revision 0016)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, CreatedAt, Timestamps, one_of, uuid_pk

VIDEO_STATUSES = ("CREATED", "IN_PROGRESS", "COMPLETED", "FAILED")


class VideoCallSession(Timestamps, Base):
    __tablename__ = "video_call_sessions"
    __table_args__ = (
        CheckConstraint(one_of("status", VIDEO_STATUSES), name="status"),
        CheckConstraint(
            "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at", name="times"
        ),
        CheckConstraint("duration_seconds >= 0", name="duration_seconds"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    room_name: Mapped[str] = mapped_column(String(100), unique=True)
    room_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'CREATED'"), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class VideoCallEvent(CreatedAt, Base):
    __tablename__ = "video_call_events"
    __table_args__ = (Index("ix_video_call_events_occurred_at", "occurred_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("video_call_sessions.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(50), index=True)
    participant_identity: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class TwilioWebhookEvent(CreatedAt, Base):
    __tablename__ = "twilio_webhook_events"
    __table_args__ = (Index("ix_twilio_webhook_events_received_at", "received_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    event_type: Mapped[str] = mapped_column(String(50), index=True)
    room_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    room_name: Mapped[str | None] = mapped_column(String(100))
    participant_sid: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    signature_valid: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
