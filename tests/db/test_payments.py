"""Payments, the BHYT receivable, receipts from real invoices and the day's cash report
(issue 8 items 4–6), on a real database."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.models import AuditEntry
from clinic_tui.services import billing, payments, receipts, settings
from clinic_tui.services.access import PermissionDenied, Role
from clinic_tui.services.billing import InvoiceView
from clinic_tui.services.payments import InvalidPayment, Overpayment, PaymentProblem
from tests.db.test_billing import Desk, add_actor, make_desk

RECEIPT = re.compile(r"RC-\d{4}-\d{7}")


@pytest.fixture
def desk(db_session: Session) -> Desk:
    return make_desk(db_session)


def issue(session: Session, desk: Desk, *codes: str, card: str = "dn4") -> InvoiceView:
    """PT001 + PT105 on a DN4 card: insurance 600,000, patient 150,000."""
    return billing.issue(session, desk.reception, desk.draft(card, *(codes or ("PT001", "PT105"))))


def view(session: Session, desk: Desk, invoice: InvoiceView) -> InvoiceView:
    return billing.invoice_view(session, desk.reception, invoice.id)


def test_paying_in_two_methods_reaches_paid_with_cash_change(
    db_session: Session, desk: Desk
) -> None:
    invoice = issue(db_session, desk)
    cash = payments.pay(
        db_session,
        desk.reception,
        invoice.id,
        amount=Decimal(100_000),
        method="cash",
        cash_tendered=Decimal(200_000),
    )
    assert (cash.amount, cash.cash_tendered, cash.change_given) == (100_000, 200_000, 100_000)
    assert RECEIPT.fullmatch(cash.receipt_number or "")
    assert cash.received_by_name == "Trần Thị Lễ Tân"
    half = view(db_session, desk, invoice)
    assert (half.status, half.paid, half.balance) == ("PARTIALLY_PAID", 100_000, 50_000)
    assert half.version > invoice.version  # a void decided on the older view would conflict
    momo = payments.pay(
        db_session,
        desk.reception,
        invoice.id,
        amount=Decimal(50_000),
        method="momo",
        transaction_id="MOMO-123",
        order_id="ORD-9",
    )
    assert (momo.cash_tendered, momo.change_given, momo.transaction_id) == (None, None, "MOMO-123")
    assert momo.receipt_number != cash.receipt_number
    done = view(db_session, desk, invoice)
    assert (done.status, done.paid, done.balance) == ("PAID", 150_000, 0)
    assert [p.method for p in done.payments] == ["cash", "momo"]
    assert done.bhyt_receivable == 600_000  # the insurance share is still owed by BHYT
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id.in_([str(cash.id), str(momo.id)]))
    ).all()
    assert actions == ["payment_taken", "payment_taken"]


def test_exact_cash_needs_no_tendered_sum(db_session: Session, desk: Desk) -> None:
    invoice = issue(db_session, desk)
    paid = payments.pay(
        db_session, desk.reception, invoice.id, amount=Decimal(150_000), method="cash"
    )
    assert (paid.cash_tendered, paid.change_given) == (150_000, 0)


def test_overpayment_is_refused_with_what_remains(db_session: Session, desk: Desk) -> None:
    invoice = issue(db_session, desk)
    with pytest.raises(Overpayment) as over:
        payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(150_001), method="card")
    assert over.value.remaining == 150_000
    payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(150_000), method="card")
    with pytest.raises(Overpayment) as after:
        payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(1), method="card")
    assert after.value.remaining == 0


def test_nothing_to_pay_is_paid_at_issue(db_session: Session, desk: Desk) -> None:
    invoice = issue(db_session, desk, "PT003")  # below the threshold: BHYT pays everything
    assert (invoice.status, invoice.patient, invoice.balance) == ("PAID", 0, 0)
    with pytest.raises(Overpayment):
        payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(1000), method="cash")


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"amount": Decimal(0), "method": "cash"}, PaymentProblem.AMOUNT),
        ({"amount": Decimal(-5000), "method": "card"}, PaymentProblem.AMOUNT),
        ({"amount": Decimal("1000.5"), "method": "card"}, PaymentProblem.NOT_WHOLE_DONG),
        ({"amount": 1000.0, "method": "card"}, PaymentProblem.AMOUNT),
        ({"amount": True, "method": "card"}, PaymentProblem.AMOUNT),
        ({"amount": Decimal("NaN"), "method": "card"}, PaymentProblem.AMOUNT),
        ({"amount": Decimal(1000), "method": "bitcoin"}, PaymentProblem.METHOD),
        ({"amount": Decimal(1000), "method": "bhyt"}, PaymentProblem.METHOD),
        (
            {"amount": Decimal(50_000), "method": "cash", "cash_tendered": Decimal(20_000)},
            PaymentProblem.TENDERED_TOO_LOW,
        ),
        (
            {"amount": Decimal(50_000), "method": "card", "cash_tendered": Decimal(50_000)},
            PaymentProblem.TENDERED_NOT_CASH,
        ),
        (
            {"amount": Decimal(1000), "method": "vnpay", "transaction_id": "x" * 129},
            PaymentProblem.REFERENCE,
        ),
    ],
)
def test_bad_payments_are_refused(db_session: Session, desk: Desk, values, problem) -> None:
    invoice = issue(db_session, desk)
    with pytest.raises(InvalidPayment) as refused:
        payments.pay(db_session, desk.reception, invoice.id, **values)
    assert refused.value.problem is problem
    assert view(db_session, desk, invoice).payments == ()


def test_bhyt_settles_the_receivable_apart_from_the_patient_share(
    db_session: Session, desk: Desk
) -> None:
    invoice = issue(db_session, desk)
    part = payments.record_bhyt_payment(
        db_session, desk.admin, invoice.id, amount=Decimal(400_000), transaction_id="BHXH-2026-07"
    )
    assert part.method == "bhyt"
    after = view(db_session, desk, invoice)
    assert (after.status, after.paid, after.bhyt_paid, after.bhyt_receivable) == (
        "ISSUED",
        0,
        400_000,
        200_000,
    )
    with pytest.raises(Overpayment) as over:
        payments.record_bhyt_payment(db_session, desk.admin, invoice.id, amount=Decimal(200_001))
    assert over.value.remaining == 200_000
    payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(150_000), method="cash")
    assert view(db_session, desk, invoice).bhyt_receivable == 200_000


def test_voiding_a_payment_keeps_it_and_reopens_the_balance(
    db_session: Session, desk: Desk
) -> None:
    invoice = issue(db_session, desk)
    first = payments.pay(
        db_session, desk.reception, invoice.id, amount=Decimal(150_000), method="card"
    )
    voided = payments.void_payment(db_session, desk.reception, first.id, reason="thẻ bị từ chối")
    assert (voided.status, voided.void_reason, voided.amount) == ("VOID", "thẻ bị từ chối", 150_000)
    now = view(db_session, desk, invoice)
    assert (now.status, now.paid, now.balance, len(now.payments)) == ("ISSUED", 0, 150_000, 1)
    with pytest.raises(InvalidPayment) as twice:
        payments.void_payment(db_session, desk.reception, first.id, reason="again")
    assert twice.value.problem is PaymentProblem.ALREADY_VOID
    again = payments.pay(
        db_session, desk.reception, invoice.id, amount=Decimal(150_000), method="zalopay"
    )
    assert again.receipt_number != first.receipt_number
    assert view(db_session, desk, invoice).status == "PAID"


def test_a_voided_invoice_keeps_its_payments_and_takes_no_more(
    db_session: Session, desk: Desk
) -> None:
    invoice = issue(db_session, desk)
    payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(50_000), method="cash")
    current = view(db_session, desk, invoice)
    voided = billing.void(
        db_session,
        desk.reception,
        invoice.id,
        reason="wrong patient",
        expected_version=current.version,
    )
    assert (voided.status, voided.paid, len(voided.payments)) == ("VOID", 50_000, 1)
    assert voided.payments[0].status == "COMPLETED"  # refunds are out of scope
    with pytest.raises(InvalidPayment) as refused:
        payments.pay(db_session, desk.reception, invoice.id, amount=Decimal(1000), method="cash")
    assert refused.value.problem is PaymentProblem.INVOICE_VOID


def test_doctors_and_patients_cannot_take_money(db_session: Session, desk: Desk) -> None:
    invoice = issue(db_session, desk)
    taken = payments.pay(db_session, desk.admin, invoice.id, amount=Decimal(1000), method="cash")
    for actor in (desk.therapist, desk.patient_user):
        with pytest.raises(PermissionDenied):
            payments.pay(db_session, actor, invoice.id, amount=Decimal(1000), method="cash")
        with pytest.raises(PermissionDenied):
            payments.record_bhyt_payment(db_session, actor, invoice.id, amount=Decimal(1000))
        with pytest.raises(PermissionDenied):
            payments.void_payment(db_session, actor, taken.id, reason="x")
        with pytest.raises(PermissionDenied):
            payments.cash_report(db_session, actor, date.today())


# --- receipts from real invoices -----------------------------------------------------------------


def test_receipt_of_a_paid_invoice_in_both_languages(db_session: Session, desk: Desk) -> None:
    settings.set_value(db_session, desk.admin, "clinic_address", "12 Lê Lợi, Quận 1, TP HCM")
    invoice = issue(db_session, desk)
    cash = payments.pay(
        db_session,
        desk.reception,
        invoice.id,
        amount=Decimal(100_000),
        method="cash",
        cash_tendered=Decimal(200_000),
    )
    card = payments.pay(
        db_session, desk.reception, invoice.id, amount=Decimal(50_000), method="card"
    )
    clinic = settings.clinic_info(db_session)
    shown = view(db_session, desk, invoice)
    for language in ("en", "vi"):
        lines = receipts.receipt_lines(
            shown,
            clinic,
            language=language,
            patient_name="Nguyễn Văn An",
            patient_code="BN000123",
            doctor_name="Nguyễn Thị Lan",
        )
        body = "\n".join(lines)
        assert max(len(line) for line in lines) <= receipts.WIDTH
        for expected in (
            clinic.name,
            "12 Lê Lợi, Quận 1, TP HCM",
            "Nguyễn Văn An",
            "BN000123",
            "Nguyễn Thị Lan",
            invoice.invoice_number,
            str(cash.receipt_number),
            str(card.receipt_number),
        ):
            assert expected in body
    english = "\n".join(
        receipts.receipt_lines(
            shown, clinic, language="en", patient_name="An", patient_code="BN1", doctor_name=None
        )
    )
    assert "Balance due" in english and "₫750,000" in english and "Therapist" not in english
    assert f"Receipt no.{card.receipt_number:>37}" in english  # the latest payment's
    vietnamese = "\n".join(
        receipts.receipt_lines(
            shown, clinic, language="vi", patient_name="An", patient_code="BN1", doctor_name=None
        )
    )
    assert "250.000\xa0₫" in vietnamese and "750.000\xa0₫" in vietnamese


# --- the day's cash report -----------------------------------------------------------------------


def test_cash_report_by_method_and_receptionist_with_csv(db_session: Session, desk: Desk) -> None:
    other = add_actor(db_session, Role.RECEPTIONIST, "Võ Thị Thu Ngân")
    first = issue(db_session, desk)
    second = issue(db_session, desk, "PT004", "PT201")  # patient 80,000
    third = issue(db_session, desk, "PT001", card="none")  # patient 250,000, then voided
    payments.pay(
        db_session,
        desk.reception,
        first.id,
        amount=Decimal(100_000),
        method="cash",
        cash_tendered=Decimal(500_000),
    )
    payments.pay(db_session, other, first.id, amount=Decimal(50_000), method="momo")
    payments.pay(db_session, other, second.id, amount=Decimal(80_000), method="cash")
    wrong = payments.pay(db_session, other, third.id, amount=Decimal(10_000), method="card")
    payments.void_payment(db_session, other, wrong.id, reason="nhầm hoá đơn")
    billing.void(
        db_session,
        desk.admin,
        third.id,
        reason="=bad",
        expected_version=view(db_session, desk, third).version,
    )
    payments.record_bhyt_payment(db_session, desk.admin, first.id, amount=Decimal(600_000))
    today = db_session.execute(text("SELECT now()")).scalar_one().astimezone(CLINIC_TIMEZONE)

    report = payments.cash_report(db_session, desk.reception, today.date())
    assert [(m.method, m.count, m.amount) for m in report.by_method] == [
        ("cash", 2, 180_000),
        ("card", 0, 0),
        ("bank_transfer", 0, 0),
        ("momo", 1, 50_000),
        ("zalopay", 0, 0),
        ("vnpay", 0, 0),
    ]
    assert [(s.name, s.count, s.amount) for s in report.by_receptionist] == [
        ("Trần Thị Lễ Tân", 1, 100_000),
        ("Võ Thị Thu Ngân", 2, 130_000),
    ]
    assert (report.payments_count, report.payments_total) == (3, 230_000)
    assert (report.voided_payments_count, report.voided_payments_total) == (1, 10_000)
    assert [i.invoice_number for i in report.issued] == [
        first.invoice_number,
        second.invoice_number,
        third.invoice_number,
    ]
    assert [(i.invoice_number, i.void_reason) for i in report.voided] == [
        (third.invoice_number, "=bad")
    ]
    assert (report.bhyt_receivable, report.bhyt_received, report.bhyt_outstanding) == (
        920_000,
        600_000,
        320_000,
    )
    yesterday = payments.cash_report(db_session, desk.admin, today.date() - timedelta(days=1))
    assert (yesterday.payments_total, yesterday.issued, yesterday.voided) == (0, (), ())

    rows = list(csv.reader(io.StringIO(payments.cash_report_csv(report))))
    assert rows[0] == list(payments.CSV_HEADER)
    assert {len(row) for row in rows} == {8}
    assert ["payments_by_method", "cash", "2", "180000", "", "", "", ""] in rows
    assert ["payments_by_receptionist", "Võ Thị Thu Ngân", "2", "130000", "", "", "", ""] in rows
    assert ["payments", "total", "3", "230000", "", "", "", ""] in rows
    voided_row = ["invoices_voided", third.invoice_number, "", "250000", "0", "250000", "VOID"]
    assert [*voided_row, "'=bad"] in rows  # a formula-looking reason stays text
    assert ["bhyt", "outstanding", "", "320000", "", "", "", ""] in rows
