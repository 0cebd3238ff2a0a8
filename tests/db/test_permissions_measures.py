"""Role-matrix rows for outcome measures and discharge (the matrix itself runs in
tests/db/test_permissions.py). Clinical data: doctors and admins only, receptionists neither
read nor write it (DESIGN §5.4).

Each operation builds what it needs inside the test's rolled-back transaction, with a
separate administrator for the setup steps, so the call under test really runs when allowed.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from clinic_tui.services import discharge, outcomes
from clinic_tui.services.access import Actor, Permission
from tests.db.test_permissions_clinic import Need, Operation, add_patient, setup_admin

TODAY = date(2026, 11, 22)


def _vas(session: Session) -> uuid.UUID:
    found: uuid.UUID = session.scalar(
        text("SELECT id FROM outcome_measures_library WHERE code = 'VAS'")
    )
    assert found is not None, "the seeded outcome measures are missing"
    return found


def _scored(session: Session, actor: Actor | None, *, setup: bool = False) -> Any:
    """A patient with a VAS score, recorded by `actor`, or by the setup administrator."""
    return outcomes.record_score(
        session,
        setup_admin(session) if setup else actor,  # type: ignore[arg-type]
        patient_id=add_patient(session),
        library_id=_vas(session),
        measured_on=date(2026, 3, 2),
        score="6",
        today=TODAY,
    )


def _patient_of(session: Session, score: Any) -> uuid.UUID:
    return session.scalar(
        text("SELECT patient_id FROM outcome_measures WHERE id = :i"), {"i": score.id}
    )


def _list_instruments(session: Session, actor: Actor) -> object:
    return outcomes.list_instruments(session, actor)


def _record(session: Session, actor: Actor) -> object:
    return _scored(session, actor)


def _remove(session: Session, actor: Actor) -> object:
    score = _scored(session, None, setup=True)
    return outcomes.remove_score(session, actor, score_id=score.id, measured_on=score.measured_on)


def _trends(session: Session, actor: Actor) -> object:
    return outcomes.patient_trends(
        session, actor, _patient_of(session, _scored(session, None, setup=True))
    )


def _draft(session: Session) -> Any:
    admin = setup_admin(session)
    patient = _patient_of(session, _scored(session, None, setup=True))
    return discharge.start_plan(session, admin, patient_id=patient, planned_date=TODAY)


def _current(session: Session, actor: Actor) -> object:
    return discharge.current_plan(session, actor, _draft(session).patient_id)


def _exercises(session: Session, actor: Actor) -> object:
    return discharge.protocol_exercises(session, actor, add_patient(session))


def _start(session: Session, actor: Actor) -> object:
    return discharge.start_plan(session, actor, patient_id=add_patient(session))


def _save(session: Session, actor: Actor) -> object:
    plan = _draft(session)
    return discharge.save_plan(
        session,
        actor,
        plan.id,
        expected_version=plan.version,
        planned_date=TODAY,
        exercises=plan.exercises,
        summary_en="Pain settled.",
        summary_vi="Hết đau.",
    )


def _finalize(session: Session, actor: Actor) -> object:
    plan = _draft(session)
    plan = discharge.save_plan(
        session,
        setup_admin(session),
        plan.id,
        expected_version=plan.version,
        planned_date=TODAY,
        exercises=(),
        summary_en="Pain settled.",
        summary_vi="Hết đau.",
    )
    return discharge.finalize_plan(
        session, actor, plan.id, expected_version=plan.version, discharged_on=TODAY
    )


def _export(session: Session, actor: Actor) -> object:
    plan = _draft(session)
    with tempfile.TemporaryDirectory(prefix="measures-") as folder:
        return discharge.export_handout(session, actor, plan.id, language="vi", directory=folder)


OPERATIONS: list[tuple[str, Operation, Need]] = [
    ("outcomes.list_instruments", _list_instruments, Permission.CLINICAL_WRITE),
    ("outcomes.record_score", _record, Permission.CLINICAL_WRITE),
    ("outcomes.remove_score", _remove, Permission.CLINICAL_WRITE),
    ("outcomes.patient_trends", _trends, Permission.CLINICAL_WRITE),
    ("discharge.current_plan", _current, Permission.CLINICAL_WRITE),
    ("discharge.protocol_exercises", _exercises, Permission.CLINICAL_WRITE),
    ("discharge.start_plan", _start, Permission.CLINICAL_WRITE),
    ("discharge.save_plan", _save, Permission.CLINICAL_WRITE),
    ("discharge.finalize_plan", _finalize, Permission.CLINICAL_WRITE),
    ("discharge.export_handout", _export, Permission.CLINICAL_WRITE),
]
