"""Service codes, invoices and their lines, payments (revision 0007)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinic_tui.models.base import Base, CreatedAt, Money, Percent, Timestamps, one_of, uuid_pk

SERVICE_CATEGORIES = ("assessment", "therapy", "modality", "exercise", "education")
INVOICE_STATUSES = ("DRAFT", "ISSUED", "PARTIALLY_PAID", "PAID", "VOID")
PAYMENT_METHODS = ("cash", "card", "bank_transfer", "momo", "zalopay", "vnpay", "bhyt")
PAYMENT_STATUSES = ("PENDING", "COMPLETED", "FAILED", "REFUNDED", "VOID")


class ServiceCode(Timestamps, Base):
    __tablename__ = "pt_service_codes"
    __table_args__ = (
        CheckConstraint(one_of("category", SERVICE_CATEGORIES), name="category"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("bhyt_price >= 0", name="bhyt_price"),
        CheckConstraint(
            "unit_price = round(unit_price) AND bhyt_price = round(bhyt_price)", name="whole_dong"
        ),
        CheckConstraint("duration_minutes > 0", name="duration_minutes"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_vi: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    bhyt_price: Mapped[Decimal | None] = mapped_column(Money)
    bhyt_covered: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    duration_minutes: Mapped[int] = mapped_column(Integer, server_default=text("30"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class InvoiceCounter(Base):
    """One row per year; locked while an invoice number is taken, so numbers have no gaps."""

    __tablename__ = "invoice_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Invoice(Timestamps, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(one_of("status", INVOICE_STATUSES), name="status"),
        CheckConstraint("total_amount >= 0", name="total_amount"),
        CheckConstraint("insurance_amount >= 0", name="insurance_amount"),
        CheckConstraint("patient_amount >= 0", name="patient_amount"),
        CheckConstraint("total_amount = insurance_amount + patient_amount", name="split_adds_up"),
        CheckConstraint("coverage_percent BETWEEN 0 AND 100", name="coverage_percent"),
        CheckConstraint(
            "total_amount = round(total_amount) AND insurance_amount = round(insurance_amount)",
            name="whole_dong",
        ),
        CheckConstraint("status = 'DRAFT' OR invoice_number IS NOT NULL", name="issued_number"),
        Index("ix_invoices_patient_date", "patient_id", "service_date"),
        Index("ix_invoices_issued_at", "issued_at"),
        # "Replaced by" is looked up on every invoice shown: partial, as few invoices replace.
        Index(
            "ix_invoices_replaces_invoice_id",
            "replaces_invoice_id",
            postgresql_where=text("replaces_invoice_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    invoice_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    doctor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="SET NULL")
    )
    service_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'DRAFT'"), index=True)
    is_referred: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    bhyt_card_number: Mapped[str | None] = mapped_column(String(15))
    coverage_percent: Mapped[Decimal] = mapped_column(Percent, server_default=text("0"))
    coverage_rule: Mapped[str | None] = mapped_column(String(40))
    total_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    insurance_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    patient_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    replaces_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL")
    )


class InvoiceLineItem(CreatedAt, Base):
    __tablename__ = "invoice_line_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("bhyt_price >= 0", name="bhyt_price"),
        # With quantity > 0 and line_total = quantity × unit_price, this also keeps the unit
        # price from going negative.
        CheckConstraint("line_total >= 0", name="line_total"),
        CheckConstraint("insured_base >= 0 AND insured_base <= line_total", name="insured_base"),
        CheckConstraint(
            "insurance_amount >= 0 AND insurance_amount <= insured_base", name="insurance_amount"
        ),
        CheckConstraint("patient_amount >= 0", name="patient_amount"),
        CheckConstraint("line_total = insurance_amount + patient_amount", name="split_adds_up"),
        CheckConstraint("line_total = quantity * unit_price", name="line_total_is_product"),
        CheckConstraint(
            "unit_price = round(unit_price) AND insurance_amount = round(insurance_amount)",
            name="whole_dong",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    service_code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pt_service_codes.id", ondelete="RESTRICT")
    )
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    bhyt_price: Mapped[Decimal | None] = mapped_column(Money)
    line_total: Mapped[Decimal] = mapped_column(Money)
    insured_base: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    insurance_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    patient_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))


class Payment(Timestamps, Base):
    """One table for both documents' payments: against an invoice and/or an appointment."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("method", PAYMENT_METHODS), name="method"),
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("currency = 'VND'", name="currency"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("amount = round(amount)", name="whole_dong"),
        CheckConstraint("cash_tendered IS NULL OR cash_tendered >= amount", name="cash_tendered"),
        CheckConstraint("change_given >= 0", name="change_given"),
        CheckConstraint("invoice_id IS NOT NULL OR appointment_id IS NOT NULL", name="target"),
        UniqueConstraint("receipt_number", name="uq_payments_receipt_number"),
        Index("ix_payments_paid_at", "paid_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'VND'"))
    method: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'COMPLETED'"), index=True)
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(128))
    receipt_number: Mapped[str | None] = mapped_column(String(30))
    cash_tendered: Mapped[Decimal | None] = mapped_column(Money)
    change_given: Mapped[Decimal | None] = mapped_column(Money)
    received_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(Text)
