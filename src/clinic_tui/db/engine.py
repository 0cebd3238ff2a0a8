"""Engines and sessions.

`Database` owns one SQLAlchemy engine (and, for the embedded server, the server handle).
Every unit of work takes its own short Session from `session()`; the UI does so inside thread
workers, never on the event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from clinic_tui.config import Settings


class DatabaseUnavailable(RuntimeError):
    """The server cannot be reached or refused us; `reason` is a code the UI translates."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ServerInfo:
    url: str  # with the password hidden
    version: str
    database: str
    revision: str | None  # None: no schema yet

    @property
    def location(self) -> str:
        return describe_location(self.url)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// as people paste them; use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def describe_location(url: str) -> str:
    """Where the server is, for people: "db.clinic.lan:5432" or "socket /path/to/pgdata"."""
    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    if isinstance(socket_dir, tuple):
        socket_dir = socket_dir[0]
    if socket_dir and not parsed.host:
        return f"socket {socket_dir}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def libpq_url(url: str) -> str:
    """The same URL in the form psql and pg_dump accept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# undefined table / column / function / object: this program's queries meet another revision
# of the schema (an admin is migrating, or rolled it back).
SCHEMA_MISMATCH_SQLSTATES = frozenset({"42P01", "42703", "42883", "42704"})


def classify_error(error: BaseException) -> DatabaseUnavailable:
    """Turn a driver error into one of a few reasons a person can act on."""
    message = str(getattr(error, "orig", None) or error)
    lowered = message.lower()
    sqlstate = getattr(getattr(error, "orig", None) or error, "sqlstate", None)
    if sqlstate in SCHEMA_MISMATCH_SQLSTATES:
        reason = "schema"
    elif "password authentication failed" in lowered or "no password supplied" in lowered:
        reason = "auth"
    elif "does not exist" in lowered and "database" in lowered:
        reason = "no_database"
    elif any(
        part in lowered
        for part in ("could not translate host", "name or service not known", "nodename nor")
    ):
        reason = "unknown_host"
    elif any(
        part in lowered
        for part in (
            "connection refused",
            "timeout",
            "timed out",
            "no route",
            "is the server",
            "server closed",
            "terminating connection",
            "connection failed",
            "the database system is",
            "consuming input failed",
        )
    ):
        reason = "unreachable"
    else:
        reason = "other"
    first_line = message.strip().splitlines()[0] if message.strip() else reason
    return DatabaseUnavailable(reason, first_line)


class Database:
    def __init__(self, url: str, *, server: object | None = None, pool_size: int = 5) -> None:
        self.url = normalise_url(url)
        self.server = server  # an EmbeddedServer we must release on close, or None
        self.engine: Engine = create_engine(
            self.url,
            pool_pre_ping=True,  # a restarted server must not leave dead connections behind
            pool_size=pool_size,
            max_overflow=10,
            connect_args={"connect_timeout": 5, "application_name": "clinic-tui"},
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.database_url:
            return cls(settings.database_url)
        from clinic_tui.db.embedded import EmbeddedServer

        server = EmbeddedServer(settings.data_dir)
        server.acquire()
        return cls(server.sqlalchemy_url(), server=server)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error, always close."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def check(self) -> ServerInfo:
        """Connect once and describe the server; raises DatabaseUnavailable."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        try:
            with self.engine.connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar_one()
                database = conn.execute(text("SELECT current_database()")).scalar_one()
                revision = current_revision(conn)
        except (OperationalError, DBAPIError) as error:
            raise classify_error(error) from None
        return ServerInfo(display_url(self.url), str(version), str(database), revision)

    def close(self) -> None:
        self.engine.dispose()
        if self.server is not None:
            self.server.release()  # type: ignore[attr-defined]
            self.server = None


def current_revision(conn: object) -> str | None:
    """The Alembic revision of the schema, read without importing Alembic (start-up path)."""
    exists = conn.execute(  # type: ignore[attr-defined]
        text("SELECT to_regclass('public.alembic_version') IS NOT NULL")
    ).scalar_one()
    if not exists:
        return None
    return conn.execute(  # type: ignore[attr-defined, no-any-return]
        text("SELECT version_num FROM alembic_version LIMIT 1")
    ).scalar_one_or_none()
