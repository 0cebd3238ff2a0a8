"""Treatment plans and sessions, outcome measures, protocols, discharge
(revisions 0002, 0006, 0008 and 0009)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, CreatedAt, Timestamps, one_of, uuid_pk

PLAN_STATUSES = ("ACTIVE", "COMPLETED", "DISCONTINUED")
PHASES = ("initial", "intermediate", "advanced")
PROGRESS_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "COMPLETED", "DISCONTINUED")
PROTOCOL_CATEGORIES = ("musculoskeletal", "neurological", "paediatric")
BODY_REGIONS = ("general", "neck", "lumbar", "upper_limb", "lower_limb", "knee", "balance")
# outcome_measures is partitioned by year; these years have their own partition, and a default
# partition takes any other date.
OUTCOME_MEASURE_YEARS = tuple(range(2024, 2031))


class TreatmentPlan(Timestamps, Base):
    __tablename__ = "treatment_plans"
    __table_args__ = (
        CheckConstraint(one_of("status", PLAN_STATUSES), name="status"),
        CheckConstraint("sessions_per_week BETWEEN 1 AND 14", name="sessions_per_week"),
        CheckConstraint("planned_end_date IS NULL OR planned_end_date >= start_date", name="dates"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    doctor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="SET NULL")
    )
    diagnosis: Mapped[str] = mapped_column(Text)
    diagnosis_icd10: Mapped[str | None] = mapped_column(String(10))
    goals: Mapped[str | None] = mapped_column(Text)
    sessions_per_week: Mapped[int] = mapped_column(Integer, server_default=text("3"))
    start_date: Mapped[date] = mapped_column(Date)
    planned_end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'ACTIVE'"))


class TreatmentSession(Timestamps, Base):
    __tablename__ = "treatment_sessions"
    __table_args__ = (
        CheckConstraint("pain_level BETWEEN 0 AND 10", name="pain_level"),
        CheckConstraint("minutes > 0", name="minutes"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    treatment_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("treatment_plans.id", ondelete="CASCADE"), index=True
    )
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    therapist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="SET NULL")
    )
    session_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    pain_level: Mapped[int | None] = mapped_column(Integer)
    exercises_done: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    minutes: Mapped[int | None] = mapped_column(Integer)


class OutcomeMeasureDefinition(Timestamps, Base):
    """An instrument of the library: VAS, NDI, ODI, LEFS, Berg…"""

    __tablename__ = "outcome_measures_library"
    __table_args__ = (
        CheckConstraint("max_score > min_score", name="score_range"),
        CheckConstraint("mcid > 0", name="mcid"),
        CheckConstraint(one_of("body_region", BODY_REGIONS), name="body_region"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_vi: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str | None] = mapped_column(Text)
    description_vi: Mapped[str | None] = mapped_column(Text)
    instructions_en: Mapped[str | None] = mapped_column(Text)
    instructions_vi: Mapped[str | None] = mapped_column(Text)
    body_region: Mapped[str] = mapped_column(String(20))
    min_score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    unit: Mapped[str] = mapped_column(String(20))
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    mcid: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class OutcomeMeasure(CreatedAt, Base):
    """A score recorded for a patient; partitioned by year of `measured_on`."""

    __tablename__ = "outcome_measures"
    __table_args__ = (
        PrimaryKeyConstraint("id", "measured_on", name="pk_outcome_measures"),
        Index("ix_outcome_measures_patient_library", "patient_id", "library_id", "measured_on"),
        {"postgresql_partition_by": "RANGE (measured_on)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, server_default=text("gen_random_uuid()"))
    measured_on: Mapped[date] = mapped_column(Date)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    library_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outcome_measures_library.id", ondelete="RESTRICT")
    )
    treatment_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_plans.id", ondelete="SET NULL")
    )
    score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ClinicalProtocol(Timestamps, Base):
    __tablename__ = "clinical_protocols"
    __table_args__ = (
        CheckConstraint(one_of("category", PROTOCOL_CATEGORIES), name="category"),
        CheckConstraint("duration_weeks > 0", name="duration_weeks"),
        CheckConstraint("sessions_per_week BETWEEN 1 AND 14", name="sessions_per_week"),
        Index(
            "ix_clinical_protocols_target_icd10_codes", "target_icd10_codes", postgresql_using="gin"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_vi: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    description_en: Mapped[str | None] = mapped_column(Text)
    description_vi: Mapped[str | None] = mapped_column(Text)
    target_icd10_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    duration_weeks: Mapped[int] = mapped_column(Integer)
    sessions_per_week: Mapped[int] = mapped_column(Integer)
    session_minutes: Mapped[int] = mapped_column(Integer, server_default=text("45"))
    goals: Mapped[list[Any]] = mapped_column(JSONB)
    exercises: Mapped[list[Any]] = mapped_column(JSONB)
    progression_criteria: Mapped[dict[str, Any]] = mapped_column(JSONB)
    precautions_en: Mapped[str | None] = mapped_column(Text)
    precautions_vi: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class PatientProtocol(Timestamps, Base):
    __tablename__ = "patient_protocols"
    __table_args__ = (
        CheckConstraint(one_of("current_phase", PHASES), name="current_phase"),
        CheckConstraint(one_of("progress_status", PROGRESS_STATUSES), name="progress_status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    protocol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinical_protocols.id", ondelete="RESTRICT")
    )
    treatment_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_plans.id", ondelete="SET NULL")
    )
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    start_date: Mapped[date] = mapped_column(Date)
    current_phase: Mapped[str] = mapped_column(String(20), server_default=text("'initial'"))
    progress_status: Mapped[str] = mapped_column(String(20), server_default=text("'NOT_STARTED'"))
    progress_notes: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class DischargePlan(Timestamps, Base):
    __tablename__ = "discharge_plans"
    __table_args__ = (CheckConstraint(one_of("status", ("DRAFT", "FINAL")), name="status"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    treatment_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_plans.id", ondelete="SET NULL")
    )
    planned_date: Mapped[date | None] = mapped_column(Date)
    baseline_comparison: Mapped[list[Any]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    home_exercise_program: Mapped[list[Any]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    status: Mapped[str] = mapped_column(String(10), server_default=text("'DRAFT'"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class DischargeSummary(Timestamps, Base):
    __tablename__ = "discharge_summaries"
    __table_args__ = (
        UniqueConstraint("discharge_plan_id", name="uq_discharge_summaries_discharge_plan_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    discharge_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discharge_plans.id", ondelete="CASCADE")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    discharged_on: Mapped[date] = mapped_column(Date)
    summary_en: Mapped[str] = mapped_column(Text)
    summary_vi: Mapped[str] = mapped_column(Text)
    recommendations_en: Mapped[str | None] = mapped_column(Text)
    recommendations_vi: Mapped[str | None] = mapped_column(Text)
    outcome_summary: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
