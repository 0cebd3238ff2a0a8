"""Invoicing at the desk: an invoice with 5 lines built, split and issued, the live preview the
screen asks for per keystroke, and a payment taken (issue 8).

Run: ``.venv/bin/python -m tests.perf.invoice_bench [postgresql+psycopg://…]``. Without a URL it
builds a throwaway embedded server in a temporary directory and every issue commits, as at the
desk. Given a URL (a real database), everything runs inside one transaction that is rolled back
at the end, so nothing is left behind; commits are then savepoint releases and cost less.
Figures, not assertions: `make test` never runs this.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clinic_tui.services import billing, payments
from tests.db.test_billing import Desk, make_desk

ROUNDS = 200
WARM_UP = 10
TARGET_MS = 30.0
LINES = (("PT001", 1), ("PT002", 1), ("PT003", 2), ("PT004", 1), ("PT105", 1))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def _sessions(url: str, commit: bool) -> Iterator[Callable[[], Session]]:
    """Sessions for each round: their own transactions when ``commit``, otherwise savepoints
    inside one outer transaction that is rolled back at the end."""
    engine = create_engine(url)
    try:
        if commit:
            yield lambda: Session(engine)
            return
        with engine.connect() as connection:
            outer = connection.begin()
            try:
                yield lambda: Session(bind=connection, join_transaction_mode="create_savepoint")
            finally:
                outer.rollback()
    finally:
        engine.dispose()


def _draft(desk: Desk) -> billing.InvoiceDraft:
    draft = billing.InvoiceDraft(
        patient_id=desk.patients["dn4"], service_date=date(2026, 7, 15), referred=True,
        doctor_id=desk.doctor,
    )  # fmt: skip
    for code, quantity in LINES:
        draft = draft.with_line(code, quantity)
    return draft


def run(url: str, *, rounds: int = ROUNDS, commit: bool = False) -> dict[str, Any]:
    """Time ``rounds`` invoices; returns p50/p95 in milliseconds per step.

    "issue": the draft built, then `issue`, which splits it again server-side, numbers it and
    stores it, then the commit: what the Issue key costs. "preview": one live preview, as the
    screen asks per keystroke. "flow": both, back to back. "pay": a cash payment, committed.
    """
    timings: dict[str, list[float]] = {"issue": [], "preview": [], "flow": [], "pay": []}
    with _sessions(url, commit) as new_session:
        with new_session() as session:
            desk = make_desk(session)
            session.commit()
        for index in range(WARM_UP + rounds):
            with new_session() as session:
                started = time.perf_counter()
                shown = billing.preview(session, desk.reception, _draft(desk))
                previewed = time.perf_counter()
                invoice = billing.issue(session, desk.reception, _draft(desk))
                session.commit()
                issued = time.perf_counter()
                payments.pay(session, desk.reception, invoice.id, amount=Decimal(10_000),
                             method="cash", cash_tendered=Decimal(50_000))  # fmt: skip
                session.commit()
                paid = time.perf_counter()
            assert invoice.total == shown.total == 1_700_000
            if index >= WARM_UP:
                timings["preview"].append((previewed - started) * 1000)
                timings["issue"].append((issued - previewed) * 1000)
                timings["flow"].append((issued - started) * 1000)
                timings["pay"].append((paid - issued) * 1000)
    return {
        name: {"p50": statistics.median(values), "p95": _percentile(values, 0.95)}
        for name, values in timings.items()
    } | {"rounds": rounds, "commit": commit}


def print_table(result: dict[str, Any]) -> None:
    how = "committed" if result["commit"] else "in a rolled-back transaction"
    print(f"invoicing, {result['rounds']} rounds, {how}")
    rows = [
        ("invoice with 5 lines built, split and issued", "issue", f"≤ {TARGET_MS:g} ms"),
        ("live preview of the same draft (per keystroke)", "preview", ""),
        ("preview then issue, back to back", "flow", ""),
        ("cash payment taken", "pay", ""),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'metric'.ljust(width)}  {'p50':>9}  {'p95':>9}  target")
    for label, key, target in rows:
        p50, p95 = result[key]["p50"], result[key]["p95"]
        print(f"{label.ljust(width)}  {p50:>6.2f} ms  {p95:>6.2f} ms  {target}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        print_table(run(args[0]))
        return 0
    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory(prefix="clinic-bench-invoice-") as scratch:
        server = EmbeddedServer(Path(scratch))
        server.acquire()
        try:
            url = server.sqlalchemy_url()
            migrations.upgrade(url)
            print_table(run(url, commit=True))
        finally:
            server.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
