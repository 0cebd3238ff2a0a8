"""Who may do what (DESIGN §5.4). Every service checks here before it touches data.

ADMIN: everything. RECEPTIONIST: patients, schedules, appointments, invoices, payments,
lookups. DOCTOR: own schedule, clinical records, protocols, outcome measures, lookups, and
reading patients' demographics. PATIENT: cannot log in here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clinic_tui.i18n import N_


class Role(StrEnum):
    ADMIN = "ADMIN"
    RECEPTIONIST = "RECEPTIONIST"
    DOCTOR = "DOCTOR"
    PATIENT = "PATIENT"


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.RECEPTIONIST: N_("Receptionist"),
    Role.DOCTOR: N_("Therapist"),
    Role.PATIENT: N_("Patient"),
}


class Permission(StrEnum):
    PATIENT_READ = "patient.read"
    PATIENT_WRITE = "patient.write"
    SCHEDULE_READ = "schedule.read"
    SCHEDULE_WRITE = "schedule.write"
    APPOINTMENT_WRITE = "appointment.write"
    INVOICE_WRITE = "invoice.write"
    PAYMENT_WRITE = "payment.write"
    LOOKUP = "lookup"
    TERM_WRITE = "term.write"
    CLINICAL_WRITE = "clinical.write"
    PROTOCOL_ASSIGN = "protocol.assign"
    USER_ADMIN = "user.admin"
    REFERENCE_ADMIN = "reference.admin"
    DATABASE_ADMIN = "database.admin"
    AUDIT_READ = "audit.read"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RECEPTIONIST: frozenset(
        {
            Permission.PATIENT_READ,
            Permission.PATIENT_WRITE,
            Permission.SCHEDULE_READ,
            Permission.SCHEDULE_WRITE,
            Permission.APPOINTMENT_WRITE,
            Permission.INVOICE_WRITE,
            Permission.PAYMENT_WRITE,
            Permission.LOOKUP,
        }
    ),
    Role.DOCTOR: frozenset(
        {
            Permission.PATIENT_READ,
            Permission.SCHEDULE_READ,
            Permission.LOOKUP,
            Permission.CLINICAL_WRITE,
            Permission.PROTOCOL_ASSIGN,
        }
    ),
    Role.PATIENT: frozenset(),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in person, as services see them. Plain data: safe to pass between threads."""

    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    locale: str = "en"
    is_demo: bool = False

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


class PermissionDenied(Exception):
    def __init__(self, actor: Actor | None, permission: Permission) -> None:
        super().__init__(f"{actor.role if actor else 'nobody'} may not {permission}")
        self.permission = permission


def require(actor: Actor | None, permission: Permission) -> Actor:
    if actor is None or not actor.can(permission):
        raise PermissionDenied(actor, permission)
    return actor


# ---- signing in (plain data: the login screen uses it before SQLAlchemy is loaded) ----


class LoginProblem(StrEnum):
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    INACTIVE = "inactive"
    NOT_STAFF = "not_staff"


@dataclass(frozen=True)
class LoginOutcome:
    """A sign-in attempt's result. Returned, not raised: a failure must still be committed
    (the failed-attempt count and the audit entry), so the caller commits either way."""

    actor: Actor | None
    problem: LoginProblem | None = None
    locked_until: datetime | None = None
