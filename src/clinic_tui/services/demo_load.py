"""Writing demo rows fast: batched Core inserts, PostgreSQL COPY, deferred index builds.

Used by `clinic_tui.services.demo`; the rows come from `demo_patients`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from clinic_tui.models import Base, InsuranceInfo, Patient
from clinic_tui.services.demo_patients import (
    INSURANCE_COLUMNS,
    PATIENT_COLUMNS,
    PatientFactory,
    PoolPatient,
    Rows,
)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed as one (``__table__`` is declared as a FromClause)."""
    return cast(Table, model.__table__)


@contextmanager
def indexes_deferred(session: Session) -> Iterator[None]:
    """Drop the secondary indexes of patients and insurance_info, and build them again after
    the body: one sorted build is several times faster than a million index insertions (the
    trigram index most of all). Read from the catalogue, so indexes added by later
    migrations come back exactly as they were. Everything happens in the caller's
    transaction: on failure the rollback restores the indexes, and other sessions wait on
    the tables' locks until the commit.
    """
    found = session.execute(
        text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid IN ('patients'::regclass, 'insurance_info'::regclass)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        )
    ).all()
    for name, _definition in found:
        session.execute(text(f"DROP INDEX {name}"))
    yield
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _name, definition in found:
        session.execute(text(definition))


Progress = Callable[[int], None]


def insert_batched(
    session: Session,
    factory: PatientFactory,
    rows: Rows,
    pool: list[PoolPatient],
    pool_size: int,
    progress: Progress,
    batch: int = 1000,
) -> tuple[int, int]:
    """Core inserts, a batch at a time; returns (patients, insurance rows)."""
    patients: list[dict[str, Any]] = []
    insurance: list[dict[str, Any]] = []
    totals = [0, 0]

    def flush() -> None:
        if patients:
            session.execute(insert(table_of(Patient)), patients)
        if insurance:  # after its patients: the foreign key is checked per statement
            session.execute(insert(table_of(InsuranceInfo)), insurance)
        totals[0] += len(patients)
        totals[1] += len(insurance)
        patients.clear()
        insurance.clear()
        progress(totals[0])

    for row, cards in rows:
        patients.append(dict(zip(PATIENT_COLUMNS, row, strict=True)))
        insurance.extend(dict(zip(INSURANCE_COLUMNS, card, strict=True)) for card in cards)
        if len(pool) < pool_size:
            pool.append(factory.pool_member(row, cards))
        if len(patients) >= batch:
            flush()
    flush()
    return totals[0], totals[1]


def copy_rows(
    session: Session,
    factory: PatientFactory,
    rows: Rows,
    pool: list[PoolPatient],
    pool_size: int,
    progress: Progress,
    chunk: int = 50_000,
) -> tuple[int, int]:
    """PostgreSQL COPY through the session's own psycopg connection (same transaction).

    A chunk of patients, then that chunk's insurance rows: one connection runs one COPY at a
    time, and the cards must follow their patients for the foreign key. The server parses
    and indexes one chunk while Python generates the next rows, so both cores work.
    Returns (patients, insurance rows).
    """
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session has no live database connection")
    cursor = driver.cursor()
    patient_sql = f"COPY patients ({', '.join(PATIENT_COLUMNS)}) FROM STDIN"
    insurance_sql = f"COPY insurance_info ({', '.join(INSURANCE_COLUMNS)}) FROM STDIN"
    patients = cards_total = 0
    pending: list[tuple[Any, ...]] = []
    done = False
    while not done:
        with cursor.copy(patient_sql) as copy:
            for row, cards in rows:
                copy.write_row(row)
                pending.extend(cards)
                if len(pool) < pool_size:
                    pool.append(factory.pool_member(row, cards))
                patients += 1
                if patients % chunk == 0:
                    break
            else:
                done = True
        if pending:
            with cursor.copy(insurance_sql) as copy:
                for card in pending:
                    copy.write_row(card)
            cards_total += len(pending)
            pending.clear()
        progress(patients)
    return patients, cards_total
