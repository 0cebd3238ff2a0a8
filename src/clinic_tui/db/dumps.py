"""The PostgreSQL client programs behind backups: pg_dump into a file, and a dump restored
as one transaction that first drops the whole `public` schema.

Restoring runs `pg_restore -f -` (the dump as SQL) into `psql --single-transaction` with a
preamble that drops the schema and recreates it as it was (owner, grants, comment), so nothing
of a newer or older schema survives beside the backup's. psql reads the end of its input only
once pg_restore has succeeded; on any failure it is killed first and the server rolls back,
leaving the database exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from clinic_tui.i18n import N_

Progress = Callable[[int, int, str], None]  # (done, total, what: a table or dump entry)
_DUMPING = re.compile(r'dumping contents of table "([^"]+)"')
_ENTRY = re.compile(rb"^-- (?:Data for )?Name: (.*?); Type: (.*?); Schema:")
_LOCK_WAIT = "20s"  # how long a restore waits for other sessions' locks before giving up


class BackupError(Exception):
    """A backup or restore that could not be done. `msgid` (with `values`) is what to show,
    translated where shown; `detail` is the tool's own last line, when there is one."""

    def __init__(self, msgid: str, *, detail: str = "", **values: object) -> None:
        self.msgid, self.detail = msgid, detail
        self.values: dict[str, object] = {"error": detail, **values}
        super().__init__(msgid.format(**self.values))

    def describe(self, translate: Callable[[str], str] = lambda msgid: msgid) -> str:
        return translate(self.msgid).format(**self.values)


FAILED = N_("The restore failed; the database was left as it was: {error}")
LOCKED = N_("Other sessions are using the database: ask everyone to sign out, then restore again.")
NOT_A_BACKUP = N_("{file} is not a clinic-tui backup.")


# ---- the programs ----------------------------------------------------------------------


def client_program(name: str) -> str:
    """pg_dump, pg_restore or psql: the embedded server's (the same version as the server it
    starts, and new enough for any supported external one), else the one on PATH."""
    from clinic_tui.db.embedded import EmbeddedServerError, binaries_dir

    with contextlib.suppress(EmbeddedServerError, OSError):
        candidate = binaries_dir() / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(
        N_("{program} was not found: install the PostgreSQL client programs."), program=name
    )


def client_target(database_url: str) -> tuple[str, dict[str, str]]:
    """A URL the PostgreSQL programs accept, and their environment. The password travels in
    the environment, never on a command line that `ps` shows."""
    from clinic_tui.db.engine import libpq_url, normalise_url

    url = make_url(normalise_url(database_url))
    env = {**_plain_env(), "PGAPPNAME": "clinic-tui backup"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(password=None).render_as_string(hide_password=False)
    return libpq_url(plain), env


def error_line(lines: Iterable[str]) -> str:
    """The line of a tool's output that says what went wrong (its last error, else its last)."""
    kept = [line.strip() for line in lines if line.strip()]
    errors = [line for line in kept if "error" in line.lower() or "fatal" in line.lower()]
    return (errors or kept or [""])[-1]


def run_tool(command: list[str]) -> subprocess.CompletedProcess[str]:
    """A short run of a client program on a file (no database), its output captured."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
        env=_plain_env(),
        check=False,
    )


# The tools' messages are read (progress, errors): keep them in English whatever the locale.
def _plain_env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


# ---- backing up and restoring -----------------------------------------------------------


def dump_database(
    pg_dump: str, url: str, snapshot: str, target: Path, tables: int, progress: Progress
) -> None:
    """`pg_dump -Fc` of the database as `snapshot` (an exported snapshot) sees it, into
    `target`; progress follows its "dumping contents of table" lines."""
    conninfo, env = client_target(url)
    command = [pg_dump, "-Fc", "-v", f"--snapshot={snapshot}", "-f", str(target), "-d", conninfo]
    tail: deque[str] = deque(maxlen=30)
    done = 0
    progress(0, tables, "")
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        errors="replace",
        umask=0o077,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            tail.append(line.rstrip("\n"))
            found = _DUMPING.search(line)
            if found:
                done = min(done + 1, tables)
                progress(done, tables, found.group(1))
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    if code != 0:
        detail = error_line(tail)
        if any("No space left" in line for line in tail):
            raise BackupError(
                N_("The disk is full: the backup could not be written to {folder}."),
                detail=detail,
                folder=str(target.parent),
            )
        raise BackupError(N_("pg_dump failed: {error}"), detail=detail)
    progress(tables, tables, "")


def inspect_dump(pg_restore: str, path: Path) -> tuple[int, str]:
    """How many entries the dump holds, and its revision (read from the dump, not its name)."""
    if not path.is_file():
        raise BackupError(N_("There is no backup file {file}."), file=str(path))
    listing = run_tool([pg_restore, "-l", str(path)])
    entries = [line for line in listing.stdout.splitlines() if line.strip() and line[0] != ";"]
    if listing.returncode == 0 and any(" alembic_version " in f"{e} " for e in entries):
        data = run_tool([pg_restore, "-a", "-t", "alembic_version", "-f", "-", str(path)])
        lines = data.stdout.splitlines()
        for index, line in enumerate(lines[:-1]):
            if line.startswith("COPY ") and "alembic_version" in line:
                revision = lines[index + 1].strip()
                if revision and revision != "\\.":
                    return len(entries), revision
    detail = error_line(listing.stderr.splitlines())
    raise BackupError(NOT_A_BACKUP, detail=detail, file=str(path))


# Drop the schema with everything in it and recreate it as it was (owner, grants, comment).
_PREAMBLE = f"""
SET client_min_messages = warning;
SET lock_timeout = '{_LOCK_WAIT}';
DO $clinic$
DECLARE
    owner_name text;
    note text;
    saved aclitem[];
    item record;
BEGIN
    SELECT quote_ident(r.rolname), obj_description(n.oid, 'pg_namespace'), n.nspacl
      INTO owner_name, note, saved
      FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
     WHERE n.nspname = 'public';
    DROP SCHEMA IF EXISTS public CASCADE;
    EXECUTE format('CREATE SCHEMA public AUTHORIZATION %s', coalesce(owner_name, 'CURRENT_USER'));
    FOR item IN SELECT * FROM aclexplode(coalesce(saved, '{{}}'::aclitem[])) LOOP
        CONTINUE WHEN item.grantee = (SELECT nspowner FROM pg_namespace WHERE nspname = 'public');
        EXECUTE format('GRANT %s ON SCHEMA public TO %s%s', item.privilege_type,
            CASE WHEN item.grantee = 0 THEN 'PUBLIC'
                 ELSE quote_ident((SELECT rolname FROM pg_roles WHERE oid = item.grantee)) END,
            CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    IF note IS NOT NULL THEN
        EXECUTE format('COMMENT ON SCHEMA public IS %L', note);
    END IF;
END
$clinic$;
RESET lock_timeout;
""".encode()


def restore_dump(
    pg_restore: str, psql: str, path: Path, url: str, total: int, progress: Progress
) -> None:
    """pg_restore writes the dump as SQL; psql runs it after the preamble, in one transaction.
    psql sees the end of its input only once pg_restore has succeeded: if pg_restore fails
    half-way, psql is killed first and the server rolls everything back."""
    conninfo, env = client_target(url)
    reading = [pg_restore, "--no-owner", "-f", "-", str(path)]
    writing = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", conninfo]
    with tempfile.TemporaryFile() as read_errors, tempfile.TemporaryFile() as write_errors:
        reader = subprocess.Popen(
            reading, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=read_errors, env=env
        )
        writer = subprocess.Popen(
            writing, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=write_errors, env=env
        )
        assert reader.stdout is not None and writer.stdin is not None
        progress(0, total, "")
        psql_stopped = False
        try:
            writer.stdin.write(_PREAMBLE)
            for done, entry in _entries(reader.stdout, writer.stdin.write):
                progress(min(done, total), total, entry)
        except BrokenPipeError:
            psql_stopped = True  # at an error: its own message says which
        except BaseException:
            _stop(writer, reader)
            raise
        if psql_stopped:
            _stop(reader)
        elif reader.wait() != 0:
            _stop(writer)  # before psql reads the end of its input and commits
            raise BackupError(FAILED, detail=error_line(_read(read_errors)))
        with contextlib.suppress(BrokenPipeError):
            writer.stdin.close()
        if writer.wait() != 0:
            detail = error_line(_read(write_errors))
            raise BackupError(LOCKED if "lock timeout" in detail else FAILED, detail=detail)
    progress(total, total, "")


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.kill()
        process.wait()


def _read(stream: Any) -> list[str]:
    stream.seek(0)
    return str(stream.read().decode(errors="replace")).splitlines()


def _entries(script: Iterable[bytes], write: Callable[[bytes], Any]) -> Iterable[tuple[int, str]]:
    """Pass the script on line by line; yield (count, "TYPE name") at each dump entry."""
    done, copying = 0, False
    for line in script:
        if copying:
            copying = line.rstrip(b"\r\n") != b"\\."
        elif line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            copying = True
        else:
            entry = _ENTRY.match(line)
            if entry:
                done += 1
                name, kind = (part.decode(errors="replace") for part in entry.groups())
                yield done, f"{kind} {name}"
        write(line)


DATA_TABLES_SQL = """
SELECT count(*) FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""

_TABLES_SQL = """
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY c.relname
"""


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows of every table of the schema (a partitioned table counts all its partitions)."""
    names = list(conn.execute(text(_TABLES_SQL)).scalars())
    if not names:
        return {}
    quote = conn.dialect.identifier_preparer.quote_identifier
    sql = " UNION ALL ".join(
        f"SELECT {index}, count(*) FROM public.{quote(name)}" for index, name in enumerate(names)
    )
    return {names[index]: int(count) for index, count in conn.execute(text(sql))}
