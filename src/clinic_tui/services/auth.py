"""Signing in and out, first administrator, per-user language (DESIGN §5.4).

Five failed attempts lock an account for 15 minutes. Every sign-in and every failure is
audited (by user id when the email is known; the typed email is never stored).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clinic_tui.models import User
from clinic_tui.services import audit
from clinic_tui.services.access import (
    Actor,
    LoginOutcome,
    LoginProblem,
    Permission,
    Role,
    require,
)
from clinic_tui.services.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class AccountProblem(StrEnum):
    NAME_REQUIRED = "name_required"
    EMAIL_INVALID = "email_invalid"
    EMAIL_TAKEN = "email_taken"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORDS_DIFFER = "passwords_differ"
    ALREADY_SET_UP = "already_set_up"


class AccountError(Exception):
    def __init__(self, problems: dict[str, AccountProblem]) -> None:
        super().__init__(", ".join(f"{k}={v}" for k, v in problems.items()))
        self.problems = problems  # field name → problem


def normalise_email(email: str) -> str:
    from clinic_tui.forms.patient import clean_text  # a NUL would reach PostgreSQL

    # Lower case can decompose ("T" + U+0308): compose after lowering.
    return unicodedata.normalize("NFC", clean_text(email).lower())


def clean_name(full_name: str) -> str:
    from clinic_tui.forms.patient import clean_text

    return clean_text(full_name)


def _now() -> datetime:
    return datetime.now(UTC)


@cache
def _decoy_hash() -> str:
    # Verified against when the email is unknown, so a wrong email takes as long as a wrong
    # password and response times do not reveal which accounts exist.
    return hash_password("not a password of anyone")


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.full_name, Role(user.role), user.locale, user.is_demo)


def login(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime | None = None,
    schema_current: bool = True,
) -> LoginOutcome:
    """`schema_current=False` on a database behind this program: only users' own columns of
    revision 0001 are used and nothing is audited, since the audit table may not exist yet."""
    now = now or _now()
    if not schema_current:
        return _login_on_old_schema(session, email, password, now)
    user = session.scalars(
        select(User).where(User.email == normalise_email(email)).with_for_update()
    ).one_or_none()
    if user is None:
        verify_password(_decoy_hash(), password)
        audit.record(session, "login_failed", details={"reason": "unknown_email"})
        return LoginOutcome(None, LoginProblem.BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        audit.record(
            session, "login_refused_locked", user_id=user.id, entity="user", entity_id=user.id
        )
        return LoginOutcome(None, LoginProblem.LOCKED, user.locked_until)
    if not verify_password(user.password_hash, password):
        user.failed_login_count += 1
        details = {"attempt": user.failed_login_count}
        if user.failed_login_count >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_login_count = 0
            audit.record(
                session,
                "account_locked",
                user_id=user.id,
                entity="user",
                entity_id=user.id,
                details=details,
            )
            return LoginOutcome(None, LoginProblem.LOCKED, user.locked_until)
        audit.record(
            session,
            "login_failed",
            user_id=user.id,
            entity="user",
            entity_id=user.id,
            details=details,
        )
        return LoginOutcome(None, LoginProblem.BAD_CREDENTIALS)
    if not user.is_active:
        audit.record(
            session, "login_refused_inactive", user_id=user.id, entity="user", entity_id=user.id
        )
        return LoginOutcome(None, LoginProblem.INACTIVE)
    if user.role == Role.PATIENT:
        audit.record(
            session, "login_refused_role", user_id=user.id, entity="user", entity_id=user.id
        )
        return LoginOutcome(None, LoginProblem.NOT_STAFF)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, "login", user_id=user.id, entity="user", entity_id=user.id)
    return LoginOutcome(actor_of(user))


def _login_on_old_schema(
    session: Session, email: str, password: str, now: datetime
) -> LoginOutcome:
    user = session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()
    if user is None or not verify_password(user.password_hash, password):
        return LoginOutcome(None, LoginProblem.BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome(None, LoginProblem.LOCKED, user.locked_until)
    if not user.is_active:
        return LoginOutcome(None, LoginProblem.INACTIVE)
    return LoginOutcome(actor_of(user))


def logout(session: Session, actor: Actor) -> None:
    audit.record(session, "logout", user_id=actor.user_id, entity="user", entity_id=actor.user_id)


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def validate_account(
    full_name: str, email: str, password: str, password_again: str
) -> dict[str, AccountProblem]:
    problems: dict[str, AccountProblem] = {}
    if not clean_name(full_name):
        problems["full_name"] = AccountProblem.NAME_REQUIRED
    address = normalise_email(email)
    local, _at, domain = address.partition("@")
    if not local or "." not in domain or " " in address or len(address) > 254:
        problems["email"] = AccountProblem.EMAIL_INVALID
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = AccountProblem.PASSWORD_TOO_SHORT
    elif password != password_again:
        problems["password_again"] = AccountProblem.PASSWORDS_DIFFER
    return problems


def create_first_admin(
    session: Session, full_name: str, email: str, password: str, password_again: str
) -> Actor:
    """Only on a database with no account at all: the person installing the clinic."""
    problems = validate_account(full_name, email, password, password_again)
    if problems:
        raise AccountError(problems)
    # Serialise concurrent first runs: only one of them may create the first admin.
    session.execute(select(func.pg_advisory_xact_lock(0x61646D6E)))
    if has_users(session):
        raise AccountError({"form": AccountProblem.ALREADY_SET_UP})
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        full_name=clean_name(full_name),
        role=Role.ADMIN.value,
    )
    session.add(user)
    session.flush()
    audit.record(session, "first_admin_created", user_id=user.id, entity="user", entity_id=user.id)
    return actor_of(user)


def create_user(
    session: Session,
    actor: Actor,
    *,
    full_name: str,
    email: str,
    password: str,
    role: Role,
) -> Actor:
    require(actor, Permission.USER_ADMIN)
    problems = validate_account(full_name, email, password, password)
    if not problems and session.scalar(
        select(func.count()).select_from(User).where(User.email == normalise_email(email))
    ):
        problems["email"] = AccountProblem.EMAIL_TAKEN
    if problems:
        raise AccountError(problems)
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        full_name=clean_name(full_name),
        role=role.value,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user_created",
        user_id=actor.user_id,
        entity="user",
        entity_id=user.id,
        details={"role": role.value},
    )
    return actor_of(user)


def set_locale(session: Session, actor: Actor, locale: str) -> None:
    """Remember the language a person last chose (their own account only)."""
    if locale not in ("en", "vi"):
        return
    session.execute(update(User).where(User.id == actor.user_id).values(locale=locale))
