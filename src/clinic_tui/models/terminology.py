"""The bilingual medical vocabulary (revision 0010)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, CheckConstraint, Computed, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, Timestamps, one_of, uuid_pk

TERM_CATEGORIES = ("anatomy", "symptom", "condition", "treatment", "assessment")


class MedicalTerm(Timestamps, Base):
    __tablename__ = "vietnamese_medical_terms"
    __table_args__ = (
        CheckConstraint(one_of("category", TERM_CATEGORIES), name="category"),
        # Accent-free, lower-case trigram indexes (f_unaccent maps Đ/đ to d).
        Index(
            "ix_vietnamese_medical_terms_search_en_trgm",
            "search_en",
            postgresql_using="gin",
            postgresql_ops={"search_en": "gin_trgm_ops"},
        ),
        Index(
            "ix_vietnamese_medical_terms_search_vi_trgm",
            "search_vi",
            postgresql_using="gin",
            postgresql_ops={"search_vi": "gin_trgm_ops"},
        ),
        Index(
            "ix_vietnamese_medical_terms_search_aliases_trgm",
            "search_aliases",
            postgresql_using="gin",
            postgresql_ops={"search_aliases": "gin_trgm_ops"},
        ),
        Index(
            "ix_vietnamese_medical_terms_icd10_prefix",
            "icd10_code",
            postgresql_ops={"icd10_code": "text_pattern_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    term_en: Mapped[str] = mapped_column(String(200))
    term_vi: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    category: Mapped[str] = mapped_column(String(20), index=True)
    icd10_code: Mapped[str | None] = mapped_column(String(10))
    description_en: Mapped[str | None] = mapped_column(Text)
    description_vi: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    search_en: Mapped[str] = mapped_column(
        Text, Computed("f_unaccent(lower(term_en))", persisted=True)
    )
    search_vi: Mapped[str] = mapped_column(
        Text, Computed("f_unaccent(lower(term_vi))", persisted=True)
    )
    search_aliases: Mapped[str] = mapped_column(
        Text, Computed("f_unaccent_array(aliases)", persisted=True)
    )
