"""Availability, weekly templates, exceptions, appointments and the check-in checklist
(revisions 0003 and 0004)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import TSRANGE, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, CreatedAt, Timestamps, one_of, uuid_pk

APPOINTMENT_STATUSES = ("SCHEDULED", "CHECKED_IN", "COMPLETED", "CANCELLED", "NO_SHOW")
# Cancelled and no-show appointments free their slot: the exclusion constraints skip them.
SLOT_FREEING_STATUSES = ("CANCELLED", "NO_SHOW")
APPOINTMENT_TYPES = ("INITIAL_EVALUATION", "FOLLOW_UP", "RE_EVALUATION", "DISCHARGE")
EXCEPTION_KINDS = ("HOLIDAY", "LEAVE", "EXTRA_HOURS")
_ACTIVE = "status NOT IN ('CANCELLED', 'NO_SHOW')"


class WeeklyScheduleTemplate(Timestamps, Base):
    __tablename__ = "weekly_schedule_templates"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),  # ISO: Monday = 1
        CheckConstraint("end_time > start_time", name="time_order"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_dates"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    doctor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer, server_default=text("30"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ScheduleException(Timestamps, Base):
    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        CheckConstraint(one_of("kind", EXCEPTION_KINDS), name="kind"),
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) "
            "OR (start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)",
            name="time_order",
        ),
        Index("ix_schedule_exceptions_doctor_date", "doctor_id", "exception_date"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    doctor_id: Mapped[uuid.UUID | None] = mapped_column(  # None: the whole clinic (a holiday)
        ForeignKey("doctors.id", ondelete="CASCADE")
    )
    exception_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)  # None: the whole day
    end_time: Mapped[time | None] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)


class DoctorAvailability(Timestamps, Base):
    __tablename__ = "doctor_availabilities"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="time_order"),
        CheckConstraint(one_of("source", ("TEMPLATE", "MANUAL")), name="source"),
        UniqueConstraint(
            "doctor_id", "date", "start_time", name="uq_doctor_availabilities_doctor_date_start"
        ),
        Index("ix_doctor_availabilities_doctor_date", "doctor_id", "date"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    doctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    is_available: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    source: Mapped[str] = mapped_column(String(10), server_default=text("'MANUAL'"))


class Appointment(Timestamps, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(one_of("status", APPOINTMENT_STATUSES), name="status"),
        CheckConstraint(one_of("appointment_type", APPOINTMENT_TYPES), name="appointment_type"),
        CheckConstraint("end_time > start_time", name="time_order"),
        # The database, not the app, forbids double booking (DESIGN §5.3).
        ExcludeConstraint(
            ("doctor_id", "="),
            ("during", "&&"),
            name="ex_appointments_doctor_overlap",
            using="gist",
            where=text(_ACTIVE),
        ),
        ExcludeConstraint(
            ("patient_id", "="),
            ("during", "&&"),
            name="ex_appointments_patient_overlap",
            using="gist",
            where=text(_ACTIVE),
        ),
        Index("ix_appointments_doctor_date", "doctor_id", "appointment_date"),
        Index("ix_appointments_patient_date", "patient_id", "appointment_date"),
        # The foreign key's lookup when an appointment row goes: partial, few are moves.
        Index(
            "ix_appointments_rescheduled_from_id",
            "rescheduled_from_id",
            postgresql_where=text("rescheduled_from_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    doctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("doctors.id", ondelete="RESTRICT"))
    appointment_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    during: Mapped[object] = mapped_column(
        TSRANGE,
        Computed(
            "tsrange(appointment_date + start_time, appointment_date + end_time, '[)')",
            persisted=True,
        ),
    )
    status: Mapped[str] = mapped_column(String(20), server_default=text("'SCHEDULED'"), index=True)
    appointment_type: Mapped[str] = mapped_column(String(30), server_default=text("'FOLLOW_UP'"))
    reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    medical_term_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vietnamese_medical_terms.id", ondelete="SET NULL")
    )
    is_referred: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rescheduled_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class VisitChecklistTemplate(Timestamps, Base):
    __tablename__ = "visit_checklist_templates"

    id: Mapped[uuid.UUID] = uuid_pk()
    name_en: Mapped[str] = mapped_column(String(200))
    name_vi: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class VisitChecklistItem(Timestamps, Base):
    __tablename__ = "visit_checklist_items"

    id: Mapped[uuid.UUID] = uuid_pk()
    template_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visit_checklist_templates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    label_en: Mapped[str] = mapped_column(String(300))
    label_vi: Mapped[str] = mapped_column(String(300))
    is_required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class VisitChecklistResponse(CreatedAt, Base):
    __tablename__ = "visit_checklist_responses"
    __table_args__ = (
        UniqueConstraint(
            "appointment_id", "item_id", name="uq_visit_checklist_responses_appointment_item"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE")
    )
    item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visit_checklist_items.id", ondelete="RESTRICT")
    )
    is_checked: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    note: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
