"""`make bench`: run the benchmarks and print one table. Figures, not assertions."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def _migration_time() -> float:
    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory(prefix="clinic-bench-migrate-") as scratch:
        server = EmbeddedServer(Path(scratch))
        server.acquire()
        try:
            started = time.perf_counter()
            migrations.upgrade(server.sqlalchemy_url())
            return time.perf_counter() - started
        finally:
            server.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--clean", action="store_true", help="remove benchmark data and exit")
    args = parser.parse_args(argv)
    if args.clean:
        import shutil

        from tests.perf.patient_search import BENCH_DIR as bench

        if bench.exists():
            from clinic_tui.db.embedded import EmbeddedServer

            EmbeddedServer(bench).stop()
            shutil.rmtree(bench)
        print(f"removed {bench}")
        return 0
    from tests.perf import (
        invoice_bench,
        patient_search,
        schedule_bench,
        startup,
        term_dropdown,
        term_search,
    )

    rows: list[tuple[str, str, str, str]] = []
    migrate = _migration_time()
    rows.append(("migrate empty → head", f"{migrate:.2f} s", "", "≤ 3 s"))
    start = startup.run()
    rows.append(
        (
            "warm start to interactive login (median of 5)",
            f"{start['typed_median']:.2f} s",
            f"max {start['typed_max']:.2f} s",
            "≤ 1.0 s",
        )
    )
    width = max(len(row[0]) for row in rows)
    print(f"{'metric'.ljust(width)}  {'p50':>8}  {'p95/max':>12}  target")
    for metric, p50, p95, target in rows:
        print(f"{metric.ljust(width)}  {p50:>8}  {p95:>12}  {target}")
    # Each query benchmark prints its own table: figures, the naive query beside, plan nodes.
    for title, module in (
        ("scheduling", schedule_bench),
        ("invoices", invoice_bench),
        ("medical terms", term_search),
        ("term dropdown", term_dropdown),
        ("patients at 1,000,000", patient_search),
    ):
        print(f"\n== {title} ==", flush=True)
        module.main(["--quiet"] if module is patient_search else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
