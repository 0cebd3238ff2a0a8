"""Telehealth (Healthcare document): video call sessions with a unique room and status,
their events, and the provider's webhook log.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import created_at, one_of, timestamps, touch_updated_at, uuid_pk
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Telehealth: video call sessions and events"
title_vi = "Khám từ xa: phiên gọi video và sự kiện"


def upgrade() -> None:
    op.create_table(
        "video_call_sessions",
        uuid_pk(),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("room_name", sa.String(100), nullable=False),
        sa.Column("room_sid", sa.String(64)),
        sa.Column("status", sa.String(20), server_default=sa.text("'CREATED'"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_seconds", sa.Integer()),
        sa.Column("created_by", sa.Uuid()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_video_call_sessions"),
        sa.UniqueConstraint("room_name", name="uq_video_call_sessions_room_name"),
        sa.UniqueConstraint("room_sid", name="uq_video_call_sessions_room_sid"),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name="fk_video_call_sessions_appointment_id_appointments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_video_call_sessions_created_by_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            one_of("status", ("CREATED", "IN_PROGRESS", "COMPLETED", "FAILED")),
            name=op.f("ck_video_call_sessions_status"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_video_call_sessions_times"),
        ),
        sa.CheckConstraint(
            "duration_seconds >= 0", name=op.f("ck_video_call_sessions_duration_seconds")
        ),
    )
    op.create_index(
        "ix_video_call_sessions_appointment_id", "video_call_sessions", ["appointment_id"]
    )
    op.create_index("ix_video_call_sessions_status", "video_call_sessions", ["status"])
    touch_updated_at("video_call_sessions")

    op.create_table(
        "video_call_events",
        uuid_pk(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("participant_identity", sa.String(100)),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("payload", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_video_call_events"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["video_call_sessions.id"],
            name="fk_video_call_events_session_id_video_call_sessions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_video_call_events_session_id", "video_call_events", ["session_id"])
    op.create_index("ix_video_call_events_event_type", "video_call_events", ["event_type"])
    op.create_index("ix_video_call_events_occurred_at", "video_call_events", ["occurred_at"])

    op.create_table(
        "twilio_webhook_events",
        uuid_pk(),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("room_sid", sa.String(64)),
        sa.Column("room_name", sa.String(100)),
        sa.Column("participant_sid", sa.String(64)),
        sa.Column("payload", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("signature_valid", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True)),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_twilio_webhook_events"),
    )
    op.create_index("ix_twilio_webhook_events_event_type", "twilio_webhook_events", ["event_type"])
    op.create_index("ix_twilio_webhook_events_room_sid", "twilio_webhook_events", ["room_sid"])
    op.create_index(
        "ix_twilio_webhook_events_received_at", "twilio_webhook_events", ["received_at"]
    )


def downgrade() -> None:
    op.drop_table("twilio_webhook_events")
    op.drop_table("video_call_events")
    op.drop_table("video_call_sessions")
