"""Check-in checklist: templates, items and the answers kept with each visit
(PhysioFlow migration 003).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import created_at, timestamps, touch_updated_at, uuid_pk

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Check-in checklist: templates, items, answers"
title_vi = "Danh mục kiểm tra khi tiếp đón: mẫu, mục, câu trả lời"


def upgrade() -> None:
    op.create_table(
        "visit_checklist_templates",
        uuid_pk(),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("name_vi", sa.String(200), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_visit_checklist_templates"),
    )
    op.create_table(
        "visit_checklist_items",
        uuid_pk(),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("label_en", sa.String(300), nullable=False),
        sa.Column("label_vi", sa.String(300), nullable=False),
        sa.Column("is_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_visit_checklist_items"),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["visit_checklist_templates.id"],
            name="fk_visit_checklist_items_template_id_visit_checklist_templates",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_visit_checklist_items_template_id", "visit_checklist_items", ["template_id"]
    )
    op.create_table(
        "visit_checklist_responses",
        uuid_pk(),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),  # foreign key added in 0004
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("is_checked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("responded_by", sa.Uuid()),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_visit_checklist_responses"),
        sa.UniqueConstraint(
            "appointment_id", "item_id", name="uq_visit_checklist_responses_appointment_item"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["visit_checklist_items.id"],
            name="fk_visit_checklist_responses_item_id_visit_checklist_items",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["responded_by"],
            ["users.id"],
            name="fk_visit_checklist_responses_responded_by_users",
            ondelete="SET NULL",
        ),
    )
    touch_updated_at("visit_checklist_templates")
    touch_updated_at("visit_checklist_items")


def downgrade() -> None:
    op.drop_table("visit_checklist_responses")
    op.drop_table("visit_checklist_items")
    op.drop_table("visit_checklist_templates")
