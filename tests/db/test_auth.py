"""Signing in: argon2id, lockout after five failures, inactive and patient accounts refused,
audit entries for each attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry, User
from clinic_tui.services import auth
from clinic_tui.services.access import Role
from clinic_tui.services.auth import AccountError, AccountProblem, LoginProblem
from clinic_tui.services.passwords import hash_password

PASSWORD = "long enough pw"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def make_user(
    session: Session,
    email: str = "le.van.an@clinic.vn",
    *,
    role: str = "RECEPTIONIST",
    active: bool = True,
) -> User:
    user = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        full_name="Lê Văn An",
        role=role,
        is_active=active,
    )
    session.add(user)
    session.flush()
    return user


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_right_password_signs_in_and_is_audited(db_session: Session) -> None:
    user = make_user(db_session)
    outcome = auth.login(db_session, "  Le.Van.An@Clinic.VN ", PASSWORD, now=T0)
    assert outcome.actor is not None and outcome.actor.user_id == user.id
    assert outcome.actor.role is Role.RECEPTIONIST
    assert user.last_login_at == T0
    assert actions(db_session) == ["login"]


def test_password_is_stored_as_argon2id(db_session: Session) -> None:
    user = make_user(db_session)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_wrong_password_counts_and_is_audited(db_session: Session) -> None:
    user = make_user(db_session)
    outcome = auth.login(db_session, user.email, "not the password", now=T0)
    assert outcome.actor is None and outcome.problem is LoginProblem.BAD_CREDENTIALS
    assert user.failed_login_count == 1
    assert actions(db_session) == ["login_failed"]


def test_unknown_email_says_the_same_as_a_wrong_password(db_session: Session) -> None:
    outcome = auth.login(db_session, "nobody@clinic.vn", PASSWORD, now=T0)
    assert outcome.problem is LoginProblem.BAD_CREDENTIALS
    details = db_session.execute(text("SELECT details FROM audit_log")).scalar_one()
    assert "nobody" not in str(details)  # the typed email is not kept


def test_five_failures_lock_for_fifteen_minutes(db_session: Session) -> None:
    user = make_user(db_session)
    for attempt in range(4):
        outcome = auth.login(db_session, user.email, "wrong", now=T0 + timedelta(seconds=attempt))
        assert outcome.problem is LoginProblem.BAD_CREDENTIALS
    fifth = auth.login(db_session, user.email, "wrong", now=T0 + timedelta(seconds=5))
    assert fifth.problem is LoginProblem.LOCKED
    assert fifth.locked_until == T0 + timedelta(seconds=5, minutes=15)

    still_locked = auth.login(db_session, user.email, PASSWORD, now=T0 + timedelta(minutes=14))
    assert still_locked.actor is None and still_locked.problem is LoginProblem.LOCKED

    later = auth.login(db_session, user.email, PASSWORD, now=T0 + timedelta(minutes=16))
    assert later.actor is not None
    assert "account_locked" in actions(db_session)


def test_inactive_account_is_refused(db_session: Session) -> None:
    user = make_user(db_session, active=False)
    outcome = auth.login(db_session, user.email, PASSWORD, now=T0)
    assert outcome.actor is None and outcome.problem is LoginProblem.INACTIVE


def test_patient_role_cannot_sign_in(db_session: Session) -> None:
    user = make_user(db_session, "patient@clinic.vn", role="PATIENT")
    outcome = auth.login(db_session, user.email, PASSWORD, now=T0)
    assert outcome.actor is None and outcome.problem is LoginProblem.NOT_STAFF


def test_first_admin_only_on_an_empty_database(db_session: Session) -> None:
    actor = auth.create_first_admin(
        db_session, "Phạm Minh Châu", "chau@clinic.vn", "ten chars!", "ten chars!"
    )
    assert actor.role is Role.ADMIN
    with pytest.raises(AccountError) as raised:
        auth.create_first_admin(
            db_session, "Someone Else", "else@clinic.vn", "ten chars!", "ten chars!"
        )
    assert raised.value.problems == {"form": AccountProblem.ALREADY_SET_UP}


@pytest.mark.parametrize(
    ("name", "email", "password", "again", "problems"),
    [
        ("", "a@b.vn", "1234567890", "1234567890", {"full_name": AccountProblem.NAME_REQUIRED}),
        ("An", "not-an-email", "1234567890", "1234567890", {"email": AccountProblem.EMAIL_INVALID}),
        ("An", "a@b.vn", "123456789", "123456789", {"password": AccountProblem.PASSWORD_TOO_SHORT}),
        (
            "An",
            "a@b.vn",
            "1234567890",
            "1234567899",
            {"password_again": AccountProblem.PASSWORDS_DIFFER},
        ),
    ],
)
def test_account_validation_names_the_field(
    db_session: Session,
    name: str,
    email: str,
    password: str,
    again: str,
    problems: dict[str, AccountProblem],
) -> None:
    with pytest.raises(AccountError) as raised:
        auth.create_first_admin(db_session, name, email, password, again)
    assert raised.value.problems == problems
    assert db_session.scalar(select(User).limit(1)) is None


def test_remembered_language(db_session: Session) -> None:
    user = make_user(db_session)
    actor = auth.login(db_session, user.email, PASSWORD, now=T0).actor
    assert actor is not None
    auth.set_locale(db_session, actor, "vi")
    db_session.expire_all()
    assert auth.login(db_session, user.email, PASSWORD, now=T0).actor.locale == "vi"  # type: ignore[union-attr]
