"""Clinical: treatment plans and treatment sessions (PhysioFlow migration 002).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import one_of, timestamps, touch_updated_at, uuid_pk

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Clinical: treatment plans and sessions"
title_vi = "Lâm sàng: kế hoạch điều trị và buổi điều trị"


def upgrade() -> None:
    op.create_table(
        "treatment_plans",
        uuid_pk(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid()),
        sa.Column("diagnosis", sa.Text(), nullable=False),
        sa.Column("diagnosis_icd10", sa.String(10)),
        sa.Column("goals", sa.Text()),
        sa.Column("sessions_per_week", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("planned_end_date", sa.Date()),
        sa.Column("status", sa.String(20), server_default=sa.text("'ACTIVE'"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_treatment_plans"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_treatment_plans_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name="fk_treatment_plans_doctor_id_doctors",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            one_of("status", ("ACTIVE", "COMPLETED", "DISCONTINUED")),
            name=op.f("ck_treatment_plans_status"),
        ),
        sa.CheckConstraint(
            "sessions_per_week BETWEEN 1 AND 14", name=op.f("ck_treatment_plans_sessions_per_week")
        ),
        sa.CheckConstraint(
            "planned_end_date IS NULL OR planned_end_date >= start_date",
            name=op.f("ck_treatment_plans_dates"),
        ),
    )
    op.create_index("ix_treatment_plans_patient_id", "treatment_plans", ["patient_id"])

    op.create_table(
        "treatment_sessions",
        uuid_pk(),
        sa.Column("treatment_plan_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid()),  # its foreign key arrives with appointments (0004)
        sa.Column("therapist_id", sa.Uuid()),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("pain_level", sa.Integer()),
        sa.Column(
            "exercises_done",
            sa.dialects.postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("minutes", sa.Integer()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_treatment_sessions"),
        sa.ForeignKeyConstraint(
            ["treatment_plan_id"],
            ["treatment_plans.id"],
            name="fk_treatment_sessions_treatment_plan_id_treatment_plans",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["doctors.id"],
            name="fk_treatment_sessions_therapist_id_doctors",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "pain_level BETWEEN 0 AND 10", name=op.f("ck_treatment_sessions_pain_level")
        ),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_treatment_sessions_minutes")),
    )
    op.create_index(
        "ix_treatment_sessions_treatment_plan_id", "treatment_sessions", ["treatment_plan_id"]
    )
    touch_updated_at("treatment_plans")
    touch_updated_at("treatment_sessions")


def downgrade() -> None:
    op.drop_table("treatment_sessions")
    op.drop_table("treatment_plans")
