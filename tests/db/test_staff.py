"""Staff administration: list, create, deactivate / reactivate, reset a password, unlock,
change a role; the clinic always keeps an active administrator, even when two admins act at
the same moment; only administrators may do any of it; each change is audited without
passwords."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry, User
from clinic_tui.services import auth, staff
from clinic_tui.services.access import Actor, LoginProblem, PermissionDenied, Role
from clinic_tui.services.auth import AccountError, AccountProblem
from clinic_tui.services.passwords import hash_password
from clinic_tui.services.staff import StaffProblem, StaffRefused

PASSWORD = "long enough pw"
NEW_PASSWORD = "a brand new one"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def make_user(
    session: Session,
    email: str,
    *,
    role: str = "RECEPTIONIST",
    full_name: str = "Lê Văn An",
    active: bool = True,
) -> User:
    user = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        full_name=full_name,
        role=role,
        is_active=active,
    )
    session.add(user)
    session.flush()
    return user


def admin(session: Session, email: str = "admin@clinic.vn", name: str = "Trần Quốc Bảo") -> Actor:
    return auth.actor_of(make_user(session, email, role="ADMIN", full_name=name))


def audit_rows(session: Session, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def refused(call, problem: StaffProblem) -> StaffRefused:
    with pytest.raises(StaffRefused) as raised:
        call()
    assert raised.value.problem is problem
    return raised.value


# ---- listing and creating -----------------------------------------------------------------


def test_list_shows_each_staff_account_with_its_state(db_session: Session) -> None:
    boss = admin(db_session)
    locked = make_user(db_session, "lan@clinic.vn", full_name="Nguyễn Thị Lan")
    locked.locked_until, locked.failed_login_count = T0 + timedelta(minutes=15), 2
    locked.last_login_at = T0 - timedelta(days=1)
    make_user(db_session, "old@clinic.vn", full_name="An Cũ", role="DOCTOR", active=False)
    make_user(db_session, "patient@clinic.vn", role="PATIENT")

    members = staff.list_staff(db_session, boss)

    assert [m.email for m in members] == ["lan@clinic.vn", "admin@clinic.vn", "old@clinic.vn"]
    lan = members[0]
    assert (lan.full_name, lan.role, lan.is_active) == ("Nguyễn Thị Lan", Role.RECEPTIONIST, True)
    assert lan.locked_until == T0 + timedelta(minutes=15)
    assert lan.last_login_at == T0 - timedelta(days=1)
    assert lan.failed_login_count == 2
    assert lan.locked_at(T0) and not lan.locked_at(T0 + timedelta(hours=1))
    assert members[2].is_active is False and members[2].role is Role.DOCTOR


def test_create_staff_signs_in_with_the_initial_password(db_session: Session) -> None:
    boss = admin(db_session)
    member = staff.create_staff(
        db_session,
        boss,
        full_name="  Phạm Thu Hà ",
        email=" Ha.Pham@Clinic.VN",
        role=Role.RECEPTIONIST,
        password=PASSWORD,
        password_again=PASSWORD,
    )
    assert (member.full_name, member.email, member.role) == (
        "Phạm Thu Hà",
        "ha.pham@clinic.vn",
        Role.RECEPTIONIST,
    )
    stored = db_session.get(User, member.id)
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    outcome = auth.login(db_session, "ha.pham@clinic.vn", PASSWORD, now=T0)
    assert outcome.actor is not None and outcome.actor.role is Role.RECEPTIONIST
    [entry] = audit_rows(db_session, "user_created")
    assert entry.user_id == boss.user_id and entry.entity_id == str(member.id)


@pytest.mark.parametrize(
    ("name", "email", "password", "again", "problems"),
    [
        ("", "a@b.vn", PASSWORD, PASSWORD, {"full_name": AccountProblem.NAME_REQUIRED}),
        ("An", "not-an-email", PASSWORD, PASSWORD, {"email": AccountProblem.EMAIL_INVALID}),
        ("An", "a@b.vn", "short", "short", {"password": AccountProblem.PASSWORD_TOO_SHORT}),
        ("An", "a@b.vn", PASSWORD, PASSWORD + "!",
         {"password_again": AccountProblem.PASSWORDS_DIFFER}),
        ("An", "admin@clinic.vn", PASSWORD, PASSWORD, {"email": AccountProblem.EMAIL_TAKEN}),
    ],
)  # fmt: skip
def test_create_staff_names_each_wrong_field(
    db_session: Session, name: str, email: str, password: str, again: str, problems: dict
) -> None:
    boss = admin(db_session)
    with pytest.raises(AccountError) as raised:
        staff.create_staff(db_session, boss, full_name=name, email=email, role="DOCTOR",
                           password=password, password_again=again)  # fmt: skip
    assert raised.value.problems == problems
    assert len(staff.list_staff(db_session, boss)) == 1
    assert audit_rows(db_session) == []


def test_create_staff_refuses_a_patient_role(db_session: Session) -> None:
    boss = admin(db_session)
    refused(lambda: staff.create_staff(db_session, boss, full_name="An", email="a@b.vn",
                                       role="PATIENT", password=PASSWORD, password_again=PASSWORD),
            StaffProblem.NOT_STAFF_ROLE)  # fmt: skip


# ---- deactivating, reactivating, the last administrator -----------------------------------


def test_deactivate_and_reactivate(db_session: Session) -> None:
    boss = admin(db_session)
    lan = make_user(db_session, "lan@clinic.vn")

    assert staff.deactivate(db_session, boss, lan.id).is_active is False
    outcome = auth.login(db_session, lan.email, PASSWORD, now=T0)
    assert outcome.problem is LoginProblem.INACTIVE
    assert staff.deactivate(db_session, boss, lan.id).is_active is False  # no change: no entry

    assert staff.reactivate(db_session, boss, lan.id).is_active is True
    assert auth.login(db_session, lan.email, PASSWORD, now=T0).actor is not None
    changes = [e for e in audit_rows(db_session) if e.action.startswith("user_")]
    assert [(e.action, e.user_id, e.entity_id) for e in changes] == [
        ("user_deactivated", boss.user_id, str(lan.id)),
        ("user_reactivated", boss.user_id, str(lan.id)),
    ]


def test_the_last_active_admin_cannot_be_deactivated(db_session: Session) -> None:
    boss = admin(db_session)
    other = admin(db_session, "second@clinic.vn", "Võ Minh Khoa")
    make_user(db_session, "gone@clinic.vn", role="ADMIN", active=False)  # does not count

    staff.deactivate(db_session, boss, other.user_id)  # boss remains
    boss_row = db_session.get(User, boss.user_id)
    assert boss_row is not None
    # Signed in as the now inactive second admin, who still holds an admin session elsewhere.
    error = refused(lambda: staff.deactivate(db_session, other, boss.user_id),
                    StaffProblem.LAST_ADMIN)  # fmt: skip
    assert error.name == "Trần Quốc Bảo"
    assert "last active administrator" in error.msgid
    assert db_session.get(User, boss.user_id).is_active is True  # type: ignore[union-attr]


def test_the_last_active_admin_cannot_be_demoted(db_session: Session) -> None:
    boss = admin(db_session)
    other = admin(db_session, "second@clinic.vn", "Võ Minh Khoa")
    staff.change_role(db_session, boss, other.user_id, Role.DOCTOR)
    refused(lambda: staff.change_role(db_session, other, boss.user_id, "RECEPTIONIST"),
            StaffProblem.LAST_ADMIN)  # fmt: skip
    assert db_session.get(User, boss.user_id).role == "ADMIN"  # type: ignore[union-attr]


def test_an_admin_cannot_deactivate_or_demote_themselves(db_session: Session) -> None:
    boss = admin(db_session)
    admin(db_session, "second@clinic.vn", "Võ Minh Khoa")  # not the last: still refused
    refused(lambda: staff.deactivate(db_session, boss, boss.user_id), StaffProblem.SELF_DEACTIVATE)
    refused(lambda: staff.change_role(db_session, boss, boss.user_id, Role.DOCTOR),
            StaffProblem.SELF_ROLE)  # fmt: skip
    assert db_session.get(User, boss.user_id).is_active is True  # type: ignore[union-attr]
    assert audit_rows(db_session) == []


def test_change_role_is_audited_from_and_to(db_session: Session) -> None:
    boss = admin(db_session)
    lan = make_user(db_session, "lan@clinic.vn")
    member = staff.change_role(db_session, boss, lan.id, Role.ADMIN)
    assert member.role is Role.ADMIN
    staff.change_role(db_session, boss, lan.id, Role.ADMIN)  # unchanged: no second entry
    [entry] = audit_rows(db_session, "user_role_changed")
    assert entry.details == {"old": "RECEPTIONIST", "new": "ADMIN"}
    actor = auth.login(db_session, lan.email, PASSWORD, now=T0).actor
    assert actor is not None and actor.role is Role.ADMIN


def test_an_unknown_or_patient_account_is_not_found(db_session: Session) -> None:
    boss = admin(db_session)
    patient = make_user(db_session, "patient@clinic.vn", role="PATIENT")
    for user_id in (uuid.uuid4(), patient.id):
        refused(lambda uid=user_id: staff.unlock(db_session, boss, uid), StaffProblem.NOT_FOUND)


# ---- passwords and locks ---------------------------------------------------------------------


def lock_out(session: Session, user: User) -> None:
    for attempt in range(auth.MAX_FAILED_LOGINS):
        auth.login(session, user.email, "wrong", now=datetime.now(UTC) + timedelta(seconds=attempt))
    assert user.locked_until is not None


def test_unlock_lets_a_locked_person_sign_in(db_session: Session) -> None:
    boss = admin(db_session)
    lan = make_user(db_session, "lan@clinic.vn")
    lock_out(db_session, lan)
    assert auth.login(db_session, lan.email, PASSWORD).problem is LoginProblem.LOCKED

    member = staff.unlock(db_session, boss, lan.id)

    assert (member.locked_until, member.failed_login_count) == (None, 0)
    assert auth.login(db_session, lan.email, PASSWORD).actor is not None
    [entry] = audit_rows(db_session, "user_unlocked")
    assert entry.user_id == boss.user_id and entry.entity_id == str(lan.id)


def test_reset_password_replaces_the_old_one(db_session: Session) -> None:
    boss = admin(db_session)
    lan = make_user(db_session, "lan@clinic.vn")
    lock_out(db_session, lan)
    old_hash = lan.password_hash

    staff.reset_password(db_session, boss, lan.id, NEW_PASSWORD, NEW_PASSWORD)

    db_session.refresh(lan)
    assert lan.password_hash.startswith("$argon2id$") and lan.password_hash != old_hash
    assert auth.login(db_session, lan.email, PASSWORD).problem is LoginProblem.BAD_CREDENTIALS
    assert auth.login(db_session, lan.email, NEW_PASSWORD).actor is not None  # unlocked too
    [entry] = audit_rows(db_session, "user_password_reset")
    assert entry.details == {"unlocked": True}
    logged = str([(e.action, e.details) for e in audit_rows(db_session)])
    assert NEW_PASSWORD not in logged and "argon2" not in logged and PASSWORD not in logged


def test_reset_password_follows_the_password_rules(db_session: Session) -> None:
    boss = admin(db_session)
    lan = make_user(db_session, "lan@clinic.vn")
    with pytest.raises(AccountError) as raised:
        staff.reset_password(db_session, boss, lan.id, "too short")
    assert raised.value.problems == {"password": AccountProblem.PASSWORD_TOO_SHORT}
    with pytest.raises(AccountError) as raised:
        staff.reset_password(db_session, boss, lan.id, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert raised.value.problems == {"password_again": AccountProblem.PASSWORDS_DIFFER}
    assert auth.login(db_session, lan.email, PASSWORD).actor is not None
    assert audit_rows(db_session, "user_password_reset") == []


# ---- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["RECEPTIONIST", "DOCTOR"])
def test_only_administrators_manage_staff(db_session: Session, role: str) -> None:
    target = make_user(db_session, "target@clinic.vn", role="ADMIN")
    actor = auth.actor_of(make_user(db_session, "someone@clinic.vn", role=role))
    operations = [
        lambda: staff.list_staff(db_session, actor),
        lambda: staff.create_staff(db_session, actor, full_name="An", email="a@b.vn",
                                   role="DOCTOR", password=PASSWORD, password_again=PASSWORD),
        lambda: staff.deactivate(db_session, actor, target.id),
        lambda: staff.reactivate(db_session, actor, target.id),
        lambda: staff.reset_password(db_session, actor, target.id, NEW_PASSWORD),
        lambda: staff.unlock(db_session, actor, target.id),
        lambda: staff.change_role(db_session, actor, target.id, Role.DOCTOR),
    ]  # fmt: skip
    for operation in operations:
        with pytest.raises(PermissionDenied):
            operation()
    assert audit_rows(db_session) == []
    assert db_session.get(User, target.id).role == "ADMIN"  # type: ignore[union-attr]


# ---- two administrators at the same moment ------------------------------------------------------


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def two_admins(engine: Engine) -> tuple[Actor, Actor]:
    with Session(engine, expire_on_commit=False) as session:
        first = admin(session, "first@clinic.vn", "Trần Quốc Bảo")
        second = admin(session, "second@clinic.vn", "Võ Minh Khoa")
        session.commit()
    return first, second


def active_admins(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM users WHERE role = 'ADMIN' AND is_active")
        ).scalar_one()


def test_the_second_of_two_crossing_deactivations_waits_and_is_refused(
    engine: Engine, two_admins: tuple[Actor, Actor]
) -> None:
    """The first holds its transaction open; the second must wait for the admins' row locks,
    then see that only one admin is left."""
    first, second = two_admins
    first_done, commit_first = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def run(name: str, actor: Actor, target: uuid.UUID, hold: bool) -> None:
        with Session(engine) as session:
            try:
                staff.deactivate(session, actor, target)
                if hold:
                    first_done.set()
                    commit_first.wait(30)
                session.commit()
                outcomes[name] = "ok"
            except Exception as error:
                session.rollback()
                outcomes[name] = error
            finally:
                first_done.set()

    one = threading.Thread(target=run, args=("first", first, second.user_id, True))
    one.start()
    assert first_done.wait(30)
    two = threading.Thread(target=run, args=("second", second, first.user_id, False))
    two.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not waiting_on_a_lock(engine):
            time.sleep(0.05)
        assert waiting_on_a_lock(engine), "the second deactivation did not wait for the first"
        assert "second" not in outcomes
    finally:
        commit_first.set()
        one.join(30)
        two.join(30)
    assert outcomes["first"] == "ok"
    assert isinstance(outcomes["second"], StaffRefused)
    assert outcomes["second"].problem is StaffProblem.LAST_ADMIN
    assert active_admins(engine) == 1


def waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE '%FOR UPDATE%'"
                )
            ).scalar_one()
        )


def test_two_admins_deactivating_each_other_at_once_exactly_one_succeeds(
    engine: Engine, two_admins: tuple[Actor, Actor]
) -> None:
    first, second = two_admins
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(index: int, actor: Actor, target: uuid.UUID) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                staff.deactivate(session, actor, target)
                session.commit()
                outcomes[index] = "ok"
            except Exception as error:
                session.rollback()
                outcomes[index] = error

    threads = [
        threading.Thread(target=run, args=(0, first, second.user_id)),
        threading.Thread(target=run, args=(1, second, first.user_id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("ok") == 1, outcomes
    [loser] = [o for o in outcomes if o != "ok"]
    assert isinstance(loser, StaffRefused) and loser.problem is StaffProblem.LAST_ADMIN
    assert active_admins(engine) == 1
    with Session(engine) as session:
        assert len(audit_rows(session, "user_deactivated")) == 1
