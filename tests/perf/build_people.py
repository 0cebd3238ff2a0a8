"""Benchmark database, part one: accounts, therapists, medical terms and a million patients.

Patients come from the demo generator (`clinic_tui.services.demo_patients`: the measured
distribution of Vietnamese family, middle and given names, phones, national ids, addresses,
BHYT cards valid by age and object code), written with COPY while Python makes the next ones.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clinic_tui.domain import vietnamese_names as names
from clinic_tui.services import demo_patients
from tests.perf import benchdb
from tests.perf.term_data import generated_terms

SEED = 20261123
CHUNK = 50_000  # patients per COPY; their insurance rows follow in a COPY of their own
# (specialization, weight): a chain's therapists, mostly musculoskeletal.
SPECIALIZATIONS = (
    ("musculoskeletal", 14), ("neurological", 7), ("sports", 6), ("paediatric", 5),
    ("geriatric", 5), ("cardiopulmonary", 3),
)  # fmt: skip


@dataclass(frozen=True)
class People:
    users: dict[str, uuid.UUID]  # e-mail → user id
    doctors: list[uuid.UUID]  # in their numbering (bs01 … bs40)
    specializations: list[str]


def staff(conn: psycopg.Connection, today: date) -> People:
    """The sign-in accounts (one password) and the therapists; the first therapist is the
    doctor account's own column."""
    from clinic_tui.services.passwords import hash_password

    password_hash = hash_password(benchdb.PASSWORD)
    users: dict[str, uuid.UUID] = {}
    for email, role, full_name in benchdb.ACCOUNTS:
        users[email] = uuid.uuid4()
        conn.execute(
            "INSERT INTO users (id, email, password_hash, full_name, role, locale)"
            " VALUES (%s, %s, %s, %s, %s, 'en')",
            (users[email], email, password_hash, full_name, role),
        )
    rng = random.Random(SEED)
    kinds = names.WeightedChoice([s for s, _ in SPECIALIZATIONS], [w for _, w in SPECIALIZATIONS])
    doctors: list[uuid.UUID] = []
    specializations: list[str] = []
    for number in range(1, benchdb.DOCTORS + 1):
        doctor = uuid.uuid4()
        gender = "FEMALE" if rng.random() < 0.55 else "MALE"
        kind = kinds.draw(rng)
        conn.execute(
            "INSERT INTO doctors (id, user_id, full_name, email, phone, specialization,"
            " experience_years, consultation_fee, rating, bio) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                doctor,
                users[benchdb.DOCTOR] if number == 1 else None,
                names.person_name(rng, gender),
                f"bs{number:02d}@bench.clinic",
                names.phone_number(rng),
                kind,
                rng.randint(2, 25),
                Decimal(rng.choice((200_000, 250_000, 300_000, 350_000, 400_000, 450_000))),
                Decimal(rng.randint(380, 500)) / 100,
                "Kỹ thuật viên vật lý trị liệu của chuỗi phòng khám.",
            ),
        )
        doctors.append(doctor)
        specializations.append(kind)
    conn.commit()
    return People(users, doctors, specializations)


def terms(conn: psycopg.Connection, total: int) -> int:
    """Top the seeded vocabulary up to ``total`` terms; returns how many were added."""
    row = conn.execute("SELECT count(*) FROM vietnamese_medical_terms").fetchone()
    missing = max(0, total - (row[0] if row else 0))
    columns = "term_en, term_vi, category, icd10_code, aliases"
    with conn.cursor().copy(f"COPY vietnamese_medical_terms ({columns}) FROM STDIN") as copy:
        for term in generated_terms(missing, random.Random(SEED)):
            copy.write_row(
                (term["term_en"], term["term_vi"], term["category"], term["icd10_code"],
                 term["aliases"])
            )  # fmt: skip
    conn.commit()
    return missing


def patients(url: str, conn: psycopg.Connection, count: int, today: date) -> tuple[int, int]:
    """``count`` demo patients (``BN-DEMO-000001`` …) and their insurance rows, by COPY;
    returns (patients, insurance rows)."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            reference = demo_patients.load_reference(session)
    finally:
        engine.dispose()
    factory = demo_patients.PatientFactory(random.Random(f"bench:{SEED}"), today, reference)
    rows = demo_patients.generate(factory, 1, count)
    cursor = conn.cursor()
    patient_sql = f"COPY patients ({', '.join(demo_patients.PATIENT_COLUMNS)}) FROM STDIN"
    card_sql = f"COPY insurance_info ({', '.join(demo_patients.INSURANCE_COLUMNS)}) FROM STDIN"
    made = cards = 0
    while made < count:
        pending: list[tuple[object, ...]] = []
        with cursor.copy(patient_sql) as copy:
            for row, insurance in rows:
                copy.write_row(row)
                pending.extend(insurance)
                made += 1
                if made % CHUNK == 0:
                    break
        with cursor.copy(card_sql) as copy:
            for card in pending:
                copy.write_row(card)
        cards += len(pending)
    conn.commit()
    return made, cards
