"""Staff, doctors, patients and their insurance (revisions 0001 and 0005)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, Money, Percent, Timestamps, one_of, uuid_pk

ROLES = ("ADMIN", "RECEPTIONIST", "DOCTOR", "PATIENT")
GENDERS = ("MALE", "FEMALE", "OTHER")
PROVIDER_TYPES = ("BHYT", "PRIVATE")
BHYT_CARD_PATTERN = "^[A-Z]{2}[1-5][0-9]{2}[0-9]{10}$"


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        CheckConstraint(one_of("locale", ("en", "vi")), name="locale"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("failed_login_count >= 0", name="failed_login_count"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    locale: Mapped[str] = mapped_column(String(2), server_default=text("'en'"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    failed_login_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Doctor(Timestamps, Base):
    __tablename__ = "doctors"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 0 AND 5", name="rating"),
        CheckConstraint("experience_years >= 0", name="experience_years"),
        CheckConstraint("consultation_fee >= 0", name="consultation_fee"),
        CheckConstraint("consultation_fee = round(consultation_fee)", name="whole_dong"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    specialization: Mapped[str] = mapped_column(String(100), index=True)
    experience_years: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    consultation_fee: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    rating: Mapped[Decimal] = mapped_column(Numeric(3, 2), server_default=text("0"), index=True)
    bio: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class Patient(Timestamps, Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(one_of("gender", GENDERS), name="gender"),
        CheckConstraint("national_id ~ '^[0-9]{12}$'", name="national_id"),
        CheckConstraint("date_of_birth >= DATE '1900-01-01'", name="date_of_birth"),
        # Accent-free name search (DESIGN §4.3): trigram for fragments, btree for prefixes.
        Index(
            "ix_patients_search_key_trgm",
            "search_key",
            postgresql_using="gin",
            postgresql_ops={"search_key": "gin_trgm_ops"},
        ),
        Index(
            "ix_patients_search_key_prefix",
            "search_key",
            postgresql_ops={"search_key": "text_pattern_ops"},
        ),
        Index("ix_patients_phone_prefix", "phone", postgresql_ops={"phone": "text_pattern_ops"}),
        # Revision 0018: every word prefix, for "all typed words start a word" in any order;
        # the name's parts, stepped through for typo correction.
        Index(
            "ix_patients_name_words",
            func.f_name_word_prefixes(literal_column("search_key")),
            postgresql_using="gin",
        ),
        Index("ix_patients_name_family", func.f_name_family(literal_column("search_key"))),
        Index("ix_patients_name_middle", func.f_name_middle(literal_column("search_key"))),
        Index("ix_patients_name_given", func.f_name_given(literal_column("search_key"))),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_code: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    full_name: Mapped[str] = mapped_column(String(200))
    search_key: Mapped[str] = mapped_column(
        Text, Computed("f_unaccent(lower(full_name))", persisted=True)
    )
    date_of_birth: Mapped[date] = mapped_column(Date, index=True)
    gender: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    national_id: Mapped[str | None] = mapped_column(String(12), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    medical_history: Mapped[str | None] = mapped_column(Text)
    alerts: Mapped[str | None] = mapped_column(Text)
    emergency_contact_name: Mapped[str | None] = mapped_column(String(200))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class InsuranceInfo(Timestamps, Base):
    __tablename__ = "insurance_info"
    __table_args__ = (
        CheckConstraint(one_of("provider_type", PROVIDER_TYPES), name="provider_type"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="validity"
        ),
        CheckConstraint(
            f"bhyt_card_number ~ '{BHYT_CARD_PATTERN}' AND substr(bhyt_card_number, 4, 2) <> '00'",
            name="bhyt_card_format",
        ),
        CheckConstraint(
            "provider_type <> 'BHYT' OR bhyt_card_number IS NOT NULL", name="bhyt_card_required"
        ),
        CheckConstraint("bhyt_prefix_code ~ '^[A-Z]{2}$'", name="bhyt_prefix_code"),
        CheckConstraint("bhyt_benefit_level BETWEEN 1 AND 5", name="bhyt_benefit_level"),
        CheckConstraint("bhyt_coverage_percent BETWEEN 0 AND 100", name="bhyt_coverage_percent"),
        CheckConstraint("bhyt_copay_rate BETWEEN 0 AND 100", name="bhyt_copay_rate"),
        CheckConstraint(
            "province_code ~ '^[0-9]{2}$' AND province_code <> '00'", name="province_code"
        ),
        CheckConstraint(
            "bhyt_copay_rate IS NULL OR bhyt_coverage_percent IS NULL "
            "OR bhyt_copay_rate = 100 - bhyt_coverage_percent",
            name="copay_is_rest",
        ),
        # Revision 0018: cards issued since April 2021 print only the last 10 digits.
        Index("ix_insurance_info_bhyt_number", func.right(literal_column("bhyt_card_number"), 10)),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    provider_type: Mapped[str] = mapped_column(String(10))
    provider_name: Mapped[str | None] = mapped_column(String(200))
    policy_number: Mapped[str | None] = mapped_column(String(50))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # BHYT (revision 0005)
    bhyt_card_number: Mapped[str | None] = mapped_column(String(15), index=True)
    bhyt_prefix_code: Mapped[str | None] = mapped_column(String(2))
    bhyt_benefit_level: Mapped[int | None] = mapped_column(SmallInteger)
    bhyt_coverage_percent: Mapped[Decimal | None] = mapped_column(Percent)
    bhyt_copay_rate: Mapped[Decimal | None] = mapped_column(Percent)
    province_code: Mapped[str | None] = mapped_column(String(2))
    registered_facility_code: Mapped[str | None] = mapped_column(String(10))
    registered_facility_name: Mapped[str | None] = mapped_column(String(200))
    five_year_continuous_from: Mapped[date | None] = mapped_column(Date)
