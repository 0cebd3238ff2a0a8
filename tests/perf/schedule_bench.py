"""Scheduling benchmark: a day grid of 40 doctors × 48 slots (the service's load: both
queries and the cell layout) and the booking round trip (book + commit), on a throwaway
embedded server. Prints p50 / p95; targets: grid ≤ 150 ms (load and render), booking ≤ 50 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

DOCTORS = 40
SLOTS = 48  # 30-minute slots from 00:00 to 24:00 would be 48; the clinic day uses 06:00–22:00
ROUNDS = 50


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _prepare(session: Session, day: date) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    from clinic_tui.models import Doctor, DoctorAvailability, Patient

    doctors = [uuid.uuid4() for _ in range(DOCTORS)]
    session.execute(
        insert(Doctor),
        [
            {
                "id": d,
                "full_name": f"Bác sĩ {i:02d}",
                "email": f"bs{i}@bench.vn",
                "specialization": ("musculoskeletal", "neurological", "sports")[i % 3],
                "consultation_fee": Decimal(300000),
            }
            for i, d in enumerate(doctors)
        ],
    )
    # 24 hours of availability in two blocks: every one of the 48 rows is a real slot.
    session.execute(
        insert(DoctorAvailability),
        [
            {"doctor_id": d, "date": day, "start_time": start, "end_time": end, "source": "MANUAL"}
            for d in doctors
            for start, end in ((clock(0, 0), clock(12, 0)), (clock(12, 0), clock(23, 59)))
        ],
    )
    patients = [uuid.uuid4() for _ in range(DOCTORS * 12 + ROUNDS)]
    session.execute(
        insert(Patient),
        [
            {
                "id": p,
                "patient_code": f"BN-BENCH-{i:06d}",
                "full_name": f"Nguyễn Văn Bench {i}",
                "date_of_birth": date(1980, 1, 1),
                "gender": "MALE",
            }
            for i, p in enumerate(patients)
        ],
    )
    # A third of the grid booked, as on a busy day.
    rows = []
    for column, doctor in enumerate(doctors):
        for slot in range(0, 36, 3):
            start = clock(slot // 2, 30 * (slot % 2))
            end = clock((slot + 1) // 2, 30 * ((slot + 1) % 2))
            rows.append(
                {
                    "patient_id": patients[column * 12 + slot // 3],
                    "doctor_id": doctor,
                    "appointment_date": day,
                    "start_time": start,
                    "end_time": end,
                    "status": "SCHEDULED",
                }
            )
    session.execute(
        text(
            "INSERT INTO appointments (patient_id, doctor_id, appointment_date, start_time, "
            "end_time, status) VALUES (:patient_id, :doctor_id, :appointment_date, :start_time, "
            ":end_time, :status)"
        ),
        rows,
    )
    return doctors, patients[DOCTORS * 12 :]


def run(url: str) -> list[dict[str, object]]:
    from clinic_tui.models import User
    from clinic_tui.services import appointments, scheduling
    from clinic_tui.services.access import Actor, Role
    from clinic_tui.services.auth import actor_of

    engine = create_engine(url)
    day = date.today() + timedelta(days=7)
    with Session(engine) as session:
        user = User(
            email="bench@clinic.vn",
            password_hash="x",
            full_name="Bench",
            role=Role.RECEPTIONIST.value,
        )
        session.add(user)
        session.flush()
        actor: Actor = actor_of(user)
        doctors, free_patients = _prepare(session, day)
        session.commit()
    grid_ms: list[float] = []
    with Session(engine) as session:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            grid = scheduling.day_grid(session, actor, day)
            grid_ms.append((time.perf_counter() - started) * 1000)
        cells = len(grid.doctors) * len(grid.times)
    book_ms: list[float] = []
    for index, patient in enumerate(free_patients):
        doctor = doctors[index % DOCTORS]
        slot = 37 + index // DOCTORS  # the afternoon, unbooked
        started = time.perf_counter()
        with Session(engine) as session:
            appointments.book(
                session,
                actor,
                patient_id=patient,
                doctor_id=doctor,
                day=day,
                start=clock(slot // 2, 30 * (slot % 2)),
                slots=1,
                appointment_type="FOLLOW_UP",
            )
            session.commit()
        book_ms.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    grid_p50, grid_p95 = _percentiles(grid_ms)
    book_p50, book_p95 = _percentiles(book_ms)
    return [
        {
            "metric": f"day grid load, {len(grid.doctors)} doctors × {len(grid.times)} slots "
            f"({cells} cells, service only)",
            "p50": grid_p50,
            "p95": grid_p95,
            "target": 150,
        },
        {
            "metric": "booking round trip (book + commit)",
            "p50": book_p50,
            "p95": book_p95,
            "target": 50,
        },
    ]


def main(argv: list[str] | None = None) -> int:
    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer

    args = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory(prefix="clinic-bench-schedule-") as scratch:
        server = EmbeddedServer(Path(scratch))
        server.acquire()
        try:
            url = args[0] if args else server.sqlalchemy_url()
            migrations.upgrade(url)
            rows = run(url)
        finally:
            server.release()
    for row in rows:
        mark = "" if float(row["p95"]) <= float(row["target"]) else "  ✗ misses target"
        print(
            f"{row['metric']:<70} p50 {row['p50']:7.2f} ms  p95 {row['p95']:7.2f} ms  "
            f"target ≤ {row['target']} ms{mark}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
