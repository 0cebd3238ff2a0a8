"""Seed 56 bilingual medical terms: 14 anatomy, 12 symptom, 14 condition, 12 treatment,
4 assessment, with ICD-10 codes and aliases (seeds/0013_medical_terms.csv, frozen).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import read_csv
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Seed: 56 bilingual medical terms"
title_vi = "Dữ liệu mẫu: 56 thuật ngữ y khoa song ngữ"

SEED_FILE = "0013_medical_terms.csv"
terms = sa.table(
    "vietnamese_medical_terms",
    sa.column("term_en"),
    sa.column("term_vi"),
    sa.column("category"),
    sa.column("icd10_code"),
    sa.column("aliases", ARRAY(sa.Text())),
    sa.column("description_en"),
    sa.column("description_vi"),
)


def _aliases(row: dict[str, str]) -> list[str]:
    words = row["aliases_en"].split("|") + row["aliases_vi"].split("|")
    return [word.strip() for word in words if word.strip()]


def upgrade() -> None:
    rows = [
        {
            "term_en": row["term_en"],
            "term_vi": row["term_vi"],
            "category": row["category"],
            "icd10_code": row["icd10_code"] or None,
            "aliases": _aliases(row),
            "description_en": row["description_en"] or None,
            "description_vi": row["description_vi"] or None,
        }
        for row in read_csv(SEED_FILE)
    ]
    op.bulk_insert(terms, rows)


def downgrade() -> None:
    for row in read_csv(SEED_FILE):
        op.execute(
            terms.delete().where(
                terms.c.term_en == row["term_en"],
                terms.c.term_vi == row["term_vi"],
                terms.c.category == row["category"],
            )
        )
