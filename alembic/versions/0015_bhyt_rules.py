"""BHYT rules: one validation rule per object code, the five benefit levels, the issuing
province codes, and the SQL function validate_bhyt_card(card) (PhysioFlow migration 015).

The card structure followed is the official one (Decision 1351/QĐ-BHXH): object code (2
letters) · benefit level (1–5, the printed digit decides coverage) · province (2 digits) ·
social-insurance number (10 digits). The seed document instead reads the third character as
a sub-category ("HC1–HC4, DN1–DN3, TE1–TE3, …") and gives "DN1" 80 %, so a real card such as
DN4791234567890 would be refused; its prefixes are not the official ones. Its verification
query expects "18" rules, a miscount of its own 21-prefix list. Here the rules are the 54
object codes of seeds/0015_bhyt_object_codes.csv (57 rows: CT, CN and LH changed level over
time; their level history is kept in bhyt_object_code_levels). The table and the function
keep the document's names and return shape: (is_valid, coverage_percent, copay_rate,
beneficiary_category).

Province codes: the 63 issuing codes of QĐ 124/2004/QĐ-TTg, plus 97 (military social
insurance) and 98 (police; commonly cited, unconfirmed: kept, marked so, admin-editable).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from shapes import created_at, read_csv, timestamps, touch_updated_at, uuid_pk, yes

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "BHYT rules: object codes, benefit levels, provinces"
title_vi = "Quy tắc BHYT: mã đối tượng, mức hưởng, tỉnh cấp"

CODES_FILE = "0015_bhyt_object_codes.csv"
LEVELS_FILE = "0015_bhyt_benefit_levels.csv"
PROVINCES_FILE = "0015_bhyt_provinces.csv"

VALIDATE_BHYT_CARD = r"""
CREATE FUNCTION validate_bhyt_card(card text)
RETURNS TABLE (is_valid boolean, coverage_percent numeric, copay_rate numeric,
               beneficiary_category text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    -- Typed with spaces, dashes, dots or in lower case: normalise as the app does.
    compact text := regexp_replace(upper(normalize(coalesce(card, ''), NFC)),
                                   '[[:space:].\-]', '', 'g');
    v_object_code text;
    v_level int;
    v_province text;
BEGIN
    IF compact !~ '^[A-Z]{2}[1-5][0-9]{2}[0-9]{10}$' THEN
        RETURN QUERY SELECT false, NULL::numeric, NULL::numeric, NULL::text;
        RETURN;
    END IF;
    v_object_code := substr(compact, 1, 2);
    v_level := substr(compact, 3, 1)::int;
    v_province := substr(compact, 4, 2);
    IF v_province = '00'
       OR NOT EXISTS (SELECT 1 FROM bhyt_provinces p WHERE p.code = v_province AND p.is_active)
       OR NOT EXISTS (
            SELECT 1 FROM bhyt_validation_rules r
            WHERE r.object_code = v_object_code AND r.is_active
              AND (r.active_from IS NULL OR r.active_from <= current_date)
              AND (r.active_to IS NULL OR r.active_to >= current_date)) THEN
        RETURN QUERY SELECT false, NULL::numeric, NULL::numeric, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT true, l.coverage_percent, l.copay_percent, v_object_code
        FROM bhyt_benefit_levels l WHERE l.level = v_level;
END
$$
"""


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def upgrade() -> None:
    op.create_table(
        "bhyt_validation_rules",
        uuid_pk(),
        sa.Column("object_code", sa.String(2), nullable=False),
        sa.Column("usual_level", sa.SmallInteger(), nullable=False),
        sa.Column("meaning_vi", sa.Text(), nullable=False),
        sa.Column("meaning_en", sa.Text(), nullable=False),
        sa.Column("is_confirmed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("active_from", sa.Date()),
        sa.Column("active_to", sa.Date()),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_bhyt_validation_rules"),
        sa.UniqueConstraint("object_code", name="uq_bhyt_validation_rules_object_code"),
        sa.CheckConstraint(
            "object_code ~ '^[A-Z]{2}$'", name=op.f("ck_bhyt_validation_rules_object_code")
        ),
        sa.CheckConstraint(
            "usual_level BETWEEN 1 AND 5", name=op.f("ck_bhyt_validation_rules_usual_level")
        ),
        sa.CheckConstraint(
            "active_to IS NULL OR active_from IS NULL OR active_to >= active_from",
            name=op.f("ck_bhyt_validation_rules_active_dates"),
        ),
    )
    touch_updated_at("bhyt_validation_rules")
    op.create_table(
        "bhyt_object_code_levels",
        uuid_pk(),
        sa.Column("object_code", sa.String(2), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("meaning_en", sa.Text(), nullable=False),
        sa.Column("meaning_vi", sa.Text(), nullable=False),
        sa.Column("is_confirmed", sa.Boolean(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("active_from", sa.Date()),
        sa.Column("active_to", sa.Date()),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_bhyt_object_code_levels"),
        sa.ForeignKeyConstraint(
            ["object_code"],
            ["bhyt_validation_rules.object_code"],
            name="fk_bhyt_object_code_levels_object_code_bhyt_validation_rules",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_bhyt_object_code_levels_level")),
    )
    op.create_index(
        "ix_bhyt_object_code_levels_object_code", "bhyt_object_code_levels", ["object_code"]
    )
    op.create_table(
        "bhyt_benefit_levels",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("coverage_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("copay_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_vi", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("level", name="pk_bhyt_benefit_levels"),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_bhyt_benefit_levels_level")),
        sa.CheckConstraint(
            "coverage_percent BETWEEN 0 AND 100",
            name=op.f("ck_bhyt_benefit_levels_coverage_percent"),
        ),
        sa.CheckConstraint(
            "copay_percent = 100 - coverage_percent",
            name=op.f("ck_bhyt_benefit_levels_copay_percent"),
        ),
    )
    op.create_table(
        "bhyt_provinces",
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name_vi", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("is_confirmed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("code", name="pk_bhyt_provinces"),
        sa.CheckConstraint(
            "code ~ '^[0-9]{2}$' AND code <> '00'", name=op.f("ck_bhyt_provinces_code")
        ),
    )

    code_rows = read_csv(CODES_FILE)
    rules = []
    for row in code_rows:
        if yes(row["current"]):
            rules.append(
                {
                    "object_code": row["code"],
                    "usual_level": int(row["level"]),
                    "meaning_vi": row["meaning_vi"],
                    "meaning_en": row["meaning_en"],
                    "is_confirmed": row["confirmed"] == "yes",
                    "source": row["source"],
                }
            )
    op.bulk_insert(sa.table("bhyt_validation_rules", *(sa.column(k) for k in rules[0])), rules)
    levels = [
        {
            "object_code": row["code"],
            "level": int(row["level"]),
            "meaning_en": row["meaning_en"],
            "meaning_vi": row["meaning_vi"],
            "is_confirmed": row["confirmed"] == "yes",
            "is_current": yes(row["current"]),
            "source": row["source"],
            "active_from": _date(row["active_from"]),
            "active_to": _date(row["active_to"]),
        }
        for row in code_rows
    ]
    op.bulk_insert(sa.table("bhyt_object_code_levels", *(sa.column(k) for k in levels[0])), levels)
    benefit = [
        {
            "level": int(row["level"]),
            "coverage_percent": Decimal(row["coverage_percent"]),
            "copay_percent": 100 - Decimal(row["coverage_percent"]),
            "capped": yes(row["capped"]),
            "description_en": row["description_en"],
            "description_vi": row["description_vi"],
        }
        for row in read_csv(LEVELS_FILE)
    ]
    op.bulk_insert(sa.table("bhyt_benefit_levels", *(sa.column(k) for k in benefit[0])), benefit)
    provinces = [
        {
            "code": row["code"],
            "name_vi": row["name_vi"],
            "name_en": row["name_en"],
            "is_confirmed": yes(row["confirmed"]),
            "note": row["note"] or None,
        }
        for row in read_csv(PROVINCES_FILE)
    ]
    op.bulk_insert(sa.table("bhyt_provinces", *(sa.column(k) for k in provinces[0])), provinces)
    op.execute(VALIDATE_BHYT_CARD)


def downgrade() -> None:
    op.execute("DROP FUNCTION validate_bhyt_card(text)")
    for table in (
        "bhyt_provinces",
        "bhyt_benefit_levels",
        "bhyt_object_code_levels",
        "bhyt_validation_rules",
    ):
        op.drop_table(table)
