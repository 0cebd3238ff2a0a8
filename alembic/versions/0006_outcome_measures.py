"""Outcome measures: the instrument library (bilingual, range, direction, MCID) and recorded
scores, partitioned by year 2024–2030 so a date-range query reads only its years
(PhysioFlow migration 006).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import created_at, one_of, timestamps, touch_updated_at, uuid_pk

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Outcome measures: instruments and scores by year"
title_vi = "Thang đo kết quả: công cụ và điểm số theo năm"

YEARS = range(2024, 2031)
REGIONS = ("general", "neck", "lumbar", "upper_limb", "lower_limb", "knee", "balance")


def upgrade() -> None:
    op.create_table(
        "outcome_measures_library",
        uuid_pk(),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("name_vi", sa.String(200), nullable=False),
        sa.Column("description_en", sa.Text()),
        sa.Column("description_vi", sa.Text()),
        sa.Column("instructions_en", sa.Text()),
        sa.Column("instructions_vi", sa.Text()),
        sa.Column("body_region", sa.String(20), nullable=False),
        sa.Column("min_score", sa.Numeric(8, 2), nullable=False),
        sa.Column("max_score", sa.Numeric(8, 2), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("mcid", sa.Numeric(8, 2), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_outcome_measures_library"),
        sa.UniqueConstraint("code", name="uq_outcome_measures_library_code"),
        sa.CheckConstraint(
            "max_score > min_score", name=op.f("ck_outcome_measures_library_score_range")
        ),
        sa.CheckConstraint("mcid > 0", name=op.f("ck_outcome_measures_library_mcid")),
        sa.CheckConstraint(
            one_of("body_region", REGIONS), name=op.f("ck_outcome_measures_library_body_region")
        ),
    )
    touch_updated_at("outcome_measures_library")

    op.create_table(
        "outcome_measures",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("library_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_plan_id", sa.Uuid()),
        sa.Column("score", sa.Numeric(8, 2), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("recorded_by", sa.Uuid()),
        created_at(),
        sa.PrimaryKeyConstraint("id", "measured_on", name="pk_outcome_measures"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_outcome_measures_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["outcome_measures_library.id"],
            name="fk_outcome_measures_library_id_outcome_measures_library",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["treatment_plan_id"],
            ["treatment_plans.id"],
            name="fk_outcome_measures_treatment_plan_id_treatment_plans",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name="fk_outcome_measures_recorded_by_users",
            ondelete="SET NULL",
        ),
        postgresql_partition_by="RANGE (measured_on)",
    )
    for year in YEARS:
        op.execute(
            f"CREATE TABLE outcome_measures_y{year} PARTITION OF outcome_measures "
            f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        )
    # Scores outside 2024–2030 still have a home; a later revision can split new years out.
    op.execute("CREATE TABLE outcome_measures_default PARTITION OF outcome_measures DEFAULT")
    op.create_index(
        "ix_outcome_measures_patient_library",
        "outcome_measures",
        ["patient_id", "library_id", "measured_on"],
    )


def downgrade() -> None:
    op.drop_table("outcome_measures")  # its partitions go with it
    op.drop_table("outcome_measures_library")
