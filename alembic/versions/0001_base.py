"""Base: extensions, f_unaccent, users, doctors, patients, insurance_info.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import one_of, timestamps, touch_updated_at, uuid_pk

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Base: extensions, users, doctors, patients, insurance"
title_vi = "Nền tảng: tiện ích mở rộng, người dùng, bác sĩ, bệnh nhân, bảo hiểm"

EXTENSIONS = ("pg_trgm", "unaccent", "btree_gist")
ROLES = ("ADMIN", "RECEPTIONIST", "DOCTOR", "PATIENT")
GENDERS = ("MALE", "FEMALE", "OTHER")


def upgrade() -> None:
    for extension in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    # unaccent() is only STABLE (it reads a dictionary); naming the dictionary makes the result
    # depend on its arguments alone, so the wrapper may be IMMUTABLE and used in indexes and
    # generated columns. The unaccent rules map Đ/đ to D/d.
    op.execute(
        "CREATE FUNCTION f_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "STRICT RETURN public.unaccent('public.unaccent'::regdictionary, $1)"
    )
    op.execute(
        "CREATE FUNCTION f_unaccent_array(text[]) RETURNS text LANGUAGE sql IMMUTABLE "
        "PARALLEL SAFE RETURN coalesce(public.f_unaccent(lower(array_to_string($1, ' | '))), '')"
    )
    op.execute(
        "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.updated_at := now(); RETURN NEW; END $$"
    )
    # Patient codes are never reused, even after a rollback: a sequence, not max()+1.
    op.execute("CREATE SEQUENCE patient_code_seq")

    op.create_table(
        "users",
        uuid_pk(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("locale", sa.String(2), server_default=sa.text("'en'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint(one_of("role", ROLES), name=op.f("ck_users_role")),
        sa.CheckConstraint(one_of("locale", ("en", "vi")), name=op.f("ck_users_locale")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower_case")),
        sa.CheckConstraint("failed_login_count >= 0", name=op.f("ck_users_failed_login_count")),
    )
    op.create_index("ix_users_role", "users", ["role"])

    op.create_table(
        "doctors",
        uuid_pk(),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("specialization", sa.String(100), nullable=False),
        sa.Column("experience_years", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "consultation_fee", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("rating", sa.Numeric(3, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("bio", sa.Text()),
        sa.Column("address", sa.Text()),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_doctors"),
        sa.UniqueConstraint("email", name="uq_doctors_email"),
        sa.UniqueConstraint("user_id", name="uq_doctors_user_id"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_doctors_user_id_users", ondelete="SET NULL"
        ),
        sa.CheckConstraint("rating BETWEEN 0 AND 5", name=op.f("ck_doctors_rating")),
        sa.CheckConstraint("experience_years >= 0", name=op.f("ck_doctors_experience_years")),
        sa.CheckConstraint("consultation_fee >= 0", name=op.f("ck_doctors_consultation_fee")),
        sa.CheckConstraint(
            "consultation_fee = round(consultation_fee)", name=op.f("ck_doctors_whole_dong")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_doctors_email_lower_case")),
    )
    op.create_index("ix_doctors_specialization", "doctors", ["specialization"])
    op.create_index("ix_doctors_rating", "doctors", ["rating"])

    op.create_table(
        "patients",
        uuid_pk(),
        sa.Column("patient_code", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column(
            "search_key",
            sa.Text(),
            sa.Computed("f_unaccent(lower(full_name))", persisted=True),
            nullable=False,
        ),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(10), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.String(254)),
        sa.Column("national_id", sa.String(12)),
        sa.Column("address", sa.Text()),
        sa.Column("medical_history", sa.Text()),
        sa.Column("alerts", sa.Text()),
        sa.Column("emergency_contact_name", sa.String(200)),
        sa.Column("emergency_contact_phone", sa.String(20)),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("patient_code", name="uq_patients_patient_code"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_patients_user_id_users", ondelete="SET NULL"
        ),
        sa.CheckConstraint(one_of("gender", GENDERS), name=op.f("ck_patients_gender")),
        sa.CheckConstraint("national_id ~ '^[0-9]{12}$'", name=op.f("ck_patients_national_id")),
        sa.CheckConstraint(
            "date_of_birth >= DATE '1900-01-01'", name=op.f("ck_patients_date_of_birth")
        ),
    )
    op.create_index("ix_patients_date_of_birth", "patients", ["date_of_birth"])
    op.create_index("ix_patients_national_id", "patients", ["national_id"])
    op.create_index(
        "ix_patients_search_key_trgm",
        "patients",
        ["search_key"],
        postgresql_using="gin",
        postgresql_ops={"search_key": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_patients_search_key_prefix",
        "patients",
        ["search_key"],
        postgresql_ops={"search_key": "text_pattern_ops"},
    )
    op.create_index(
        "ix_patients_phone_prefix",
        "patients",
        ["phone"],
        postgresql_ops={"phone": "text_pattern_ops"},
    )

    op.create_table(
        "insurance_info",
        uuid_pk(),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("provider_type", sa.String(10), nullable=False),
        sa.Column("provider_name", sa.String(200)),
        sa.Column("policy_number", sa.String(50)),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_to", sa.Date()),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_insurance_info"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_insurance_info_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            one_of("provider_type", ("BHYT", "PRIVATE")),
            name=op.f("ck_insurance_info_provider_type"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_insurance_info_validity"),
        ),
    )
    op.create_index("ix_insurance_info_patient_id", "insurance_info", ["patient_id"])

    for table in ("users", "doctors", "patients", "insurance_info"):
        touch_updated_at(table)


def downgrade() -> None:
    for table in ("insurance_info", "patients", "doctors", "users"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE patient_code_seq")
    op.execute("DROP FUNCTION touch_updated_at()")
    op.execute("DROP FUNCTION f_unaccent_array(text[])")
    op.execute("DROP FUNCTION f_unaccent(text)")
    for extension in reversed(EXTENSIONS):
        op.execute(f"DROP EXTENSION IF EXISTS {extension}")
