"""Crash safety (issue 11 item 1): clients book, issue invoices and take payments at once on
a durable server; the postmaster is killed with SIGKILL mid-storm and started again. Every
operation a client saw commit is there, whole; nothing a client saw fail is; invoice numbers
stay gapless; no two appointments overlap.

An operation whose COMMIT was sent but never answered is "in doubt": the client cannot know
its fate. Such an operation may be there or not, but only whole (its lines, its audit entry).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.db import migrations
from clinic_tui.db.embedded import EmbeddedServer, EmbeddedServerError
from clinic_tui.services import appointments as appts
from clinic_tui.services import billing, payments
from clinic_tui.services.billing_ledger import status_for
from tests.conftest import report_figure
from tests.db.test_billing import Desk, make_desk
from tests.db.test_scheduling import AFTERNOON, MONDAY, MORNING, ON_MONDAY, Clinic, make_clinic

pytestmark = pytest.mark.long

KINDS = ("booking", "invoice", "payment")
CLIENTS_PER_KIND = 3
COMMITS_BEFORE_KILL = 40  # of each kind: the crash lands in a storm well under way
STARTS = [
    clock(h, m)
    for first, last in (MORNING, AFTERNOON)
    for h in range(first.hour, last.hour + 1)
    for m in (0, 30)
    if first <= clock(h, m) and clock(h, m).hour * 60 + m + 30 <= last.hour * 60 + last.minute
]
DAYS = [MONDAY + timedelta(days=n) for n in range(5)]
LINES = (("PT001",), ("PT001", "PT105"), ("PT002", "PT003"))
CARDS = ("dn4", "ht3", "dn2", "expired", "none")


# ---- the server ------------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A cluster of this test's own: killing it harms nobody else's server."""
    folder = tmp_path / "crash"
    yield folder
    EmbeddedServer(folder).stop()  # whichever postmaster is up by then


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def restart(data_dir: Path, orphans: set[int]) -> EmbeddedServer:
    """Start the killed cluster again (crash recovery runs). The old backends must be gone
    first, or PostgreSQL refuses to start over their shared memory."""
    deadline = time.monotonic() + 60
    while alive(orphans) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(orphans), "the killed server's backends did not exit"
    while True:
        server = EmbeddedServer(data_dir, durable=True)
        try:
            server.acquire()
            return server
        except EmbeddedServerError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# ---- what the clients saw --------------------------------------------------------------------


@dataclass
class Seen:
    """Every client's account of its operations, by kind: id -> what it wrote."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: Counter[str] = field(default_factory=Counter)
    committed: dict[str, dict[uuid.UUID, tuple]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    in_doubt: dict[str, dict[uuid.UUID, tuple]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    refused: Counter[str] = field(default_factory=Counter)
    unavailable: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    crashed: threading.Event = field(default_factory=threading.Event)

    def total(self, part: dict[str, dict[uuid.UUID, tuple]]) -> int:
        return sum(len(ids) for ids in part.values())


Work = Callable[[Session], tuple[uuid.UUID, tuple]]


def attempt(engine: Engine, seen: Seen, kind: str, work: Work) -> bool:
    """Run one operation in its own session and record what the client saw. Returns False
    when the server could not be reached (the caller backs off)."""
    with seen.lock:
        seen.attempts[kind] += 1
    session = Session(engine)
    try:
        try:
            ident, detail = work(session)
        except (OperationalError, InterfaceError) as error:
            with seen.lock:
                if seen.crashed.is_set():
                    seen.unavailable[kind] += 1
                else:  # a deadlock, a serialisation failure: the services should say
                    seen.unexpected.append(f"{kind} before the crash: {error!r}")
            return False
        except DBAPIError as error:
            with seen.lock:
                seen.unexpected.append(f"{kind}: {error!r}")
            return True
        except (appts.SchedulingError, billing.BillingError) as refusal:
            with seen.lock:
                seen.refused[type(refusal).__name__] += 1
            return True
        except Exception as error:
            with seen.lock:
                seen.unexpected.append(f"{kind}: {error!r}")
            return True
        try:
            session.commit()
        except Exception:
            with seen.lock:
                seen.in_doubt[kind][ident] = detail
            return False
        with seen.lock:
            seen.committed[kind][ident] = detail
        return True
    finally:
        with contextlib.suppress(Exception):  # the connection died with the server
            session.close()


def booking(clinic: Clinic, rng: random.Random) -> Work:
    doctor = rng.choice((clinic.a, clinic.b, clinic.n))
    patient = rng.choice(clinic.others)
    day, start = rng.choice(DAYS), rng.choice(STARTS)

    def work(session: Session) -> tuple[uuid.UUID, tuple]:
        done = appts.book(session, clinic.reception, patient_id=patient, doctor_id=doctor,
                          day=day, start=start, slots=1, slot_minutes=30,
                          appointment_type="FOLLOW_UP", now=ON_MONDAY)  # fmt: skip
        return done.appointment.id, (doctor, patient, day, start)

    return work


def invoice(desk: Desk, rng: random.Random) -> Work:
    lines = rng.choice(LINES)
    draft = desk.draft(rng.choice(CARDS), *lines)

    def work(session: Session) -> tuple[uuid.UUID, tuple]:
        view = billing.issue(session, desk.reception, draft)
        return view.id, (view.invoice_number, len(lines), Decimal(view.patient))

    return work


def payment(desk: Desk, seen: Seen, rng: random.Random) -> Work | None:
    with seen.lock:
        owing = [i for i, (_n, _l, share) in seen.committed["invoice"].items() if share > 0]
    if not owing:
        return None
    invoice_id = rng.choice(owing)
    amount = Decimal(rng.randrange(1, 40) * 5_000)

    def work(session: Session) -> tuple[uuid.UUID, tuple]:
        paid = payments.pay(session, desk.reception, invoice_id, amount=amount, method="card")
        return paid.id, (invoice_id, amount)

    return work


def storm(engine: Engine, clinic: Clinic, desk: Desk, seen: Seen, stop: threading.Event):
    def client(kind: str, index: int) -> None:
        rng = random.Random(f"{kind}{index}")
        while not stop.is_set():
            if kind == "booking":
                work = booking(clinic, rng)
            elif kind == "invoice":
                work = invoice(desk, rng)
            else:
                work = payment(desk, seen, rng)
            if work is None:
                time.sleep(0.01)
                continue
            if not attempt(engine, seen, kind, work):
                time.sleep(0.05)  # the server is gone: do not spin

    threads = [
        threading.Thread(target=client, args=(kind, index), daemon=True)
        for kind in KINDS
        for index in range(CLIENTS_PER_KIND)
    ]
    for thread in threads:
        thread.start()
    return threads


# ---- the test --------------------------------------------------------------------------------


def test_sigkill_mid_storm_loses_nothing_and_keeps_nothing_refused(data_dir: Path) -> None:
    server = EmbeddedServer(data_dir, durable=True)
    server.acquire()
    url = server.sqlalchemy_url()
    migrations.upgrade(url)
    engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    with engine.connect() as connection:
        settings = {
            name: connection.execute(text(f"SHOW {name}")).scalar_one()
            for name in ("fsync", "synchronous_commit", "full_page_writes")
        }
    assert settings == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    with Session(engine) as session:
        clinic = make_clinic(session, patients=40)
        desk = make_desk(session)
        session.commit()

    seen, stop = Seen(), threading.Event()
    threads = storm(engine, clinic, desk, seen, stop)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with seen.lock:
            if all(len(seen.committed[k]) >= COMMITS_BEFORE_KILL for k in KINDS):
                break
        time.sleep(0.02)
    time.sleep(random.uniform(0, 0.05))  # anywhere inside an operation
    postmaster = server.state.pid
    orphans = children_of(postmaster)
    seen.crashed.set()
    server.kill()
    killed_at = time.monotonic()
    while time.monotonic() - killed_at < 10:  # every kind meets the dead server
        with seen.lock:
            if all(seen.unavailable[k] + len(seen.in_doubt[k]) for k in KINDS):
                break
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    engine.dispose()
    assert seen.unexpected == []
    assert all(len(seen.committed[k]) >= COMMITS_BEFORE_KILL for k in KINDS), seen.committed
    assert sum(seen.unavailable.values()) + seen.total(seen.in_doubt) > 0, "no one saw the crash"

    restarted = restart(data_dir, orphans)
    assert restarted.state.pid != postmaster
    engine = create_engine(restarted.sqlalchemy_url())
    try:
        landed = check_everything(engine, seen)
        after_restart_the_desk_works(engine, desk, clinic)
    finally:
        engine.dispose()
        restarted.release()
    committed, in_doubt = seen.total(seen.committed), seen.total(seen.in_doubt)
    report_figure(
        f"crash safety (SIGKILL mid-storm, {len(KINDS) * CLIENTS_PER_KIND} clients):"
        f" {sum(seen.attempts.values())} operations, {committed} committed"
        f" ({', '.join(f'{len(seen.committed[k])} {k}s' for k in KINDS)}),"
        f" {sum(seen.refused.values())} refused, {sum(seen.unavailable.values())} failed"
        f" on the dead server, {in_doubt} in doubt ({landed} of them landed), lost 0"
    )


def rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def check_everything(engine: Engine, seen: Seen) -> int:
    """Assert the invariants after recovery; return how many in-doubt operations landed."""
    landed = 0
    tables = {"booking": "appointments", "invoice": "invoices", "payment": "payments"}
    for kind, table in tables.items():
        present = {row[0] for row in rows(engine, f"SELECT id FROM {table}")}
        committed, doubtful = set(seen.committed[kind]), set(seen.in_doubt[kind])
        assert committed - present == set(), f"committed {kind}s lost"
        # A row no client saw commit (or send its commit) is an operation seen to fail.
        assert present - committed - doubtful == set(), f"{kind}s seen to fail were kept"
        landed += len(present & doubtful)
    audited = {
        row[0]
        for row in rows(
            engine,
            "SELECT entity_id FROM audit_log"
            " WHERE action IN ('appointment_booked', 'invoice_issued', 'payment_taken')",
        )
    }
    every = {str(i) for kind in KINDS for i in seen.committed[kind]}
    assert every <= audited, "a committed operation lost its audit entry"

    appointments = {
        row[0]: tuple(row[1:])
        for row in rows(
            engine,
            "SELECT id, doctor_id, patient_id, appointment_date, start_time FROM appointments",
        )
    }
    for ident, detail in seen.committed["booking"].items():
        assert appointments[ident] == detail

    invoices = {
        row[0]: tuple(row[1:])
        for row in rows(
            engine,
            "SELECT i.id, i.invoice_number, count(l.id), round(i.patient_amount),"
            " i.total_amount = coalesce(sum(l.line_total), -1) FROM invoices i"
            " LEFT JOIN invoice_line_items l ON l.invoice_id = i.id GROUP BY i.id",
        )
    }
    for ident, (number, lines, share) in seen.committed["invoice"].items():
        assert invoices[ident][:3] == (number, lines, share)
    assert all(whole for (*_rest, whole) in invoices.values()), "an invoice lost lines"
    orphan_lines = "SELECT count(*) FROM invoice_line_items l LEFT JOIN invoices i"
    assert rows(engine, f"{orphan_lines} ON i.id = l.invoice_id WHERE i.id IS NULL") == [(0,)]

    paid = {
        row[0]: tuple(row[1:])
        for row in rows(engine, "SELECT id, invoice_id, amount FROM payments")
    }
    for ident, detail in seen.committed["payment"].items():
        assert paid[ident] == detail
    orphan_payments = "SELECT count(*) FROM payments p LEFT JOIN invoices i"
    assert rows(engine, f"{orphan_payments} ON i.id = p.invoice_id WHERE i.id IS NULL") == [(0,)]
    for _id, share, total, status in rows(
        engine,
        "SELECT i.id, i.patient_amount, coalesce(sum(p.amount), 0), i.status FROM invoices i"
        " LEFT JOIN payments p ON p.invoice_id = i.id AND p.status = 'COMPLETED'"
        " GROUP BY i.id",
    ):
        assert total <= share, "an invoice is overpaid"
        assert status == status_for(Decimal(share), Decimal(total))

    numbers: dict[int, list[int]] = {}
    for (number,) in rows(engine, "SELECT invoice_number FROM invoices"):
        _prefix, year, serial = number.split("-")
        numbers.setdefault(int(year), []).append(int(serial))
    counters = dict(rows(engine, "SELECT year, last_number FROM invoice_counters"))
    for year, serials in numbers.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), f"gap in {year}"
        assert counters[year] == len(serials)

    for column in ("doctor_id", "patient_id"):
        overlaps = rows(
            engine,
            "SELECT count(*) FROM appointments x JOIN appointments y"
            f" ON x.{column} = y.{column} AND x.id < y.id AND x.during && y.during"
            " WHERE x.status NOT IN ('CANCELLED', 'NO_SHOW')"
            " AND y.status NOT IN ('CANCELLED', 'NO_SHOW')",
        )
        assert overlaps == [(0,)], f"overlapping appointments by {column}"
    return landed


def after_restart_the_desk_works(engine: Engine, desk: Desk, clinic: Clinic) -> None:
    """The recovered database takes new work: the next number follows on without a gap."""
    with Session(engine) as session:
        last = session.execute(
            text("SELECT max(invoice_number) FROM invoices WHERE invoice_number LIKE :y"),
            {"y": f"INV-{datetime.now(CLINIC_TIMEZONE).year}-%"},
        ).scalar_one()
        view = billing.issue(session, desk.reception, desk.draft("none", "PT001"))
        session.commit()
    if last is not None:
        year, serial = last.split("-")[1:]
        assert view.invoice_number == f"INV-{year}-{int(serial) + 1:06d}"
    taken = {tuple(r) for r in rows(engine, "SELECT doctor_id, appointment_date, start_time"
                                    " FROM appointments WHERE status = 'SCHEDULED'")}  # fmt: skip
    free = next(
        (doctor, day, start)
        for doctor in (clinic.a, clinic.b, clinic.n)
        for day in DAYS
        for start in STARTS
        if (doctor, day, start) not in taken
    )
    with Session(engine) as session:
        appts.book(session, clinic.reception, patient_id=clinic.uninsured, doctor_id=free[0],
                   day=free[1], start=free[2], slots=1, slot_minutes=30,
                   appointment_type="FOLLOW_UP", now=ON_MONDAY)  # fmt: skip
        session.commit()
