"""BHYT card on insurance_info: card number, object code, printed level, coverage, province,
registered facility, five-continuous-years date, with format checks (PhysioFlow 005).

The card is stored normalised (upper case, no separators): 2 letters, level 1–5, 2-digit
province, 10-digit social-insurance number (Decision 1351/QĐ-BHXH).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "BHYT card fields on insurance"
title_vi = "Thông tin thẻ BHYT trong bảo hiểm"


def _columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("bhyt_card_number", sa.String(15)),
        sa.Column("bhyt_prefix_code", sa.String(2)),
        sa.Column("bhyt_benefit_level", sa.SmallInteger()),
        sa.Column("bhyt_coverage_percent", sa.Numeric(5, 2)),
        sa.Column("bhyt_copay_rate", sa.Numeric(5, 2)),
        sa.Column("province_code", sa.String(2)),
        sa.Column("registered_facility_code", sa.String(10)),
        sa.Column("registered_facility_name", sa.String(200)),
        sa.Column("five_year_continuous_from", sa.Date()),
    )


CHECKS = {
    "ck_insurance_info_bhyt_card_format": (
        "bhyt_card_number ~ '^[A-Z]{2}[1-5][0-9]{2}[0-9]{10}$' "
        "AND substr(bhyt_card_number, 4, 2) <> '00'"
    ),
    "ck_insurance_info_bhyt_card_required": (
        "provider_type <> 'BHYT' OR bhyt_card_number IS NOT NULL"
    ),
    "ck_insurance_info_bhyt_prefix_code": "bhyt_prefix_code ~ '^[A-Z]{2}$'",
    "ck_insurance_info_bhyt_benefit_level": "bhyt_benefit_level BETWEEN 1 AND 5",
    "ck_insurance_info_bhyt_coverage_percent": "bhyt_coverage_percent BETWEEN 0 AND 100",
    "ck_insurance_info_bhyt_copay_rate": "bhyt_copay_rate BETWEEN 0 AND 100",
    "ck_insurance_info_province_code": "province_code ~ '^[0-9]{2}$' AND province_code <> '00'",
    "ck_insurance_info_copay_is_rest": (
        "bhyt_copay_rate IS NULL OR bhyt_coverage_percent IS NULL "
        "OR bhyt_copay_rate = 100 - bhyt_coverage_percent"
    ),
}


def upgrade() -> None:
    for column in _columns():
        op.add_column("insurance_info", column)
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(name), "insurance_info", condition)
    op.create_index("ix_insurance_info_bhyt_card_number", "insurance_info", ["bhyt_card_number"])


def downgrade() -> None:
    op.drop_index("ix_insurance_info_bhyt_card_number", table_name="insurance_info")
    for name in CHECKS:
        op.drop_constraint(op.f(name), "insurance_info", type_="check")
    for column in reversed(_columns()):
        op.drop_column("insurance_info", column.name)
