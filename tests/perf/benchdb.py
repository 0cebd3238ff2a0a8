"""The benchmark database: built once on an embedded server in ``<repo>/.bench/``, then reused.

What it holds (DESIGN §4.3: realistic data decides whether search is fast):
- 1,000,000 patients with realistic Vietnamese names, phones, national ids and BHYT cards,
  from the demo generator (`clinic_tui.services.demo_patients`), numbered ``BN-DEMO-…``;
- 100,000 medical terms: the 56 seeded ones and generated ones (`term_data`);
- 40 therapists with weekly templates and their availability, published from the first
  appointment's day to a year ahead;
- 2,000,000 appointments: about nine years of history and the coming weeks, treatment
  courses of a patient with one therapist at one time, every other working day; no overlap
  for a therapist or a patient, the exclusion constraints in force;
- 500,000 invoices (the latest completed visits) with their lines, split by the card, and
  the payments that settled them;
- sign-in accounts for the app (`ACCOUNTS`, password `PASSWORD`).

The build (`build_people`, `build_visits`) writes with COPY and ``INSERT … SELECT`` from
``generate_series``; the secondary indexes and the unique and foreign-key constraints of the
loaded tables are dropped first and made again after from their own definitions (the
exclusion constraints stay on), then the schema is compared with the migrated one, so the
database always has exactly the migrations' schema. A hash of the builder's source (and of
the generators it uses) is kept as the database's comment: when the builder changes, the
next run rebuilds, as does a database built more than `MAX_AGE` ago. A build that stops
halfway leaves no mark, so it is redone.

``python -m tests.perf.benchdb`` builds or reuses it and keeps its server up, printing the
URL to give the app (``CLINIC_DATABASE_URL``) to look around in it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
DATABASE = "clinic_bench"
PATIENTS = 1_000_000
TERMS = 100_000
DOCTORS = 40
APPOINTMENTS = 2_000_000
INVOICES = 500_000
PASSWORD = "benchmark pw"
# Availability runs a year past the build and the benchmarks book months ahead: rebuild before.
MAX_AGE = timedelta(days=180)
ADMIN, RECEPTION, DOCTOR = "admin@bench.clinic", "reception@bench.clinic", "doctor@bench.clinic"
BOOKER, BILLER = "booking@bench.clinic", "billing@bench.clinic"  # the benchmarks' own writes
ACCOUNTS = (
    (ADMIN, "ADMIN", "Trần Quốc Bảo"),
    (RECEPTION, "RECEPTIONIST", "Lê Thị Mỹ Duyên"),
    (DOCTOR, "DOCTOR", "Phạm Minh Khoa"),
    (BOOKER, "RECEPTIONIST", "Đặt Lịch Thử"),
    (BILLER, "RECEPTIONIST", "Thu Ngân Thử"),
)
# The tables the build fills in bulk: their secondary indexes and constraints wait.
BULK_TABLES = (
    "patients", "insurance_info", "vietnamese_medical_terms", "doctor_availabilities",
    "appointments", "invoices", "invoice_line_items", "payments",
)  # fmt: skip
# What the data is made from: a change to any of these rebuilds the database.
_SOURCES = (
    Path(__file__).with_name("build_people.py"),
    Path(__file__).with_name("build_visits.py"),
    Path(__file__).with_name("term_data.py"),
    ROOT / "src/clinic_tui/services/demo_patients.py",
    ROOT / "src/clinic_tui/domain/vietnamese_names.py",
)

Say = Callable[[str], None]


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def builder_version() -> str:
    digest = hashlib.sha256()
    for source in _SOURCES:
        digest.update(source.read_bytes())
    digest.update(
        repr((PATIENTS, TERMS, DOCTORS, APPOINTMENTS, INVOICES, PASSWORD, ACCOUNTS)).encode()
    )
    return digest.hexdigest()[:16]


@dataclass
class BenchDatabase:
    server: Any  # EmbeddedServer
    url: str  # SQLAlchemy URL
    libpq_url: str
    built_on: date  # the day the data was laid out around ("today" of the build)
    build_seconds: float | None  # set when this run built it
    recorded_seconds: float | None = None  # how long its build took, when it was built
    build_load: str = "?"  # the machine's load average during the build

    def close(self) -> None:
        self.server.release()


def _marker(admin: psycopg.Connection) -> dict[str, Any] | None:
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (DATABASE,),
    ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return dict(json.loads(row[0]))
    except ValueError:
        return None


def ensure(*, rebuild: bool = False, say: Say = print) -> BenchDatabase:
    """Start the benchmark server and return its database, built if missing or stale."""
    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer

    server = EmbeddedServer(BENCH_DIR)
    server.acquire()
    try:
        version = builder_version()
        with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as admin:
            marker = _marker(admin)
            stale = (
                marker is None
                or marker.get("version") != version
                or date.fromisoformat(marker["built_on"]) < date.today() - MAX_AGE
            )
            if rebuild or stale:
                say(f"building the benchmark database {DATABASE} (builder {version}) …")
                admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{DATABASE}"')
        url, libpq = server.sqlalchemy_url(DATABASE), server.libpq_url(DATABASE)
        if rebuild or stale:
            started, load = time.perf_counter(), load_average()
            built_on = build(url, libpq, say)
            seconds = time.perf_counter() - started
            marker = {
                "version": version,
                "built_on": built_on.isoformat(),
                "seconds": seconds,
                "load": f"{load} at the start, {load_average()} at the end",
            }
            with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as admin:
                comment = json.dumps(marker).replace("'", "''")
                admin.execute(f"COMMENT ON DATABASE \"{DATABASE}\" IS '{comment}'")
            (BENCH_DIR / f"{DATABASE}.built").write_text(json.dumps(marker) + "\n")
            say(f"benchmark database built in {seconds:.0f} s")
            return BenchDatabase(server, url, libpq, built_on, seconds, seconds, marker["load"])
        assert marker is not None
        before = migrations.current(url)
        migrations.upgrade(url)  # a new revision is applied to the data, as at a clinic
        if migrations.current(url) != before:
            with psycopg.connect(libpq, autocommit=True) as conn:
                conn.execute("ANALYZE")
        built_on = date.fromisoformat(marker["built_on"])
        recorded = marker.get("seconds")
        return BenchDatabase(server, url, libpq, built_on, None, recorded, marker.get("load", "?"))
    except BaseException:
        server.release()
        raise


def build(url: str, libpq: str, say: Say) -> date:
    """Migrate the empty database at ``url`` and fill it; returns the build's "today"."""
    from clinic_tui.db import migrations
    from tests.perf import build_people, build_visits

    def timed(label: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = step()
        say(f"  {label}: {time.perf_counter() - started:.1f} s")
        return result

    timed("migrate", lambda: migrations.upgrade(url))
    with psycopg.connect(libpq) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        before = schema(conn)
        today = build_visits.clinic_today()
        with deferred(conn, BULK_TABLES, timed):
            people = timed("accounts, therapists", lambda: build_people.staff(conn, today))
            timed(f"{TERMS:,} medical terms", lambda: build_people.terms(conn, TERMS))
            timed(
                f"{PATIENTS:,} patients",
                lambda: build_people.patients(url, conn, PATIENTS, today),
            )
            timed(
                f"{APPOINTMENTS:,} appointments, availability",
                lambda: build_visits.appointments(conn, people, today, APPOINTMENTS),
            )
            timed(
                f"{INVOICES:,} invoices, lines, payments",
                lambda: build_visits.invoices(conn, people, INVOICES),
            )
        after = schema(conn)
        if after != before:
            changed = sorted(set(before) ^ set(after))
            raise RuntimeError(f"the build changed the migrations' schema: {changed}")
    with psycopg.connect(libpq, autocommit=True) as conn:
        timed("vacuum, analyze", lambda: conn.execute("VACUUM (ANALYZE)"))
    return today


# --- the schema around bulk loads -------------------------------------------------------------


def schema(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """Every index and constraint of the public schema, as (table, name, definition)."""
    rows = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        " UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> 0"
        " ORDER BY 1, 2, 3"
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


@contextmanager
def deferred(
    conn: psycopg.Connection, tables: tuple[str, ...], timed: Callable[[str, Any], Any]
) -> Iterator[None]:
    """Drop the tables' secondary indexes and their unique and foreign-key constraints, and
    make them again from their catalogue definitions after the body: one sorted build each
    instead of millions of insertions and checks. Primary keys, checks and the exclusion
    constraints stay: every appointment is checked against overlaps as it goes in (and their
    predicates would not come back from the catalogue's text exactly as the migration wrote
    them). Each phase commits; a failure leaves the database unmarked, to be rebuilt."""
    names = list(tables)
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype"
        " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')"
        " ORDER BY contype = 'f' DESC, conname",
        (names,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1",
        (names,),
    ).fetchall()
    for table, name, _definition, _kind in constraints:  # foreign keys first
        conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.commit()
    yield
    conn.commit()

    def restore() -> None:
        for _name, definition in indexes:
            conn.execute(definition)
            conn.commit()
        # Unique constraints before the foreign keys that may lean on them.
        for table, name, definition, _kind in sorted(constraints, key=lambda c: c[3] == "f"):
            conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            conn.commit()

    timed(f"indexes and constraints ({len(indexes) + len(constraints)})", restore)


def clean(say: Say = print) -> None:
    from clinic_tui.db.embedded import EmbeddedServer

    if BENCH_DIR.exists():
        EmbeddedServer(BENCH_DIR).stop()
        shutil.rmtree(BENCH_DIR)
    say(f"removed {BENCH_DIR}")


def main() -> int:
    """Build or reuse the database and keep its server up to look around with the app."""
    database = ensure()
    try:
        print(f"CLINIC_DATABASE_URL='{database.url}'")
        print(f"accounts: {', '.join(a[0] for a in ACCOUNTS[:3])}; password: {PASSWORD}")
        input("The server runs until Enter is pressed. ")
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
