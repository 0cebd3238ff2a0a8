"""Terminals racing on committed data, each on its own connection (issue 8 item 7).

Eight clerks issuing at once get eight different numbers with no gap, even when some of them
roll back after taking theirs; two clerks taking the last payment of one invoice cannot overpay
it: exactly one succeeds, the other hears `Overpayment`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from clinic_tui.services import billing, payments
from clinic_tui.services.payments import Overpayment
from tests.db.test_billing import Desk, make_desk

CLERKS = 8


class Abandon(Exception):
    """Raised by a clerk's work to roll back after it has done everything but commit."""


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, pool_size=CLERKS, max_overflow=4)
    yield engine
    engine.dispose()


@pytest.fixture
def desk(engine: Engine) -> Desk:
    with Session(engine) as session:
        desk = make_desk(session)
        session.commit()
    return desk


def race(engine: Engine, clerks: int, work: Callable[[Session, int], object]) -> list[object]:
    """Run ``work`` for every clerk at the same moment, each in its own session; return what
    each got (its result, or the exception it raised)."""
    outcomes: list[object] = [None] * clerks
    barrier = threading.Barrier(clerks)

    def clerk(index: int) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                outcomes[index] = work(session, index)
                session.commit()
            except Exception as error:
                session.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(clerks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def year_of_now(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT extract(year FROM now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::int")
        ).scalar_one()


def numbers_in_the_table(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(text("SELECT invoice_number FROM invoices ORDER BY 1")).scalars()
        )


def test_eight_clerks_issuing_at_once_get_gapless_distinct_numbers(
    engine: Engine, desk: Desk
) -> None:
    def issue(session: Session, index: int) -> str:
        draft = desk.draft("dn4", "PT001", ("PT003", index + 1))
        return billing.issue(session, desk.reception, draft).invoice_number

    numbers = race(engine, CLERKS, issue)
    assert all(isinstance(number, str) for number in numbers), numbers
    year = year_of_now(engine)
    expected = [f"INV-{year}-{n:06d}" for n in range(1, CLERKS + 1)]
    assert sorted(numbers) == expected  # type: ignore[type-var]
    assert numbers_in_the_table(engine) == expected


def test_a_clerk_who_rolls_back_leaves_no_gap(engine: Engine, desk: Desk) -> None:
    def issue_or_abandon(session: Session, index: int) -> str:
        number = billing.issue(session, desk.reception, desk.draft("ht3", "PT201")).invoice_number
        if index % 2:
            time.sleep(0.02)  # hold the counter while the others wait, then give it back
            raise Abandon(number)
        return number

    outcomes = race(engine, CLERKS, issue_or_abandon)
    kept = sorted(o for o in outcomes if isinstance(o, str))
    assert len(kept) == CLERKS // 2
    assert sum(isinstance(o, Abandon) for o in outcomes) == CLERKS // 2
    year = year_of_now(engine)
    assert kept == [f"INV-{year}-{n:06d}" for n in range(1, CLERKS // 2 + 1)]
    with Session(engine) as session:
        after = billing.issue(session, desk.reception, desk.draft("none", "PT201"))
        session.commit()
    assert after.invoice_number == f"INV-{year}-{CLERKS // 2 + 1:06d}"


@pytest.mark.parametrize("amounts", [(150_000, 150_000), (100_000, 100_000), (150_000, 1)])
def test_two_clerks_taking_the_last_payment_cannot_overpay(
    engine: Engine, desk: Desk, amounts: tuple[int, int]
) -> None:
    with Session(engine) as session:
        invoice = billing.issue(session, desk.reception, desk.draft("dn4", "PT001", "PT105"))
        session.commit()
    assert invoice.patient == 150_000

    def pay(session: Session, index: int) -> object:
        method = ("cash", "momo")[index]
        amount = Decimal(amounts[index])
        taken = payments.pay(session, desk.reception, invoice.id, amount=amount, method=method)
        time.sleep(0.05)  # hold the invoice's lock: the other clerk is waiting on it now
        return taken

    outcomes = race(engine, 2, pay)
    refused = [o for o in outcomes if isinstance(o, Overpayment)]
    taken = [o for o in outcomes if isinstance(o, payments.PaymentView)]
    assert (len(taken), len(refused)) == (1, 1), outcomes
    assert refused[0].remaining == 150_000 - taken[0].amount
    with Session(engine) as session:
        final = billing.invoice_view(session, desk.reception, invoice.id)
    assert final.paid == taken[0].amount <= final.patient
    assert final.status == ("PAID" if final.paid == final.patient else "PARTIALLY_PAID")
