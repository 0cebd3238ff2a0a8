"""Medical terms: the bilingual vocabulary with accent-free, lower-case generated search
columns and GIN trigram indexes on them; appointments may name a term (PhysioFlow 010).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import one_of, timestamps, touch_updated_at, uuid_pk
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Medical terms: bilingual vocabulary with search columns"
title_vi = "Thuật ngữ y khoa: từ vựng song ngữ với cột tìm kiếm"

CATEGORIES = ("anatomy", "symptom", "condition", "treatment", "assessment")
TRIGRAM_COLUMNS = ("search_en", "search_vi", "search_aliases")


def upgrade() -> None:
    op.create_table(
        "vietnamese_medical_terms",
        uuid_pk(),
        sa.Column("term_en", sa.String(200), nullable=False),
        sa.Column("term_vi", sa.String(200), nullable=False),
        sa.Column("aliases", ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("icd10_code", sa.String(10)),
        sa.Column("description_en", sa.Text()),
        sa.Column("description_vi", sa.Text()),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.Column(
            "search_en",
            sa.Text(),
            sa.Computed("f_unaccent(lower(term_en))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "search_vi",
            sa.Text(),
            sa.Computed("f_unaccent(lower(term_vi))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "search_aliases",
            sa.Text(),
            sa.Computed("f_unaccent_array(aliases)", persisted=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_vietnamese_medical_terms"),
        sa.CheckConstraint(
            one_of("category", CATEGORIES), name=op.f("ck_vietnamese_medical_terms_category")
        ),
    )
    for column in TRIGRAM_COLUMNS:
        op.create_index(
            f"ix_vietnamese_medical_terms_{column}_trgm",
            "vietnamese_medical_terms",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
    op.create_index(
        "ix_vietnamese_medical_terms_icd10_prefix",
        "vietnamese_medical_terms",
        ["icd10_code"],
        postgresql_ops={"icd10_code": "text_pattern_ops"},
    )
    op.create_index(
        "ix_vietnamese_medical_terms_category", "vietnamese_medical_terms", ["category"]
    )
    touch_updated_at("vietnamese_medical_terms")
    op.create_foreign_key(
        "fk_appointments_medical_term_id_vietnamese_medical_terms",
        "appointments",
        "vietnamese_medical_terms",
        ["medical_term_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        "fk_appointments_medical_term_id_vietnamese_medical_terms",
        "appointments",
        type_="foreignkey",
    )
    op.drop_table("vietnamese_medical_terms")
