"""Invoices: service codes, the live split, issuing with a gapless number, void and reissue
(DESIGN §5.2, issue 8).

The screen builds an `InvoiceDraft` in memory and asks for a `preview` on every change; the
preview only reads, so it can run per keystroke in a worker. `issue` recomputes the split here,
never trusting numbers from the screen, and takes the year's next number from the locked
``invoice_counters`` row in the same transaction: a rolled-back issue rolls its number back too,
so numbers have no gaps. An issued invoice is never edited, only voided (rows kept) and reissued.

Nothing here commits: the caller's unit of work does. Functions return plain dataclasses. The
views and errors shared with `payments` and `receipts` live in `billing_ledger` and are
re-exported here, so a screen imports invoices from one place.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.domain.bhyt import LEVEL_COVERAGE
from clinic_tui.domain.copay import Coverage, Line, Rule, split_invoice
from clinic_tui.domain.dated import NoValueOnDate
from clinic_tui.services import audit
from clinic_tui.services import settings as clinic_settings
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.billing_ledger import (
    BillingError,
    InvoiceConflict,
    InvoiceNotFound,
    InvoiceSummary,
    InvoiceView,
    LineView,
    PaymentView,
    ReasonRequired,
    Service,
    ServiceCodeInfo,
    clean_reason,
    invoice_view,
    invoices_for,
    load_view,
    service_codes,
    services_by_code,
    status_for,
)

__all__ = [
    "BillingError", "DraftProblem", "InvalidDraft", "InvoiceConflict", "InvoiceDraft",
    "InvoiceNotFound", "InvoicePreview", "InvoiceSummary", "InvoiceView", "LineView",
    "PaymentView", "PreviewLine", "ReasonRequired", "ServiceCodeInfo", "invoice_view",
    "invoices_for", "issue", "preview", "reissue", "service_codes", "void",
]  # fmt: skip

_SPLIT_FIELDS: Final = ("total", "insured_base", "insurance", "patient", "rate", "rules",
                        "threshold", "base_salary", "factor")  # fmt: skip
MAX_QUANTITY: Final = 1000  # a typo guard: no visit bills a thousand units of anything


class DraftProblem(StrEnum):
    """Why a draft cannot be previewed or issued; the UI translates the value."""

    NO_LINES = "no_lines"
    QUANTITY = "quantity"
    UNKNOWN_CODE = "unknown_code"  # or retired: a new invoice bills what is offered today
    PATIENT = "patient"
    APPOINTMENT = "appointment"  # missing, or another patient's
    APPOINTMENT_INVOICED = "appointment_invoiced"
    REPLACES_NOT_VOID = "replaces_not_void"
    ALREADY_REPLACED = "already_replaced"
    SERVICE_DATE = "service_date"  # before the first base salary in the settings


class InvalidDraft(BillingError):
    def __init__(self, problem: DraftProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else str(problem))
        self.problem, self.detail = problem, detail


# --- the draft and its preview ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InvoiceDraft:
    """What the screen is building; plain data, changed by making a new one."""

    patient_id: uuid.UUID
    service_date: date
    referred: bool  # False: self-referred, the clinic's self-referral factor applies
    lines: tuple[tuple[str, int], ...] = ()  # (service code, quantity)
    appointment_id: uuid.UUID | None = None
    doctor_id: uuid.UUID | None = None
    replaces_invoice_id: uuid.UUID | None = None  # set by `reissue`

    def with_line(self, code: str, quantity: int = 1) -> InvoiceDraft:
        return dataclasses.replace(self, lines=(*self.lines, (code.strip().upper(), quantity)))

    def without_line(self, index: int) -> InvoiceDraft:
        return dataclasses.replace(self, lines=self.lines[:index] + self.lines[index + 1 :])

    def with_quantity(self, index: int, quantity: int) -> InvoiceDraft:
        lines = list(self.lines)
        lines[index] = (lines[index][0], quantity)
        return dataclasses.replace(self, lines=tuple(lines))


@dataclass(frozen=True, slots=True)
class PreviewLine:
    code: str
    name_en: str
    name_vi: str
    quantity: int
    unit_price: Decimal
    bhyt_price: Decimal | None
    covered: bool
    line_total: Decimal
    insured_base: Decimal
    insurance: Decimal
    patient: Decimal


@dataclass(frozen=True, slots=True)
class InvoicePreview:
    """The split as it would be issued. ``rate`` and ``factor`` are percent; ``rules`` are the
    rules that decided the rate, primary first."""

    service_date: date
    referred: bool
    card_number: str | None
    card_level: int | None
    card_recognised: bool  # False: the object code or province is no longer accepted
    card_valid_from: date | None
    card_valid_to: date | None
    five_year_continuous: bool
    copay_this_year: Decimal
    lines: tuple[PreviewLine, ...]
    total: Decimal
    insured_base: Decimal
    insurance: Decimal
    patient: Decimal
    rate: Decimal
    rules: tuple[Rule, ...]
    threshold: Decimal
    base_salary: Decimal
    factor: Decimal


def _check_lines(lines: Sequence[tuple[str, int]]) -> None:
    for code, quantity in lines:
        # bool is an int; True as a quantity is a bug upstream, not "1".
        if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidDraft(DraftProblem.QUANTITY, f"{code}: {quantity!r}")


def _card(session: Session, patient_id: uuid.UUID) -> Any:
    # The patient's BHYT card as `patients` picks it: primary first, then the newest. The
    # printed number decides the level (DESIGN §5.1); validate_bhyt_card says whether its object
    # code and province are still accepted.
    return session.execute(
        sql(
            "SELECT p.id AS patient, i.bhyt_card_number AS number, i.valid_from, i.valid_to,"
            " i.five_year_continuous_from AS five_years_from, v.is_valid AS recognised,"
            " now() AS now"
            " FROM patients p LEFT JOIN LATERAL ("
            "  SELECT * FROM insurance_info WHERE patient_id = p.id AND provider_type = 'BHYT'"
            "  ORDER BY is_primary DESC, created_at DESC LIMIT 1) i ON true"
            " LEFT JOIN LATERAL validate_bhyt_card(i.bhyt_card_number) v ON true"
            " WHERE p.id = :patient"
        ),
        {"patient": patient_id},
    ).one_or_none()


def _copay_this_year(session: Session, patient_id: uuid.UUID, day: date) -> Decimal:
    """The patient's co-payments on insured amounts of this calendar year's live invoices up
    to ``day``: the insured base less what the level's rate covers. Amounts above the BHYT
    price and uncovered services are not co-payments in the law's sense, so they do not count.
    """
    value = session.execute(
        sql(
            "SELECT coalesce(sum(b.insured - round(b.insured * i.coverage_percent / 100)), 0)"
            " FROM invoices i CROSS JOIN LATERAL (SELECT sum(insured_base) AS insured"
            "  FROM invoice_line_items WHERE invoice_id = i.id) b"
            " WHERE i.patient_id = :patient AND i.status <> 'VOID'"
            " AND i.service_date BETWEEN :first AND :day AND b.insured > 0"
        ),
        {"patient": patient_id, "first": date(day.year, 1, 1), "day": day},
    ).scalar_one()
    return Decimal(value).quantize(Decimal(1))


def _compute(
    session: Session, draft: InvoiceDraft
) -> tuple[InvoicePreview, list[Service], datetime]:
    """The preview, the services of its lines, and the transaction's time (read with the card,
    saving `issue` a round trip)."""
    _check_lines(draft.lines)
    card = _card(session, draft.patient_id)
    if card is None:
        raise InvalidDraft(DraftProblem.PATIENT, str(draft.patient_id))
    services = services_by_code(session, (code for code, _ in draft.lines))
    missing = sorted({code.strip().upper() for code, _ in draft.lines} - services.keys())
    if missing:  # retired codes too: a new invoice bills only what the clinic offers today
        raise InvalidDraft(DraftProblem.UNKNOWN_CODE, ", ".join(missing))
    chosen = [services[code.strip().upper()] for code, _ in draft.lines]
    level = int(card.number[2]) if card.number and card.recognised else None
    five_years = card.five_years_from is not None and card.five_years_from <= draft.service_date
    copay = Decimal(0)
    # The five-years rule can only raise a rate below 100 %: skip the query otherwise.
    if five_years and level is not None and LEVEL_COVERAGE[level] < 100:
        copay = _copay_this_year(session, draft.patient_id, draft.service_date)
    coverage = Coverage(
        card_level=level,
        card_valid_from=card.valid_from,
        card_valid_to=card.valid_to,
        five_year_continuous=five_years,
        copay_paid_this_year=copay,
        referred=draft.referred,
    )
    lines = [
        Line(s.code, quantity, s.price, s.bhyt_price, s.covered)
        for s, (_, quantity) in zip(chosen, draft.lines, strict=True)
    ]
    try:
        split = split_invoice(
            lines,
            coverage,
            draft.service_date,
            base_salary_history=clinic_settings.history(session, clinic_settings.BASE_SALARY),
            self_referral_history=clinic_settings.history(
                session, clinic_settings.SELF_REFERRAL_FACTOR
            ),
        )
    except NoValueOnDate as error:
        raise InvalidDraft(DraftProblem.SERVICE_DATE, str(error)) from error
    preview_lines = tuple(
        PreviewLine(
            s.code, s.name_en, s.name_vi, line.quantity, s.price, s.bhyt_price, s.covered,
            part.line_total, part.insured_base, part.insurance, part.patient,
        )
        for s, line, part in zip(chosen, lines, split.lines, strict=True)
    )  # fmt: skip
    result = InvoicePreview(
        service_date=draft.service_date,
        referred=draft.referred,
        card_number=card.number,
        card_level=int(card.number[2]) if card.number else None,
        card_recognised=bool(card.recognised),
        card_valid_from=card.valid_from,
        card_valid_to=card.valid_to,
        five_year_continuous=five_years,
        copay_this_year=copay,
        lines=preview_lines,
        **{name: getattr(split, name) for name in _SPLIT_FIELDS},
    )
    return result, chosen, card.now.astimezone(CLINIC_TIMEZONE)


def preview(session: Session, actor: Actor, draft: InvoiceDraft) -> InvoicePreview:
    """The split of ``draft`` as `issue` would compute it now. Reads only. Raises `InvalidDraft`
    for a bad quantity, an unknown code or patient, or a service date no setting covers."""
    require(actor, Permission.INVOICE_WRITE)
    return _compute(session, draft)[0]


# --- issuing, voiding, reissuing -------------------------------------------------------------


def _next_number(session: Session, year: int) -> str:
    """The year's next number, gapless: the counter row stays locked until the caller's
    transaction ends, and a rollback takes the increment back with it."""
    session.execute(
        sql(
            "INSERT INTO invoice_counters (year, last_number) VALUES (:year, 0)"
            " ON CONFLICT (year) DO NOTHING"
        ),
        {"year": year},
    )
    last = session.execute(
        sql("SELECT last_number FROM invoice_counters WHERE year = :year FOR UPDATE"),
        {"year": year},
    ).scalar_one()
    session.execute(
        sql("UPDATE invoice_counters SET last_number = :number WHERE year = :year"),
        {"number": last + 1, "year": year},
    )
    return f"INV-{year}-{last + 1:06d}"


def _check_links(session: Session, draft: InvoiceDraft) -> uuid.UUID | None:
    """Refuse an appointment of another patient or already invoiced, and a replacement of a
    live or already replaced invoice. Runs under the counter lock, which every issue takes, so
    two terminals cannot both pass. Returns the doctor to record."""
    doctor = draft.doctor_id
    if draft.appointment_id is not None:
        appointment = session.execute(
            sql("SELECT patient_id, doctor_id FROM appointments WHERE id = :id"),
            {"id": draft.appointment_id},
        ).one_or_none()
        if appointment is None or appointment.patient_id != draft.patient_id:
            raise InvalidDraft(DraftProblem.APPOINTMENT, str(draft.appointment_id))
        doctor = doctor or appointment.doctor_id
        taken = session.execute(
            sql(
                "SELECT invoice_number FROM invoices WHERE appointment_id = :id"
                " AND status <> 'VOID' LIMIT 1"
            ),
            {"id": draft.appointment_id},
        ).scalar_one_or_none()
        if taken is not None:
            raise InvalidDraft(DraftProblem.APPOINTMENT_INVOICED, taken)
    if draft.replaces_invoice_id is not None:
        old = session.execute(
            sql(
                "SELECT patient_id, status, (SELECT invoice_number FROM invoices r"
                "  WHERE r.replaces_invoice_id = i.id AND r.status <> 'VOID' LIMIT 1) AS by"
                " FROM invoices i WHERE id = :id"
            ),
            {"id": draft.replaces_invoice_id},
        ).one_or_none()
        if old is None or old.patient_id != draft.patient_id or old.status != "VOID":
            raise InvalidDraft(DraftProblem.REPLACES_NOT_VOID, str(draft.replaces_invoice_id))
        if old.by is not None:
            raise InvalidDraft(DraftProblem.ALREADY_REPLACED, old.by)
    return doctor


def issue(session: Session, actor: Actor, draft: InvoiceDraft) -> InvoiceView:
    """Issue ``draft``: the split recomputed here, the next gapless number, status ISSUED (PAID
    when the patient owes nothing). Audited with ids only. The caller commits."""
    require(actor, Permission.INVOICE_WRITE)
    if not draft.lines:
        raise InvalidDraft(DraftProblem.NO_LINES)
    computed, services, now = _compute(session, draft)
    # The lock is taken last, after the reads, so it is held for as short a time as possible.
    number = _next_number(session, now.year)
    doctor = _check_links(session, draft)
    values = {
        "number": number, "patient": draft.patient_id, "appointment": draft.appointment_id,
        "doctor": doctor, "day": draft.service_date,
        "status": status_for(computed.patient, Decimal(0)), "referred": draft.referred,
        "card": computed.card_number, "rate": computed.rate,
        "rule": ",".join(rule.value for rule in computed.rules), "total": computed.total,
        "insurance": computed.insurance, "share": computed.patient, "now": now,
        "actor": actor.user_id, "replaces": draft.replaces_invoice_id,
    }  # fmt: skip
    invoice_id = session.execute(
        sql(
            "INSERT INTO invoices (invoice_number, patient_id, appointment_id, doctor_id,"
            " service_date, status, is_referred, bhyt_card_number, coverage_percent,"
            " coverage_rule, total_amount, insurance_amount, patient_amount, issued_at,"
            " issued_by, replaces_invoice_id) VALUES (:number, :patient, :appointment, :doctor,"
            " :day, :status, :referred, :card, :rate, :rule, :total, :insurance, :share, :now,"
            " :actor, :replaces) RETURNING id"
        ),
        values,
    ).scalar_one()
    rows = [
        {
            "invoice": invoice_id, "service": service.id, "position": position,
            "description": service.name_vi, "quantity": line.quantity, "price": line.unit_price,
            "bhyt_price": line.bhyt_price, "total": line.line_total,
            "insured": line.insured_base, "insurance": line.insurance, "patient": line.patient,
        }
        for position, (service, line) in enumerate(zip(services, computed.lines, strict=True), 1)
    ]  # fmt: skip
    session.execute(
        sql(
            "INSERT INTO invoice_line_items (invoice_id, service_code_id, position, description,"
            " quantity, unit_price, bhyt_price, line_total, insured_base, insurance_amount,"
            " patient_amount) VALUES (:invoice, :service, :position, :description, :quantity,"
            " :price, :bhyt_price, :total, :insured, :insurance, :patient)"
        ),
        rows,
    )
    details = {"invoice_number": number, "patient_id": str(draft.patient_id)}
    if draft.replaces_invoice_id is not None:
        details["replaces_invoice_id"] = str(draft.replaces_invoice_id)
    audit.record(
        session, "invoice_issued", user_id=actor.user_id, entity="invoice",
        entity_id=invoice_id, details=details,
    )  # fmt: skip
    return load_view(session, invoice_id)


def void(
    session: Session, actor: Actor, invoice_id: uuid.UUID, *, reason: str, expected_version: int
) -> InvoiceView:
    """Void an issued invoice: rows kept, status VOID with the reason, who and when. Its
    payments stay as they are (refunds are out of scope). Raises `InvoiceConflict` when the
    invoice changed since ``expected_version`` or is already void."""
    require(actor, Permission.INVOICE_WRITE)
    why = clean_reason(reason)
    done = session.execute(
        sql(
            "UPDATE invoices SET status = 'VOID', void_reason = :why, voided_at = now(),"
            " voided_by = :actor, version = version + 1 WHERE id = :id AND version = :version"
            " AND status <> 'VOID' AND invoice_number IS NOT NULL RETURNING invoice_number"
        ),
        {"why": why, "actor": actor.user_id, "id": invoice_id, "version": expected_version},
    ).scalar_one_or_none()
    if done is None:
        current = session.execute(
            sql("SELECT status, version FROM invoices WHERE id = :id"), {"id": invoice_id}
        ).one_or_none()
        if current is None:
            raise InvoiceNotFound(invoice_id)
        raise InvoiceConflict(invoice_id, current.version, current.status)
    audit.record(
        session, "invoice_voided", user_id=actor.user_id, entity="invoice",
        entity_id=invoice_id, details={"invoice_number": done},
    )  # fmt: skip
    return load_view(session, invoice_id)


def reissue(session: Session, actor: Actor, invoice_id: uuid.UUID) -> InvoiceDraft:
    """A draft copying a voided invoice's visit and lines; issuing it records what it replaces.
    Prices and the split are those of the day it is issued, as for any draft."""
    require(actor, Permission.INVOICE_WRITE)
    view = load_view(session, invoice_id)
    if not view.is_void:
        raise InvalidDraft(DraftProblem.REPLACES_NOT_VOID, view.invoice_number)
    return InvoiceDraft(
        patient_id=view.patient_id,
        service_date=view.service_date,
        referred=view.referred,
        lines=tuple((line.code, line.quantity) for line in view.lines),
        appointment_id=view.appointment_id,
        doctor_id=view.doctor_id,
        replaces_invoice_id=view.id,
    )
