"""Billing: service codes, invoices with lines, a gapless per-year invoice counter, and one
payments table serving both documents (against an invoice and/or an appointment)
(PhysioFlow migration 007, Healthcare document's payments).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from shapes import created_at, money, one_of, timestamps, touch_updated_at, uuid_pk

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Billing: service codes, invoices, counter, payments"
title_vi = "Thanh toán: mã dịch vụ, hóa đơn, bộ đếm số, phiếu thu"

CATEGORIES = ("assessment", "therapy", "modality", "exercise", "education")
INVOICE_STATUSES = ("DRAFT", "ISSUED", "PARTIALLY_PAID", "PAID", "VOID")
METHODS = ("cash", "card", "bank_transfer", "momo", "zalopay", "vnpay", "bhyt")
PAYMENT_STATUSES = ("PENDING", "COMPLETED", "FAILED", "REFUNDED", "VOID")


def upgrade() -> None:
    op.create_table(
        "pt_service_codes",
        uuid_pk(),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("name_vi", sa.String(200), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        money("unit_price"),
        money("bhyt_price", nullable=True),
        sa.Column("bhyt_covered", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), server_default=sa.text("30"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_pt_service_codes"),
        sa.UniqueConstraint("code", name="uq_pt_service_codes_code"),
        sa.CheckConstraint(
            one_of("category", CATEGORIES), name=op.f("ck_pt_service_codes_category")
        ),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_pt_service_codes_unit_price")),
        sa.CheckConstraint(
            "unit_price = round(unit_price) AND bhyt_price = round(bhyt_price)",
            name=op.f("ck_pt_service_codes_whole_dong"),
        ),
        sa.CheckConstraint("bhyt_price >= 0", name=op.f("ck_pt_service_codes_bhyt_price")),
        sa.CheckConstraint(
            "duration_minutes > 0", name=op.f("ck_pt_service_codes_duration_minutes")
        ),
    )

    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_invoice_counters"),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_invoice_counters_last_number")),
    )

    op.create_table(
        "invoices",
        uuid_pk(),
        sa.Column("invoice_number", sa.String(20)),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid()),
        sa.Column("doctor_id", sa.Uuid()),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), server_default=sa.text("'DRAFT'"), nullable=False),
        sa.Column("is_referred", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("bhyt_card_number", sa.String(15)),
        sa.Column(
            "coverage_percent", sa.Numeric(5, 2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("coverage_rule", sa.String(40)),
        money("total_amount", default="0"),
        money("insurance_amount", default="0"),
        money("patient_amount", default="0"),
        sa.Column("issued_at", sa.DateTime(timezone=True)),
        sa.Column("issued_by", sa.Uuid()),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("voided_by", sa.Uuid()),
        sa.Column("void_reason", sa.Text()),
        sa.Column("replaces_invoice_id", sa.Uuid()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("invoice_number", name="uq_invoices_invoice_number"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_invoices_patient_id_patients",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name="fk_invoices_appointment_id_appointments",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name="fk_invoices_doctor_id_doctors", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name="fk_invoices_issued_by_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"], ["users.id"], name="fk_invoices_voided_by_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["replaces_invoice_id"],
            ["invoices.id"],
            name="fk_invoices_replaces_invoice_id_invoices",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(one_of("status", INVOICE_STATUSES), name=op.f("ck_invoices_status")),
        sa.CheckConstraint("total_amount >= 0", name=op.f("ck_invoices_total_amount")),
        sa.CheckConstraint("insurance_amount >= 0", name=op.f("ck_invoices_insurance_amount")),
        sa.CheckConstraint("patient_amount >= 0", name=op.f("ck_invoices_patient_amount")),
        sa.CheckConstraint(
            "total_amount = insurance_amount + patient_amount",
            name=op.f("ck_invoices_split_adds_up"),
        ),
        sa.CheckConstraint(
            "coverage_percent BETWEEN 0 AND 100", name=op.f("ck_invoices_coverage_percent")
        ),
        sa.CheckConstraint(
            "total_amount = round(total_amount) AND insurance_amount = round(insurance_amount)",
            name=op.f("ck_invoices_whole_dong"),
        ),
        sa.CheckConstraint(
            "status = 'DRAFT' OR invoice_number IS NOT NULL", name=op.f("ck_invoices_issued_number")
        ),
    )
    op.create_index("ix_invoices_patient_date", "invoices", ["patient_id", "service_date"])
    op.create_index("ix_invoices_issued_at", "invoices", ["issued_at"])
    op.create_index("ix_invoices_appointment_id", "invoices", ["appointment_id"])
    op.create_index("ix_invoices_status", "invoices", ["status"])

    op.create_table(
        "invoice_line_items",
        uuid_pk(),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("service_code_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        money("unit_price"),
        money("bhyt_price", nullable=True),
        money("line_total"),
        money("insured_base", default="0"),
        money("insurance_amount", default="0"),
        money("patient_amount", default="0"),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_invoice_line_items"),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_invoice_line_items_invoice_id_invoices",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_code_id"],
            ["pt_service_codes.id"],
            name="fk_invoice_line_items_service_code_id_pt_service_codes",
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_invoice_line_items_quantity")),
        sa.CheckConstraint("bhyt_price >= 0", name=op.f("ck_invoice_line_items_bhyt_price")),
        sa.CheckConstraint("line_total >= 0", name=op.f("ck_invoice_line_items_line_total")),
        sa.CheckConstraint(
            "insured_base >= 0 AND insured_base <= line_total",
            name=op.f("ck_invoice_line_items_insured_base"),
        ),
        sa.CheckConstraint(
            "insurance_amount >= 0 AND insurance_amount <= insured_base",
            name=op.f("ck_invoice_line_items_insurance_amount"),
        ),
        sa.CheckConstraint(
            "patient_amount >= 0", name=op.f("ck_invoice_line_items_patient_amount")
        ),
        sa.CheckConstraint(
            "line_total = insurance_amount + patient_amount",
            name=op.f("ck_invoice_line_items_split_adds_up"),
        ),
        sa.CheckConstraint(
            "line_total = quantity * unit_price",
            name=op.f("ck_invoice_line_items_line_total_is_product"),
        ),
        sa.CheckConstraint(
            "unit_price = round(unit_price) AND insurance_amount = round(insurance_amount)",
            name=op.f("ck_invoice_line_items_whole_dong"),
        ),
    )
    op.create_index("ix_invoice_line_items_invoice_id", "invoice_line_items", ["invoice_id"])

    op.create_table(
        "payments",
        uuid_pk(),
        sa.Column("invoice_id", sa.Uuid()),
        sa.Column("appointment_id", sa.Uuid()),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        money("amount"),
        sa.Column("currency", sa.String(3), server_default=sa.text("'VND'"), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), server_default=sa.text("'COMPLETED'"), nullable=False),
        sa.Column("order_id", sa.String(64)),
        sa.Column("transaction_id", sa.String(128)),
        sa.Column("receipt_number", sa.String(30)),
        money("cash_tendered", nullable=True),
        money("change_given", nullable=True),
        sa.Column("received_by", sa.Uuid()),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("void_reason", sa.Text()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint("receipt_number", name="uq_payments_receipt_number"),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_payments_invoice_id_invoices",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name="fk_payments_appointment_id_appointments",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_payments_patient_id_patients",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name="fk_payments_received_by_users", ondelete="SET NULL"
        ),
        sa.CheckConstraint(one_of("method", METHODS), name=op.f("ck_payments_method")),
        sa.CheckConstraint(one_of("status", PAYMENT_STATUSES), name=op.f("ck_payments_status")),
        sa.CheckConstraint("currency = 'VND'", name=op.f("ck_payments_currency")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
        sa.CheckConstraint("amount = round(amount)", name=op.f("ck_payments_whole_dong")),
        sa.CheckConstraint(
            "cash_tendered IS NULL OR cash_tendered >= amount",
            name=op.f("ck_payments_cash_tendered"),
        ),
        sa.CheckConstraint("change_given >= 0", name=op.f("ck_payments_change_given")),
        sa.CheckConstraint(
            "invoice_id IS NOT NULL OR appointment_id IS NOT NULL", name=op.f("ck_payments_target")
        ),
    )
    op.create_index("ix_payments_invoice_id", "payments", ["invoice_id"])
    op.create_index("ix_payments_appointment_id", "payments", ["appointment_id"])
    op.create_index("ix_payments_patient_id", "payments", ["patient_id"])
    op.create_index("ix_payments_status", "payments", ["status"])
    op.create_index("ix_payments_order_id", "payments", ["order_id"])
    op.create_index("ix_payments_paid_at", "payments", ["paid_at"])
    op.execute("CREATE SEQUENCE receipt_number_seq")
    for table in ("pt_service_codes", "invoices", "payments"):
        touch_updated_at(table)


def downgrade() -> None:
    op.execute("DROP SEQUENCE receipt_number_seq")
    for table in (
        "payments",
        "invoice_line_items",
        "invoices",
        "invoice_counters",
        "pt_service_codes",
    ):
        op.drop_table(table)
