"""Staff accounts, for administrators: list, create, deactivate and reactivate, reset a
password, unlock, change a role (DESIGN §5.4).

The clinic must always keep one active administrator: deactivating or demoting the last one is
refused, and so is deactivating or demoting oneself while signed in. Each change that takes an
administrator away first locks every active administrator's row (in id order, so two such
changes never deadlock), so two admins removing the last two admins at the same moment cannot
both succeed: the second waits, then sees the first's change and is refused.

Accounts are created and passwords checked by the rules of `services.auth`; audit entries name
the account and the change, never a password or its hash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic_tui.i18n import N_
from clinic_tui.models import User
from clinic_tui.services import audit, auth
from clinic_tui.services.access import Actor, Permission, Role, require
from clinic_tui.services.auth import AccountError, AccountProblem
from clinic_tui.services.passwords import hash_password

STAFF_ROLES = (Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR)


@dataclass(frozen=True)
class StaffMember:
    """One staff account as the admin screen shows it (plain data, safe across threads)."""

    id: uuid.UUID
    full_name: str
    email: str
    role: Role
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    failed_login_count: int
    is_demo: bool = False

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class StaffProblem(StrEnum):
    LAST_ADMIN = "last_admin"
    SELF_DEACTIVATE = "self_deactivate"
    SELF_ROLE = "self_role"
    NOT_FOUND = "not_found"
    NOT_STAFF_ROLE = "not_staff_role"


STAFF_PROBLEMS = {
    StaffProblem.LAST_ADMIN: N_(
        "Refused: {name} is the last active administrator. Make another account an "
        "administrator first."
    ),
    StaffProblem.SELF_DEACTIVATE: N_(
        "Refused: you cannot deactivate your own account while signed in. Ask another "
        "administrator."
    ),
    StaffProblem.SELF_ROLE: N_(
        "Refused: you cannot change your own role while signed in. Ask another administrator."
    ),
    StaffProblem.NOT_FOUND: N_("This account no longer exists. The list has been refreshed."),
    StaffProblem.NOT_STAFF_ROLE: N_("Choose administrator, receptionist or therapist."),
}


class StaffRefused(Exception):
    """A change the rules do not allow; `msgid` (with `name`) is the sentence staff read."""

    def __init__(self, problem: StaffProblem, *, name: str = "") -> None:
        super().__init__(f"{problem.value}: {name}" if name else problem.value)
        self.problem = problem
        self.name = name

    @property
    def msgid(self) -> str:
        return STAFF_PROBLEMS[self.problem]


def _member(user: User) -> StaffMember:
    return StaffMember(
        id=user.id,
        full_name=user.full_name,
        email=user.email,
        role=Role(user.role),
        is_active=user.is_active,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
        failed_login_count=user.failed_login_count,
        is_demo=user.is_demo,
    )


def _staff_role(role: Role | str) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        raise StaffRefused(StaffProblem.NOT_STAFF_ROLE) from None
    if parsed not in STAFF_ROLES:
        raise StaffRefused(StaffProblem.NOT_STAFF_ROLE)
    return parsed


def _lock_active_admins(session: Session) -> set[uuid.UUID]:
    """Lock every active administrator's row until commit; their ids.

    Under READ COMMITTED a row changed by a transaction we waited for is re-checked after the
    wait, so an admin just deactivated (or demoted) by someone else is no longer counted."""
    return set(
        session.scalars(
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.is_active)
            .order_by(User.id)
            .with_for_update()
        )
    )


def _locked_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.scalars(
        select(User)
        .where(User.id == user_id, User.role != Role.PATIENT.value)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if user is None:
        raise StaffRefused(StaffProblem.NOT_FOUND)
    return user


def _keep_an_admin(admins: set[uuid.UUID], user: User) -> None:
    if not admins - {user.id}:
        raise StaffRefused(StaffProblem.LAST_ADMIN, name=user.full_name)


def _audit(session: Session, actor: Actor, action: str, user: User, **details: object) -> None:
    audit.record(
        session, action, user_id=actor.user_id, entity="user", entity_id=user.id, details=details
    )


# ---- reading --------------------------------------------------------------------------------


def list_staff(session: Session, actor: Actor) -> list[StaffMember]:
    """Every staff account (patients' accounts are not staff): active first, then by name."""
    require(actor, Permission.USER_ADMIN)
    users = session.scalars(
        select(User)
        .where(User.role != Role.PATIENT.value)
        .order_by(User.is_active.desc(), User.full_name, User.email)
    )
    return [_member(user) for user in users]


def get_staff(session: Session, actor: Actor, user_id: uuid.UUID) -> StaffMember:
    require(actor, Permission.USER_ADMIN)
    user = session.scalars(
        select(User).where(User.id == user_id, User.role != Role.PATIENT.value)
    ).one_or_none()
    if user is None:
        raise StaffRefused(StaffProblem.NOT_FOUND)
    return _member(user)


# ---- changes --------------------------------------------------------------------------------


def create_staff(
    session: Session,
    actor: Actor,
    *,
    full_name: str,
    email: str,
    role: Role | str,
    password: str,
    password_again: str,
) -> StaffMember:
    """A new account that can sign in at once with `password`. Raises AccountError naming each
    wrong field (the rules of the first administrator's form), StaffRefused for a non-staff
    role."""
    require(actor, Permission.USER_ADMIN)
    staff_role = _staff_role(role)
    problems = auth.validate_account(full_name, email, password, password_again)
    if problems:
        raise AccountError(problems)
    try:
        # A savepoint: an address taken by a concurrent creation only undoes this insert.
        with session.begin_nested():
            created = auth.create_user(
                session,
                actor,
                full_name=full_name,
                email=email,
                password=password,
                role=staff_role,
            )
    except IntegrityError:
        raise AccountError({"email": AccountProblem.EMAIL_TAKEN}) from None
    return get_staff(session, actor, created.user_id)


def deactivate(session: Session, actor: Actor, user_id: uuid.UUID) -> StaffMember:
    """The account can no longer sign in; nothing it recorded is touched."""
    require(actor, Permission.USER_ADMIN)
    if user_id == actor.user_id:
        raise StaffRefused(StaffProblem.SELF_DEACTIVATE)
    admins = _lock_active_admins(session)
    user = _locked_user(session, user_id)
    if not user.is_active:
        return _member(user)
    if user.role == Role.ADMIN.value:
        _keep_an_admin(admins, user)
    user.is_active = False
    _audit(session, actor, "user_deactivated", user, role=user.role)
    session.flush()
    return _member(user)


def reactivate(session: Session, actor: Actor, user_id: uuid.UUID) -> StaffMember:
    require(actor, Permission.USER_ADMIN)
    user = _locked_user(session, user_id)
    if user.is_active:
        return _member(user)
    user.is_active = True
    _audit(session, actor, "user_reactivated", user, role=user.role)
    session.flush()
    return _member(user)


def change_role(
    session: Session, actor: Actor, user_id: uuid.UUID, role: Role | str
) -> StaffMember:
    require(actor, Permission.USER_ADMIN)
    new_role = _staff_role(role)
    if user_id == actor.user_id:
        raise StaffRefused(StaffProblem.SELF_ROLE)
    admins = _lock_active_admins(session)
    user = _locked_user(session, user_id)
    old_role = Role(user.role)
    if old_role is new_role:
        return _member(user)
    if old_role is Role.ADMIN and user.is_active:
        _keep_an_admin(admins, user)
    user.role = new_role.value
    _audit(session, actor, "user_role_changed", user, old=old_role.value, new=new_role.value)
    session.flush()
    return _member(user)


def reset_password(
    session: Session,
    actor: Actor,
    user_id: uuid.UUID,
    new_password: str,
    password_again: str | None = None,
) -> StaffMember:
    """Set a new password (the rules of `auth`, argon2id). The account is unlocked too: a
    person locked out after forgetting their password can sign in with the new one at once."""
    require(actor, Permission.USER_ADMIN)
    again = new_password if password_again is None else password_again
    user = _locked_user(session, user_id)
    # The account's own name and address pass the account rules; only the password's count.
    problems = {
        field: problem
        for field, problem in auth.validate_account(
            user.full_name, user.email, new_password, again
        ).items()
        if field in ("password", "password_again")
    }
    if problems:
        raise AccountError(problems)
    was_locked = user.locked_until is not None or user.failed_login_count > 0
    user.password_hash = hash_password(new_password)
    user.failed_login_count = 0
    user.locked_until = None
    _audit(session, actor, "user_password_reset", user, unlocked=was_locked)
    session.flush()
    return _member(user)


def unlock(session: Session, actor: Actor, user_id: uuid.UUID) -> StaffMember:
    """Clear the failed attempts and the lock: the person may sign in again now."""
    require(actor, Permission.USER_ADMIN)
    user = _locked_user(session, user_id)
    if user.locked_until is None and user.failed_login_count == 0:
        return _member(user)
    _audit(
        session,
        actor,
        "user_unlocked",
        user,
        failed_attempts=user.failed_login_count,
        was_locked_until=user.locked_until.isoformat() if user.locked_until else None,
    )
    user.failed_login_count = 0
    user.locked_until = None
    session.flush()
    return _member(user)
