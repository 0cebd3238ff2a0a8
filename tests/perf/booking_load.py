"""Booking throughput: 8 terminals booking at once, through `appointments.book`, and a query
that finds no overlap afterwards.

Each client is a process of its own (a terminal is one), with its own connection pool. They
book free 30-minute slots months ahead, each from its own share of them; every tenth step,
half of them go for the slot a neighbour is booking at about the same moment, so some lose
the race to the exclusion constraint (`SlotTaken`), as at a busy desk. Throughput is the bookings
committed per second of wall time, from the moment all clients start until the last one
finishes. Then a self-join over the booked days looks for two active appointments of one
therapist, or of one patient, that overlap: there must be none. The bookings are deleted.

Run alone: ``.venv/bin/python -m tests.perf.booking_load``.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from datetime import date
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.perf import benchdb
from tests.perf.report import Row
from tests.perf.schedule_bench import (
    actor,
    booking_start,
    free_slots,
    remove_bookings,
    some_patients,
)

CLIENTS = 8
ATTEMPTS = 250  # per client
WARM_UP = 3  # per client, before the start: a terminal that has booked before
CONTESTED_EVERY = 10
TARGET_PER_SECOND = 300.0

_OVERLAPS = """
SELECT count(*) FROM appointments a JOIN appointments b
  ON a.{column} = b.{column} AND a.id < b.id AND a.during && b.during
 WHERE a.appointment_date BETWEEN :first AND :last AND b.appointment_date BETWEEN :first AND :last
   AND a.status NOT IN ('CANCELLED', 'NO_SHOW') AND b.status NOT IN ('CANCELLED', 'NO_SHOW')
"""


def _plan(slots: list[Any], patients: list[Any]) -> list[list[tuple[Any, Any]]]:
    """Each client's attempts (slot, patient): its own share; and every tenth step, an
    even-numbered client goes for the slot its odd neighbour books at that same step."""
    shares = [slots[client::CLIENTS] for client in range(CLIENTS)]
    plans: list[list[tuple[Any, Any]]] = []
    for client in range(CLIENTS):
        attempts = []
        for step in range(ATTEMPTS):
            slot = shares[client][step]
            if client % 2 == 0 and step % CONTESTED_EVERY == CONTESTED_EVERY - 1:
                slot = shares[client + 1][step]
            attempts.append((slot, patients[client * (ATTEMPTS + WARM_UP) + step]))
        plans.append(attempts)
    return plans


def _client(
    url: str, warm: list[Any], attempts: list[Any], barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    from clinic_tui.services import appointments
    from clinic_tui.services.scheduling import SchedulingError

    engine = create_engine(url, pool_size=1)
    with Session(engine) as session:
        booker = actor(session, benchdb.BOOKER)

    def book(slot: Any, patient: Any) -> bool:
        doctor, day, start = slot
        with Session(engine) as session:
            try:
                appointments.book(
                    session, booker, patient_id=patient, doctor_id=doctor, day=day, start=start,
                    slots=1, appointment_type="FOLLOW_UP",
                )  # fmt: skip
                session.commit()
            except SchedulingError:
                session.rollback()
                return False
        return True

    try:
        for slot, patient in warm:
            book(slot, patient)
        barrier.wait()
        booked = sum(book(slot, patient) for slot, patient in attempts)
        results.put((booked, len(attempts) - booked, time.perf_counter()))
    except Exception as error:  # the parent reports it rather than waiting for a result
        barrier.abort()
        results.put(repr(error))
    finally:
        engine.dispose()


def run(url: str, built_on: date) -> list[Row]:
    remove_bookings(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            needed = CLIENTS * (ATTEMPTS + WARM_UP)
            slots = free_slots(session, booking_start(built_on), needed)
            patients = some_patients(session, needed, seed=0.17)
        warm_slots, slots = slots[: CLIENTS * WARM_UP], slots[CLIENTS * WARM_UP :]
        plans = _plan(slots, patients)
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(CLIENTS + 1)
        results = context.Queue()
        clients = []
        for client in range(CLIENTS):
            own = client * (ATTEMPTS + WARM_UP) + ATTEMPTS  # patients after its attempts
            warm = [(warm_slots[client * WARM_UP + n], patients[own + n]) for n in range(WARM_UP)]
            process = context.Process(
                target=_client, args=(url, warm, plans[client], barrier, results)
            )
            process.start()
            clients.append(process)
        barrier.wait(timeout=120)
        started = time.perf_counter()
        outcomes = [results.get(timeout=600) for _ in clients]
        for process in clients:
            process.join(30)
        errors = [outcome for outcome in outcomes if isinstance(outcome, str)]
        if errors:
            raise RuntimeError(f"booking clients failed: {errors}")
        elapsed = max(finished for _b, _l, finished in outcomes) - started
        booked = sum(outcome[0] for outcome in outcomes)
        lost = sum(outcome[1] for outcome in outcomes)
        days = sorted({slot[1] for slot in slots + warm_slots})
        with engine.connect() as conn:
            overlaps = {
                column: conn.execute(
                    text(_OVERLAPS.format(column=column)), {"first": days[0], "last": days[-1]}
                ).scalar_one()
                for column in ("doctor_id", "patient_id")
            }
    finally:
        engine.dispose()
        remove_bookings(url)
    row = Row(
        f"booking throughput, {CLIENTS} concurrent clients",
        booked / elapsed,
        unit="/s",
        target=TARGET_PER_SECOND,
        higher_is_better=True,
        n=booked + lost,
        note=(
            f"{booked} booked, {lost} lost the race (slot just taken), in {elapsed:.2f} s;"
            f" overlapping pairs found afterwards: therapist {overlaps['doctor_id']},"
            f" patient {overlaps['patient_id']}"
        ),
    )
    if any(overlaps.values()):
        row.metric += " — OVERLAPS FOUND"
        row.p50 = 0.0
    return [row]


def main(argv: list[str] | None = None) -> int:
    from tests.perf.report import text_table

    database = benchdb.ensure()
    try:
        rows = run(database.url, database.built_on)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
