"""Role-matrix rows for money: invoices, the invoice ledger, payments and the day's cash (the
matrix itself runs in tests/db/test_permissions.py). A therapist may look codes up but never
issue, void or take money; the front desk does all of it."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from clinic_tui.models import Doctor, InsuranceInfo
from clinic_tui.services import billing, billing_ledger, payments
from clinic_tui.services.access import Actor, Permission
from clinic_tui.services.billing import InvoiceDraft
from tests.db.test_permissions_clinic import Need, Operation, add, add_patient, setup_admin

SERVICE_DAY = date(2026, 7, 15)  # a dated base salary is in force


def draft(session: Session) -> InvoiceDraft:
    """Two seeded codes for a patient with a DN level-4 card: both shares are above zero."""
    patient_id = add_patient(session, "Lê Hoàng Nam")
    add(
        session,
        InsuranceInfo,
        patient_id=patient_id,
        provider_type="BHYT",
        bhyt_card_number="DN4791234567890",
        valid_from=date(2020, 1, 1),
        valid_to=date(2030, 12, 31),
        is_primary=True,
    )
    doctor_id = add(
        session,
        Doctor,
        full_name="BS. Võ Thanh Tâm",
        email=f"{uuid.uuid4().hex[:10]}@c.vn",
        specialization="musculoskeletal",
    )
    return InvoiceDraft(
        patient_id=patient_id,
        service_date=SERVICE_DAY,
        referred=True,
        lines=(("PT001", 1), ("PT105", 1)),
        doctor_id=doctor_id,
    )


def issued(session: Session, *, voided: bool = False) -> Any:
    admin = setup_admin(session)
    invoice = billing.issue(session, admin, draft(session))
    assert invoice.balance > 0 and invoice.bhyt_receivable > 0, invoice
    if voided:
        return billing.void(
            session, admin, invoice.id, reason="Sai dịch vụ", expected_version=invoice.version
        )
    return invoice


def _preview(session: Session, actor: Actor) -> object:
    return billing.preview(session, actor, draft(session))


def _issue(session: Session, actor: Actor) -> object:
    return billing.issue(session, actor, draft(session))


def _void(session: Session, actor: Actor) -> object:
    invoice = issued(session)
    return billing.void(
        session, actor, invoice.id, reason="Nhập nhầm bệnh nhân", expected_version=invoice.version
    )


def _reissue(session: Session, actor: Actor) -> object:
    return billing.reissue(session, actor, issued(session, voided=True).id)


def _service_codes(session: Session, actor: Actor) -> object:
    return billing_ledger.service_codes(session, actor, "PT")


def _invoice_view(session: Session, actor: Actor) -> object:
    return billing_ledger.invoice_view(session, actor, issued(session).id)


def _invoices_for(session: Session, actor: Actor) -> object:
    return billing_ledger.invoices_for(session, actor, patient_id=issued(session).patient_id)


def _pay(session: Session, actor: Actor) -> object:
    invoice = issued(session)
    return payments.pay(
        session,
        actor,
        invoice.id,
        amount=invoice.balance,
        method="cash",
        cash_tendered=invoice.balance + 50_000,
    )


def _bhyt_payment(session: Session, actor: Actor) -> object:
    invoice = issued(session)
    return payments.record_bhyt_payment(
        session, actor, invoice.id, amount=invoice.bhyt_receivable, transaction_id="BHXH-2026-0001"
    )


def _void_payment(session: Session, actor: Actor) -> object:
    invoice = issued(session)
    paid = payments.pay(
        session, setup_admin(session), invoice.id, amount=Decimal(10_000), method="cash"
    )
    return payments.void_payment(session, actor, paid.id, reason="Thu nhầm")


def _cash_report(session: Session, actor: Actor) -> object:
    return payments.cash_report(session, actor, date.today())


_LEDGER_READ = frozenset({Permission.INVOICE_WRITE, Permission.PAYMENT_WRITE})

OPERATIONS: list[tuple[str, Operation, Need]] = [
    ("billing.preview", _preview, Permission.INVOICE_WRITE),
    ("billing.issue", _issue, Permission.INVOICE_WRITE),
    ("billing.void", _void, Permission.INVOICE_WRITE),
    ("billing.reissue", _reissue, Permission.INVOICE_WRITE),
    # `require_any`: the invoice form (INVOICE_WRITE) and any lookup (LOOKUP) list codes.
    (
        "billing_ledger.service_codes",
        _service_codes,
        frozenset({Permission.INVOICE_WRITE, Permission.LOOKUP}),
    ),
    ("billing_ledger.invoice_view", _invoice_view, _LEDGER_READ),
    ("billing_ledger.invoices_for", _invoices_for, _LEDGER_READ),
    ("payments.pay", _pay, Permission.PAYMENT_WRITE),
    ("payments.record_bhyt_payment", _bhyt_payment, Permission.PAYMENT_WRITE),
    ("payments.void_payment", _void_payment, Permission.PAYMENT_WRITE),
    ("payments.cash_report", _cash_report, Permission.PAYMENT_WRITE),
]
