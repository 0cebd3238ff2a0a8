"""Treatment plans and sessions (issue 12 item 1): a plan with a diagnosis term and its ICD-10
code, an optional protocol linked through the patient's assignment, optimistic edits; sessions
with pain, minutes and the exercises of the protocol's current phase; the session of a
completed visit on the patient's active plan. Every refusal names its field and writes nothing;
every write leaves one audit entry per change, with ids and no clinical text."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry, PatientProtocol, TreatmentPlan, TreatmentSession
from clinic_tui.services import protocols, treatment
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.treatment import (
    PlanEditConflict,
    PlanInput,
    TreatmentInvalid,
)
from tests.db.test_permissions_clinic import DAY, add_doctor, add_patient, add_user, booked

START = date(2026, 3, 2)
TODAY = date(2026, 4, 1)


def _term(session: Session, term_en: str) -> uuid.UUID:
    sql = "SELECT id FROM vietnamese_medical_terms WHERE term_en = :t"
    return session.execute(text(sql), {"t": term_en}).scalar_one()


def _protocol(session: Session, code: str) -> uuid.UUID:
    sql = "SELECT id FROM clinical_protocols WHERE code = :c"
    return session.execute(text(sql), {"c": code}).scalar_one()


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _audit(session: Session, actor: Actor) -> list[tuple[str, str | None, str | None, dict]]:
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.entity, AuditEntry.entity_id, AuditEntry.details)
        .where(AuditEntry.user_id == actor.user_id)
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.fixture
def doctor(db_session: Session) -> Actor:
    return add_user(db_session, Role.DOCTOR, "Trần Đức Minh")


@pytest.fixture
def doctor_id(db_session: Session, doctor: Actor) -> uuid.UUID:
    return add_doctor(db_session, doctor.user_id)


@pytest.fixture
def patient_id(db_session: Session) -> uuid.UUID:
    return add_patient(db_session, "Nguyễn Thị Hồng Nhung")


def _form(who: uuid.UUID, **values: Any) -> PlanInput:
    defaults: dict[str, Any] = {"doctor_id": who, "diagnosis": "Đau thắt lưng",
                                "start_date": START, "goals": "Giảm đau\nĐi bộ 30 phút",
                                "planned_end_date": START + timedelta(weeks=8)}  # fmt: skip
    return PlanInput(**{**defaults, **values})


def _plan(session: Session, actor: Actor, patient_id: uuid.UUID, who: uuid.UUID,
          **values: Any) -> treatment.PlanView:  # fmt: skip
    return treatment.create_plan(session, actor, patient_id, _form(who, **values))


# --- plans ------------------------------------------------------------------------------------


def test_a_plan_keeps_the_picked_terms_code(db_session, doctor, doctor_id, patient_id) -> None:
    term = _term(db_session, "Low back pain")
    plan = _plan(db_session, doctor, patient_id, doctor_id, diagnosis="Đau  thắt lưng\x00",
                 diagnosis_term_id=term, diagnosis_icd10="Z99")  # fmt: skip
    assert (plan.diagnosis, plan.diagnosis_icd10) == ("Đau thắt lưng", "M54.5")
    assert (plan.doctor_id, plan.doctor_name, plan.status, plan.version) == (
        doctor_id, "BS. Trần Đức Minh", "ACTIVE", 1)  # fmt: skip
    assert plan.goals == "Giảm đau\nĐi bộ 30 phút" and plan.sessions_per_week == 3
    assert plan.protocol is None and plan.session_count == 0
    assert treatment.list_plans(db_session, doctor, patient_id) == [plan]
    assert treatment.get_plan(db_session, doctor, plan.id) == plan
    [(action, entity, entity_id, details)] = _audit(db_session, doctor)
    assert (action, entity, entity_id) == ("treatment_plan_created", "treatment_plan", str(plan.id))
    assert "lưng" not in str(details) and "Giảm" not in str(details)


def test_a_typed_code_is_kept_without_a_term(db_session, doctor, doctor_id, patient_id) -> None:
    plan = _plan(db_session, doctor, patient_id, doctor_id, diagnosis="Thoái hóa khớp gối",
                 diagnosis_icd10=" m17.1 ")  # fmt: skip
    assert plan.diagnosis_icd10 == "M17.1"
    free = _plan(db_session, doctor, patient_id, doctor_id, diagnosis="Mỏi cổ vai gáy")
    assert free.diagnosis_icd10 is None


def test_a_protocol_is_assigned_and_linked(db_session, doctor, doctor_id, patient_id) -> None:
    lbp = _protocol(db_session, "LBP-8W")
    plan = _plan(db_session, doctor, patient_id, doctor_id, protocol_id=lbp)
    assert plan.protocol is not None
    assert (plan.protocol.code, plan.protocol.current_phase, plan.protocol.progress_status) == (
        "LBP-8W", "initial", "NOT_STARTED")  # fmt: skip
    [assigned] = protocols.patient_protocols(db_session, doctor, patient_id)
    assert assigned.id == plan.protocol.patient_protocol_id and assigned.start_date == START
    linked = db_session.get(PatientProtocol, assigned.id)
    assert linked is not None and linked.treatment_plan_id == plan.id
    actions = [row[0] for row in _audit(db_session, doctor)]
    assert actions == ["treatment_plan_created", "protocol_assigned",
                       "treatment_plan_protocol_linked"]  # fmt: skip


def test_an_open_assignment_is_linked_not_repeated(
    db_session, doctor, doctor_id, patient_id
) -> None:
    knee = _protocol(db_session, "KNEE-OA-8W")
    before = protocols.assign_protocol(db_session, doctor, patient_id=patient_id,
                                       protocol_id=knee, start_date=START)  # fmt: skip
    plan = _plan(db_session, doctor, patient_id, doctor_id, protocol_id=knee)
    assert plan.protocol is not None and plan.protocol.patient_protocol_id == before.id
    assert _count(db_session, PatientProtocol, PatientProtocol.patient_id == patient_id) == 1


REFUSED_PLANS = [
    ({"diagnosis": "  \x00 "}, {"diagnosis": treatment.REQUIRED}),
    ({"diagnosis": "x" * 501}, {"diagnosis": treatment.TOO_LONG}),
    ({"diagnosis_icd10": "lưng"}, {"diagnosis": treatment.ICD10_FORMAT}),
    ({"diagnosis_term_id": uuid.uuid4()}, {"diagnosis": treatment.TERM_UNKNOWN}),
    ({"doctor_id": None}, {"doctor_id": treatment.REQUIRED}),
    ({"doctor_id": uuid.uuid4()}, {"doctor_id": treatment.DOCTOR_UNKNOWN}),
    ({"sessions_per_week": 0}, {"sessions_per_week": treatment.PER_WEEK}),
    ({"sessions_per_week": 15}, {"sessions_per_week": treatment.PER_WEEK}),
    ({"sessions_per_week": None}, {"sessions_per_week": treatment.REQUIRED}),
    ({"start_date": None}, {"start_date": treatment.REQUIRED}),
    ({"planned_end_date": START - timedelta(days=1)},
     {"planned_end_date": treatment.END_BEFORE_START}),
    ({"status": "PAUSED"}, {"status": treatment.STATUS}),
    ({"protocol_id": uuid.uuid4()}, {"protocol_id": treatment.PROTOCOL_UNKNOWN}),
    ({"goals": "g" * 4001, "sessions_per_week": 20, "diagnosis": ""},
     {"goals": treatment.TOO_LONG, "sessions_per_week": treatment.PER_WEEK,
      "diagnosis": treatment.REQUIRED}),
]  # fmt: skip


@pytest.mark.parametrize(("values", "problems"), REFUSED_PLANS)
def test_a_refused_plan_writes_nothing(
    db_session, doctor, doctor_id, patient_id, values, problems
) -> None:
    with pytest.raises(TreatmentInvalid) as refused:
        _plan(db_session, doctor, patient_id, doctor_id, **values)
    assert refused.value.problems == problems
    assert _count(db_session, TreatmentPlan, TreatmentPlan.patient_id == patient_id) == 0
    assert _count(db_session, PatientProtocol, PatientProtocol.patient_id == patient_id) == 0
    assert _audit(db_session, doctor) == []


def test_a_plan_for_no_patient_is_refused(db_session, doctor, doctor_id) -> None:
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.create_plan(db_session, doctor, uuid.uuid4(), _form(doctor_id))
    assert refused.value.problems == {"patient_id": treatment.PATIENT_UNKNOWN}
    assert _audit(db_session, doctor) == []


def test_editing_a_plan(db_session, doctor, doctor_id, patient_id) -> None:
    lbp, knee = _protocol(db_session, "LBP-8W"), _protocol(db_session, "KNEE-OA-8W")
    plan = _plan(db_session, doctor, patient_id, doctor_id, diagnosis_icd10="M54.5",
                 protocol_id=lbp)  # fmt: skip
    old_link = plan.protocol.patient_protocol_id  # type: ignore[union-attr]
    form = _form(doctor_id, diagnosis="Đau thắt lưng", diagnosis_icd10="M54.5",
                 sessions_per_week=2, protocol_id=knee)  # fmt: skip
    edited = treatment.update_plan(db_session, doctor, plan.id, form, expected_version=1)
    assert (edited.version, edited.sessions_per_week, edited.diagnosis_icd10) == (2, 2, "M54.5")
    assert edited.protocol is not None and edited.protocol.code == "KNEE-OA-8W"
    unlinked = db_session.get(PatientProtocol, old_link)
    assert unlinked is not None and unlinked.treatment_plan_id is None
    assert unlinked.progress_status == "NOT_STARTED"  # unlinked, not ended
    entries = _audit(db_session, doctor)[3:]
    assert [e[0] for e in entries] == [
        "treatment_plan_updated", "treatment_plan_protocol_unlinked", "protocol_assigned",
        "treatment_plan_protocol_linked",
    ]  # fmt: skip
    assert entries[0][3] == {"status": "ACTIVE", "fields": "sessions_per_week"}
    # No protocol any more, and the plan closes.
    closed = treatment.update_plan(
        db_session, doctor, plan.id, replace(form, protocol_id=None, status="COMPLETED"),
        expected_version=2,
    )  # fmt: skip
    assert closed.protocol is None and closed.status == "COMPLETED"


def test_a_retired_protocol_stays_on_its_plan(db_session, doctor, doctor_id, patient_id) -> None:
    lbp = _protocol(db_session, "LBP-8W")
    plan = _plan(db_session, doctor, patient_id, doctor_id, protocol_id=lbp)
    db_session.execute(text("UPDATE clinical_protocols SET is_active = false WHERE id = :p"),
                       {"p": lbp})  # fmt: skip
    form = _form(doctor_id, goals="Mới", protocol_id=lbp)
    edited = treatment.update_plan(db_session, doctor, plan.id, form, expected_version=1)
    assert edited.protocol is not None and edited.protocol.code == "LBP-8W"
    with pytest.raises(TreatmentInvalid) as refused:  # no longer offered to a new plan
        _plan(db_session, doctor, patient_id, doctor_id, protocol_id=lbp)
    assert refused.value.problems == {"protocol_id": treatment.PROTOCOL_UNKNOWN}


def test_a_stale_edit_is_refused_and_changes_nothing(
    db_session, doctor, doctor_id, patient_id
) -> None:
    plan = _plan(db_session, doctor, patient_id, doctor_id)
    treatment.update_plan(db_session, doctor, plan.id, _form(doctor_id, goals="Mới"),
                          expected_version=1)  # fmt: skip
    with pytest.raises(PlanEditConflict) as conflict:
        form = _form(doctor_id, sessions_per_week=5)
        treatment.update_plan(db_session, doctor, plan.id, form, expected_version=1)
    assert conflict.value.current_version == 2
    now = treatment.get_plan(db_session, doctor, plan.id)
    assert (now.goals, now.sessions_per_week, now.version) == ("Mới", 3, 2)
    assert len(_audit(db_session, doctor)) == 2


def test_a_refused_edit_changes_nothing(db_session, doctor, doctor_id, patient_id) -> None:
    plan = _plan(db_session, doctor, patient_id, doctor_id)
    form = _form(doctor_id, goals="Mới", start_date=None)
    with pytest.raises(TreatmentInvalid):
        treatment.update_plan(db_session, doctor, plan.id, form, expected_version=1)
    assert treatment.get_plan(db_session, doctor, plan.id) == plan


def test_active_plans_come_first(db_session, doctor, doctor_id, patient_id) -> None:
    old = _plan(db_session, doctor, patient_id, doctor_id, start_date=date(2025, 1, 6),
                planned_end_date=None)  # fmt: skip
    done = _plan(db_session, doctor, patient_id, doctor_id, status="COMPLETED",
                 start_date=date(2026, 1, 5))  # fmt: skip
    new = _plan(db_session, doctor, patient_id, doctor_id)
    listed = [plan.id for plan in treatment.list_plans(db_session, doctor, patient_id)]
    assert listed == [new.id, old.id, done.id]


def test_doctors_to_choose_from(db_session, doctor, doctor_id) -> None:
    other = add_doctor(db_session)
    choices = {c.id: c for c in treatment.plan_doctors(db_session, doctor)}
    assert choices[doctor_id].is_actor and not choices[other].is_actor


# --- sessions ---------------------------------------------------------------------------------


def _lbp_plan(session: Session, actor: Actor, patient_id: uuid.UUID, doctor_id: uuid.UUID):
    return _plan(session, actor, patient_id, doctor_id, protocol_id=_protocol(session, "LBP-8W"))


def test_a_session_with_exercises_of_the_current_phase(
    db_session, doctor, doctor_id, patient_id
) -> None:
    plan = _lbp_plan(db_session, doctor, patient_id, doctor_id)
    phase = treatment.plan_exercises(db_session, doctor, plan.id)
    assert [e.name_en for e in phase.exercises] == [
        "Posterior pelvic tilt", "Single knee-to-chest stretch", "Cat-camel",
        "Abdominal drawing-in"]  # fmt: skip
    recorded = treatment.record_session(
        db_session, doctor, plan.id, session_date=TODAY, notes="Đỡ đau\x1b[31m khi cúi",
        pain_level=4, exercises=["Cat-camel", "Posterior pelvic tilt", "Cat-camel"], minutes=45,
        today=TODAY,
    )  # fmt: skip
    assert (recorded.session_date, recorded.pain_level, recorded.minutes) == (TODAY, 4, 45)
    assert recorded.notes is not None and "\x1b" not in recorded.notes
    assert recorded.therapist_id == doctor_id and recorded.appointment_id is None
    assert [(e.phase, e.name_en, e.name_vi) for e in recorded.exercises_done] == [
        ("initial", "Posterior pelvic tilt", phase.exercises[0].name_vi),
        ("initial", "Cat-camel", phase.exercises[2].name_vi),
    ]  # once each, in the protocol's order
    assert treatment.list_sessions(db_session, doctor, plan.id) == [recorded]
    now = treatment.get_plan(db_session, doctor, plan.id)
    assert (now.session_count, now.last_session_date) == (1, TODAY)
    action, entity, entity_id, details = _audit(db_session, doctor)[-1]
    assert (action, entity, entity_id) == ("treatment_session_recorded", "treatment_session",
                                           str(recorded.id))  # fmt: skip
    assert details == {"treatment_plan_id": str(plan.id)}


def test_the_next_phase_brings_its_exercises(db_session, doctor, doctor_id, patient_id) -> None:
    plan = _lbp_plan(db_session, doctor, patient_id, doctor_id)
    link = protocols.patient_protocols(db_session, doctor, patient_id)[0]
    protocols.advance_phase(db_session, doctor, link.id, expected_version=link.version)
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.record_session(db_session, doctor, plan.id, session_date=TODAY,
                                 exercises=["Cat-camel"], today=TODAY)  # fmt: skip
    assert refused.value.problems == {"exercises": treatment.EXERCISE_UNKNOWN}
    done = treatment.record_session(db_session, doctor, plan.id, session_date=TODAY,
                                    exercises=["Bird dog"], today=TODAY)  # fmt: skip
    assert [e.phase for e in done.exercises_done] == ["intermediate"]


def _refusal_cases(plan_start: date) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [
        ({"pain_level": 11}, {"pain_level": treatment.PAIN_RANGE}),
        ({"pain_level": -1}, {"pain_level": treatment.PAIN_RANGE}),
        ({"minutes": 0}, {"minutes": treatment.MINUTES_RANGE}),
        ({"minutes": 481}, {"minutes": treatment.MINUTES_RANGE}),
        ({"session_date": None}, {"session_date": treatment.REQUIRED}),
        ({"session_date": TODAY + timedelta(days=1)}, {"session_date": treatment.IN_FUTURE}),
        ({"session_date": plan_start - timedelta(days=1)},
         {"session_date": treatment.BEFORE_PLAN}),
        ({"notes": "n" * 4001}, {"notes": treatment.TOO_LONG}),
        ({"exercises": ["Front plank"]}, {"exercises": treatment.EXERCISE_UNKNOWN}),
        ({"pain_level": 12, "minutes": -5},
         {"pain_level": treatment.PAIN_RANGE, "minutes": treatment.MINUTES_RANGE}),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(len(_refusal_cases(START))))
def test_a_refused_session_writes_nothing(db_session, doctor, doctor_id, patient_id, case) -> None:
    plan = _lbp_plan(db_session, doctor, patient_id, doctor_id)
    values, problems = _refusal_cases(START)[case]
    entries = len(_audit(db_session, doctor))
    arguments = {"session_date": TODAY, "pain_level": 3, **values}
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.record_session(db_session, doctor, plan.id, today=TODAY, **arguments)
    assert refused.value.problems == problems
    assert _count(db_session, TreatmentSession) == 0
    assert len(_audit(db_session, doctor)) == entries


def test_no_exercises_without_a_protocol_and_none_on_a_closed_plan(
    db_session, doctor, doctor_id, patient_id
) -> None:
    plan = _plan(db_session, doctor, patient_id, doctor_id)
    assert treatment.plan_exercises(db_session, doctor, plan.id).exercises == ()
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.record_session(db_session, doctor, plan.id, session_date=TODAY,
                                 exercises=["Cat-camel"], today=TODAY)  # fmt: skip
    assert refused.value.problems == {"exercises": treatment.NO_PROTOCOL}
    form = _form(doctor_id, status="DISCONTINUED")
    closed = treatment.update_plan(db_session, doctor, plan.id, form, expected_version=1)
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.record_session(db_session, doctor, closed.id, session_date=TODAY, today=TODAY)
    assert refused.value.problems == {"plan": treatment.NOT_ACTIVE}
    assert _count(db_session, TreatmentSession) == 0


# --- a visit's session ------------------------------------------------------------------------


def _visit_plan(session: Session, actor: Actor, visit: Any, **values: Any) -> treatment.PlanView:
    doctor_id = add_doctor(session)
    values = {"start_date": DAY - timedelta(days=7), "planned_end_date": None, **values}
    return _plan(session, actor, visit.patient_id, doctor_id, **values)


def test_a_visit_records_its_session_on_the_active_plan(db_session, doctor) -> None:
    visit = booked(db_session, checked_in=True)
    plan = _visit_plan(db_session, doctor, visit, protocol_id=_protocol(db_session, "LBP-8W"))
    context = treatment.visit_context(db_session, doctor, visit.id)
    assert (context.day, context.minutes, context.status) == (DAY, 30, "CHECKED_IN")
    assert not context.already_recorded
    assert [p.plan.id for p in context.plans] == [plan.id]
    assert "Cat-camel" in [e.name_en for e in context.plans[0].exercises]
    recorded = treatment.record_session_for_appointment(
        db_session, doctor, visit.id, notes="Tốt", pain_level=2, exercises=["Cat-camel"],
        minutes=30, today=DAY,
    )  # fmt: skip
    assert (recorded.treatment_plan_id, recorded.appointment_id) == (plan.id, visit.id)
    assert (recorded.session_date, recorded.therapist_id) == (DAY, visit.doctor_id)
    assert _audit(db_session, doctor)[-1][3] == {"treatment_plan_id": str(plan.id),
                                                 "appointment_id": str(visit.id)}  # fmt: skip
    assert treatment.visit_context(db_session, doctor, visit.id).already_recorded
    with pytest.raises(TreatmentInvalid) as again:
        treatment.record_session_for_appointment(db_session, doctor, visit.id, today=DAY)
    assert again.value.problems == {"appointment_id": treatment.ALREADY_RECORDED}
    assert _count(db_session, TreatmentSession) == 1


def test_a_visit_without_an_active_plan_says_so(db_session, doctor) -> None:
    visit = booked(db_session, checked_in=True)
    _visit_plan(db_session, doctor, visit, status="COMPLETED")
    assert treatment.visit_context(db_session, doctor, visit.id).plans == ()
    with pytest.raises(treatment.NoActivePlan) as none:
        treatment.record_session_for_appointment(db_session, doctor, visit.id, pain_level=3,
                                                 today=DAY)  # fmt: skip
    assert none.value.msgid == treatment.NO_ACTIVE_PLAN
    assert _count(db_session, TreatmentSession) == 0


def test_only_a_visit_that_took_place_gets_a_session(db_session, doctor) -> None:
    visit = booked(db_session)  # still SCHEDULED
    _visit_plan(db_session, doctor, visit)
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.record_session_for_appointment(db_session, doctor, visit.id, today=DAY)
    assert refused.value.problems == {"appointment_id": treatment.VISIT_STATUS}
    with pytest.raises(treatment.AppointmentNotFound):
        treatment.record_session_for_appointment(db_session, doctor, uuid.uuid4(), today=DAY)
    assert _count(db_session, TreatmentSession) == 0


def test_the_chosen_or_latest_active_plan(db_session, doctor) -> None:
    visit = booked(db_session, checked_in=True)
    older = _visit_plan(db_session, doctor, visit, start_date=DAY - timedelta(days=30))
    latest = _visit_plan(db_session, doctor, visit)
    first = treatment.record_session_for_appointment(db_session, doctor, visit.id, today=DAY)
    assert first.treatment_plan_id == latest.id
    db_session.execute(text("DELETE FROM treatment_sessions"))
    chosen = treatment.record_session_for_appointment(db_session, doctor, visit.id,
                                                      plan_id=older.id, today=DAY)  # fmt: skip
    assert chosen.treatment_plan_id == older.id


def test_a_bad_pain_on_a_visit_writes_nothing(db_session, doctor) -> None:
    visit = booked(db_session, checked_in=True)
    _visit_plan(db_session, doctor, visit)
    with pytest.raises(TreatmentInvalid) as refused:
        treatment.record_session_for_appointment(db_session, doctor, visit.id, pain_level=11,
                                                 today=DAY)  # fmt: skip
    assert refused.value.problems == {"pain_level": treatment.PAIN_RANGE}
    assert _count(db_session, TreatmentSession) == 0


# --- who may ----------------------------------------------------------------------------------


def test_the_front_desk_neither_reads_nor_writes_clinical_records(
    db_session, doctor, doctor_id, patient_id
) -> None:
    plan = _lbp_plan(db_session, doctor, patient_id, doctor_id)
    visit = booked(db_session, checked_in=True)
    desk = add_user(db_session, Role.RECEPTIONIST)
    calls = [
        lambda: treatment.list_plans(db_session, desk, patient_id),
        lambda: treatment.get_plan(db_session, desk, plan.id),
        lambda: treatment.plan_doctors(db_session, desk),
        lambda: treatment.plan_exercises(db_session, desk, plan.id),
        lambda: treatment.list_sessions(db_session, desk, plan.id),
        lambda: treatment.visit_context(db_session, desk, visit.id),
        lambda: treatment.create_plan(db_session, desk, patient_id, _form(doctor_id)),
        lambda: treatment.update_plan(db_session, desk, plan.id, _form(doctor_id),
                                      expected_version=plan.version),
        lambda: treatment.record_session(db_session, desk, plan.id, session_date=TODAY,
                                         today=TODAY),
        lambda: treatment.record_session_for_appointment(db_session, desk, visit.id, today=DAY),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert _count(db_session, TreatmentPlan) == 1 and _count(db_session, TreatmentSession) == 0
    assert treatment.get_plan(db_session, doctor, plan.id) == plan
    assert _audit(db_session, desk) == []


def test_an_administrator_writes_clinical_records(db_session, doctor_id, patient_id) -> None:
    admin = add_user(db_session, Role.ADMIN)
    plan = _plan(db_session, admin, patient_id, doctor_id)
    recorded = treatment.record_session(db_session, admin, plan.id, session_date=TODAY,
                                        pain_level=0, today=TODAY)  # fmt: skip
    assert recorded.therapist_id is None  # an administrator has no doctor row
    assert [row[0] for row in _audit(db_session, admin)] == [
        "treatment_plan_created", "treatment_session_recorded"]  # fmt: skip
