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
        print("nothing to clean yet")
        return 0
    from tests.perf import startup

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
