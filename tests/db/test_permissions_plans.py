"""Role-matrix rows for treatment plans and sessions (issue 12; the matrix itself runs in
tests/db/test_permissions.py). Clinical records are read and written by doctors and admins
only (DESIGN §5.4).

Each operation builds what it needs inside the test's rolled-back transaction, with a separate
administrator for the setup steps, so the call under test really runs when allowed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from clinic_tui.services import treatment
from clinic_tui.services.access import Actor, Permission
from clinic_tui.services.treatment import PlanInput
from tests.db.test_permissions_clinic import (
    DAY,
    Need,
    Operation,
    add_doctor,
    add_patient,
    booked,
    setup_admin,
)


def _form(doctor_id: uuid.UUID, protocol_id: uuid.UUID | None = None) -> PlanInput:
    return PlanInput(doctor_id=doctor_id, diagnosis="Đau thắt lưng", diagnosis_icd10="M54.5",
                     start_date=DAY, protocol_id=protocol_id)  # fmt: skip


def _lbp(session: Session) -> uuid.UUID:
    found: uuid.UUID = session.scalar(
        text("SELECT id FROM clinical_protocols WHERE code = 'LBP-8W'")
    )
    assert found is not None, "the seeded protocols are missing"
    return found


def _a_plan(session: Session, patient_id: uuid.UUID | None = None) -> Any:
    """An active plan following LBP-8W, made by the setup administrator."""
    return treatment.create_plan(
        session, setup_admin(session), patient_id or add_patient(session),
        _form(add_doctor(session), _lbp(session)),
    )  # fmt: skip


def _list_plans(session: Session, actor: Actor) -> object:
    return treatment.list_plans(session, actor, _a_plan(session).patient_id)


def _get_plan(session: Session, actor: Actor) -> object:
    return treatment.get_plan(session, actor, _a_plan(session).id)


def _plan_doctors(session: Session, actor: Actor) -> object:
    add_doctor(session)
    return treatment.plan_doctors(session, actor)


def _plan_exercises(session: Session, actor: Actor) -> object:
    return treatment.plan_exercises(session, actor, _a_plan(session).id)


def _list_sessions(session: Session, actor: Actor) -> object:
    return treatment.list_sessions(session, actor, _a_plan(session).id)


def _create_plan(session: Session, actor: Actor) -> object:
    return treatment.create_plan(
        session, actor, add_patient(session), _form(add_doctor(session), _lbp(session))
    )


def _update_plan(session: Session, actor: Actor) -> object:
    plan = _a_plan(session)
    return treatment.update_plan(
        session, actor, plan.id, _form(add_doctor(session)), expected_version=plan.version
    )


def _record_session(session: Session, actor: Actor) -> object:
    return treatment.record_session(
        session, actor, _a_plan(session).id, session_date=DAY, pain_level=3,
        exercises=["Cat-camel"], minutes=40, today=DAY,
    )  # fmt: skip


def _visit_context(session: Session, actor: Actor) -> object:
    visit = booked(session, checked_in=True)
    _a_plan(session, visit.patient_id)
    return treatment.visit_context(session, actor, visit.id)


def _record_for_visit(session: Session, actor: Actor) -> object:
    visit = booked(session, checked_in=True)
    _a_plan(session, visit.patient_id)
    return treatment.record_session_for_appointment(
        session, actor, visit.id, pain_level=2, minutes=30, today=DAY
    )


OPERATIONS: list[tuple[str, Operation, Need]] = [
    # Reading a clinical record is clinical too: the front desk may not (DESIGN §5.4).
    ("treatment.list_plans", _list_plans, Permission.CLINICAL_WRITE),
    ("treatment.get_plan", _get_plan, Permission.CLINICAL_WRITE),
    ("treatment.plan_doctors", _plan_doctors, Permission.CLINICAL_WRITE),
    ("treatment.plan_exercises", _plan_exercises, Permission.CLINICAL_WRITE),
    ("treatment.list_sessions", _list_sessions, Permission.CLINICAL_WRITE),
    ("treatment.visit_context", _visit_context, Permission.CLINICAL_WRITE),
    ("treatment.create_plan", _create_plan, Permission.CLINICAL_WRITE),
    ("treatment.update_plan", _update_plan, Permission.CLINICAL_WRITE),
    ("treatment.record_session", _record_session, Permission.CLINICAL_WRITE),
    ("treatment.record_session_for_appointment", _record_for_visit, Permission.CLINICAL_WRITE),
]
