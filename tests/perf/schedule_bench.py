"""The day grid of 40 therapists × 48 slots, loaded and drawn, and one booking's round trip,
on the benchmark database (2,000,000 appointments).

Grid: in a Pilot-driven app at 200×50 on the availability grid (F4), each sample loads a
busy day with `scheduling.day_grid` (15-minute rows, 07:00–19:00: 48 of them), hands it to
the screen's `ScheduleGrid` and has the widget render every line it shows: what a
receptionist waits for after PgDn. The days are the busiest around the build's day, in turn.

Booking: `appointments.book` and the commit, one at a time, into free slots months ahead;
the bookings are deleted afterwards (the benchmark's own account made them).

Plan: of the query that took the most time over all the samples (`report.slowest_plan`).

Run alone: ``.venv/bin/python -m tests.perf.schedule_bench``.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import date, timedelta
from datetime import time as clock
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.perf import benchdb
from tests.perf.pilot import idle, signed_in
from tests.perf.report import Row, recording, slowest_plan, timings_row

GRID_ROUNDS = 30
GRID_TARGET_MS = 150.0
BOOKINGS = 150
BOOKING_TARGET_MS = 50.0
GRID_SIZE = (200, 50)


def actor(session: Session, email: str) -> Any:
    from clinic_tui.models import User
    from clinic_tui.services.auth import actor_of

    user = session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar()
    return actor_of(session.get_one(User, user))


def busy_days(url: str, built_on: date, count: int) -> list[date]:
    """The busiest days around the build's "today" (the data thins out six weeks after it,
    whenever the benchmark runs), busiest first."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT appointment_date FROM appointments"
                        " WHERE appointment_date BETWEEN :day - 21 AND :day + 14"
                        " AND status NOT IN ('CANCELLED', 'NO_SHOW')"
                        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT :n"
                    ),
                    {"day": built_on, "n": count},
                ).scalars()
            )
    finally:
        engine.dispose()


async def _grid(url: str, days: list[date]) -> tuple[list[float], str, str]:
    from clinic_tui.services import scheduling
    from clinic_tui.ui.widgets.schedule_grid import ScheduleGrid

    samples: list[float] = []
    engine = create_engine(url)
    try:
        async with signed_in(url, size=GRID_SIZE) as (app, pilot):
            await pilot.press("f4")
            await idle(app, pilot)
            widget = app.screen.query_one(ScheduleGrid)
            with Session(engine) as session:
                reception = actor(session, benchdb.RECEPTION)
            shape = ""
            with recording(engine) as sent:
                for index in range(GRID_ROUNDS + 3):  # three to warm up
                    day = days[index % len(days)]
                    started = time.perf_counter()
                    with Session(engine) as session:
                        grid = scheduling.day_grid(session, reception, day, slot_minutes=15)
                    widget.set_grid([d.name for d in grid.doctors], grid.times, grid.cells)
                    lines = [widget.render_line(y) for y in range(widget.size.height)]
                    elapsed = (time.perf_counter() - started) * 1000
                    if not lines or len(grid.doctors) != benchdb.DOCTORS:
                        raise RuntimeError(f"the grid of {day} has {len(grid.doctors)} columns")
                    shape = f"{len(grid.doctors)} × {len(grid.times)}"
                    if index >= 3:
                        samples.append(elapsed)
                    await pilot.pause()
            with engine.connect() as conn:
                plan = slowest_plan(conn, sent)
    finally:
        engine.dispose()
    return samples, shape, plan


def free_slots(session: Session, first: date, count: int) -> list[tuple[uuid.UUID, date, clock]]:
    """``count`` free 30-minute slots (therapist, day, start) from ``first`` on: days the
    benchmark database left unbooked, inside the therapists' availability."""
    rows = session.execute(
        text(
            "SELECT a.doctor_id, a.date, (a.start_time + s * interval '30 minutes')::time"
            " FROM doctor_availabilities a"
            " CROSS JOIN LATERAL generate_series(0, (extract(epoch FROM a.end_time"
            "  - a.start_time) / 1800)::int - 1) s"
            " WHERE a.date >= :first AND a.is_available AND NOT EXISTS (SELECT 1"
            "  FROM appointments p WHERE p.doctor_id = a.doctor_id"
            "  AND p.appointment_date = a.date)"
            " ORDER BY a.date, 3, a.doctor_id LIMIT :n"
        ),
        {"first": first, "n": count},
    ).all()
    if len(rows) < count:
        raise RuntimeError("not enough free availability ahead: rebuild the benchmark database")
    return [(row[0], row[1], row[2]) for row in rows]


def some_patients(session: Session, count: int, seed: float = 0.42) -> list[uuid.UUID]:
    session.execute(text("SELECT setseed(:s)"), {"s": seed})
    return list(
        session.execute(
            text(
                "SELECT id FROM patients TABLESAMPLE BERNOULLI (1) REPEATABLE (7)"
                " ORDER BY random() LIMIT :n"
            ),
            {"n": count},
        ).scalars()
    )


def delete_own(conn: Any, table: str, where: str, params: dict[str, Any], refs: str) -> int:
    """Delete the benchmark's own new rows of ``table``. Nothing refers to them (``refs``
    counts what would), so the per-row foreign-key triggers are skipped for the statement:
    some referencing columns have no index (``appointments.rescheduled_from_id``,
    ``invoices.replaces_invoice_id``), and each deleted row would scan the whole table."""
    if conn.execute(text(refs), params).scalar_one():
        return conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params).rowcount
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    done = conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params).rowcount
    conn.execute(text("SET LOCAL session_replication_role = origin"))
    return done


def remove_bookings(url: str) -> int:
    """Delete what the booking account booked (a run that stopped halfway included)."""
    mine = "created_by = (SELECT id FROM users WHERE email = :e)"
    refs = (
        f"SELECT (SELECT count(*) FROM appointments WHERE rescheduled_from_id IN"
        f" (SELECT id FROM appointments WHERE {mine}))"
        f" + (SELECT count(*) FROM invoices WHERE appointment_id IN"
        f" (SELECT id FROM appointments WHERE {mine}))"
        f" + (SELECT count(*) FROM payments WHERE appointment_id IN"
        f" (SELECT id FROM appointments WHERE {mine}))"
    )
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return delete_own(conn, "appointments", mine, {"e": benchdb.BOOKER}, refs)
    finally:
        engine.dispose()


def booking_start(built_on: date) -> date:
    """The first day the benchmarks book on: past the build's bookings, and not in the past."""
    return max(date.today() + timedelta(days=7), built_on + timedelta(days=60))


def _bookings(url: str, built_on: date) -> tuple[list[float], str]:
    from clinic_tui.services import appointments

    remove_bookings(url)
    engine = create_engine(url)
    samples: list[float] = []
    try:
        with Session(engine) as session:
            booker = actor(session, benchdb.BOOKER)
            slots = free_slots(session, booking_start(built_on), BOOKINGS + 5)
            patients = some_patients(session, BOOKINGS + 5)
        with recording(engine) as sent:
            for index, ((doctor, day, start), patient) in enumerate(
                zip(slots, patients, strict=True)
            ):
                started = time.perf_counter()
                with Session(engine) as session:
                    appointments.book(
                        session, booker, patient_id=patient, doctor_id=doctor, day=day,
                        start=start, slots=1, appointment_type="FOLLOW_UP",
                    )  # fmt: skip
                    session.commit()
                if index >= 5:
                    samples.append((time.perf_counter() - started) * 1000)
        with engine.connect() as conn:
            plan = slowest_plan(conn, sent)
    finally:
        engine.dispose()
        remove_bookings(url)
    return samples, plan


def run(url: str, built_on: date) -> list[Row]:
    days = busy_days(url, built_on, 10)
    grid, shape, grid_plan = asyncio.run(_grid(url, days))
    bookings, booking_plan = _bookings(url, built_on)
    return [
        timings_row(
            f"day grid {shape} (therapists × slots), load + render in a Pilot app",
            grid,
            target=GRID_TARGET_MS,
            plan=grid_plan,
        ),
        timings_row(
            "booking round trip (book + commit, one terminal)",
            bookings,
            target=BOOKING_TARGET_MS,
            plan=booking_plan,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    from tests.perf.pilot import isolate_user_dirs
    from tests.perf.report import text_table

    isolate_user_dirs()
    database = benchdb.ensure()
    try:
        rows = run(database.url, database.built_on)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
