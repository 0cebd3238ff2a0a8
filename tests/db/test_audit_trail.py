"""The audit trail of DESIGN §5.4, action by action: a sign-in, opening, registering and
editing a patient's record, issuing and voiding an invoice, taking a payment, a migration and
a restore each write exactly one entry, naming the user, the time, the action and the ids, and
nothing about the patient. (That the application's role cannot change or delete entries is
tests/db/test_constraints.py's audit test.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from clinic_tui.db import migrations
from clinic_tui.models import AuditEntry
from clinic_tui.services import auth, backups, billing, patients, payments, schema_admin
from clinic_tui.services.access import Actor, Role
from clinic_tui.services.auth import actor_of
from tests.db.test_auth import PASSWORD, make_user
from tests.db.test_billing import make_desk
from tests.db.test_patients_service import CARD, form_of, make_actor
from tests.db.test_patients_service import reference as reference

# What a patient's entry must never show, whatever the action: their name, phone, card and id
# number as tests/db/test_patients_service.py and tests/db/test_billing.py register them.
PATIENT_DETAILS = ("Nguyễn", "Nguyen", "0912345678", "1234567890", "079090012345", "DN4")


@dataclass(frozen=True)
class Expected:
    actor: Actor
    action: str
    entity: str
    entity_id: str


def _new_entries(session: Session, after: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.id > after)))


def _last_id(session: Session) -> int:
    return session.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()


# Each action: set up what it needs, then act; return what the one new entry must say.
# `mark` is called just before the action, so only the action's own entries are counted.
Action = Callable[[Session, object, Callable[[], None]], Expected]


def sign_in(session: Session, reference, mark) -> Expected:
    user = make_user(session)
    mark()
    outcome = auth.login(session, user.email, PASSWORD)
    assert outcome.actor is not None
    return Expected(outcome.actor, "login", "user", str(user.id))


def open_record(session: Session, reference, mark) -> Expected:
    desk = make_actor(session, Role.RECEPTIONIST)
    created = patients.register(session, desk, form_of(reference, **CARD))
    mark()
    patients.get(session, desk, created.id)
    return Expected(desk, "patient_opened", "patient", str(created.id))


def register_record(session: Session, reference, mark) -> Expected:
    desk = make_actor(session, Role.RECEPTIONIST)
    mark()
    created = patients.register(session, desk, form_of(reference, **CARD))
    return Expected(desk, "patient_created", "patient", str(created.id))


def edit_record(session: Session, reference, mark) -> Expected:
    desk = make_actor(session, Role.RECEPTIONIST)
    created = patients.register(session, desk, form_of(reference, **CARD))
    edited = form_of(reference, **CARD | {"phone": "0987654321"})
    mark()
    patients.update(session, desk, created.id, edited, expected_version=created.version)
    return Expected(desk, "patient_updated", "patient", str(created.id))


def issue_invoice(session: Session, reference, mark) -> Expected:
    desk = make_desk(session)
    mark()
    invoice = billing.issue(session, desk.reception, desk.draft("dn4", "PT001", "PT105"))
    return Expected(desk.reception, "invoice_issued", "invoice", str(invoice.id))


def void_invoice(session: Session, reference, mark) -> Expected:
    desk = make_desk(session)
    invoice = billing.issue(session, desk.reception, desk.draft("dn4", "PT001", "PT105"))
    mark()
    billing.void(
        session, desk.reception, invoice.id, reason="sai dòng", expected_version=invoice.version
    )
    return Expected(desk.reception, "invoice_voided", "invoice", str(invoice.id))


def take_payment(session: Session, reference, mark) -> Expected:
    desk = make_desk(session)
    invoice = billing.issue(session, desk.reception, desk.draft("dn4", "PT001", "PT105"))
    mark()
    paid = payments.pay(session, desk.reception, invoice.id, amount=Decimal(150_000), method="cash")
    return Expected(desk.reception, "payment_taken", "payment", str(paid.id))


@pytest.mark.parametrize(
    "act",
    [
        sign_in,
        open_record,
        register_record,
        edit_record,
        issue_invoice,
        void_invoice,
        take_payment,
    ],
)
def test_each_action_writes_one_entry(db_session: Session, reference, act: Action) -> None:
    marked: list[int] = []
    expected = act(db_session, reference, lambda: marked.append(_last_id(db_session)))
    assert marked, "the action never marked where it starts"
    now = db_session.execute(text("SELECT clock_timestamp()")).scalar_one()
    entries = _new_entries(db_session, marked[0])
    assert [entry.action for entry in entries] == [expected.action]
    entry = entries[0]
    assert (entry.user_id, entry.entity, entry.entity_id) == (
        expected.actor.user_id,
        expected.entity,
        expected.entity_id,
    )
    assert isinstance(entry.occurred_at, datetime)
    assert now - timedelta(minutes=1) <= entry.occurred_at <= now
    shown = json.dumps([entry.action, entry.entity, entry.entity_id, entry.details])
    assert not [detail for detail in PATIENT_DETAILS if detail.lower() in shown.lower()]


# --- the two that act on the whole database, outside a test's transaction -----------------


def _entries_since(url: str, since: datetime) -> list[dict[str, object]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT * FROM audit_log WHERE occurred_at >= :since ORDER BY id"),
                {"since": since},
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


@pytest.fixture
def admin(db_url: str) -> Actor:
    """An administrator committed to the test's own database (these two tests act on all of
    it, so they cannot run inside a rolled-back transaction)."""
    engine = create_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = make_user(session, "admin@clinic.vn", role="ADMIN")
            session.commit()
            return actor_of(user)
    finally:
        engine.dispose()


def test_a_migration_writes_one_entry(db_url: str, admin: Actor) -> None:
    ids = [revision.id for revision in migrations.chain()]
    down = schema_admin.run(db_url, admin, schema_admin.plan(ids[-1], ids[-2]), backup_dir=None)
    assert down.succeeded
    started = datetime.now().astimezone()
    up = schema_admin.run(db_url, admin, schema_admin.plan(ids[-2], "head"), backup_dir=None)
    assert up.succeeded
    entries = _entries_since(db_url, started)
    assert [(e["action"], e["user_id"], e["entity"], e["entity_id"]) for e in entries] == [
        ("schema.upgrade", admin.user_id, "schema", ids[-1])
    ]
    assert entries[0]["details"]["from"] == ids[-2]
    assert entries[0]["details"]["to"] in {ids[-1], "head"}


def test_a_restore_writes_one_entry(db_url: str, admin: Actor, tmp_path) -> None:
    info = backups.backup_now(db_url, admin, backup_dir=tmp_path / "backups", keep=3)
    started = datetime.now().astimezone()  # the backup's own entry is older
    result = backups.restore(db_url, admin, info.path)
    assert result.actor_present
    entries = _entries_since(db_url, started)
    assert [(e["action"], e["user_id"], e["entity"], e["entity_id"]) for e in entries] == [
        ("database_restore", admin.user_id, "database", info.name)
    ]
