"""Seed the 5 clinical protocols: low back pain (8 weeks, 3×/week), shoulder pain (12, 3×),
knee osteoarthritis (8, 3×), post-stroke (16, 5×), paediatric developmental delay (24, 2×)
(seeds/0014_clinical_protocols.json, frozen with this revision).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import read_json
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Seed: 5 clinical protocols"
title_vi = "Dữ liệu mẫu: 5 phác đồ điều trị"

SEED_FILE = "0014_clinical_protocols.json"
protocols = sa.table(
    "clinical_protocols",
    sa.column("code"),
    sa.column("name_en"),
    sa.column("name_vi"),
    sa.column("category"),
    sa.column("description_en"),
    sa.column("description_vi"),
    sa.column("target_icd10_codes", ARRAY(sa.String(10))),
    sa.column("duration_weeks"),
    sa.column("sessions_per_week"),
    sa.column("session_minutes"),
    sa.column("goals", JSONB()),
    sa.column("exercises", JSONB()),
    sa.column("progression_criteria", JSONB()),
    sa.column("precautions_en"),
    sa.column("precautions_vi"),
)


def upgrade() -> None:
    names = [column.name for column in protocols.columns]
    op.bulk_insert(
        protocols, [{name: entry[name] for name in names} for entry in read_json(SEED_FILE)]
    )


def downgrade() -> None:
    codes = [entry["code"] for entry in read_json(SEED_FILE)]
    op.execute(protocols.delete().where(protocols.c.code.in_(codes)))
