"""The embedded server: shared between processes, stopped by the last, clear when it fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from clinic_tui.db.embedded import EmbeddedServer, PostmasterState

HOLD_SERVER = """
import sys, time
from pathlib import Path
from clinic_tui.db.embedded import EmbeddedServer
server = EmbeddedServer(Path(sys.argv[1]), durable=False)
server.acquire()
print(server.state.pid, flush=True)
sys.stdin.readline()          # hold the server until told to go
server.release()
"""


def _holder(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_SERVER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip().isdigit(), f"holder did not start the server: {line!r}"
    return process, int(line)


def _finish(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.wait(timeout=60) == 0


@pytest.mark.slow
def test_second_process_reuses_server_and_last_one_stops_it(tmp_path: Path) -> None:
    first, first_pid = _holder(tmp_path)
    second, second_pid = _holder(tmp_path)
    assert first_pid == second_pid, "the second process started its own server"

    _finish(first)
    assert PostmasterState.read(tmp_path / "pgdata") is not None, "stopped while still in use"

    _finish(second)
    assert PostmasterState.read(tmp_path / "pgdata") is None, "left running after the last exit"


@pytest.mark.slow
def test_dead_client_does_not_keep_the_server_alive(tmp_path: Path) -> None:
    crashed, _pid = _holder(tmp_path)
    crashed.kill()
    crashed.wait()
    survivor, _ = _holder(tmp_path)
    _finish(survivor)
    assert PostmasterState.read(tmp_path / "pgdata") is None


def test_server_speaks_unicode_and_has_the_extensions(pg_server: EmbeddedServer) -> None:
    with psycopg.connect(pg_server.libpq_url("postgres")) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
        lowered = conn.execute("SELECT lower('ĐOÀN VĂN ÁNH')").fetchone()
        encoding = conn.execute("SHOW server_encoding").fetchone()
    assert {"pg_trgm", "unaccent", "btree_gist", "plpgsql"} <= names
    assert lowered == ("đoàn văn ánh",)
    assert encoding == ("UTF8",)


def test_socket_directory_is_private(pg_server: EmbeddedServer) -> None:
    socket_dir = pg_server.state.socket_dir
    assert socket_dir is not None
    assert os.stat(socket_dir).st_mode & 0o077 == 0


@pytest.mark.slow
def test_failure_to_start_shows_log_and_advice_not_a_traceback(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path, durable=False)
    server.acquire()
    server.release()
    conf = tmp_path / "pgdata" / "postgresql.conf"
    conf.write_text(conf.read_text() + "\nshared_buffers = 'lots'\n")

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "clinic_tui", "--data-dir", str(tmp_path), "db", "current"],
        capture_output=True,
        text=True,
        env={**os.environ, "CLINIC_LANG": "en"},
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "could not start" in result.stderr
    assert "shared_buffers" in result.stderr  # the log's own words
    assert "What to do" in result.stderr
    assert time.monotonic() - started < 90
