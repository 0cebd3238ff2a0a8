"""Test infrastructure: one embedded PostgreSQL per test session, real everywhere.

- `pg_server`: the session's server, in a temporary directory, durability off for speed.
- `template_url`: a database migrated to head once; every other database is cloned from it.
- `db_url`: a fresh database per test (cloned from the template) for tests that commit, run
  the app, or open several connections.
- `db_session`: a Session inside a transaction that is rolled back after the test, on a
  shared migrated database: the cheap default for service and query tests.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clinic_tui.db.embedded import EmbeddedServer

TEMPLATE_DB = "clinic_template"
SHARED_DB = "clinic_shared"
_counter = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Never touch the developer's own config, cache or data directories."""
    home = tmp_path_factory.mktemp("home")
    saved = {
        k: os.environ.get(k)
        for k in (
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "XDG_DATA_HOME",
            "CLINIC_DATABASE_URL",
            "CLINIC_LANG",
            "CLINIC_DATA_DIR",
        )
    }
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    for key in ("CLINIC_DATABASE_URL", "CLINIC_LANG", "CLINIC_DATA_DIR"):
        os.environ.pop(key, None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(tmp_path_factory.mktemp("pg"), durable=False)
    server.acquire()
    yield server
    server.release()


def _admin(server: EmbeddedServer) -> psycopg.Connection:
    return psycopg.connect(server.libpq_url("postgres"), autocommit=True)


def create_database(server: EmbeddedServer, name: str, template: str | None = None) -> str:
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return server.sqlalchemy_url(name)


def drop_database(server: EmbeddedServer, name: str) -> None:
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _has_migrations() -> bool:
    versions = Path(__file__).resolve().parent.parent / "alembic" / "versions"
    return any(versions.glob("*.py"))


@pytest.fixture(scope="session")
def template_url(pg_server: EmbeddedServer) -> str:
    url = create_database(pg_server, TEMPLATE_DB)
    if _has_migrations():
        from clinic_tui.db import migrations

        migrations.upgrade(url)
    return url


@pytest.fixture
def db_url(pg_server: EmbeddedServer, template_url: str) -> Iterator[str]:
    name = f"test_{os.getpid()}_{next(_counter)}"
    url = create_database(pg_server, name, template=TEMPLATE_DB)
    yield url
    drop_database(pg_server, name)


@pytest.fixture
def empty_db_url(pg_server: EmbeddedServer) -> Iterator[str]:
    name = f"empty_{os.getpid()}_{next(_counter)}"
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


@pytest.fixture(scope="session")
def shared_engine(pg_server: EmbeddedServer, template_url: str):
    url = create_database(pg_server, SHARED_DB, template=TEMPLATE_DB)
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(shared_engine) -> Iterator[Session]:
    """A Session whose every change is rolled back after the test (commits become savepoints)."""
    with shared_engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


# ---- figures printed at the end of the run (timings are reported, never asserted) ----------

FIGURES: list[str] = []


def report_figure(line: str) -> None:
    FIGURES.append(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Figures travel on the test's report, so they also reach the summary when the tests run
    # in several worker processes (pytest-xdist).
    outcome = yield
    report = outcome.get_result()
    while FIGURES:
        report.user_properties.append(("figure", FIGURES.pop(0)))


def pytest_terminal_summary(terminalreporter) -> None:
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for key, value in getattr(report, "user_properties", ())
        if key == "figure"
    ]
    if lines:
        terminalreporter.section("figures")
        for line in dict.fromkeys(lines):
            terminalreporter.write_line(line)
