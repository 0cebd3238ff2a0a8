"""Clinic settings: the clinic's name, address and phone, slot length and opening hours, and
values with effective dates (the base salary that sets the BHYT co-pay threshold, the
self-referral factor), seeded with their history so next year's figures need no code change.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from shapes import created_at, timestamps, touch_updated_at, uuid_pk
from sqlalchemy.dialects.postgresql import JSONB

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Clinic settings and values with effective dates"
title_vi = "Cài đặt phòng khám và giá trị theo ngày hiệu lực"

SETTINGS = {
    "clinic_name": "Phòng khám Vật lý trị liệu",
    "clinic_address": "",
    "clinic_phone": "",
    "slot_minutes": 30,
    "opening_hours": {"from": "07:30", "to": "17:30"},
    "receipt_printer": "",
}
# (key, effective_from, value, source)
DATED = (
    ("base_salary", date(2023, 7, 1), Decimal(1_800_000), "Nghị định 24/2023/NĐ-CP"),
    ("base_salary", date(2024, 7, 1), Decimal(2_340_000), "Nghị định 73/2024/NĐ-CP"),
    ("base_salary", date(2026, 7, 1), Decimal(2_530_000), "Nghị định 161/2026"),
    ("self_referral_factor", date(2025, 1, 1), Decimal(100), "Luật 51/2024/QH15 (default)"),
)


def upgrade() -> None:
    op.create_table(
        "clinic_settings",
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("value", JSONB(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("key", name="pk_clinic_settings"),
    )
    touch_updated_at("clinic_settings")
    op.create_table(
        "dated_settings",
        uuid_pk(),
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(14, 2), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("created_by", sa.Uuid()),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_dated_settings"),
        sa.UniqueConstraint("key", "effective_from", name="uq_dated_settings_key_effective_from"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_dated_settings_created_by_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_dated_settings_value")),
    )
    settings = sa.table("clinic_settings", sa.column("key"), sa.column("value", JSONB()))
    op.bulk_insert(settings, [{"key": k, "value": v} for k, v in SETTINGS.items()])
    dated = sa.table(
        "dated_settings",
        sa.column("key"),
        sa.column("effective_from"),
        sa.column("value"),
        sa.column("source"),
    )
    op.bulk_insert(
        dated, [{"key": k, "effective_from": d, "value": v, "source": s} for k, d, v, s in DATED]
    )


def downgrade() -> None:
    op.drop_table("dated_settings")
    op.drop_table("clinic_settings")
