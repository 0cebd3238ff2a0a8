"""Discharge: plans (baseline-versus-latest comparison, home exercise program) and bilingual
summaries (PhysioFlow migration 009).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import one_of, timestamps, touch_updated_at, uuid_pk
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Discharge plans and summaries"
title_vi = "Kế hoạch và tóm tắt ra viện"


def upgrade() -> None:
    op.create_table(
        "discharge_plans",
        uuid_pk(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_plan_id", sa.Uuid()),
        sa.Column("planned_date", sa.Date()),
        sa.Column(
            "baseline_comparison", JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column(
            "home_exercise_program", JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("status", sa.String(10), server_default=sa.text("'DRAFT'"), nullable=False),
        sa.Column("created_by", sa.Uuid()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_discharge_plans"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_discharge_plans_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["treatment_plan_id"],
            ["treatment_plans.id"],
            name="fk_discharge_plans_treatment_plan_id_treatment_plans",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_discharge_plans_created_by_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            one_of("status", ("DRAFT", "FINAL")), name=op.f("ck_discharge_plans_status")
        ),
    )
    op.create_index("ix_discharge_plans_patient_id", "discharge_plans", ["patient_id"])

    op.create_table(
        "discharge_summaries",
        uuid_pk(),
        sa.Column("discharge_plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("discharged_on", sa.Date(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("summary_vi", sa.Text(), nullable=False),
        sa.Column("recommendations_en", sa.Text()),
        sa.Column("recommendations_vi", sa.Text()),
        sa.Column(
            "outcome_summary", JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("created_by", sa.Uuid()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_discharge_summaries"),
        sa.UniqueConstraint("discharge_plan_id", name="uq_discharge_summaries_discharge_plan_id"),
        sa.ForeignKeyConstraint(
            ["discharge_plan_id"],
            ["discharge_plans.id"],
            name="fk_discharge_summaries_discharge_plan_id_discharge_plans",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_discharge_summaries_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_discharge_summaries_created_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_discharge_summaries_patient_id", "discharge_summaries", ["patient_id"])
    touch_updated_at("discharge_plans")
    touch_updated_at("discharge_summaries")


def downgrade() -> None:
    op.drop_table("discharge_summaries")
    op.drop_table("discharge_plans")
