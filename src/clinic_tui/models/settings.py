"""Clinic settings (revision 0019): plain values by key, and values with effective dates."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, CreatedAt, Timestamps, uuid_pk


class ClinicSetting(Timestamps, Base):
    """Name, address, phone, slot length, opening hours, receipt printer…"""

    __tablename__ = "clinic_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)


class DatedSetting(CreatedAt, Base):
    """A value in force from a date: base salary, self-referral factor."""

    __tablename__ = "dated_settings"
    __table_args__ = (
        UniqueConstraint("key", "effective_from", name="uq_dated_settings_key_effective_from"),
        CheckConstraint("value >= 0", name="value"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(String(50))
    effective_from: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    source: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
