"""The role matrix: every service operation that exists × every role. A service called by a
role that may not use it raises PermissionDenied, whatever the UI shows."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from clinic_tui.services import auth
from clinic_tui.services.access import Actor, Permission, PermissionDenied, Role

Operation = Callable[[Session, Actor], object]


def _create_user(session: Session, actor: Actor) -> object:
    return auth.create_user(
        session,
        actor,
        full_name="Đỗ Thu Hà",
        email=f"{uuid.uuid4()}@c.vn",
        password="long enough pw",
        role=Role.RECEPTIONIST,
    )


# (name, operation, permission it needs). Later issues add their operations here.
OPERATIONS: list[tuple[str, Operation, Permission]] = [
    ("create staff account", _create_user, Permission.USER_ADMIN),
]


def _actor(role: Role) -> Actor:
    return Actor(uuid.uuid4(), f"{role.lower()}@c.vn", "Tester", role)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "operation", "permission"), OPERATIONS, ids=[name for name, _op, _perm in OPERATIONS]
)
def test_role_matrix(
    db_session: Session, role: Role, name: str, operation: Operation, permission: Permission
) -> None:
    actor = _actor(role)
    if actor.can(permission):
        if role is Role.ADMIN:
            # Audit rows need a real user id for the foreign key.
            real = auth.create_first_admin(
                db_session, "Admin", "admin@c.vn", "long enough pw", "long enough pw"
            )
            actor = real
        operation(db_session, actor)
    else:
        with pytest.raises(PermissionDenied):
            operation(db_session, actor)


def test_matrix_matches_design() -> None:
    from clinic_tui.services.access import ROLE_PERMISSIONS

    assert ROLE_PERMISSIONS[Role.PATIENT] == frozenset()
    assert Permission.DATABASE_ADMIN not in ROLE_PERMISSIONS[Role.RECEPTIONIST]
    assert Permission.INVOICE_WRITE not in ROLE_PERMISSIONS[Role.DOCTOR]
    assert Permission.PATIENT_WRITE not in ROLE_PERMISSIONS[Role.DOCTOR]
    assert Permission.PATIENT_READ in ROLE_PERMISSIONS[Role.DOCTOR]
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
