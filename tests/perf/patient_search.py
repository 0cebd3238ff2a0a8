"""Patient search at 1,000,000 patients: the staged search beside the naive trigram ranking.

Run alone: ``.venv/bin/python -m tests.perf.patient_search`` (``--verbose`` prints each
query's time and plan). It uses the benchmark database (`benchdb`), building it if needed.

What is timed: client-side wall time of each SQL statement `patient_search.search` sends
(``cursor.execute`` until the rows are in, over the embedded server's Unix socket), summed
per search, and the whole call including Python. Each query runs once untimed (a warm
server, as at the front desk after the first minutes of the day), then three times, and the
median of the three is its figure. The naive query is timed once per query, on a subset,
the same way. Plans: ``EXPLAIN (FORMAT JSON)`` of the statements the search sent, replayed
in order. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from tests.perf import benchdb
from tests.perf.report import (
    Row,
    common_plan,
    explain,
    explain_replayed,
    recording,
    timings_row,
    with_naive,
)

PATIENTS = benchdb.PATIENTS
SEED = 20261123
NAME_TARGET_MS = 15.0
LOOKUP_TARGET_MS = 2.0
NAIVE_QUERIES = 30
NAIVE_SQL = (
    "SELECT id, full_name FROM patients WHERE search_key %% %(q)s "
    "ORDER BY similarity(search_key, %(q)s) DESC LIMIT 20"
)
# The mix of name queries (200): how receptionists type names.
NAME_MIX = (
    ("full name, accented", 50),
    ("full name, accent-free", 30),
    ("family + middle", 30),
    ("given name", 30),
    ("given + family (out of order)", 30),
    ("one typo", 30),
)
LOOKUPS = 50  # of each identifier kind
REPEATS = 3  # timings per query; the median is kept
# Not in the 200: the first key pressed, when search-as-you-type starts.
FIRST_LETTERS = "abcdeghiklmnopqrstuvxy"


# --- the queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    expected: str = ""  # for typos: the accent-free name that should come back


def _typo(rng: random.Random, word: str) -> str:
    """One edit: swap two neighbours, drop, replace or add a letter (never the first one,
    except by a swap: the correction looks words up by their first two letters)."""
    letters = "abcdeghiklmnopqrstuvxy"
    while True:
        kind = rng.choice(("swap", "drop", "replace", "add"))
        if kind == "swap":
            at = rng.randrange(len(word) - 1)
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif kind == "drop":
            at = rng.randrange(1, len(word))
            typo = word[:at] + word[at + 1 :]
        elif kind == "replace":
            at = rng.randrange(1, len(word))
            typo = word[:at] + rng.choice(letters) + word[at + 1 :]
        else:
            at = rng.randrange(1, len(word) + 1)
            typo = word[:at] + rng.choice(letters) + word[at:]
        if typo != word:
            return typo


def _sample_rows(conn: Connection, rng: random.Random, count: int) -> list[Any]:
    codes = [f"BN-DEMO-{rng.randrange(1, PATIENTS + 1):06d}" for _ in range(count)]
    return list(
        conn.execute(
            text(
                "SELECT p.full_name, p.search_key, p.phone, p.patient_code, i.bhyt_card_number "
                "FROM patients p LEFT JOIN insurance_info i ON i.patient_id = p.id "
                "AND i.bhyt_card_number IS NOT NULL "
                "WHERE p.patient_code = ANY(:codes) ORDER BY p.patient_code"
            ),
            {"codes": codes},
        )
    )


def name_queries(conn: Connection) -> list[Query]:
    rng = random.Random(SEED)
    rows = _sample_rows(conn, rng, 400)
    rng.shuffle(rows)
    queries: list[Query] = []
    pool = iter(rows)
    for kind, count in NAME_MIX:
        for row in _take(pool, count):
            words, folded = row.full_name.split(), row.search_key.split()
            if kind == "full name, accented":
                queries.append(Query(kind, row.full_name))
            elif kind == "full name, accent-free":
                queries.append(Query(kind, row.search_key))
            elif kind == "family + middle":
                queries.append(Query(kind, " ".join(words[:-1])))
            elif kind == "given name":
                queries.append(Query(kind, rng.choice([words[-1], folded[-1]])))
            elif kind == "given + family (out of order)":
                queries.append(Query(kind, f"{folded[-1]} {folded[0]}"))
            else:
                at = rng.choice([i for i, word in enumerate(folded) if len(word) >= 3] or [0])
                typed = [*folded]
                typed[at] = _typo(rng, folded[at])
                queries.append(Query(kind, " ".join(typed), expected=row.search_key))
    return queries


def _take(rows: Iterator[Any], count: int) -> list[Any]:
    return [next(rows) for _ in range(count)]


def lookup_queries(conn: Connection) -> list[Query]:
    rng = random.Random(SEED + 1)
    rows = [row for row in _sample_rows(conn, rng, 400) if row.phone and row.bhyt_card_number]
    queries = []
    for index, row in enumerate(rows[:LOOKUPS]):
        phone = row.phone if index % 2 else row.phone[: rng.randrange(5, 9)]  # whole or prefix
        if index % 3 == 0:
            phone = "+84 " + phone[1:4] + " " + phone[4:]
        queries.append(Query("phone prefix", phone))
        queries.append(
            Query("patient code", row.patient_code.lower() if index % 2 else row.patient_code)
        )
        card = row.bhyt_card_number
        typed = f"{card[:2]} {card[2]} {card[3:5]} {card[5:]}" if index % 2 else card[5:]
        queries.append(Query("BHYT card (grouped or 10-digit number)", typed))
    return queries


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Timing:
    sql_ms: float
    total_ms: float
    statements: list[tuple[str, Any]]
    found: list[str] = field(default_factory=list)


def _median_of_runs(engine: Engine, session: Session, actor: Any, typed: str) -> Timing:
    """`REPEATS` timings of one query, the median kept: other processes on the machine
    then move a figure only when they disturb most of its runs."""
    runs = sorted(
        (_time_search(engine, session, actor, typed) for _ in range(REPEATS)),
        key=lambda timing: timing.sql_ms,
    )
    middle = runs[len(runs) // 2]
    totals = sorted(timing.total_ms for timing in runs)
    return Timing(middle.sql_ms, totals[len(totals) // 2], middle.statements, middle.found)


def _time_search(engine: Engine, session: Session, actor: Any, typed: str) -> Timing:
    from clinic_tui.services.patient_search import search

    with recording(engine) as sent:
        started = time.perf_counter()
        hits = search(session, actor, typed)
        total = (time.perf_counter() - started) * 1000
    return Timing(
        sql_ms=sum(ms for _sql, _params, ms in sent),
        total_ms=total,
        statements=[(sql, params) for sql, params, _ms in sent],
        found=[hit.full_name for hit in hits],
    )


def run(url: str, *, report: Callable[[str], None] | None = None) -> list[Row]:
    """Time the query mix on the database at ``url``; one row per metric."""
    from clinic_tui.domain.search_text import fold
    from clinic_tui.services.access import Actor, Role

    say = report or (lambda _line: None)
    actor = Actor(uuid.uuid4(), "bench@clinic.vn", "Benchmark", Role.RECEPTIONIST)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names, lookups = name_queries(conn), lookup_queries(conn)
        first = [Query("first keystroke (one letter)", letter) for letter in FIRST_LETTERS]
        queries = names + lookups + first
        with Session(engine) as session:
            for query in queries:  # warm-up, untimed
                _time_search(engine, session, actor, query.text)
            timings = [_median_of_runs(engine, session, actor, query.text) for query in queries]
            plans = [explain_replayed(session, timing.statements) for timing in timings]
            sample = [fold(query.text) for query in names[:: len(names) // NAIVE_QUERIES]]
            naive = _naive(session, sample[:NAIVE_QUERIES])
            naive_plan = explain(session.connection(), NAIVE_SQL, {"q": sample[0]})
    finally:
        engine.dispose()
    measured = list(zip(queries, timings, plans, strict=True))
    for query, timing, plan in measured:
        say(f"{timing.sql_ms:7.2f} ms  {query.kind:<38} {query.text!r:<34} {plan}")

    def row(metric: str, kinds: set[str], target: float, *, total: bool = False) -> Row:
        chosen = [(timing, plan) for query, timing, plan in measured if query.kind in kinds]
        values = [timing.total_ms if total else timing.sql_ms for timing, _plan in chosen]
        plan = "" if total else common_plan(p for _t, p in chosen)  # the row above has it
        return timings_row(metric, values, target=target, plan=plan)

    name_kinds = {kind for kind, _count in NAME_MIX}
    rows = [
        with_naive(
            row(f"patient name search, {PATIENTS:,} patients, {len(names)} queries (SQL)",
                name_kinds, NAME_TARGET_MS),
            naive,
            naive_plan,
        ),
        row("  the same, whole call incl. Python", name_kinds, NAME_TARGET_MS, total=True),
    ]  # fmt: skip
    for kind, _count in NAME_MIX:
        rows.append(row(f"  {kind}", {kind}, NAME_TARGET_MS))
    typos = [(query, timing) for query, timing, _plan in measured if query.expected]
    hit = sum(any(fold(name) == query.expected for name in timing.found) for query, timing in typos)
    rows[-1].note = f"intended name found for {hit}/{len(typos)}"
    rows.append(
        row("  first keystroke (one letter, not in the mix)", {first[0].kind}, NAME_TARGET_MS)
    )
    for kind in dict.fromkeys(query.kind for query in lookups):
        rows.append(row(kind, {kind}, LOOKUP_TARGET_MS))
    return rows


def _naive(session: Session, folded: list[str]) -> list[float]:
    """The query DESIGN §4.3 warns about, on a subset of the same queries."""
    connection = session.connection()
    timings = []
    for query in folded:
        started = time.perf_counter()
        connection.exec_driver_sql(NAIVE_SQL, {"q": query}).all()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    from tests.perf.report import text_table

    parser = argparse.ArgumentParser(prog="python -m tests.perf.patient_search")
    parser.add_argument("--verbose", action="store_true", help="each query's time and plan")
    args = parser.parse_args(argv)
    database = benchdb.ensure()
    try:
        rows = run(database.url, report=print if args.verbose else None)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
