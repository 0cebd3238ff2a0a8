"""Invoicing at the desk, on the benchmark database (500,000 invoices): an invoice with 5 lines
built, split and issued; the live preview the screen asks for per keystroke; a payment.

Each round takes another patient with a BHYT card valid today, builds the draft line by line,
issues it (`billing.issue` splits it again server-side, numbers it, stores it, audits it) and
commits: what the Issue key costs (the plan shown is of its slowest query). Then a cash
payment, committed. The invoices and payments
the benchmark's own account made are deleted afterwards (the invoice counter keeps counting).

Run alone: ``.venv/bin/python -m tests.perf.invoice_bench``.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.perf import benchdb
from tests.perf.report import Row, recording, slowest_plan, timings_row
from tests.perf.schedule_bench import actor, delete_own

ROUNDS = 200
WARM_UP = 10
TARGET_MS = 30.0
LINES = (("PT001", 1), ("PT002", 1), ("PT003", 2), ("PT004", 1), ("PT105", 1))


def remove_invoices(url: str) -> None:
    """Delete the invoices (and their lines and payments) the billing account issued."""
    mine = "issued_by = (SELECT id FROM users WHERE email = :e)"
    refs = (
        f"SELECT count(*) FROM invoices WHERE replaces_invoice_id IN"
        f" (SELECT id FROM invoices WHERE {mine})"
    )
    biller = {"e": benchdb.BILLER}
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for table in ("payments", "invoice_line_items"):
                conn.execute(
                    text(
                        f"DELETE FROM {table} WHERE invoice_id IN"
                        f" (SELECT id FROM invoices WHERE {mine})"
                    ),
                    biller,
                )
            delete_own(conn, "invoices", mine, biller, refs)
    finally:
        engine.dispose()


def _insured_patients(session: Session, count: int) -> list[Any]:
    return list(
        session.execute(
            text(
                "SELECT i.patient_id FROM insurance_info i TABLESAMPLE BERNOULLI (5) REPEATABLE (3)"
                " WHERE i.provider_type = 'BHYT' AND current_date BETWEEN i.valid_from"
                " AND i.valid_to LIMIT :n"
            ),
            {"n": count},
        ).scalars()
    )


def run(url: str) -> list[Row]:
    from clinic_tui.services import billing, payments
    from clinic_tui.services.scheduling import clinic_now

    remove_invoices(url)
    timings: dict[str, list[float]] = {"issue": [], "preview": [], "pay": []}
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            biller = actor(session, benchdb.BILLER)
            patients = _insured_patients(session, WARM_UP + ROUNDS)
            doctor = session.execute(text("SELECT id FROM doctors ORDER BY email")).scalar()
        today = clinic_now().date()
        issue_sent: list[tuple[str, Any, float]] = []
        for index, patient in enumerate(patients):
            with Session(engine) as session:
                started = time.perf_counter()
                draft = billing.InvoiceDraft(
                    patient_id=patient, service_date=today, referred=True, doctor_id=doctor
                )
                for code, quantity in LINES:
                    draft = draft.with_line(code, quantity)
                shown = billing.preview(session, biller, draft)
                previewed = time.perf_counter()
                with recording(engine) as sent:
                    invoice = billing.issue(session, biller, draft)
                    session.commit()
                issued = time.perf_counter()
                issue_sent += sent
                paid = None
                if shown.patient > 0:  # a card of level 1, 2 or 5 leaves nothing to pay
                    payments.pay(session, biller, invoice.id, amount=shown.patient,
                                 method="cash", cash_tendered=Decimal(5_000_000))  # fmt: skip
                    session.commit()
                    paid = time.perf_counter()
            if invoice.total != shown.total:
                raise RuntimeError("the issued invoice differs from its preview")
            if index >= WARM_UP:
                timings["preview"].append((previewed - started) * 1000)
                timings["issue"].append((issued - previewed) * 1000)
                if paid is not None:
                    timings["pay"].append((paid - issued) * 1000)
        with engine.connect() as conn:
            plan = slowest_plan(conn, issue_sent)
    finally:
        engine.dispose()
        remove_invoices(url)
    return [
        timings_row(
            "invoice with 5 lines built, split and issued (with commit)",
            timings["issue"],
            target=TARGET_MS,
            plan=plan,
        ),
        timings_row("  live preview of the same draft (per keystroke)", timings["preview"]),
        timings_row("  cash payment taken (with commit)", timings["pay"]),
    ]


def main(argv: list[str] | None = None) -> int:
    from tests.perf.report import text_table

    database = benchdb.ensure()
    try:
        rows = run(database.url)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
