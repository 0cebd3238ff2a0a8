"""`make bench`: build (once) the benchmark database, run the benchmarks, print one table.

    python -m tests.perf                      everything
    python -m tests.perf --only search,terms  some of it (names below)
    python -m tests.perf --markdown FILE      also write the README's "Performance" section
    python -m tests.perf --rebuild            build the benchmark database again first
    python -m tests.perf --clean              remove the benchmark database (`make bench-clean`)

Figures, not assertions: a missed target is marked ✗ in the table, and the run still ends
with status 0 (a benchmark that fails to run ends it with 1). `make test` never runs these.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tests.perf import benchdb
from tests.perf.benchdb import load_average
from tests.perf.report import MISSED, Row, markdown_table, text_table

BENCHMARKS: dict[str, str] = {
    "search": "patient search at 1,000,000 patients, beside the naive query",
    "terms": "medical-term autocomplete at 100,000 terms, beside the naive query",
    "dropdown": "keystroke to updated term dropdown, Pilot-driven app",
    "schedule": "day grid load + render, Pilot-driven app; booking round trip",
    "booking": "booking throughput, 8 concurrent clients, overlaps checked",
    "invoice": "invoice with 5 lines built, split and issued",
    "startup": "warm start, first run, migrations (their own data directories)",
    "memory": "peak memory of a real clinic-tui process after every screen",
}


def _runner(name: str, database: benchdb.BenchDatabase) -> Callable[[], list[Row]]:
    from tests.perf import (
        booking_load,
        invoice_bench,
        memory,
        patient_search,
        schedule_bench,
        startup,
        term_dropdown,
        term_search,
    )

    url = database.url
    return {
        "startup": startup.run,
        "search": lambda: patient_search.run(url),
        "terms": lambda: term_search.run(url),
        "dropdown": lambda: term_dropdown.run(url),
        "schedule": lambda: schedule_bench.run(url, database.built_on),
        "booking": lambda: booking_load.run(url, database.built_on),
        "invoice": lambda: invoice_bench.run(url),
        "memory": lambda: memory.run(url),
    }[name]


def machine() -> str:
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({model}), {memory} of memory, Python {platform.python_version()}"
    )


def build_row(database: benchdb.BenchDatabase) -> Row:
    seconds = database.build_seconds or database.recorded_seconds
    when = "in this run" if database.build_seconds else f"on {database.built_on}"
    return Row(
        "benchmark database build (1M patients, 2M appointments, 500k invoices)",
        seconds,
        unit="s",
        target=300.0,
        note=f"built {when}, load average {database.build_load}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clean", action="store_true", help="remove the benchmark database")
    parser.add_argument("--rebuild", action="store_true", help="build the database again first")
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--markdown", type=Path, help="write the README section to this file")
    args = parser.parse_args(argv)
    if args.clean:
        benchdb.clean()
        return 0
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    from tests.perf.pilot import isolate_user_dirs

    isolate_user_dirs()
    started = datetime.now().astimezone()
    load = load_average()
    print(f"clinic_tui benchmarks, {started:%Y-%m-%d %H:%M %Z}, on {machine()}", flush=True)
    database = benchdb.ensure(rebuild=args.rebuild)
    rows: list[Row] = [build_row(database)]
    failed = []
    try:
        for name in chosen:
            print(f"… {name}: {BENCHMARKS[name]}", flush=True)
            began = time.perf_counter()
            try:
                rows += _runner(name, database)()
            except Exception:
                traceback.print_exc()
                failed.append(name)
                rows.append(Row(f"{name}: FAILED to run (see above)", None))
            print(f"  ({time.perf_counter() - began:.0f} s)", flush=True)
    finally:
        database.close()
    print()
    print(text_table(rows))
    missed = [row.metric.strip() for row in rows if row.verdict == MISSED]
    if missed:
        print(f"\n{MISSED} missed: " + "; ".join(missed))
    if args.markdown:
        minutes = (datetime.now().astimezone() - started).total_seconds() / 60
        loads = f"{load} at the start, {load_average()} at the end"
        text = readme_section(rows, started, minutes, loads)
        args.markdown.write_text(text, encoding="utf-8")
        print(f"\nwrote {args.markdown}")
    return 1 if failed else 0


def readme_section(rows: list[Row], started: datetime, minutes: float, loads: str) -> str:
    built = "the build included" if "in this run" in rows[0].note else "the database reused"
    notes = "\n".join(f"- {row.metric.strip()}: {row.note}" for row in rows if row.note)
    return f"""## Performance

`make bench` measures the front desk at clinic-chain scale and prints this table. Latest run:
{started:%Y-%m-%d}, on {machine()}; load average {loads}.

{markdown_table(rows)}

{notes}

How to run: `make bench` (all of it: {minutes:.0f} minutes this time, {built}), or
`.venv/bin/python -m tests.perf --only search,terms` for a part (`startup`, `search`, `terms`,
`dropdown`, `schedule`, `booking`, `invoice`, `memory`); `--markdown FILE` writes this section.
The first run builds the benchmark database in `.bench/` on the embedded server (its time is
the first row: 1,000,000 patients with realistic Vietnamese names and BHYT cards, 100,000
medical terms, 40 therapists with a year of availability ahead, 2,000,000 appointments laid
in with the exclusion constraints on, 500,000 invoices with lines and payments); later runs
reuse it, and a change to its builder rebuilds it. `make bench-clean` removes it. The app can
be tried on it: `CLINIC_DATABASE_URL` set to the URL `python -m tests.perf.benchdb` prints,
accounts `admin@bench.clinic`, `reception@bench.clinic`, `doctor@bench.clinic`, password
`benchmark pw`.

p50 and p95 are over the n samples of the row; a target applies to the p95 unless it says
p50; ✗ marks a missed target. For the searches, the naive query (`%` and ordering by
`similarity()`) ran in the same run on the same database; the ratio is of the p95s. "plan" is
`EXPLAIN (FORMAT JSON)` of the exact statements sent: the top node, then the first index (or
table) read and any sequential scan, so a regression to one shows; the statements of one call
are joined by "+", and the most common plan of a row's queries is shown. For the grid, the
booking and the invoice, it is the plan of the query that took the most time. Benchmarks print
figures; they never fail `make test`.
"""


if __name__ == "__main__":
    sys.exit(main())
