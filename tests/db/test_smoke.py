"""Database smoke tests, run against the embedded server over its private socket and against
a second server reached over TCP with a password, as an external server would be."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from clinic_tui.db.embedded import EmbeddedServer, random_password
from clinic_tui.db.engine import Database, DatabaseUnavailable


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def tcp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(
        tmp_path_factory.mktemp("pg-tcp"),
        tcp_host="127.0.0.1",
        tcp_port=_free_port(),
        password=random_password(),
        durable=False,
    )
    server.acquire()
    yield server
    server.release()


@pytest.fixture(params=["embedded-socket", "tcp-password"])
def server_url(request: pytest.FixtureRequest, pg_server: EmbeddedServer) -> str:
    if request.param == "embedded-socket":
        return pg_server.sqlalchemy_url()
    tcp: EmbeddedServer = request.getfixturevalue("tcp_server")
    url = tcp.sqlalchemy_url()
    assert "@127.0.0.1:" in url and tcp.password and tcp.password in url
    return url


def _cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clinic_tui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def test_connects_and_describes_the_server(server_url: str) -> None:
    database = Database(server_url)
    try:
        info = database.check()
        with database.session() as session:
            assert session.execute(text("SELECT 1 + 1")).scalar_one() == 2
    finally:
        database.close()
    assert info.version.startswith("18")
    assert info.database == "clinic"
    password = make_url(server_url).password
    if password:
        assert password not in info.url, "the password must never be displayed"


def test_extensions_can_be_created(server_url: str) -> None:
    database = Database(server_url)
    try:
        with database.session() as session:
            for name in ("pg_trgm", "unaccent", "btree_gist"):
                session.execute(text(f"CREATE EXTENSION IF NOT EXISTS {name}"))
            assert session.execute(text("SELECT unaccent('Đặng')")).scalar_one() == "Dang"
    finally:
        database.close()


def test_cli_reports_revision_through_the_url(server_url: str, tmp_path: Path) -> None:
    result = _cli("db", "current", env={"CLINIC_DATABASE_URL": server_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()  # "empty database" or a revision id


def test_cli_prints_a_url_psql_accepts(server_url: str) -> None:
    result = _cli("db", "url", env={"CLINIC_DATABASE_URL": server_url})
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("postgresql://")
    psql = Path(__import__("clinic_tui.db.embedded", fromlist=["x"]).binaries_dir()) / "psql"
    check = subprocess.run(
        [str(psql), url, "-Atc", "SELECT 42"], capture_output=True, text=True, timeout=30
    )
    assert check.stdout.strip() == "42", check.stderr


@pytest.mark.parametrize(
    "lang, phrase", [("en", "refused the user name or password"), ("vi", "mật khẩu")]
)
def test_wrong_password_is_one_translated_line(
    tcp_server: EmbeddedServer, lang: str, phrase: str
) -> None:
    url = tcp_server.sqlalchemy_url().replace(tcp_server.password or "", "wrong-password")
    result = _cli("db", "current", env={"CLINIC_DATABASE_URL": url, "CLINIC_LANG": lang})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert phrase in lines[0]


def test_unreachable_host_is_one_line(tcp_server: EmbeddedServer) -> None:
    closed_port = _free_port()
    url = f"postgresql+psycopg://postgres:x@127.0.0.1:{closed_port}/clinic"
    result = _cli("db", "current", env={"CLINIC_DATABASE_URL": url})
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot be reached" in result.stderr


def test_check_classifies_wrong_password(tcp_server: EmbeddedServer) -> None:
    url = tcp_server.sqlalchemy_url().replace(tcp_server.password or "", "nope")
    database = Database(url)
    try:
        with pytest.raises(DatabaseUnavailable) as raised:
            database.check()
    finally:
        database.close()
    assert raised.value.reason == "auth"
