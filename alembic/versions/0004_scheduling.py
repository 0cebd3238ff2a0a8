"""Scheduling: weekly templates, exceptions, per-date availability, appointments.

Two exclusion constraints (btree_gist) make double booking impossible in the database: no
two active appointments of one doctor overlap, nor of one patient. Cancelled and no-show
appointments are not active, so they free their slot.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import one_of, timestamps, touch_updated_at, uuid_pk

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Scheduling: weekly templates, exceptions, availability, appointments"
title_vi = "Lịch làm việc: mẫu theo tuần, ngoại lệ, lịch trống, lịch hẹn"

STATUSES = ("SCHEDULED", "CHECKED_IN", "COMPLETED", "CANCELLED", "NO_SHOW")
TYPES = ("INITIAL_EVALUATION", "FOLLOW_UP", "RE_EVALUATION", "DISCHARGE")
ACTIVE = "status NOT IN ('CANCELLED', 'NO_SHOW')"


def upgrade() -> None:
    op.create_table(
        "weekly_schedule_templates",
        uuid_pk(),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), server_default=sa.text("30"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_weekly_schedule_templates"),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name="fk_weekly_schedule_templates_doctor_id_doctors",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 1 AND 7", name=op.f("ck_weekly_schedule_templates_weekday")
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_weekly_schedule_templates_time_order")
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 240", name=op.f("ck_weekly_schedule_templates_slot_minutes")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_weekly_schedule_templates_valid_dates"),
        ),
    )
    op.create_index(
        "ix_weekly_schedule_templates_doctor_id", "weekly_schedule_templates", ["doctor_id"]
    )

    op.create_table(
        "schedule_exceptions",
        uuid_pk(),
        sa.Column("doctor_id", sa.Uuid()),
        sa.Column("exception_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time()),
        sa.Column("end_time", sa.Time()),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_exceptions"),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name="fk_schedule_exceptions_doctor_id_doctors",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            one_of("kind", ("HOLIDAY", "LEAVE", "EXTRA_HOURS")),
            name=op.f("ck_schedule_exceptions_kind"),
        ),
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) "
            "OR (start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)",
            name=op.f("ck_schedule_exceptions_time_order"),
        ),
    )
    op.create_index(
        "ix_schedule_exceptions_doctor_date", "schedule_exceptions", ["doctor_id", "exception_date"]
    )

    op.create_table(
        "doctor_availabilities",
        uuid_pk(),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("is_available", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("source", sa.String(10), server_default=sa.text("'MANUAL'"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_doctor_availabilities"),
        sa.UniqueConstraint(
            "doctor_id", "date", "start_time", name="uq_doctor_availabilities_doctor_date_start"
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name="fk_doctor_availabilities_doctor_id_doctors",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_doctor_availabilities_time_order")
        ),
        sa.CheckConstraint(
            one_of("source", ("TEMPLATE", "MANUAL")), name=op.f("ck_doctor_availabilities_source")
        ),
    )
    op.create_index(
        "ix_doctor_availabilities_doctor_date", "doctor_availabilities", ["doctor_id", "date"]
    )

    op.create_table(
        "appointments",
        uuid_pk(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column(
            "during",
            sa.dialects.postgresql.TSRANGE(),
            sa.Computed(
                "tsrange(appointment_date + start_time, appointment_date + end_time, '[)')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), server_default=sa.text("'SCHEDULED'"), nullable=False),
        sa.Column(
            "appointment_type", sa.String(30), server_default=sa.text("'FOLLOW_UP'"), nullable=False
        ),
        sa.Column("reason", sa.Text()),
        sa.Column("notes", sa.Text()),
        sa.Column("medical_term_id", sa.Uuid()),  # foreign key added with the terms (0010)
        sa.Column("is_referred", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cancel_reason", sa.Text()),
        sa.Column("checked_in_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("rescheduled_from_id", sa.Uuid()),
        sa.Column("created_by", sa.Uuid()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_appointments_patient_id_patients",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name="fk_appointments_doctor_id_doctors",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_from_id"],
            ["appointments.id"],
            name="fk_appointments_rescheduled_from_id_appointments",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_appointments_created_by_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(one_of("status", STATUSES), name=op.f("ck_appointments_status")),
        sa.CheckConstraint(
            one_of("appointment_type", TYPES), name=op.f("ck_appointments_appointment_type")
        ),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_appointments_time_order")),
    )
    op.execute(
        "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_doctor_overlap "
        f"EXCLUDE USING gist (doctor_id WITH =, during WITH &&) WHERE ({ACTIVE})"
    )
    op.execute(
        "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_patient_overlap "
        f"EXCLUDE USING gist (patient_id WITH =, during WITH &&) WHERE ({ACTIVE})"
    )
    op.create_index(
        "ix_appointments_doctor_date", "appointments", ["doctor_id", "appointment_date"]
    )
    op.create_index(
        "ix_appointments_patient_date", "appointments", ["patient_id", "appointment_date"]
    )
    op.create_index("ix_appointments_status", "appointments", ["status"])

    # Tables of 0002 and 0003 that point at appointments get their foreign keys now.
    op.create_foreign_key(
        "fk_treatment_sessions_appointment_id_appointments",
        "treatment_sessions",
        "appointments",
        ["appointment_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        "fk_visit_checklist_responses_appointment_id_appointments",
        "visit_checklist_responses",
        "appointments",
        ["appointment_id"],
        ["id"],
        ondelete="CASCADE",
    )
    for table in (
        "weekly_schedule_templates",
        "schedule_exceptions",
        "doctor_availabilities",
        "appointments",
    ):
        touch_updated_at(table)


def downgrade() -> None:
    op.drop_constraint(
        "fk_visit_checklist_responses_appointment_id_appointments",
        "visit_checklist_responses",
        type_="foreignkey",
    )
    op.drop_constraint(
        "fk_treatment_sessions_appointment_id_appointments",
        "treatment_sessions",
        type_="foreignkey",
    )
    for table in (
        "appointments",
        "doctor_availabilities",
        "schedule_exceptions",
        "weekly_schedule_templates",
    ):
        op.drop_table(table)
