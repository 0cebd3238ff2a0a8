"""Seed the 8 physiotherapy service codes PT001–PT301 with English and Vietnamese names and
VND prices (seeds/0012_pt_service_codes.csv, frozen with this revision).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from shapes import read_csv, yes

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Seed: physiotherapy service codes PT001–PT301"
title_vi = "Dữ liệu mẫu: mã dịch vụ vật lý trị liệu PT001–PT301"

SEED_FILE = "0012_pt_service_codes.csv"
codes = sa.table(
    "pt_service_codes",
    *(
        sa.column(name)
        for name in (
            "code",
            "name_en",
            "name_vi",
            "category",
            "unit_price",
            "bhyt_price",
            "bhyt_covered",
            "duration_minutes",
        )
    ),
)


def upgrade() -> None:
    rows = [
        {
            "code": row["code"],
            "name_en": row["name_en"],
            "name_vi": row["name_vi"],
            "category": row["category"],
            "unit_price": Decimal(row["unit_price"]),
            "bhyt_price": Decimal(row["bhyt_price"]) if row["bhyt_price"] else None,
            "bhyt_covered": yes(row["bhyt_covered"]),
            "duration_minutes": int(row["duration_minutes"]),
        }
        for row in read_csv(SEED_FILE)
    ]
    op.bulk_insert(codes, rows)


def downgrade() -> None:
    seeded = [row["code"] for row in read_csv(SEED_FILE)]
    op.execute(codes.delete().where(codes.c.code.in_(seeded)))
