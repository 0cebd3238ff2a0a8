"""Seed the outcome-measures library: VAS, NRS, NDI, ODI, QuickDASH, DASH, KOOS, LEFS, Berg,
TUG, PSFS, FIM (seeds/0011_outcome_measures.json, frozen with this revision).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import read_json

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Seed: outcome-measure instruments"
title_vi = "Dữ liệu mẫu: các công cụ đo kết quả"

SEED_FILE = "0011_outcome_measures.json"
COLUMNS = (
    "code",
    "name_en",
    "name_vi",
    "description_en",
    "description_vi",
    "instructions_en",
    "instructions_vi",
    "body_region",
    "min_score",
    "max_score",
    "unit",
    "higher_is_better",
    "mcid",
)
library = sa.table("outcome_measures_library", *(sa.column(name) for name in COLUMNS))


def upgrade() -> None:
    rows = [{name: entry[name] for name in COLUMNS} for entry in read_json(SEED_FILE)]
    op.bulk_insert(library, rows)


def downgrade() -> None:
    codes = [entry["code"] for entry in read_json(SEED_FILE)]
    op.execute(library.delete().where(library.c.code.in_(codes)))
