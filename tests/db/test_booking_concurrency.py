"""Sixteen clients book at once on a committed database, each on its own connection
(issue 7, item 9). The database decides: exactly a maximal set of non-overlapping bookings
succeeds, every loser hears the clear refusal (`SlotTaken`, or `PatientBusy` when the clash is
the patient's), and no two active appointments of a doctor or a patient overlap afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import time
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from clinic_tui.domain.slots import end_of, overlaps
from clinic_tui.services import appointments as appts
from clinic_tui.services import scheduling as sched
from clinic_tui.services.appointments import AppointmentInfo, PatientBusy, SlotTaken
from tests.db.test_scheduling import MONDAY, ON_MONDAY, Clinic, add_doctor, make_clinic

CLIENTS = 16


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, pool_size=CLIENTS, max_overflow=4)
    yield engine
    engine.dispose()


@pytest.fixture
def clinic(engine: Engine) -> Clinic:
    with Session(engine) as session:
        clinic = make_clinic(session, patients=CLIENTS)
        session.commit()
    return clinic


def race(engine: Engine, attempts: list[dict[str, Any]], actor) -> list[object]:
    """Run every booking at the same moment, each in its own session; return each outcome
    (the appointment, or the exception it raised)."""
    outcomes: list[object] = [None] * len(attempts)
    barrier = threading.Barrier(len(attempts))

    def client(index: int) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                result = appts.book(session, actor, **attempts[index])
                session.commit()
                outcomes[index] = result.appointment
            except Exception as error:
                session.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def no_overlap_in_the_table(engine: Engine, column: str) -> None:
    with engine.connect() as connection:
        pairs = connection.execute(
            text(
                "SELECT count(*) FROM appointments x JOIN appointments y"
                f" ON x.{column} = y.{column} AND x.id < y.id AND x.during && y.during"
                " WHERE x.status NOT IN ('CANCELLED', 'NO_SHOW')"
                " AND y.status NOT IN ('CANCELLED', 'NO_SHOW')"
            )
        ).scalar_one()
    assert pairs == 0


def attempt(clinic: Clinic, index: int, start: time, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "patient_id": clinic.others[index], "doctor_id": clinic.a, "day": MONDAY, "start": start,
        "slots": 2, "slot_minutes": 15, "appointment_type": "FOLLOW_UP", "now": ON_MONDAY,
    }  # fmt: skip
    values.update(overrides)
    return values


def settle(outcomes: list[object], attempts: list[dict[str, Any]], refusal: type[Exception]):
    """Check the race's outcome against the constraint's meaning; return the winners."""
    every = []
    for values in attempts:
        end = end_of(values["start"], values["slots"] * values["slot_minutes"])
        assert end is not None
        every.append((values["start"], end))
    winners = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, AppointmentInfo)]
    losers = [i for i in range(len(outcomes)) if i not in winners]
    assert [outcomes[i] for i in losers if not isinstance(outcomes[i], refusal)] == []
    for i in winners:  # no two winners overlap …
        assert not any(overlaps(every[i], every[j]) for j in winners if j != i)
    for i in losers:  # … and each loser overlaps a winner: the winners are a maximal set
        assert any(overlaps(every[i], every[j]) for j in winners)
    return winners


def test_overlapping_starts_every_15_minutes(engine: Engine, clinic: Clinic) -> None:
    # Starts 7:30, 7:45, … 11:15, each 30 minutes long: each overlaps only its neighbours, so
    # the winners are a maximal independent set of a 16-path: between 6 and 8 of them.
    with Session(engine) as session:
        sched.add_hours(session, clinic.admin, doctor_id=clinic.a, day=MONDAY, start=time(11, 30),
                        end=time(12, 0), now=ON_MONDAY)  # fmt: skip
        session.commit()
    starts = [time(7 + (30 + 15 * k) // 60, (30 + 15 * k) % 60) for k in range(CLIENTS)]
    attempts = [attempt(clinic, i, start) for i, start in enumerate(starts)]
    outcomes = race(engine, attempts, clinic.reception)
    winners = settle(outcomes, attempts, SlotTaken)
    # A maximal independent set of a path of n: at least ceil(n/3), at most ceil(n/2).
    assert -(-CLIENTS // 3) <= len(winners) <= -(-CLIENTS // 2)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM appointments WHERE doctor_id = :a"), {"a": clinic.a}
        ).scalar_one()
    assert stored == len(winners)
    no_overlap_in_the_table(engine, "doctor_id")


def test_sixteen_clients_one_slot(engine: Engine, clinic: Clinic) -> None:
    attempts = [attempt(clinic, i, time(9, 0)) for i in range(CLIENTS)]
    outcomes = race(engine, attempts, clinic.reception)
    assert len(settle(outcomes, attempts, SlotTaken)) == 1
    no_overlap_in_the_table(engine, "doctor_id")


def test_one_patient_sixteen_doctors_at_once(engine: Engine, clinic: Clinic) -> None:
    with Session(engine) as session:
        doctors = [
            add_doctor(session, f"Bác sĩ {i}", "sports", uuid.uuid4().hex[:6])
            for i in range(CLIENTS)
        ]
        for doctor in doctors:
            sched.generate_availability(session, clinic.admin, doctor_id=doctor, date_from=MONDAY,
                                        date_to=MONDAY)  # fmt: skip
        session.commit()
    attempts = [
        attempt(clinic, 0, time(9, 0), doctor_id=doctor, patient_id=clinic.insured)
        for doctor in doctors
    ]
    outcomes = race(engine, attempts, clinic.reception)
    assert len(settle(outcomes, attempts, PatientBusy)) == 1
    no_overlap_in_the_table(engine, "patient_id")
