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


def _patient_form():
    from datetime import date

    from clinic_tui.forms.patient import validate_patient

    form, problems = validate_patient(
        {"full_name": "Ngô Thị Hoa", "date_of_birth": "1980-02-03", "gender": "FEMALE"},
        language="vi",
        today=date(2026, 11, 22),
        known_codes=(),
        provinces=(),
    )
    assert form is not None, problems
    return form


def _register_patient(session: Session, actor: Actor) -> object:
    from clinic_tui.services import patients

    return patients.register(session, actor, _patient_form())


def _existing_patient(session: Session) -> uuid.UUID:
    from sqlalchemy import text

    return session.execute(
        text(
            "INSERT INTO patients (patient_code, full_name, date_of_birth, gender) "
            "VALUES ('BN-T-' || left(md5(random()::text), 12), 'Đinh Văn Lộc', "
            "DATE '1970-01-01', 'MALE') "
            "RETURNING id"
        )
    ).scalar_one()


def _open_patient(session: Session, actor: Actor) -> object:
    from clinic_tui.services import patients

    return patients.get(session, actor, _existing_patient(session))


def _update_patient(session: Session, actor: Actor) -> object:
    from clinic_tui.services import patients

    return patients.update(
        session, actor, _existing_patient(session), _patient_form(), expected_version=1
    )


def _search_patients(session: Session, actor: Actor) -> object:
    from clinic_tui.services import patient_search

    return patient_search.search(session, actor, "nguyen")


# (name, operation, permission it needs). Later issues add their operations here.
OPERATIONS: list[tuple[str, Operation, Permission]] = [
    ("create staff account", _create_user, Permission.USER_ADMIN),
    ("register patient", _register_patient, Permission.PATIENT_WRITE),
    ("edit patient", _update_patient, Permission.PATIENT_WRITE),
    ("open patient record", _open_patient, Permission.PATIENT_READ),
    ("search patients", _search_patients, Permission.PATIENT_READ),
]


def _real_actor(session: Session, role: Role) -> Actor:
    from clinic_tui.models import User
    from clinic_tui.services.auth import actor_of

    user = User(
        email=f"{uuid.uuid4()}@c.vn", password_hash="x", full_name="Tester", role=role.value
    )
    session.add(user)
    session.flush()
    return actor_of(user)


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
        # Audit rows need a real user id for their foreign key.
        operation(db_session, _real_actor(db_session, role))
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
