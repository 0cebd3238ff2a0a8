"""BHYT reference data: object codes, benefit levels, issuing provinces (revision 0015).

Admin-editable: codes can be added and retired, provinces confirmed or disabled.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, CreatedAt, Percent, Timestamps, uuid_pk


class BhytValidationRule(Timestamps, Base):
    """One row per object code (DN, HT, TE, …) with its usual level and meaning."""

    __tablename__ = "bhyt_validation_rules"
    __table_args__ = (
        CheckConstraint("object_code ~ '^[A-Z]{2}$'", name="object_code"),
        CheckConstraint("usual_level BETWEEN 1 AND 5", name="usual_level"),
        CheckConstraint(
            "active_to IS NULL OR active_from IS NULL OR active_to >= active_from",
            name="active_dates",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    object_code: Mapped[str] = mapped_column(String(2), unique=True)
    usual_level: Mapped[int] = mapped_column(SmallInteger)
    meaning_vi: Mapped[str] = mapped_column(Text)
    meaning_en: Mapped[str] = mapped_column(Text)
    is_confirmed: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str | None] = mapped_column(Text)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class BhytObjectCodeLevel(CreatedAt, Base):
    """The level printed for a code over time (CT, CN and LH changed level)."""

    __tablename__ = "bhyt_object_code_levels"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    object_code: Mapped[str] = mapped_column(
        ForeignKey("bhyt_validation_rules.object_code", ondelete="CASCADE", onupdate="CASCADE"),
        index=True,
    )
    level: Mapped[int] = mapped_column(SmallInteger)
    meaning_en: Mapped[str] = mapped_column(Text)
    meaning_vi: Mapped[str] = mapped_column(Text)
    is_confirmed: Mapped[bool] = mapped_column(Boolean)
    is_current: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str | None] = mapped_column(Text)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)


class BhytBenefitLevel(Base):
    __tablename__ = "bhyt_benefit_levels"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level"),
        CheckConstraint("coverage_percent BETWEEN 0 AND 100", name="coverage_percent"),
        CheckConstraint("copay_percent = 100 - coverage_percent", name="copay_percent"),
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    coverage_percent: Mapped[Decimal] = mapped_column(Percent)
    copay_percent: Mapped[Decimal] = mapped_column(Percent)
    capped: Mapped[bool] = mapped_column(Boolean)
    description_en: Mapped[str] = mapped_column(Text)
    description_vi: Mapped[str] = mapped_column(Text)


class BhytProvince(Base):
    __tablename__ = "bhyt_provinces"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{2}$' AND code <> '00'", name="code"),)

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    is_confirmed: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    note: Mapped[str | None] = mapped_column(Text)
