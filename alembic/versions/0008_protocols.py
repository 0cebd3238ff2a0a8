"""Clinical protocols (bilingual; target ICD-10 codes with a GIN index; goals, exercises per
phase and progression criteria as JSONB) and their assignment to patients
(PhysioFlow migration 008).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import one_of, timestamps, touch_updated_at, uuid_pk
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Clinical protocols: goals, phases, exercises"
title_vi = "Phác đồ điều trị: mục tiêu, giai đoạn, bài tập"

CATEGORIES = ("musculoskeletal", "neurological", "paediatric")
PHASES = ("initial", "intermediate", "advanced")
PROGRESS = ("NOT_STARTED", "IN_PROGRESS", "COMPLETED", "DISCONTINUED")


def upgrade() -> None:
    op.create_table(
        "clinical_protocols",
        uuid_pk(),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("name_vi", sa.String(200), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("description_en", sa.Text()),
        sa.Column("description_vi", sa.Text()),
        sa.Column("target_icd10_codes", ARRAY(sa.String(10)), nullable=False),
        sa.Column("duration_weeks", sa.Integer(), nullable=False),
        sa.Column("sessions_per_week", sa.Integer(), nullable=False),
        sa.Column("session_minutes", sa.Integer(), server_default=sa.text("45"), nullable=False),
        sa.Column("goals", JSONB(), nullable=False),
        sa.Column("exercises", JSONB(), nullable=False),
        sa.Column("progression_criteria", JSONB(), nullable=False),
        sa.Column("precautions_en", sa.Text()),
        sa.Column("precautions_vi", sa.Text()),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_clinical_protocols"),
        sa.UniqueConstraint("code", name="uq_clinical_protocols_code"),
        sa.CheckConstraint(
            one_of("category", CATEGORIES), name=op.f("ck_clinical_protocols_category")
        ),
        sa.CheckConstraint("duration_weeks > 0", name=op.f("ck_clinical_protocols_duration_weeks")),
        sa.CheckConstraint(
            "sessions_per_week BETWEEN 1 AND 14",
            name=op.f("ck_clinical_protocols_sessions_per_week"),
        ),
    )
    op.create_index(
        "ix_clinical_protocols_target_icd10_codes",
        "clinical_protocols",
        ["target_icd10_codes"],
        postgresql_using="gin",
    )

    op.create_table(
        "patient_protocols",
        uuid_pk(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("protocol_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_plan_id", sa.Uuid()),
        sa.Column("assigned_by", sa.Uuid()),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column(
            "current_phase", sa.String(20), server_default=sa.text("'initial'"), nullable=False
        ),
        sa.Column(
            "progress_status",
            sa.String(20),
            server_default=sa.text("'NOT_STARTED'"),
            nullable=False,
        ),
        sa.Column("progress_notes", JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_patient_protocols"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_patient_protocols_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"],
            ["clinical_protocols.id"],
            name="fk_patient_protocols_protocol_id_clinical_protocols",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["treatment_plan_id"],
            ["treatment_plans.id"],
            name="fk_patient_protocols_treatment_plan_id_treatment_plans",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name="fk_patient_protocols_assigned_by_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            one_of("current_phase", PHASES), name=op.f("ck_patient_protocols_current_phase")
        ),
        sa.CheckConstraint(
            one_of("progress_status", PROGRESS), name=op.f("ck_patient_protocols_progress_status")
        ),
    )
    op.create_index("ix_patient_protocols_patient_id", "patient_protocols", ["patient_id"])
    touch_updated_at("clinical_protocols")
    touch_updated_at("patient_protocols")


def downgrade() -> None:
    op.drop_table("patient_protocols")
    op.drop_table("clinical_protocols")
