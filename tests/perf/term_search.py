"""Medical-term autocomplete at 100,000 terms: `search_terms` beside the naive trigram ranking.

The vocabulary is the benchmark database's (`benchdb`): the 56 seeded terms and generated ones
(`term_data`). The queries are what a person types, keystroke by keystroke: prefixes of 1–12
characters of real terms, English and Vietnamese, with and without accents, in any case, and
ICD-10 prefixes; a separate row times one-typo words. Each query's figure is the median of
three passes (the whole call, Python included); the naive query runs once per query on a
third of them. Plans: ``EXPLAIN (FORMAT JSON)`` of the statements the search sent, replayed
in order (the probe switches sequential scans off for the index stage).

Run alone: ``.venv/bin/python -m tests.perf.term_search``. Figures, not assertions.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from clinic_tui.domain.search_text import fold
from tests.perf import benchdb
from tests.perf.report import Row, common_plan, explain, explain_replayed, timings_row, with_naive

QUERIES = 300
TYPO_QUERIES = 50
NAIVE_EVERY = 3  # the naive query on every third typed query: it takes a few minutes as it is
ROUNDS = 3  # passes over the queries; each query's median counts
TARGET_P95_MS = 5.0
SEED = 20240606


def _pool(session: Session) -> list[tuple[str, str, str | None]]:
    """Terms people look up: a sample of the whole vocabulary, the seeded everyday terms
    weighted up (they are typed far more often than any one generated term)."""
    sample = session.execute(
        text(
            "SELECT term_en, term_vi, icd10_code FROM vietnamese_medical_terms"
            " TABLESAMPLE BERNOULLI (2) REPEATABLE (7) ORDER BY term_en, term_vi"
        )
    ).all()
    seeded = session.execute(
        text(
            "SELECT term_en, term_vi, icd10_code FROM vietnamese_medical_terms"
            " WHERE description_en IS NOT NULL ORDER BY term_en"
        )
    ).all()
    return [tuple(row) for row in [*sample, *seeded * 10]]  # type: ignore[misc]


def _styled(typed: str, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return fold(typed)  # the usual: no accents, lower case
    if style < 0.6:
        return typed.upper()
    if style < 0.8:
        return typed.lower()
    return typed


def typed_queries(pool: list[tuple[str, str, str | None]], rng: random.Random) -> list[str]:
    """A prefix (1–12 characters) of a term in either language, styled as people type it;
    one query in ten an ICD-10 prefix (at least letter and digit)."""
    queries: list[str] = []
    while len(queries) < QUERIES:
        en, vi, code = rng.choice(pool)
        if rng.random() < 0.1:
            if code:
                queries.append(code[: rng.randint(2, len(code))].lower())
            continue
        typed = _styled((en if rng.random() < 0.5 else vi)[: rng.randint(1, 12)], rng)
        if typed.strip():
            queries.append(typed)
    return queries


def typo_queries(pool: list[tuple[str, str, str | None]], rng: random.Random) -> list[str]:
    """A word of five letters or more with one slip: two letters swapped, one dropped or
    one doubled."""
    queries: list[str] = []
    while len(queries) < TYPO_QUERIES:
        en, vi, _code = rng.choice(pool)
        words = [w for w in fold(rng.choice((en, vi))).split() if len(w) >= 5]
        if not words:
            continue
        word = rng.choice(words)
        at = rng.randrange(1, len(word) - 2)
        slip = rng.randrange(3)
        if slip == 0:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif slip == 1:
            word = word[:at] + word[at + 1 :]
        else:
            word = word[:at] + word[at] + word[at:]
        queries.append(word)
    return queries


# --- measuring -------------------------------------------------------------------------------


def _timed(call: Callable[[str], object], queries: list[str], rounds: int) -> list[float]:
    """Milliseconds per query: the median of `rounds` passes over all the queries, so that a
    moment's contention on a shared machine does not pass for the query's own cost."""
    for query in queries[:20]:  # warm the caches and the connection
        call(query)
    passes: list[list[float]] = []
    for _ in range(rounds):
        timings = []
        for query in queries:
            started = time.perf_counter()
            call(query)
            timings.append((time.perf_counter() - started) * 1000)
        passes.append(timings)
    return [statistics.median(each) for each in zip(*passes, strict=True)]


NAIVE = (
    "SELECT id, term_en, term_vi FROM vietnamese_medical_terms"
    " WHERE search_vi %% %(q)s OR search_en %% %(q)s"
    " ORDER BY greatest(similarity(search_vi, %(q)s), similarity(search_en, %(q)s)) DESC LIMIT 10"
)


def _plans(session: Session, call: Callable[[str], object], queries: list[str]) -> list[str]:
    """Each query's plans: its statements recorded as it runs, then explained in order."""
    engine = session.get_bind()
    plans = []
    for query in queries:
        sent: list[tuple[str, Any]] = []

        def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
            sent.append((statement, params))  # noqa: B023 - removed before the next query

        event.listen(engine, "before_cursor_execute", record)
        try:
            call(query)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        plans.append(explain_replayed(session, sent))
    return plans


def run(url: str) -> list[Row]:
    """Time `search_terms` and the naive query on the vocabulary at ``url``."""
    from clinic_tui.services import terms
    from clinic_tui.services.access import Actor, Role

    actor = Actor(uuid.uuid4(), "bench@clinic.vn", "Benchmark", Role.RECEPTIONIST)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            total = session.scalar(text("SELECT count(*) FROM vietnamese_medical_terms")) or 0
            pool = _pool(session)
            typed = typed_queries(pool, random.Random(SEED + 1))
            typos = typo_queries(pool, random.Random(SEED + 2))

            def search(query: str) -> object:
                return terms.search_terms(session, actor, query)

            staged = _timed(search, typed, ROUNDS)
            fuzzy = _timed(search, typos, ROUNDS)
            connection = session.connection()
            naive_queries = typed[::NAIVE_EVERY]
            naive = _timed(
                lambda q: connection.exec_driver_sql(NAIVE, {"q": fold(q)}).all(), naive_queries, 1
            )
            typed_plans = _plans(session, search, typed)
            typo_plans = _plans(session, search, typos)
            naive_plan = explain(connection, NAIVE, {"q": fold(naive_queries[0])})
    finally:
        engine.dispose()
    head = timings_row(
        f"medical-term autocomplete, {total:,} terms, {len(typed)} typed prefixes",
        staged,
        target=TARGET_P95_MS,
        plan=common_plan(typed_plans),
    )
    return [
        with_naive(head, naive, naive_plan),
        timings_row(f"  one-typo words ({len(typos)})", fuzzy, plan=common_plan(typo_plans)),
    ]


def main(argv: list[str] | None = None) -> int:
    from tests.perf.report import text_table

    database = benchdb.ensure()
    try:
        rows = run(database.url)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
