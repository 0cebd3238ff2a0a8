"""The one table `make bench` prints: rows, percentiles, targets, and query plans.

Every benchmark returns `Row`s. A row's target applies to its p95 (to its median where the
row says so, to its only figure where there is one); a row that misses it is marked ✗. For
the searches, the naive query measured in the same run stands beside the product's, with
the ratio of their p95s.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MISSED = "✗"
MET = "✓"


@dataclass
class Row:
    metric: str
    p50: float | None
    p95: float | None = None
    unit: str = "ms"
    target: float | None = None
    higher_is_better: bool = False  # throughput: the target is a floor
    n: int = 1
    naive_p50: float | None = None
    naive_p95: float | None = None
    plan: str = ""
    naive_plan: str = ""
    note: str = ""
    on_median: bool = False  # the target is for the median (a start "median of 5")

    @property
    def judged(self) -> float | None:
        if self.on_median or self.p95 is None:
            return self.p50
        return self.p95

    @property
    def verdict(self) -> str:
        if self.target is None or self.judged is None:
            return ""
        if self.higher_is_better:
            return MET if self.judged >= self.target else MISSED
        return MET if self.judged <= self.target else MISSED

    @property
    def ratio(self) -> str:
        if self.naive_p95 is None or not self.p95:
            return ""
        return f"{self.naive_p95 / self.p95:,.0f}×"


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``share`` of them at or
    below it (p95 of 20 values is the 19th)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def timings_row(metric: str, values: Sequence[float], **fields: Any) -> Row:
    return Row(metric, percentile(values, 0.5), percentile(values, 0.95), n=len(values), **fields)


def with_naive(row: Row, naive: Sequence[float], plan: str = "") -> Row:
    row.naive_p50, row.naive_p95 = percentile(naive, 0.5), percentile(naive, 0.95)
    row.naive_plan = plan
    return row


# --- plans -------------------------------------------------------------------------------


def _label(node: dict[str, Any]) -> str:
    kind = node["Node Type"]
    if "Index Name" in node:
        joiner = " on " if kind.startswith("Bitmap") else " using "
        return f"{kind}{joiner}{node['Index Name']}"
    if "Relation Name" in node:
        return f"{kind} on {node['Relation Name']}"
    return kind


def _scans(node: dict[str, Any]) -> Iterable[str]:
    if "Index Name" in node or ("Relation Name" in node and node["Node Type"].endswith("Scan")):
        yield _label(node)
    for child in node.get("Plans", ()):
        yield from _scans(child)


def summarise(plan: dict[str, Any]) -> str:
    """ "Limit ▸ Bitmap Index Scan on ix_…": the plan's top node, then the first node that
    reads a table or an index, and every sequential scan, so a regression to one shows."""
    top = plan["Plan"]
    head = _label(top)
    found = [scan for scan in dict.fromkeys(_scans(top)) if scan != head]
    # The first index the plan reads names the plan best; a table scan when it reads none.
    first = next((scan for scan in found if " using " in scan or "Index Scan on" in scan), None)
    first = first or next(iter(found), None)
    shown = [scan for scan in found if scan == first or scan.startswith("Seq Scan")]
    return " ▸ ".join([head, ", ".join(shown)]) if shown else head


def explain(connection: Any, statement: str, params: Any = None) -> str:
    """The summary of ``EXPLAIN (FORMAT JSON)`` of one statement, as sent to the driver
    (``connection``: a SQLAlchemy Connection)."""
    result = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
    document = result.scalar_one()
    if isinstance(document, str):
        document = json.loads(document)
    return summarise(document[0])


def explain_replayed(session: Any, statements: Sequence[tuple[str, Any]]) -> str:
    """The plans of a read-only call's statements, in the state each ran in: each one is
    explained, then run (a search switches planner settings for its next statement with
    ``set_config(…, true)``), inside a savepoint of ``session`` that is rolled back."""
    summaries: list[str] = []
    savepoint = session.begin_nested()
    try:
        connection = session.connection()
        for statement, params in statements:
            summaries.append(explain(connection, statement, params))
            connection.exec_driver_sql(statement, params).all()
    finally:
        savepoint.rollback()
    return " + ".join(dict.fromkeys(summaries))


def common_plan(plans: Iterable[str]) -> str:
    """The most frequent plan of a set of queries, with its share when they differ."""
    counted = Counter(plans)
    if not counted:
        return ""
    plan, count = counted.most_common(1)[0]
    total = sum(counted.values())
    if len(counted) == 1:
        return plan
    return f"{plan} ({count}/{total}; {len(counted) - 1} other plan(s))"


@contextmanager
def recording(engine: Any) -> Iterator[list[tuple[str, Any, float]]]:
    """(statement, parameters, milliseconds) of everything ``engine`` sends meanwhile."""
    from sqlalchemy import event

    sent: list[tuple[str, Any, float]] = []
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        sent.append((statement, params, (time.perf_counter() - started.pop()) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def slowest_plan(connection: Any, sent: Sequence[tuple[str, Any, float]]) -> str:
    """The plan of the query that read tables and took the most time in all ``sent``
    (writes are not explained; the last parameters it ran with): where a call's time goes,
    and whether it reads a whole table."""
    totals: dict[str, float] = {}
    last: dict[str, Any] = {}
    for statement, params, ms in sent:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            totals[statement] = totals.get(statement, 0.0) + ms
            last[statement] = params
    for statement in sorted(totals, key=lambda key: -totals[key]):
        plan = explain(connection, statement, last[statement])
        if "Scan" in plan:  # not a function call such as pg_notify()
            return plan
    return ""


# --- printing -------------------------------------------------------------------------------


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ms":
        text = f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    elif unit == "s":
        text = f"{value:.2f}" if value < 100 else f"{value:.0f}"
    else:
        text = f"{value:,.0f}"
    return f"{text} {unit}"


def _target(row: Row) -> str:
    if row.target is None:
        return ""
    sign = "≥" if row.higher_is_better else "≤"
    value = f"{row.target:g}" if row.unit != "/s" else f"{row.target:,.0f}"
    return f"{sign} {value} {row.unit}" + (" (p50)" if row.on_median else "")


HEADER = ("metric", "n", "p50", "p95", "target", "", "naive p50", "naive p95", "ratio", "plan")


def cells(row: Row) -> tuple[str, ...]:
    plan = row.plan + (f"  | naive: {row.naive_plan}" if row.naive_plan else "")
    return (
        row.metric,
        str(row.n) if row.n > 1 else "",
        _number(row.p50, row.unit),
        _number(row.p95, row.unit),
        _target(row),
        row.verdict,
        _number(row.naive_p50, row.unit),
        _number(row.naive_p95, row.unit),
        row.ratio,
        plan,
    )


def text_table(rows: Sequence[Row]) -> str:
    lines = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    right = {1, 2, 3, 6, 7, 8}
    out = []
    for line in lines:
        out.append(
            "  ".join(
                cell.rjust(width) if i in right else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    notes = [f"{row.metric}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["", *notes] if notes else []))


def markdown_table(rows: Sequence[Row]) -> str:
    head = "| metric | n | p50 | p95 | target | | naive query p50 / p95 | ratio | plan |"
    lines = [head, "|---|--:|--:|--:|---|---|--:|--:|---|"]
    for row in rows:
        metric, n, p50, p95, target, verdict, naive50, naive95, ratio, _plan = cells(row)
        if metric.startswith(" "):  # a detail of the row above
            metric = "↳ " + metric.strip()
        naive = f"{naive50} / {naive95}" if naive50 else ""
        plan = f"`{row.plan}`" if row.plan else ""
        if row.naive_plan:
            plan += f"; naive: `{row.naive_plan}`"
        fields = (metric, n, p50, p95, target, verdict, naive, ratio, plan)
        lines.append("| " + " | ".join(fields) + " |")
    return "\n".join(lines)
