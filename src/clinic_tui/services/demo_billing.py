"""Issued invoices and payments for some of the demo clinic's completed visits.

The split follows DESIGN §5.2 in its simple form: a line is insured when its service is
BHYT-covered and the card is valid on the visit date; its insured base is capped at the BHYT
price; the fund pays the card level's rate (100 % when the visit's insured total is below 15 %
of the base salary), rounded half-up to whole dong and spread over the insured lines by largest
remainder, so lines add up exactly to the invoice. Referral factors and the yearly co-payment
ceiling are left out: demo visits never reach them.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Final

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from clinic_tui.domain.vietnamese_names import WeightedChoice, pick
from clinic_tui.models import Invoice, InvoiceLineItem, Payment
from clinic_tui.services.demo_load import table_of
from clinic_tui.services.demo_schedule import VIETNAM, Visit

# Base salary (lương cơ sở) by effective date; the 15 % threshold follows it.
_BASE_SALARY: Final = (
    (date(2026, 7, 1), Decimal(2_530_000)),
    (date(2024, 7, 1), Decimal(2_340_000)),
    (date(2023, 7, 1), Decimal(1_800_000)),
)
# Services billed for each kind of visit; follow-ups vary.
_LINES: Final = {
    "INITIAL_EVALUATION": ((("PT105", 1), ("PT003", 1)),),
    "FOLLOW_UP": (
        (("PT001", 1), ("PT002", 1)),
        (("PT002", 1), ("PT003", 1)),
        (("PT001", 1),),
        (("PT004", 1), ("PT003", 2)),
        (("PT201", 1),),
    ),
    "RE_EVALUATION": ((("PT106", 1), ("PT001", 1)),),
    "DISCHARGE": ((("PT106", 1),),),
}
_METHODS: Final = WeightedChoice(("cash", "momo", "card", "bank_transfer"), (50, 25, 20, 5))
UNPAID_INVOICES: Final = 6  # left ISSUED for the receptionist to take payment on


@dataclass(frozen=True, slots=True)
class Service:
    id: uuid.UUID
    name_vi: str
    unit_price: Decimal
    bhyt_price: Decimal | None
    bhyt_covered: bool


def load_services(session: Session) -> dict[str, Service]:
    rows = session.execute(
        text(
            "SELECT code, id, name_vi, unit_price, bhyt_price, bhyt_covered"
            " FROM pt_service_codes WHERE is_active"
        )
    )
    return {row.code: Service(*row[1:]) for row in rows}


def _base_salary(day: date) -> Decimal:
    return next(amount for start, amount in _BASE_SALARY if day >= start)


def _spread(bases: Sequence[Decimal], rate: Decimal) -> list[Decimal]:
    """The fund's share per line: the rounded total, split by largest remainder."""
    total = (sum(bases, Decimal(0)) * rate / 100).quantize(Decimal(1), ROUND_HALF_UP)
    exact = [base * rate / 100 for base in bases]
    shares = [value.to_integral_value(ROUND_FLOOR) for value in exact]
    by_remainder = sorted(range(len(bases)), key=lambda i: exact[i] - shares[i], reverse=True)
    for index in by_remainder[: int(total - sum(shares, Decimal(0)))]:
        shares[index] += 1
    return shares


def _invoice(
    visit: Visit, services: dict[str, Service], rng: random.Random
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    patient = visit.patient
    card_valid = (
        patient.card is not None
        and patient.valid_from is not None
        and patient.valid_to is not None
        and patient.valid_from <= visit.day <= patient.valid_to
    )
    invoice_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    lines: list[dict[str, Any]] = []
    for code, quantity in pick(rng, _LINES[visit.kind]):
        service = services.get(code)
        if service is None:
            continue
        total = service.unit_price * quantity
        insured = Decimal(0)
        if card_valid and service.bhyt_covered:
            insured = min(service.unit_price, service.bhyt_price or service.unit_price) * quantity
        lines.append(
            {"id": uuid.UUID(int=rng.getrandbits(128), version=4), "invoice_id": invoice_id,
             "service_code_id": service.id, "position": len(lines) + 1,
             "description": service.name_vi, "quantity": quantity,
             "unit_price": service.unit_price, "bhyt_price": service.bhyt_price,
             "line_total": total, "insured_base": insured}
        )  # fmt: skip
    insured_total = sum((line["insured_base"] for line in lines), Decimal(0))
    rate, rule = Decimal(0), "NO_CARD" if patient.card is None else "CARD_NOT_VALID"
    if card_valid and patient.card is not None:
        rate, rule = Decimal(patient.coverage), f"LEVEL_{patient.card[2]}"  # the printed level
        if 0 < insured_total < _base_salary(visit.day) * Decimal("0.15"):
            rate, rule = Decimal(100), "BELOW_THRESHOLD"
    for line, share in zip(lines, _spread([x["insured_base"] for x in lines], rate), strict=True):
        line["insurance_amount"] = share
        line["patient_amount"] = line["line_total"] - share
    issued = datetime.combine(visit.day, visit.end, VIETNAM) + timedelta(minutes=10)
    invoice = {
        "id": invoice_id,
        "patient_id": patient.id,
        "appointment_id": visit.id,
        "doctor_id": visit.doctor_id,
        "service_date": visit.day,
        "is_referred": visit.is_referred,
        "bhyt_card_number": patient.card,
        "coverage_percent": rate,
        "coverage_rule": rule,
        "total_amount": sum((x["line_total"] for x in lines), Decimal(0)),
        "insurance_amount": sum((x["insurance_amount"] for x in lines), Decimal(0)),
        "patient_amount": sum((x["patient_amount"] for x in lines), Decimal(0)),
        "issued_at": issued,
    }
    return invoice, lines


def _take_numbers(session: Session, invoices: list[dict[str, Any]]) -> None:
    # The year's counter row is locked by the UPDATE, so numbers stay gap-free even if
    # a receptionist issues an invoice at the same moment.
    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for invoice in invoices:
        by_year[invoice["service_date"].year].append(invoice)
    for year, group in sorted(by_year.items()):
        session.execute(
            text(
                "INSERT INTO invoice_counters (year, last_number) VALUES (:year, 0)"
                " ON CONFLICT (year) DO NOTHING"
            ),
            {"year": year},
        )
        last = session.execute(
            text(
                "UPDATE invoice_counters SET last_number = last_number + :n"
                " WHERE year = :year RETURNING last_number"
            ),
            {"year": year, "n": len(group)},
        ).scalar_one()
        for number, invoice in enumerate(group, start=last - len(group) + 1):
            invoice["invoice_number"] = f"INV-{year}-{number:06d}"


def _payments(
    session: Session, rng: random.Random, invoices: list[dict[str, Any]], cashier: uuid.UUID | None
) -> list[dict[str, Any]]:
    payments = []
    for index, invoice in enumerate(invoices):
        due: Decimal = invoice["patient_amount"]
        if index < UNPAID_INVOICES:
            invoice["status"] = "ISSUED"
            continue
        if due == 0:  # the fund pays everything: nothing to collect
            invoice["status"] = "PAID"
            continue
        partial = rng.random() < 0.2 and due >= 2000
        amount = (due / 2).quantize(Decimal(1000), ROUND_FLOOR) if partial else due
        invoice["status"] = "PARTIALLY_PAID" if partial else "PAID"
        method = _METHODS.draw(rng)
        paid_at = invoice["issued_at"] + timedelta(minutes=rng.randint(1, 5))
        payment: dict[str, Any] = {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "invoice_id": invoice["id"],
            "appointment_id": invoice["appointment_id"],
            "patient_id": invoice["patient_id"],
            "amount": amount,
            "method": method,
            "status": "COMPLETED",
            "received_by": cashier,
            "paid_at": paid_at,
            "order_id": None,
            "transaction_id": None,
            "cash_tendered": None,
            "change_given": None,
        }
        if method == "cash":  # customers hand over round notes
            tendered = (amount / 50_000).to_integral_value(ROUND_CEILING) * 50_000
            payment.update(cash_tendered=tendered, change_given=tendered - amount)
        elif method == "momo":
            payment.update(
                order_id=f"DEMO-MOMO-{rng.getrandbits(40):012d}",
                transaction_id=str(rng.randrange(10**10, 10**11)),
            )
        else:
            payment["transaction_id"] = f"DEMO-{method.upper()}-{rng.getrandbits(32):010d}"
        payments.append(payment)
    if payments:
        numbers = session.execute(
            text("SELECT nextval('receipt_number_seq') FROM generate_series(1, :n)"),
            {"n": len(payments)},
        ).scalars()
        for payment, number in zip(payments, numbers, strict=True):
            payment["receipt_number"] = f"RC-{payment['paid_at'].year}-{number:07d}"
    return payments


def issue_invoices(
    session: Session,
    rng: random.Random,
    visits: Sequence[Visit],
    cashier: uuid.UUID | None,
    count: int = 16,
) -> tuple[int, int]:
    """Invoice ``count`` completed visits (the first few left unpaid, the rest paid or
    partly paid); returns (invoices, payments)."""
    services = load_services(session)
    chosen = sorted(rng.sample(list(visits), min(count, len(visits))), key=lambda v: v.day)
    invoices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for visit in chosen:
        invoice, invoice_lines = _invoice(visit, services, rng)
        if invoice_lines:
            invoices.append(invoice)
            lines.extend(invoice_lines)
    if not invoices:
        return 0, 0
    _take_numbers(session, invoices)
    payments = _payments(session, rng, invoices, cashier)
    for invoice in invoices:
        invoice["issued_by"] = cashier
    session.execute(insert(table_of(Invoice)), invoices)
    session.execute(insert(table_of(InvoiceLineItem)), lines)
    if payments:
        session.execute(insert(table_of(Payment)), payments)
    return len(invoices), len(payments)
