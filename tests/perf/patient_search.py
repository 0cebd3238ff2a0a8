"""Patient search at 1,000,000 patients: the staged search beside the naive trigram ranking.

Run: ``.venv/bin/python -m tests.perf.patient_search`` (``--quiet`` leaves out the per-query
plans). The first run builds the database ``clinic_bench`` in ``<repo>/.bench/`` (the demo
clinic with a million patients, about a minute); later runs reuse it and only bring it to the
current migration head.

What is timed: client-side wall time of each SQL statement `patient_search.search` sends
(``cursor.execute`` until the rows are in, over the embedded server's Unix socket), summed
per search; the whole call including Python is reported beside it. Each query runs once
untimed (a warm server, as at the front desk after the first minutes of the day), then three
times, and the median of the three is its figure. The naive query is timed once per query,
the same way. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
DATABASE = "clinic_bench"
PATIENTS = 1_000_000
# Written once the demo clinic is committed: its presence means the build is complete.
DONE_MARK = BENCH_DIR / f"{DATABASE}.built"
SEED = 20261123
NAME_TARGET_MS = 15.0
LOOKUP_TARGET_MS = 2.0
NAIVE_QUERIES = 30
NAIVE_SQL = (
    "SELECT id, full_name FROM patients WHERE search_key % :q "
    "ORDER BY similarity(search_key, :q) DESC LIMIT 20"
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


def ensure_database() -> tuple[Any, str]:
    """Start the benchmark server, build the database once, bring it to head; (server, url)."""
    import psycopg

    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer
    from clinic_tui.services.demo import build_demo_clinic

    server = EmbeddedServer(BENCH_DIR)
    server.acquire()
    with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if exists is None:
            DONE_MARK.unlink(missing_ok=True)
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    url = server.sqlalchemy_url(DATABASE)
    # Always: a database built before a new revision gets it (new search indexes, say).
    migrations.upgrade(url)
    if not DONE_MARK.exists():
        engine = create_engine(url)
        try:
            started = time.perf_counter()
            with Session(engine) as session:
                build_demo_clinic(session, patients=PATIENTS)
                session.commit()
            print(f"built {PATIENTS:,} patients in {time.perf_counter() - started:.0f} s")
        finally:
            engine.dispose()
        DONE_MARK.write_text(f"{PATIENTS}\n", encoding="utf-8")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:  # fresh statistics, whatever happened since the build
            conn.execute(text("VACUUM ANALYZE patients, insurance_info, appointments"))
    finally:
        engine.dispose()
    return server, url


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


@contextmanager
def _recording(engine: Engine) -> Iterator[list[tuple[str, Any, float]]]:
    sent: list[tuple[str, Any, float]] = []
    started: list[float] = []

    def before(*args: Any) -> None:
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        sent.append((statement, params, (time.perf_counter() - started.pop()) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


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

    with _recording(engine) as sent:
        started = time.perf_counter()
        hits = search(session, actor, typed)
        total = (time.perf_counter() - started) * 1000
    return Timing(
        sql_ms=sum(ms for _sql, _params, ms in sent),
        total_ms=total,
        statements=[(sql, params) for sql, params, _ms in sent],
        found=[hit.full_name for hit in hits],
    )


# Scans that pick the patients (the card / last-visit lookups per hit are left out).
_SCAN = re.compile(
    r"(Seq Scan on|Index Only Scan using|Index Scan using|Bitmap Index Scan on) (\w+)"
)
_DETAIL_INDEXES = {
    "ix_insurance_info_patient_id",
    "ix_appointments_patient_date",
    "ex_appointments_patient_overlap",
    "pk_patients",
}


def _plan_top(session: Session, statements: list[tuple[str, Any]]) -> str:
    """The scans of a search's statements, in order, as EXPLAIN names them."""
    tops: list[str] = []
    connection = session.connection()
    for sql, params in statements:
        for line in connection.exec_driver_sql("EXPLAIN (COSTS OFF) " + sql, params).scalars():
            found = _SCAN.search(line)
            if found and found.group(2) not in _DETAIL_INDEXES:
                node = f"{found.group(1)} {found.group(2)}"
                if node not in tops:
                    tops.append(node)
    return " + ".join(tops)


def _node_chain(session: Session, sql: str, params: dict[str, Any]) -> str:
    """The plan's nodes from the top, as EXPLAIN names them: "Limit → Sort → …"."""
    lines = session.execute(text("EXPLAIN (COSTS OFF) " + sql), params).scalars()
    nodes = [line.strip().removeprefix("->").strip() for line in lines]
    kept = [node for node in nodes if node and ":" not in node.split("(")[0]]
    return " → ".join(kept[:6])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def run(url: str, *, report: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Time the query mix on the database at ``url``; one row per metric."""
    from clinic_tui.domain.search_text import fold
    from clinic_tui.services.access import Actor, Role

    say = report or (lambda _line: None)
    actor = Actor(uuid.uuid4(), "bench@clinic.vn", "Benchmark", Role.RECEPTIONIST)
    engine = create_engine(url)
    rows: list[dict[str, Any]] = []
    try:
        with engine.connect() as conn:
            names, lookups = name_queries(conn), lookup_queries(conn)
        with Session(engine) as session:
            for query in names + lookups:  # warm-up, untimed
                _time_search(engine, session, actor, query.text)
            timed = [
                (query, _median_of_runs(engine, session, actor, query.text)) for query in names
            ]
            looked = [
                (query, _median_of_runs(engine, session, actor, query.text)) for query in lookups
            ]
            first = [Query("first keystroke (one letter)", letter) for letter in FIRST_LETTERS]
            for query in first:  # warm-up
                _time_search(engine, session, actor, query.text)
            keyed = [
                (query, _median_of_runs(engine, session, actor, query.text)) for query in first
            ]
            sample = [fold(query.text) for query in names[:: len(names) // NAIVE_QUERIES]]
            naive = _naive(session, sample)
            naive_plan = _node_chain(session, NAIVE_SQL, {"q": sample[0]})
            plans = {
                query.text: _plan_top(session, timing.statements)
                for query, timing in timed + looked + keyed
            }
        for query, timing in timed + looked + keyed:
            say(f"{timing.sql_ms:7.2f} ms  {query.kind:<38} {query.text!r:<34} {plans[query.text]}")
        sql = [timing.sql_ms for _query, timing in timed]
        total = [timing.total_ms for _query, timing in timed]
        rows.append(
            _row(
                "name search, 200 mixed queries (SQL)",
                sql,
                NAME_TARGET_MS,
                naive,
                [plans[query.text] for query, _timing in timed],
            )
        )
        rows.append(_row("name search, whole call incl. Python", total, None, [], []))
        for kind, _count in NAME_MIX:
            chosen = [(query, timing) for query, timing in timed if query.kind == kind]
            rows.append(
                _row(
                    f"  {kind}",
                    [timing.sql_ms for _query, timing in chosen],
                    NAME_TARGET_MS,
                    [],
                    [plans[query.text] for query, _timing in chosen],
                )
            )
        typos = [(query, timing) for query, timing in timed if query.expected]
        hit = sum(
            any(fold(name) == query.expected for name in timing.found) for query, timing in typos
        )
        rows[-1]["note"] = f"intended name found for {hit}/{len(typos)}"
        rows.append(
            _row(
                "first keystroke (one letter, not in the 200)",
                [timing.sql_ms for _query, timing in keyed],
                NAME_TARGET_MS,
                [],
                [plans[query.text] for query, _timing in keyed],
            )
        )
        rows[0]["note"] = f"naive plan: {naive_plan}"
        for kind in dict.fromkeys(query.kind for query in lookups):
            chosen = [(query, timing) for query, timing in looked if query.kind == kind]
            rows.append(
                _row(
                    kind,
                    [timing.sql_ms for _query, timing in chosen],
                    LOOKUP_TARGET_MS,
                    [],
                    [plans[query.text] for query, _timing in chosen],
                )
            )
    finally:
        engine.dispose()
    return rows


def _naive(session: Session, folded: list[str]) -> list[float]:
    """The query DESIGN §4.3 warns about, on a subset of the same queries."""
    timings = []
    for query in folded[:NAIVE_QUERIES]:
        started = time.perf_counter()
        session.execute(text(NAIVE_SQL), {"q": query}).all()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _row(
    metric: str, timings: list[float], target: float | None, naive: list[float], plans: list[str]
) -> dict[str, Any]:
    common = Counter(plans).most_common(2)
    return {
        "metric": metric,
        "n": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": _percentile(timings, 0.95),
        "target_ms": target,
        "naive_p50_ms": statistics.median(naive) if naive else None,
        "naive_p95_ms": _percentile(naive, 0.95) if naive else None,
        "plan_top": "; ".join(f"{plan} ×{count}" for plan, count in common),
        "note": "",
    }


def _cell(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("metric", "n", "p50 ms", "p95 ms", "target", "naive p50", "naive p95", "×p95")
    lines = []
    for row in rows:
        ratio = ""
        if row["naive_p95_ms"]:
            ratio = f"{row['naive_p95_ms'] / row['p95_ms']:.0f}×"
        lines.append(
            (
                row["metric"],
                str(row["n"]),
                _cell(row["p50_ms"]),
                _cell(row["p95_ms"]),
                f"≤ {row['target_ms']:g}" if row["target_ms"] else "",
                _cell(row["naive_p50_ms"], 0),
                _cell(row["naive_p95_ms"], 0),
                ratio,
            )
        )
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]
    for cells in [header, *lines]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)))
    print()
    for row in rows:
        if row["plan_top"]:
            print(f"{row['metric'].strip()}: {row['plan_top']}")
        if row["note"]:
            print(f"{row['metric'].strip()}: {row['note']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.patient_search")
    parser.add_argument("--quiet", action="store_true", help="no per-query plan lines")
    args = parser.parse_args(argv)
    server, url = ensure_database()
    try:
        rows = run(url, report=None if args.quiet else print)
    finally:
        server.release()
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
