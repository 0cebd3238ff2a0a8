"""The invoice ledger: an issued invoice as it stands, with the payments taken against it
(DESIGN §5.2, issue 8), and what `billing`, `payments` and `receipts` share: the service-code
lookup, errors, views.

Two shares are tracked apart: the patient's, paid at the desk, which decides the invoice's
status (ISSUED → PARTIALLY_PAID → PAID), and the insurance's, a receivable that BHYT settles
later (method ``bhyt``). Views are plain dataclasses read with Core SQL, safe to hand from a
worker thread to the UI. Nothing here writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.domain.copay import Rule
from clinic_tui.services.access import Actor, Permission, PermissionDenied, require

PATIENT_METHODS: Final = ("cash", "card", "bank_transfer", "momo", "zalopay", "vnpay")
BHYT_METHOD: Final = "bhyt"


def clinic_now(session: Session) -> datetime:
    """The transaction's time from the database, so every terminal agrees on it."""
    now: datetime = session.execute(sql("SELECT now()")).scalar_one()
    return now.astimezone(CLINIC_TIMEZONE)


def require_any(actor: Actor | None, *permissions: Permission) -> Actor:
    """`require` for a use case open to any of several permissions."""
    for permission in permissions:
        if actor is not None and actor.can(permission):
            return require(actor, permission)
    raise PermissionDenied(actor, permissions[0])


# --- service codes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceCodeInfo:
    code: str
    name_en: str
    name_vi: str
    price: Decimal
    bhyt_price: Decimal | None
    covered: bool


# Money comes back rounded to whole dong: NUMERIC(12,2) would read as 250000.00.
_SERVICE_COLUMNS = (
    "id, code, name_en, name_vi, round(unit_price) AS price, round(bhyt_price) AS bhyt_price,"
    " bhyt_covered AS covered"
)


def _like_escape(value: str) -> str:
    # A typed %, _ or \ is a literal character, not a wildcard.
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def service_codes(
    session: Session, actor: Actor, text: str = "", limit: int = 20
) -> list[ServiceCodeInfo]:
    """Active codes whose code or either name holds every typed word, accents ignored on both
    sides by ``f_unaccent`` in SQL; codes starting with the text first."""
    require_any(actor, Permission.INVOICE_WRITE, Permission.LOOKUP)
    from clinic_tui.forms.patient import clean_text  # control characters out (NUL breaks SQL)

    words = clean_text(text).split()
    params: dict[str, Any] = {"limit": max(1, min(limit, 100)), "first": ""}
    clauses = []
    for index, word in enumerate(words[:8]):
        params[f"w{index}"] = "%" + _like_escape(word) + "%"
        clauses.append(f" AND haystack LIKE f_unaccent(lower(:w{index}))")
    if words:
        params["first"] = _like_escape(words[0]) + "%"
    rows = session.execute(
        sql(
            f"SELECT {_SERVICE_COLUMNS} FROM (SELECT *,"
            " f_unaccent(lower(code || ' ' || name_en || ' ' || name_vi)) AS haystack"
            " FROM pt_service_codes WHERE is_active) s WHERE true" + "".join(clauses) +
            " ORDER BY (code ILIKE :first) DESC, code LIMIT :limit"
        ),
        params,
    ).mappings()  # fmt: skip
    return [ServiceCodeInfo(**{k: v for k, v in row.items() if k != "id"}) for row in rows]


@dataclass(frozen=True, slots=True)
class Service:
    id: uuid.UUID
    code: str
    name_en: str
    name_vi: str
    price: Decimal
    bhyt_price: Decimal | None
    covered: bool


def services_by_code(session: Session, codes: Iterable[str]) -> dict[str, Service]:
    wanted = sorted({code.strip().upper() for code in codes})
    if not wanted:
        return {}
    rows = session.execute(
        sql(
            f"SELECT {_SERVICE_COLUMNS} FROM pt_service_codes"
            " WHERE is_active AND code = ANY(:codes)"
        ),
        {"codes": wanted},
    ).mappings()
    return {row["code"]: Service(**row) for row in rows}


# --- errors ----------------------------------------------------------------------------------


class BillingError(Exception):
    """A refusal the screen shows in words; nothing was written."""


class InvoiceNotFound(LookupError):
    """No issued invoice with this id."""


class PaymentNotFound(LookupError):
    """No payment with this id."""


class InvoiceConflict(BillingError):
    """The invoice changed since it was shown (paid, voided): reload it."""

    def __init__(self, invoice_id: uuid.UUID, current_version: int, status: str) -> None:
        super().__init__(f"invoice {invoice_id} is {status} at version {current_version}")
        self.invoice_id, self.current_version, self.status = invoice_id, current_version, status


class ReasonRequired(BillingError):
    """A void needs a reason: it is kept and shown with what was voided."""


def clean_reason(reason: str) -> str:
    from clinic_tui.forms.patient import clean_text  # control characters out (NUL breaks SQL)

    cleaned = clean_text(reason or "")
    if not cleaned:
        raise ReasonRequired("a reason is required")
    return cleaned[:1000]


# --- views -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineView:
    position: int
    code: str
    name_en: str
    name_vi: str
    description: str  # as issued (the Vietnamese name then), kept if the code is renamed
    quantity: int
    unit_price: Decimal
    bhyt_price: Decimal | None
    line_total: Decimal
    insured_base: Decimal
    insurance: Decimal
    patient: Decimal


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    amount: Decimal
    method: str
    status: str  # COMPLETED or VOID
    receipt_number: str | None
    cash_tendered: Decimal | None
    change_given: Decimal | None
    paid_at: datetime
    received_by: uuid.UUID | None
    received_by_name: str | None
    order_id: str | None
    transaction_id: str | None
    voided_at: datetime | None
    void_reason: str | None

    @property
    def counts(self) -> bool:
        """A completed payment counts towards its share; a voided one is history."""
        return self.status == "COMPLETED"


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """An issued invoice as it stands. ``paid``/``balance`` are the patient's share,
    ``bhyt_paid``/``bhyt_receivable`` the insurance's; ``rate`` is percent, before any
    self-referral factor; ``rules`` decided it, primary first."""

    id: uuid.UUID
    invoice_number: str
    patient_id: uuid.UUID
    appointment_id: uuid.UUID | None
    doctor_id: uuid.UUID | None
    service_date: date
    status: str
    referred: bool
    card_number: str | None
    rate: Decimal
    rules: tuple[Rule, ...]
    lines: tuple[LineView, ...]
    total: Decimal
    insured_base: Decimal
    insurance: Decimal
    patient: Decimal
    payments: tuple[PaymentView, ...]
    paid: Decimal
    balance: Decimal
    bhyt_paid: Decimal
    bhyt_receivable: Decimal
    issued_at: datetime
    issued_by: uuid.UUID | None
    voided_at: datetime | None
    voided_by: uuid.UUID | None
    voided_by_name: str | None
    void_reason: str | None
    replaces_invoice_id: uuid.UUID | None
    replaced_by_id: uuid.UUID | None
    version: int

    @property
    def is_void(self) -> bool:
        return self.status == "VOID"


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    id: uuid.UUID
    invoice_number: str
    patient_id: uuid.UUID
    patient_code: str
    patient_name: str
    service_date: date
    status: str
    total: Decimal
    insurance: Decimal
    patient: Decimal
    paid: Decimal
    balance: Decimal
    issued_at: datetime


# Earlier rows (the demo's) spell rule codes their own way; read both.
_LEGACY_RULES: Final = {"card_not_valid": Rule.CARD_NOT_VALID_ON_DATE}
_RULES: Final = {rule.value: rule for rule in Rule}


def parse_rules(stored: str | None) -> tuple[Rule, ...]:
    codes = [part.strip().lower() for part in (stored or "").split(",")]
    codes = [Rule.LEVEL.value if code.startswith("level_") else code for code in codes]
    found = (_RULES.get(code) or _LEGACY_RULES.get(code) for code in codes)
    return tuple(rule for rule in found if rule is not None)


def status_for(patient_share: Decimal, paid: Decimal) -> str:
    """A live invoice's status from what the patient has paid of their share."""
    if paid >= patient_share:
        return "PAID"  # a share of 0 is paid at issue
    return "PARTIALLY_PAID" if paid > 0 else "ISSUED"


# Money is rounded in SQL: NUMERIC(12,2) would read back as 250000.00.
_PAYMENTS_SQL: Final = (
    "SELECT p.id, p.invoice_id, i.invoice_number, round(p.amount) AS amount, p.method, p.status,"
    " p.receipt_number, round(p.cash_tendered) AS cash_tendered,"
    " round(p.change_given) AS change_given, p.paid_at, p.received_by,"
    " u.full_name AS received_by_name, p.order_id, p.transaction_id, p.voided_at, p.void_reason"
    " FROM payments p JOIN invoices i ON i.id = p.invoice_id"
    " LEFT JOIN users u ON u.id = p.received_by"
)
_LINES_SQL: Final = (
    "SELECT l.position, s.code, s.name_en, s.name_vi, l.description, l.quantity,"
    " round(l.unit_price) AS unit_price, round(l.bhyt_price) AS bhyt_price,"
    " round(l.line_total) AS line_total, round(l.insured_base) AS insured_base,"
    " round(l.insurance_amount) AS insurance, round(l.patient_amount) AS patient"
    " FROM invoice_line_items l JOIN pt_service_codes s ON s.id = l.service_code_id"
    " WHERE l.invoice_id = :id ORDER BY l.position"
)
_INVOICE_SQL: Final = (
    "SELECT i.id, i.invoice_number, i.patient_id, i.appointment_id, i.doctor_id, i.service_date,"
    " i.status, i.is_referred AS referred, i.bhyt_card_number AS card_number,"
    " round(i.coverage_percent) AS rate, i.coverage_rule, round(i.total_amount) AS total,"
    " round(i.insurance_amount) AS insurance, round(i.patient_amount) AS patient, i.issued_at,"
    " i.issued_by, i.voided_at, i.voided_by, u.full_name AS voided_by_name, i.void_reason,"
    " i.replaces_invoice_id, i.version, (SELECT r.id FROM invoices r"
    "  WHERE r.replaces_invoice_id = i.id ORDER BY r.issued_at DESC LIMIT 1) AS replaced_by_id"
    " FROM invoices i LEFT JOIN users u ON u.id = i.voided_by"
    " WHERE i.id = :id AND i.invoice_number IS NOT NULL"
)


def load_payments(session: Session, where: str, params: dict[str, Any]) -> list[PaymentView]:
    """Payments matching ``where`` (SQL over alias ``p``, written by this package only)."""
    rows = session.execute(
        sql(f"{_PAYMENTS_SQL} WHERE {where} ORDER BY p.paid_at, p.receipt_number"), params
    ).mappings()
    return [PaymentView(**row) for row in rows]


def load_view(session: Session, invoice_id: uuid.UUID) -> InvoiceView:
    """The invoice without a permission check: for services that already made theirs."""
    row = session.execute(sql(_INVOICE_SQL), {"id": invoice_id}).mappings().one_or_none()
    if row is None:
        raise InvoiceNotFound(invoice_id)
    values = dict(row)
    lines = tuple(
        LineView(**line) for line in session.execute(sql(_LINES_SQL), {"id": invoice_id}).mappings()
    )
    payments = tuple(load_payments(session, "p.invoice_id = :id", {"id": invoice_id}))
    counted = [p for p in payments if p.counts]
    paid = sum((p.amount for p in counted if p.method != BHYT_METHOD), Decimal(0))
    bhyt_paid = sum((p.amount for p in counted if p.method == BHYT_METHOD), Decimal(0))
    values["rules"] = parse_rules(values.pop("coverage_rule"))
    return InvoiceView(
        **values,
        lines=lines,
        insured_base=sum((line.insured_base for line in lines), Decimal(0)),
        payments=payments,
        paid=paid,
        balance=max(values["patient"] - paid, Decimal(0)),
        bhyt_paid=bhyt_paid,
        bhyt_receivable=max(values["insurance"] - bhyt_paid, Decimal(0)),
    )


def invoice_view(session: Session, actor: Actor, invoice_id: uuid.UUID) -> InvoiceView:
    """Lines, shares, payments, balance, status, void information and the rules that applied."""
    require_any(actor, Permission.INVOICE_WRITE, Permission.PAYMENT_WRITE)
    return load_view(session, invoice_id)


def invoices_for(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID | None = None,
    day: date | None = None,
    limit: int = 200,
) -> list[InvoiceSummary]:
    """Issued invoices (void ones too) of a patient and/or a service date, newest first."""
    require_any(actor, Permission.INVOICE_WRITE, Permission.PAYMENT_WRITE)
    rows = session.execute(
        sql(
            "SELECT i.id, i.invoice_number, i.patient_id, p.patient_code, p.full_name AS"
            " patient_name, i.service_date, i.status, round(i.total_amount) AS total,"
            " round(i.insurance_amount) AS insurance, round(i.patient_amount) AS patient,"
            " round(coalesce(pay.paid, 0)) AS paid,"
            " round(greatest(i.patient_amount - coalesce(pay.paid, 0), 0)) AS balance, i.issued_at"
            " FROM invoices i JOIN patients p ON p.id = i.patient_id"
            " LEFT JOIN LATERAL (SELECT sum(amount) AS paid FROM payments WHERE invoice_id = i.id"
            "  AND status = 'COMPLETED' AND method <> 'bhyt') pay ON true"
            " WHERE i.invoice_number IS NOT NULL"
            " AND (CAST(:patient AS uuid) IS NULL OR i.patient_id = :patient)"
            " AND (CAST(:day AS date) IS NULL OR i.service_date = :day)"
            " ORDER BY i.issued_at DESC, i.invoice_number DESC LIMIT :limit"
        ),
        {"patient": patient_id, "day": day, "limit": max(1, min(limit, 1000))},
    ).mappings()
    return [InvoiceSummary(**row) for row in rows]
