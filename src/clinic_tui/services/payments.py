"""Taking money against an issued invoice (DESIGN §5.2, issue 8 items 4, 6 and 7).

Every payment locks its invoice row first (``FOR UPDATE``), so two terminals taking the last
payment cannot together pay more than the share: the second reads the first's payment once the
lock is free and gets `Overpayment`. The patient's share is paid at the desk and decides the
status; the insurance's is a receivable BHYT settles later (`record_bhyt_payment`). Voids keep
the rows. Refunds are out of scope: voiding an invoice leaves its payments as they are, and
money given back is handled outside the program. Nothing here commits.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.billing_ledger import (
    BHYT_METHOD,
    PATIENT_METHODS,
    BillingError,
    InvoiceNotFound,
    PaymentNotFound,
    PaymentView,
    clean_reason,
    clinic_now,
    load_payments,
    status_for,
)

MAX_DONG: Final = Decimal(9_999_999_999)  # NUMERIC(12,2) holds no more
_ZERO: Final = Decimal(0)


class Overpayment(BillingError):
    """More than what is left of the share; ``remaining`` is what may still be paid."""

    def __init__(self, invoice_id: uuid.UUID, remaining: Decimal) -> None:
        super().__init__(f"invoice {invoice_id}: only {remaining} dong remain to be paid")
        self.invoice_id, self.remaining = invoice_id, remaining


class PaymentProblem(StrEnum):
    """Why a payment was refused; the UI translates the value."""

    AMOUNT = "amount"  # not a Decimal, not positive, or too large
    NOT_WHOLE_DONG = "not_whole_dong"
    METHOD = "method"
    TENDERED_TOO_LOW = "tendered_too_low"
    TENDERED_NOT_CASH = "tendered_not_cash"
    REFERENCE = "reference"  # order or transaction id too long
    INVOICE_VOID = "invoice_void"
    ALREADY_VOID = "already_void"


class InvalidPayment(BillingError):
    def __init__(self, problem: PaymentProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else str(problem))
        self.problem, self.detail = problem, detail


# --- taking money ----------------------------------------------------------------------------


def _dong(value: object, problem: PaymentProblem = PaymentProblem.AMOUNT) -> Decimal:
    # int is accepted (the screen may parse to one); float never: it hides rounding errors.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidPayment(problem, repr(value))
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0 or amount > MAX_DONG:
        raise InvalidPayment(problem, str(value))
    if amount != amount.to_integral_value():
        raise InvalidPayment(PaymentProblem.NOT_WHOLE_DONG, str(value))
    return amount.quantize(Decimal(1))


def _reference(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    from clinic_tui.forms.patient import clean_text  # a NUL would reach PostgreSQL

    cleaned = clean_text(value)
    if len(cleaned) > limit:
        raise InvalidPayment(PaymentProblem.REFERENCE, cleaned[:20])
    return cleaned or None


def _lock_invoice(session: Session, invoice_id: uuid.UUID) -> Any:
    # Every change to an invoice's payments takes this lock first, so the sums read after it
    # include whatever the other terminal committed, and the lock order is always invoice first.
    row = session.execute(
        sql(
            "SELECT id, invoice_number, status, patient_id, appointment_id,"
            " patient_amount, insurance_amount FROM invoices"
            " WHERE id = :id AND invoice_number IS NOT NULL FOR UPDATE"
        ),
        {"id": invoice_id},
    ).one_or_none()
    if row is None:
        raise InvoiceNotFound(invoice_id)
    return row


def _paid(session: Session, invoice_id: uuid.UUID, *, bhyt: bool) -> Decimal:
    value = session.execute(
        sql(
            "SELECT coalesce(sum(amount), 0) FROM payments WHERE invoice_id = :id"
            " AND status = 'COMPLETED' AND (method = 'bhyt') = :bhyt"
        ),
        {"id": invoice_id, "bhyt": bhyt},
    ).scalar_one()
    return Decimal(value).quantize(Decimal(1))


def _take(
    session: Session,
    actor: Actor,
    invoice_id: uuid.UUID,
    values: dict[str, Any],
) -> PaymentView:
    invoice = _lock_invoice(session, invoice_id)
    if invoice.status == "VOID":
        raise InvalidPayment(PaymentProblem.INVOICE_VOID, invoice.invoice_number)
    bhyt = values["method"] == BHYT_METHOD
    share = invoice.insurance_amount if bhyt else invoice.patient_amount
    paid = _paid(session, invoice_id, bhyt=bhyt)
    remaining = (Decimal(share) - paid).quantize(Decimal(1))
    if values["amount"] > remaining:
        raise Overpayment(invoice_id, max(remaining, Decimal(0)))
    now = clinic_now(session)
    # Unique, never reused; a rolled-back payment leaves a gap, which receipts may have.
    serial = session.execute(sql("SELECT nextval('receipt_number_seq')")).scalar_one()
    payment_id = session.execute(
        sql(
            "INSERT INTO payments (invoice_id, appointment_id, patient_id, amount, method,"
            " status, order_id, transaction_id, receipt_number, cash_tendered, change_given,"
            " received_by, paid_at) VALUES (:invoice, :appointment, :patient, :amount, :method,"
            " 'COMPLETED', :order_id, :transaction_id, :receipt, :tendered, :change, :actor,"
            " :now) RETURNING id"
        ),
        {
            "invoice": invoice_id, "appointment": invoice.appointment_id,
            "patient": invoice.patient_id, "receipt": f"RC-{now.year}-{serial:07d}",
            "actor": actor.user_id, "now": now, **values,
        },
    ).scalar_one()  # fmt: skip
    status = invoice.status if bhyt else status_for(invoice.patient_amount, paid + values["amount"])
    _touch(session, invoice_id, status)
    audit.record(
        session, "payment_taken", user_id=actor.user_id, entity="payment", entity_id=payment_id,
        details={"invoice_id": str(invoice_id), "method": values["method"]},
    )  # fmt: skip
    return load_payments(session, "p.id = :id", {"id": payment_id})[0]


def _touch(session: Session, invoice_id: uuid.UUID, status: str) -> None:
    # Any change to the money moves the version, so a void decided on an older view conflicts.
    session.execute(
        sql("UPDATE invoices SET status = :status, version = version + 1 WHERE id = :id"),
        {"status": status, "id": invoice_id},
    )


def pay(
    session: Session,
    actor: Actor,
    invoice_id: uuid.UUID,
    *,
    amount: Decimal,
    method: str,
    cash_tendered: Decimal | None = None,
    order_id: str | None = None,
    transaction_id: str | None = None,
) -> PaymentView:
    """Take a payment of the patient's share. Cash: the change is ``cash_tendered`` − ``amount``
    (tendered defaults to the amount). Raises `Overpayment` above the remaining balance,
    `InvalidPayment` for a bad amount, method or tendered sum, or a void invoice."""
    require(actor, Permission.PAYMENT_WRITE)
    if method not in PATIENT_METHODS:
        raise InvalidPayment(PaymentProblem.METHOD, str(method))
    value = _dong(amount)
    tendered = change = None
    if method == "cash":
        tendered = value if cash_tendered is None else _dong(cash_tendered)
        if tendered < value:
            raise InvalidPayment(PaymentProblem.TENDERED_TOO_LOW, str(tendered))
        change = tendered - value
    elif cash_tendered is not None:
        raise InvalidPayment(PaymentProblem.TENDERED_NOT_CASH, method)
    values = {
        "amount": value, "method": method, "tendered": tendered, "change": change,
        "order_id": _reference(order_id, 64), "transaction_id": _reference(transaction_id, 128),
    }  # fmt: skip
    return _take(session, actor, invoice_id, values)


def record_bhyt_payment(
    session: Session,
    actor: Actor,
    invoice_id: uuid.UUID,
    *,
    amount: Decimal,
    transaction_id: str | None = None,
    order_id: str | None = None,
) -> PaymentView:
    """BHYT's settlement of (part of) the insurance share; it never changes the status, which
    follows the patient's share. Raises `Overpayment` above what BHYT still owes."""
    require(actor, Permission.PAYMENT_WRITE)
    values = {
        "amount": _dong(amount), "method": BHYT_METHOD, "tendered": None, "change": None,
        "order_id": _reference(order_id, 64), "transaction_id": _reference(transaction_id, 128),
    }  # fmt: skip
    return _take(session, actor, invoice_id, values)


def void_payment(
    session: Session, actor: Actor, payment_id: uuid.UUID, *, reason: str
) -> PaymentView:
    """Mark a payment void (the row stays, with when and why; who is in the audit log) and
    recompute its invoice's status."""
    require(actor, Permission.PAYMENT_WRITE)
    why = clean_reason(reason)
    invoice_id = session.execute(
        sql("SELECT invoice_id FROM payments WHERE id = :id"), {"id": payment_id}
    ).scalar_one_or_none()
    if invoice_id is None:
        raise PaymentNotFound(payment_id)
    invoice = _lock_invoice(session, invoice_id)
    method = session.execute(
        sql(
            "UPDATE payments SET status = 'VOID', voided_at = now(), void_reason = :why,"
            " version = version + 1 WHERE id = :id AND status = 'COMPLETED' RETURNING method"
        ),
        {"why": why, "id": payment_id},
    ).scalar_one_or_none()
    if method is None:
        raise InvalidPayment(PaymentProblem.ALREADY_VOID, str(payment_id))
    status = invoice.status
    if status != "VOID" and method != BHYT_METHOD:
        status = status_for(invoice.patient_amount, _paid(session, invoice_id, bhyt=False))
    _touch(session, invoice_id, status)
    audit.record(
        session, "payment_voided", user_id=actor.user_id, entity="payment", entity_id=payment_id,
        details={"invoice_id": str(invoice_id)},
    )  # fmt: skip
    return load_payments(session, "p.id = :id", {"id": payment_id})[0]


# --- the day's cash report -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MethodTotal:
    method: str
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class StaffTotal:
    user_id: uuid.UUID | None
    name: str  # the user's full name; empty when the account is gone
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ReportInvoice:
    invoice_number: str
    status: str  # as it stands now
    total: Decimal
    insurance: Decimal
    patient: Decimal
    at: datetime  # issued (or voided) at
    by_name: str | None
    void_reason: str | None


@dataclass(frozen=True, slots=True)
class CashReport:
    """A day at the desk, in the clinic's time zone, from the rows as they stand now: a payment
    voided later no longer counts. BHYT settlements are reported apart from the desk's money."""

    day: date
    by_method: tuple[MethodTotal, ...]  # every desk method, in a fixed order, zeros included
    by_receptionist: tuple[StaffTotal, ...]
    payments_count: int
    payments_total: Decimal
    voided_payments_count: int  # payments voided this day, whenever taken
    voided_payments_total: Decimal
    issued: tuple[ReportInvoice, ...]
    voided: tuple[ReportInvoice, ...]
    bhyt_receivable: Decimal  # the insurance share of this day's invoices that are still live
    bhyt_received: Decimal  # BHYT settlements recorded this day
    bhyt_outstanding: Decimal  # all live invoices' unsettled insurance share at the day's end


def _invoices(session: Session, column: str, user: str, span: dict[str, Any]) -> list[Any]:
    return list(
        session.execute(
            sql(
                "SELECT i.invoice_number, i.status, round(i.total_amount) AS total,"
                " round(i.insurance_amount) AS insurance, round(i.patient_amount) AS patient,"
                f" i.{column} AS at, u.full_name AS by_name, i.void_reason FROM invoices i"
                f" LEFT JOIN users u ON u.id = i.{user}"
                f" WHERE i.{column} >= :start AND i.{column} < :end ORDER BY i.invoice_number"
            ),
            span,
        ).mappings()
    )


def cash_report(session: Session, actor: Actor, day: date) -> CashReport:
    require(actor, Permission.PAYMENT_WRITE)
    start = datetime.combine(day, time(0), CLINIC_TIMEZONE)
    span = {"start": start, "end": start + timedelta(days=1)}
    groups = session.execute(
        sql(
            "SELECT p.method, p.received_by, u.full_name, count(*) AS n, round(sum(p.amount)) AS s"
            " FROM payments p LEFT JOIN users u ON u.id = p.received_by"
            " WHERE p.paid_at >= :start AND p.paid_at < :end AND p.status = 'COMPLETED'"
            " GROUP BY p.method, p.received_by, u.full_name"
        ),
        span,
    ).all()
    desk = [g for g in groups if g.method != BHYT_METHOD]
    methods = {m: MethodTotal(m, 0, Decimal(0)) for m in PATIENT_METHODS}
    staff: dict[uuid.UUID | None, StaffTotal] = {}
    for g in desk:
        known = methods[g.method]
        methods[g.method] = MethodTotal(g.method, known.count + g.n, known.amount + g.s)
        mine = staff.get(g.received_by, StaffTotal(g.received_by, g.full_name or "", 0, _ZERO))
        staff[g.received_by] = StaffTotal(
            g.received_by, mine.name, mine.count + g.n, mine.amount + g.s
        )
    voided_payments = session.execute(
        sql(
            "SELECT count(*), round(coalesce(sum(amount), 0)) FROM payments"
            " WHERE voided_at >= :start AND voided_at < :end AND method <> 'bhyt'"
        ),
        span,
    ).one()
    issued = [ReportInvoice(**row) for row in _invoices(session, "issued_at", "issued_by", span)]
    voided = [ReportInvoice(**row) for row in _invoices(session, "voided_at", "voided_by", span)]
    outstanding = session.execute(
        sql(
            "SELECT round(coalesce(sum(greatest(i.insurance_amount - coalesce(b.paid, 0), 0)),"
            " 0)) FROM invoices i LEFT JOIN LATERAL (SELECT sum(amount) AS paid FROM payments"
            "  WHERE invoice_id = i.id AND method = 'bhyt' AND status = 'COMPLETED'"
            "  AND paid_at < :end) b ON true"
            " WHERE i.status <> 'VOID' AND i.issued_at < :end"
        ),
        span,
    ).scalar_one()
    return CashReport(
        day=day,
        by_method=tuple(methods.values()),
        by_receptionist=tuple(sorted(staff.values(), key=lambda s: (s.name, str(s.user_id)))),
        payments_count=sum(g.n for g in desk),
        payments_total=sum((g.s for g in desk), _ZERO),
        voided_payments_count=voided_payments[0],
        voided_payments_total=voided_payments[1],
        issued=tuple(issued),
        voided=tuple(voided),
        bhyt_receivable=sum((i.insurance for i in issued if i.status != "VOID"), _ZERO),
        bhyt_received=sum((g.s for g in groups if g.method == BHYT_METHOD), _ZERO),
        bhyt_outstanding=outstanding,
    )


CSV_HEADER: Final = ("section", "item", "count", "amount", "insurance", "patient", "status",
                     "note")  # fmt: skip


def _cell(value: str | None) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula; names and reasons are typed
    # by people, so such a cell is quoted as text.
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def cash_report_csv(report: CashReport) -> str:
    """The report as UTF-8 CSV text with a header row; amounts are plain whole dong."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(CSV_HEADER)

    def row(section: str, item: str, count: object = "", amount: object = "", *rest: str) -> None:
        cells = (section, item, count, amount, *rest)
        out.writerow(cells + ("",) * (len(CSV_HEADER) - len(cells)))  # every row as wide

    for m in report.by_method:
        row("payments_by_method", m.method, m.count, m.amount)
    for s in report.by_receptionist:
        row("payments_by_receptionist", _cell(s.name), s.count, s.amount)
    row("payments", "total", report.payments_count, report.payments_total)
    row("payments", "voided", report.voided_payments_count, report.voided_payments_total)
    for i in report.issued:
        row("invoices_issued", i.invoice_number, "", i.total, str(i.insurance), str(i.patient),
            i.status)  # fmt: skip
    for i in report.voided:
        row("invoices_voided", i.invoice_number, "", i.total, str(i.insurance), str(i.patient),
            i.status, _cell(i.void_reason))  # fmt: skip
    row("bhyt", "receivable", "", report.bhyt_receivable)
    row("bhyt", "received", "", report.bhyt_received)
    row("bhyt", "outstanding", "", report.bhyt_outstanding)
    return buffer.getvalue()
