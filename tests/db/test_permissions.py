"""The role matrix: every service operation that exists × every role. A service called by a
role that may not use it raises PermissionDenied, whatever the UI shows.

The rows live beside their areas (tests/db/test_permissions_clinic.py, _billing.py, _admin.py);
the completeness test here fails as soon as a service gains a permission-checked operation
without a row, or a row names an operation that is gone.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import uuid
from types import FunctionType, ModuleType

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import clinic_tui.services
from clinic_tui.models import AuditEntry
from clinic_tui.services.access import ROLE_PERMISSIONS, Actor, Permission, PermissionDenied, Role
from tests.db import (
    test_permissions_admin,
    test_permissions_billing,
    test_permissions_checklist,
    test_permissions_clinic,
    test_permissions_measures,
    test_permissions_plans,
    test_permissions_video,
)
from tests.db.test_permissions_clinic import Need, Operation, add_user

OPERATIONS: list[tuple[str, Operation, Need]] = [
    *test_permissions_clinic.OPERATIONS,
    *test_permissions_billing.OPERATIONS,
    *test_permissions_admin.OPERATIONS,
    *test_permissions_checklist.OPERATIONS,
    *test_permissions_video.OPERATIONS,
    *test_permissions_plans.OPERATIONS,
    *test_permissions_measures.OPERATIONS,
]
OUTSIDE_SESSION = [row[0] for row in test_permissions_admin.OUTSIDE_SESSION]

# The gates themselves, not operations.
GATES = {"access.require", "billing_ledger.require_any"}
# Public functions that take the signed-in person but rightly check no permission: they touch
# only that person's own account, or answer "which doctor row is mine".
OWN_ACCOUNT_ONLY = {
    "auth.logout",  # the audit entry of one's own sign-out
    "auth.set_locale",  # one's own language
    "scheduling.own_doctor_id",  # a read of the doctor row linked to the actor
}
# What marks a function as checked: the gates, or raising the refusal itself.
_CHECKS = re.compile(r"\b(?:require|require_any|PermissionDenied)\(")
_PRIVATE_CALL = re.compile(r"\b(_[A-Za-z]\w*)\(")


def _service_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"clinic_tui.services.{info.name}")
        for info in pkgutil.iter_modules(clinic_tui.services.__path__)
    ]


def _own_functions(module: ModuleType) -> dict[str, FunctionType]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__
    }


def _checks(name: str, functions: dict[str, FunctionType], seen: set[str]) -> bool:
    """Whether the function checks a permission, itself or through a private helper of its
    module (`scheduling._edit`, `appointments._transition` → `_may`)."""
    if name in seen:
        return False
    seen.add(name)
    source = inspect.getsource(functions[name])
    if _CHECKS.search(source):
        return True
    return any(
        helper in functions and _checks(helper, functions, seen)
        for helper in _PRIVATE_CALL.findall(source)
    )


def checked_operations() -> set[str]:
    found = set()
    for module in _service_modules():
        functions = _own_functions(module)
        short = module.__name__.rpartition(".")[2]
        for name in functions:
            if not name.startswith("_") and _checks(name, functions, set()):
                found.add(f"{short}.{name}")
    return found - GATES


def operations_taking_an_actor() -> set[str]:
    found = set()
    for module in _service_modules():
        short = module.__name__.rpartition(".")[2]
        for name, function in _own_functions(module).items():
            if not name.startswith("_") and "actor" in inspect.signature(function).parameters:
                found.add(f"{short}.{name}")
    return found - GATES


def test_every_checked_operation_has_a_row() -> None:
    names = [name for name, _op, _need in OPERATIONS] + OUTSIDE_SESSION
    assert len(names) == len(set(names)), "a row appears twice"
    listed = set(names)
    checked = checked_operations()
    assert checked - listed == set(), "service operations without a row in the role matrix"
    assert listed - checked == set(), "rows for operations that are gone or check nothing"
    # The walk really reaches the services (a broken walk would find nothing to compare).
    assert {"billing.issue", "billing.void", "schema_admin.run", "backups.restore"} <= checked


def test_every_operation_taking_an_actor_checks_a_permission() -> None:
    unchecked = operations_taking_an_actor() - checked_operations()
    assert unchecked == OWN_ACCOUNT_ONLY


def _allowed(actor: Actor, need: Need) -> bool:
    needed = need if isinstance(need, frozenset) else {need}
    return any(actor.can(permission) for permission in needed)


def _entries_by(session: Session, actor: Actor) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.user_id == actor.user_id)
    return session.scalar(query) or 0


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "operation", "need"), OPERATIONS, ids=[name for name, _op, _need in OPERATIONS]
)
def test_role_matrix(
    db_session: Session, role: Role, name: str, operation: Operation, need: Need
) -> None:
    # A real account either way: audit rows need its id, and a refusal must leave none.
    actor = add_user(db_session, role)
    if _allowed(actor, need):
        try:
            operation(db_session, actor)
        except PermissionDenied as error:
            pytest.fail(f"{role} may {need} but {name} refused: {error}")
        return
    with pytest.raises(PermissionDenied) as denied:
        operation(db_session, actor)
    # The refusal names the permission DESIGN §5.4 gives the operation, not another one
    # the role happens to lack too.
    needed = need if isinstance(need, frozenset) else {need}
    assert denied.value.permission in needed
    assert _entries_by(db_session, actor) == 0


def test_nobody_signed_in_is_refused(db_session: Session) -> None:
    for name, operation, _need in OPERATIONS:
        with pytest.raises(PermissionDenied):
            operation(db_session, None)  # type: ignore[arg-type]
            pytest.fail(f"{name} ran for nobody")


def test_matrix_matches_design() -> None:
    assert ROLE_PERMISSIONS[Role.PATIENT] == frozenset()
    assert Permission.DATABASE_ADMIN not in ROLE_PERMISSIONS[Role.RECEPTIONIST]
    assert Permission.INVOICE_WRITE not in ROLE_PERMISSIONS[Role.DOCTOR]
    assert Permission.PAYMENT_WRITE not in ROLE_PERMISSIONS[Role.DOCTOR]
    assert Permission.PATIENT_WRITE not in ROLE_PERMISSIONS[Role.DOCTOR]
    assert Permission.PATIENT_READ in ROLE_PERMISSIONS[Role.DOCTOR]
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    admin_only = {
        Permission.USER_ADMIN,
        Permission.REFERENCE_ADMIN,
        Permission.DATABASE_ADMIN,
        Permission.TERM_WRITE,
        Permission.AUDIT_READ,
    }
    for role in (Role.RECEPTIONIST, Role.DOCTOR):
        assert not admin_only & ROLE_PERMISSIONS[role], role


def test_each_role_is_both_refused_and_allowed_somewhere() -> None:
    # The matrix would prove little if one side of it were empty for a role.
    for role in (Role.RECEPTIONIST, Role.DOCTOR):
        actor = Actor(uuid.uuid4(), "x@c.vn", "Tester", role)
        verdicts = {_allowed(actor, need) for _name, _op, need in OPERATIONS}
        assert verdicts == {True, False}, role
