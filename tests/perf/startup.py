"""Starting up: a warm start to the login screen, the first run on an empty data directory,
and the migrations from empty to head.

Warm start: `clinic-tui` launched in a pseudo-terminal on a data directory prepared once
(initdb, migrations, an account, as on any day after the first), until the login title is
drawn and a typed character shows in the e-mail field; the whole process, its embedded
server's start included, median of 5.

First run: the same on an empty data directory until the first-run screen offers to create
the administrator: initdb, the server's start, every migration and the reference data.

Migrate: `migrations.upgrade` of an empty database to head, on a running server.

Run alone: ``.venv/bin/python -m tests.perf.startup``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.report import Row, timings_row
from tests.perf.terminal import Terminal

TITLE = "Sign in to the front desk"
READY = "The database is ready"
RUNS = 5
FIRST_RUNS = 3
MIGRATIONS = 3


def prepare(data_dir: Path) -> None:
    from clinic_tui.config import Settings
    from clinic_tui.db import migrations
    from clinic_tui.db.engine import Database
    from clinic_tui.services import auth

    database = Database.from_settings(Settings(data_dir=data_dir))
    try:
        migrations.upgrade(database.url)
        with database.session() as session:
            if not auth.has_users(session):
                auth.create_first_admin(
                    session, "Benchmark Admin", "bench@clinic.vn", "benchmark pw", "benchmark pw"
                )
    finally:
        database.close()


def _launch(data_dir: Path) -> Terminal:
    env = {**os.environ, "CLINIC_DATA_DIR": str(data_dir), "CLINIC_LANG": "en"}
    env.pop("CLINIC_DATABASE_URL", None)
    return Terminal([sys.executable, "-m", "clinic_tui"], env=env)


def warm_start(data_dir: Path) -> float:
    terminal = _launch(data_dir)
    try:
        terminal.wait_for(TITLE)
        terminal.type("zq")
        typed = terminal.wait_for("zq")
    finally:
        terminal.close()
    time.sleep(0.3)  # let the server stop before the next launch
    return typed


def _stop_server(data_dir: Path) -> None:
    """The app stops its server as it exits; make sure of it before the directory goes."""
    from clinic_tui.db.embedded import EmbeddedServer

    EmbeddedServer(data_dir).stop()


def first_run() -> float:
    with tempfile.TemporaryDirectory(prefix="clinic-bench-first-") as scratch:
        terminal = _launch(Path(scratch))
        try:
            return terminal.wait_for(READY, timeout=60)
        finally:
            terminal.close()
            time.sleep(0.5)
            _stop_server(Path(scratch))


def migrate_times() -> list[float]:
    import psycopg

    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer

    seconds = []
    with tempfile.TemporaryDirectory(prefix="clinic-bench-migrate-") as scratch:
        server = EmbeddedServer(Path(scratch))
        server.acquire()
        try:
            for run in range(MIGRATIONS):
                with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as admin:
                    admin.execute(f"CREATE DATABASE bench_migrate_{run}")
                started = time.perf_counter()
                migrations.upgrade(server.sqlalchemy_url(f"bench_migrate_{run}"))
                seconds.append(time.perf_counter() - started)
        finally:
            server.release()
    return seconds


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="clinic-bench-start-") as scratch:
        prepare(Path(scratch))
        time.sleep(0.5)
        try:
            warm = [warm_start(Path(scratch)) for _ in range(RUNS)]
        finally:
            _stop_server(Path(scratch))
    first = [first_run() for _ in range(FIRST_RUNS)]
    return [
        timings_row("warm start to an interactive login (whole process)", warm,
                    unit="s", target=1.0, on_median=True),
        timings_row("first run on an empty data directory (initdb, migrate, reference data)",
                    first, unit="s", target=6.0, on_median=True),
        timings_row("migrate empty → head", migrate_times(), unit="s", target=3.0,
                    on_median=True),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from tests.perf.pilot import isolate_user_dirs
    from tests.perf.report import text_table

    isolate_user_dirs()
    print(text_table(run()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
