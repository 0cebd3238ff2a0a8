"""Treatment plans and the sessions recorded on them (issue 12, DESIGN §4.2 revision 0002).

A plan belongs to a patient and a doctor: a diagnosis (a medical term's text and ICD-10 code),
goals, sessions a week, start and planned end, a status, and optionally the protocol (issue 6)
it follows, linked through `patient_protocols.treatment_plan_id`. A session records one visit
on an active plan: date, notes, pain 0–10, the exercises done (from the protocol's current
phase) and minutes spent; a completed appointment records its session on the patient's active
plan. Clinical records are for doctors and admins only, reading included (DESIGN §5.4). Plan
edits are optimistic (`expected_version`, tested inside the UPDATE). Refusals name each field
with a msgid and write nothing; the audit log gets ids and actions, never clinical text.
Nothing here commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, true
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from clinic_tui.forms.patient import clean_text
from clinic_tui.i18n import N_
from clinic_tui.models import (
    Appointment,
    ClinicalProtocol,
    Doctor,
    MedicalTerm,
    Patient,
    PatientProtocol,
    TreatmentPlan,
    TreatmentSession,
)
from clinic_tui.models.clinical import PLAN_STATUSES
from clinic_tui.services import audit, protocols
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.protocols import CLOSED_STATUSES, Exercise

_PLANS = cast(Table, TreatmentPlan.__table__)
_SESSIONS = cast(Table, TreatmentSession.__table__)
_ASSIGNED = cast(Table, PatientProtocol.__table__)
_PROTOCOLS = cast(Table, ClinicalProtocol.__table__)
_DOCTORS = cast(Table, Doctor.__table__)
MAX_DIAGNOSIS = 500
MAX_TEXT = 4000
MAX_MINUTES = 480  # a whole working day; more is a typing slip
RECORDABLE_VISITS = ("CHECKED_IN", "COMPLETED")
_ICD10 = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?")

# What each refusal says (msgids; the UI translates them where it shows them).
REQUIRED = N_("Required.")
TOO_LONG = N_("Too long.")
PER_WEEK = N_("From 1 to 14 sessions a week.")
END_BEFORE_START = N_("The planned end is before the start.")
STATUS = N_("Choose active, completed or discontinued.")
DOCTOR_UNKNOWN = N_("This doctor is no longer listed.")
PATIENT_UNKNOWN = N_("This patient is no longer registered.")
TERM_UNKNOWN = N_("This medical term is no longer listed: pick another.")
ICD10_FORMAT = N_("Not an ICD-10 code (for example M54.5).")
PROTOCOL_UNKNOWN = N_("This protocol is no longer offered.")
PAIN_RANGE = N_("Pain is scored from 0 to 10.")
MINUTES_RANGE = N_("From 1 to 480 minutes.")
IN_FUTURE = N_("This date is in the future.")
BEFORE_PLAN = N_("This date is before the plan's start.")
NOT_ACTIVE = N_("This plan is completed or discontinued: no more sessions can be recorded.")
NO_PROTOCOL = N_("This plan follows no protocol: there are no exercises to pick.")
EXERCISE_UNKNOWN = N_("Not an exercise of the protocol's current phase.")
NO_ACTIVE_PLAN = N_("This patient has no active treatment plan: create one first.")
VISIT_STATUS = N_("Only a checked-in or completed visit can have a treatment session.")
ALREADY_RECORDED = N_("A treatment session is already recorded for this visit.")
PLAN_NOT_FOUND = N_("This treatment plan no longer exists.")
VISIT_NOT_FOUND = N_("This appointment no longer exists.")
CONFLICT = N_("This plan was changed by someone else since it was shown.")


class TreatmentError(Exception):
    """A refusal, with the msgid saying why."""

    msgid: str = ""


class TreatmentInvalid(TreatmentError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{field}={msgid}" for field, msgid in problems.items()))
        self.problems = problems  # field name → msgid
        self.msgid = next(iter(problems.values()))


class PlanNotFound(TreatmentError, LookupError):
    msgid = PLAN_NOT_FOUND


class AppointmentNotFound(TreatmentError, LookupError):
    msgid = VISIT_NOT_FOUND


class NoActivePlan(TreatmentError):
    msgid = NO_ACTIVE_PLAN


class PlanEditConflict(TreatmentError):
    """Nothing was overwritten: reload the plan."""

    msgid = CONFLICT

    def __init__(self, plan_id: uuid.UUID, current_version: int) -> None:
        super().__init__(f"treatment plan {plan_id} is at version {current_version}")
        self.plan_id, self.current_version = plan_id, current_version


@dataclass(frozen=True)
class PlanProtocol:
    """The protocol a plan follows: the patient's assignment of it."""

    patient_protocol_id: uuid.UUID
    protocol_id: uuid.UUID
    code: str
    name_en: str
    name_vi: str
    current_phase: str
    progress_status: str


@dataclass(frozen=True)
class PlanView:
    id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID | None
    doctor_name: str | None
    diagnosis: str
    diagnosis_icd10: str | None
    goals: str | None
    sessions_per_week: int
    start_date: date
    planned_end_date: date | None
    status: str
    version: int
    session_count: int
    last_session_date: date | None
    protocol: PlanProtocol | None


@dataclass(frozen=True)
class PlanInput:
    """A plan as the form gives it. `diagnosis_term_id`: the picked term, whose ICD-10 code
    wins over `diagnosis_icd10` (a code kept from before, or typed)."""

    doctor_id: uuid.UUID | None
    diagnosis: str
    start_date: date | None
    diagnosis_term_id: uuid.UUID | None = None
    diagnosis_icd10: str | None = None
    goals: str = ""
    sessions_per_week: int | None = 3
    planned_end_date: date | None = None
    status: str = "ACTIVE"
    protocol_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ExerciseDone:
    phase: str
    name_en: str
    name_vi: str


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID
    treatment_plan_id: uuid.UUID
    appointment_id: uuid.UUID | None
    therapist_id: uuid.UUID | None
    therapist_name: str | None
    session_date: date
    notes: str | None
    pain_level: int | None
    exercises_done: tuple[ExerciseDone, ...]
    minutes: int | None
    created_at: datetime


@dataclass(frozen=True)
class PhaseExercises:
    """What a session on this plan may pick: the linked protocol's current phase."""

    plan: PlanView
    exercises: tuple[Exercise, ...]


@dataclass(frozen=True)
class DoctorChoice:
    id: uuid.UUID
    full_name: str
    is_actor: bool  # the signed-in therapist's own doctor row


@dataclass(frozen=True)
class VisitContext:
    """An appointment about to get its session: its day and length, the patient's active
    plans (latest start first) with their exercises, and whether one is recorded already."""

    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    day: date
    minutes: int
    status: str
    already_recorded: bool
    plans: tuple[PhaseExercises, ...]


# --- reading --------------------------------------------------------------------------------


def _plans(session: Session, *conditions: Any) -> list[PlanView]:
    p, s, a, pr, d = _PLANS, _SESSIONS, _ASSIGNED, _PROTOCOLS, _DOCTORS
    counts = (
        select(func.count().label("n"), func.max(s.c.session_date).label("last"))
        .where(s.c.treatment_plan_id == p.c.id)
        .lateral("counts")
    )
    # The assignment under this plan: one still followed first, then the latest.
    linked = (
        select(a.c.id, a.c.protocol_id, a.c.current_phase, a.c.progress_status,
               pr.c.code, pr.c.name_en, pr.c.name_vi)
        .join(pr, pr.c.id == a.c.protocol_id)
        .where(a.c.treatment_plan_id == p.c.id)
        .order_by(a.c.progress_status.in_(CLOSED_STATUSES), a.c.start_date.desc(),
                  a.c.created_at.desc())
        .limit(1)
        .lateral("linked")
    )  # fmt: skip
    query = (
        select(p, d.c.full_name.label("doctor_name"), counts.c.n, counts.c.last,
               linked.c.id.label("pp_id"), linked.c.protocol_id, linked.c.current_phase,
               linked.c.progress_status, linked.c.code, linked.c.name_en, linked.c.name_vi)
        .outerjoin(d, d.c.id == p.c.doctor_id)
        .join(counts, true())
        .outerjoin(linked, true())
        .where(*conditions)
        .order_by(p.c.status != "ACTIVE", p.c.start_date.desc(), p.c.created_at.desc())
    )  # fmt: skip
    return [_plan(row) for row in session.execute(query).mappings()]


def _plan(row: Any) -> PlanView:
    protocol = None
    if row["pp_id"] is not None:
        protocol = PlanProtocol(
            row["pp_id"], row["protocol_id"], row["code"], row["name_en"], row["name_vi"],
            row["current_phase"], row["progress_status"],
        )  # fmt: skip
    return PlanView(
        row["id"], row["patient_id"], row["doctor_id"], row["doctor_name"], row["diagnosis"],
        row["diagnosis_icd10"], row["goals"], row["sessions_per_week"], row["start_date"],
        row["planned_end_date"], row["status"], row["version"], row["n"], row["last"], protocol,
    )  # fmt: skip


def _one_plan(session: Session, plan_id: uuid.UUID) -> PlanView:
    found = _plans(session, _PLANS.c.id == plan_id)
    if not found:
        raise PlanNotFound(plan_id)
    return found[0]


def list_plans(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[PlanView]:
    """A patient's plans: active ones first, then by start, latest first."""
    require(actor, Permission.CLINICAL_WRITE)
    return _plans(session, _PLANS.c.patient_id == patient_id)


def get_plan(session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanView:
    require(actor, Permission.CLINICAL_WRITE)
    return _one_plan(session, plan_id)


def plan_doctors(session: Session, actor: Actor) -> list[DoctorChoice]:
    """The doctors a plan may be given to, by name."""
    require(actor, Permission.CLINICAL_WRITE)
    d = _DOCTORS
    rows = session.execute(
        select(d.c.id, d.c.full_name, d.c.user_id).where(d.c.is_active).order_by(d.c.full_name)
    )
    return [DoctorChoice(r.id, r.full_name, r.user_id == actor.user_id) for r in rows]


def _phase(session: Session, actor: Actor, plan: PlanView) -> PhaseExercises:
    linked = plan.protocol
    if linked is None or linked.progress_status in CLOSED_STATUSES:
        return PhaseExercises(plan, ())
    detail = protocols.get_protocol(session, actor, linked.protocol_id)
    return PhaseExercises(plan, detail.exercises.get(linked.current_phase, ()))


def plan_exercises(session: Session, actor: Actor, plan_id: uuid.UUID) -> PhaseExercises:
    """The exercises of the current phase of the protocol the plan follows (none without
    one, or once it is completed or discontinued)."""
    require(actor, Permission.CLINICAL_WRITE)
    return _phase(session, actor, _one_plan(session, plan_id))


def _sessions(session: Session, *conditions: Any) -> list[SessionView]:
    s, d = _SESSIONS, _DOCTORS
    query = (
        select(s, d.c.full_name.label("therapist_name"))
        .outerjoin(d, d.c.id == s.c.therapist_id)
        .where(*conditions)
        .order_by(s.c.session_date.desc(), s.c.created_at.desc())
    )
    return [_session_view(row) for row in session.execute(query).mappings()]


def _session_view(r: Any) -> SessionView:
    done = tuple(
        ExerciseDone(
            str(e.get("phase") or ""), str(e.get("name_en") or ""), str(e.get("name_vi") or "")
        )
        for e in r["exercises_done"] or []
    )
    return SessionView(
        r["id"], r["treatment_plan_id"], r["appointment_id"], r["therapist_id"],
        r["therapist_name"], r["session_date"], r["notes"], r["pain_level"], done, r["minutes"],
        r["created_at"],
    )  # fmt: skip


def list_sessions(session: Session, actor: Actor, plan_id: uuid.UUID) -> list[SessionView]:
    """A plan's sessions, the latest first."""
    require(actor, Permission.CLINICAL_WRITE)
    return _sessions(session, _SESSIONS.c.treatment_plan_id == plan_id)


# --- plans ----------------------------------------------------------------------------------


def _exists(session: Session, table: Table, key: uuid.UUID, *conditions: Any) -> bool:
    return session.scalar(select(table.c.id).where(table.c.id == key, *conditions)) is not None


def _checked_plan(
    session: Session, form: PlanInput, followed: uuid.UUID | None = None
) -> dict[str, Any]:
    """The row's values, or TreatmentInvalid naming every wrong field. `followed`: the
    protocol the plan follows already, kept even if it is no longer offered to new plans."""
    problems: dict[str, str] = {}
    diagnosis, goals = clean_text(form.diagnosis), clean_text(form.goals, multiline=True)
    code = clean_text(form.diagnosis_icd10 or "").replace(" ", "").upper() or None
    if not diagnosis:
        problems["diagnosis"] = REQUIRED
    elif len(diagnosis) > MAX_DIAGNOSIS:
        problems["diagnosis"] = TOO_LONG
    elif form.diagnosis_term_id is not None:
        terms = cast(Table, MedicalTerm.__table__)
        term = session.execute(select(terms.c.icd10_code).where(
            terms.c.id == form.diagnosis_term_id, terms.c.is_active)).one_or_none()  # fmt: skip
        if term is None:
            problems["diagnosis"] = TERM_UNKNOWN
        else:
            code = term.icd10_code
    elif code is not None and not _ICD10.fullmatch(code):
        problems["diagnosis"] = ICD10_FORMAT
    if len(goals) > MAX_TEXT:
        problems["goals"] = TOO_LONG
    if form.doctor_id is None:
        problems["doctor_id"] = REQUIRED
    elif not _exists(session, _DOCTORS, form.doctor_id):
        problems["doctor_id"] = DOCTOR_UNKNOWN
    if form.sessions_per_week is None:
        problems["sessions_per_week"] = REQUIRED
    elif not 1 <= form.sessions_per_week <= 14:
        problems["sessions_per_week"] = PER_WEEK
    if form.start_date is None:
        problems["start_date"] = REQUIRED
    elif form.planned_end_date is not None and form.planned_end_date < form.start_date:
        problems["planned_end_date"] = END_BEFORE_START
    if form.status not in PLAN_STATUSES:
        problems["status"] = STATUS
    if form.protocol_id not in (None, followed) and not _exists(
        session, _PROTOCOLS, form.protocol_id, _PROTOCOLS.c.is_active
    ):
        problems["protocol_id"] = PROTOCOL_UNKNOWN
    if problems:
        raise TreatmentInvalid(problems)
    return {"doctor_id": form.doctor_id, "diagnosis": diagnosis, "diagnosis_icd10": code,
            "goals": goals or None, "sessions_per_week": form.sessions_per_week,
            "start_date": form.start_date, "planned_end_date": form.planned_end_date,
            "status": form.status}  # fmt: skip


def _audit(session: Session, actor: Actor, action: str, entity: str, key: uuid.UUID,
           **details: str) -> None:  # fmt: skip
    audit.record(session, action, user_id=actor.user_id, entity=entity, entity_id=key,
                 details=details)  # fmt: skip


def _link(session: Session, actor: Actor, plan: PlanView, protocol_id: uuid.UUID | None) -> None:
    """Make `protocol_id` the protocol the plan follows: the patient's open assignment of it,
    or a new one from the plan's start; the one followed before is unlinked, not ended."""
    a = _ASSIGNED
    current = plan.protocol
    if current is not None and current.protocol_id == protocol_id:
        return
    if current is not None:
        _set_plan(session, current.patient_protocol_id, None)
        _audit(session, actor, "treatment_plan_protocol_unlinked", "patient_protocol",
               current.patient_protocol_id, treatment_plan_id=str(plan.id))  # fmt: skip
    if protocol_id is None:
        return
    open_one = session.scalar(
        select(a.c.id)
        .where(a.c.patient_id == plan.patient_id, a.c.protocol_id == protocol_id,
               a.c.progress_status.not_in(CLOSED_STATUSES))
        .order_by(a.c.start_date.desc())
        .limit(1)
    )  # fmt: skip
    if open_one is None:
        open_one = protocols.assign_protocol(session, actor, patient_id=plan.patient_id,
                                             protocol_id=protocol_id,
                                             start_date=plan.start_date).id  # fmt: skip
    _set_plan(session, open_one, plan.id)
    _audit(session, actor, "treatment_plan_protocol_linked", "patient_protocol", open_one,
           treatment_plan_id=str(plan.id), protocol_id=str(protocol_id))  # fmt: skip


def _set_plan(session: Session, patient_protocol_id: uuid.UUID, plan_id: uuid.UUID | None) -> None:
    # A version step, so a protocol dialog open on this assignment learns it changed.
    a = _ASSIGNED
    session.execute(sql_update(a).where(a.c.id == patient_protocol_id)
                    .values(treatment_plan_id=plan_id, version=a.c.version + 1))  # fmt: skip


def create_plan(session: Session, actor: Actor, patient_id: uuid.UUID, form: PlanInput) -> PlanView:
    require(actor, Permission.CLINICAL_WRITE)
    values = _checked_plan(session, form)
    if not _exists(session, cast(Table, Patient.__table__), patient_id):
        raise TreatmentInvalid({"patient_id": PATIENT_UNKNOWN})
    p = _PLANS
    plan_id = session.execute(
        insert(p).values(patient_id=patient_id, **values).returning(p.c.id)
    ).scalar_one()
    _audit(session, actor, "treatment_plan_created", "treatment_plan", plan_id,
           status=form.status)  # fmt: skip
    _link(session, actor, _one_plan(session, plan_id), form.protocol_id)
    return _one_plan(session, plan_id)


def update_plan(
    session: Session, actor: Actor, plan_id: uuid.UUID, form: PlanInput, *, expected_version: int
) -> PlanView:
    """Change a plan as shown at `expected_version`; one changed meanwhile is refused."""
    require(actor, Permission.CLINICAL_WRITE)
    before = _one_plan(session, plan_id)
    if before.version != expected_version:
        raise PlanEditConflict(plan_id, before.version)
    followed = before.protocol.protocol_id if before.protocol else None
    values = _checked_plan(session, form, followed)
    p = _PLANS
    saved = session.execute(
        sql_update(p)
        .where(p.c.id == plan_id, p.c.version == expected_version)
        .values(**values, version=p.c.version + 1)
        .returning(p.c.id)
    ).scalar_one_or_none()
    if saved is None:
        raise PlanEditConflict(plan_id, _one_plan(session, plan_id).version)
    changed = sorted(k for k, v in values.items() if getattr(before, k) != v)
    _audit(session, actor, "treatment_plan_updated", "treatment_plan", plan_id,
           status=form.status, fields=",".join(changed))  # fmt: skip
    _link(session, actor, before, form.protocol_id)
    return _one_plan(session, plan_id)


# --- sessions -------------------------------------------------------------------------------


def _record(
    session: Session, actor: Actor, phase: PhaseExercises, *, session_date: date | None,
    notes: str, pain_level: int | None, exercises: Sequence[str], minutes: int | None,
    therapist_id: uuid.UUID | None, appointment_id: uuid.UUID | None, today: date | None,
) -> SessionView:  # fmt: skip
    plan, problems = phase.plan, {}
    cleaned = clean_text(notes, multiline=True)
    if plan.status != "ACTIVE":
        problems["plan"] = NOT_ACTIVE
    if session_date is None:
        problems["session_date"] = REQUIRED
    elif session_date > (today or _clinic_today()):
        problems["session_date"] = IN_FUTURE
    elif session_date < plan.start_date:
        problems["session_date"] = BEFORE_PLAN
    if pain_level is not None and not 0 <= pain_level <= 10:
        problems["pain_level"] = PAIN_RANGE
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        problems["minutes"] = MINUTES_RANGE
    if len(cleaned) > MAX_TEXT:
        problems["notes"] = TOO_LONG
    by_name = {exercise.name_en: exercise for exercise in phase.exercises}
    if exercises and plan.protocol is None:
        problems["exercises"] = NO_PROTOCOL
    elif any(name not in by_name for name in exercises):
        problems["exercises"] = EXERCISE_UNKNOWN
    if problems:
        raise TreatmentInvalid(problems)
    done = [{"phase": by_name[n].phase, "name_en": n, "name_vi": by_name[n].name_vi,
             "protocol_code": plan.protocol.code if plan.protocol else None}
            for n in by_name if n in set(exercises)]  # in the protocol's order  # fmt: skip
    s = _SESSIONS
    session_id = session.execute(
        insert(s)
        .values(treatment_plan_id=plan.id, appointment_id=appointment_id,
                therapist_id=therapist_id, session_date=session_date, notes=cleaned or None,
                pain_level=pain_level, exercises_done=done, minutes=minutes)
        .returning(s.c.id)
    ).scalar_one()  # fmt: skip
    details = {"treatment_plan_id": str(plan.id)}
    if appointment_id is not None:
        details["appointment_id"] = str(appointment_id)
    _audit(session, actor, "treatment_session_recorded", "treatment_session", session_id, **details)
    return _sessions(session, s.c.id == session_id)[0]


def _clinic_today() -> date:
    from clinic_tui.config import CLINIC_TIMEZONE

    return datetime.now(CLINIC_TIMEZONE).date()


def _own_doctor(session: Session, actor: Actor) -> uuid.UUID | None:
    found: uuid.UUID | None = session.scalar(
        select(_DOCTORS.c.id).where(_DOCTORS.c.user_id == actor.user_id)
    )
    return found


def record_session(
    session: Session, actor: Actor, plan_id: uuid.UUID, *, session_date: date | None,
    notes: str = "", pain_level: int | None = None, exercises: Sequence[str] = (),
    minutes: int | None = None, today: date | None = None,
) -> SessionView:  # fmt: skip
    """A session on an active plan, by the signed-in therapist (their doctor row, if any).
    `exercises`: English names of exercises of the linked protocol's current phase."""
    require(actor, Permission.CLINICAL_WRITE)
    phase = _phase(session, actor, _one_plan(session, plan_id))
    return _record(session, actor, phase, session_date=session_date, notes=notes,
                   pain_level=pain_level, exercises=exercises, minutes=minutes,
                   therapist_id=_own_doctor(session, actor), appointment_id=None,
                   today=today)  # fmt: skip


def _visit(session: Session, appointment_id: uuid.UUID) -> Any:
    a = cast(Table, Appointment.__table__)
    row = session.execute(
        select(a.c.id, a.c.patient_id, a.c.doctor_id, a.c.appointment_date, a.c.start_time,
               a.c.end_time, a.c.status).where(a.c.id == appointment_id)
    ).one_or_none()  # fmt: skip
    if row is None:
        raise AppointmentNotFound(appointment_id)
    return row


def _recorded(session: Session, appointment_id: uuid.UUID) -> bool:
    found = select(_SESSIONS.c.id).where(_SESSIONS.c.appointment_id == appointment_id).limit(1)
    return session.scalar(found) is not None


def visit_context(session: Session, actor: Actor, appointment_id: uuid.UUID) -> VisitContext:
    """What the session dialog of a visit needs before anything is typed."""
    require(actor, Permission.CLINICAL_WRITE)
    visit = _visit(session, appointment_id)
    active = _plans(session, _PLANS.c.patient_id == visit.patient_id, _PLANS.c.status == "ACTIVE")
    span = datetime.combine(visit.appointment_date, visit.end_time) - datetime.combine(
        visit.appointment_date, visit.start_time
    )
    return VisitContext(
        visit.id, visit.patient_id, visit.appointment_date, int(span.total_seconds() // 60),
        visit.status, _recorded(session, visit.id),
        tuple(_phase(session, actor, plan) for plan in active),
    )  # fmt: skip


def record_session_for_appointment(
    session: Session, actor: Actor, appointment_id: uuid.UUID, *, notes: str = "",
    pain_level: int | None = None, exercises: Sequence[str] = (), minutes: int | None = None,
    plan_id: uuid.UUID | None = None, today: date | None = None,
) -> SessionView:  # fmt: skip
    """The session of a checked-in or completed visit, on the patient's active plan (the
    latest started when several, or `plan_id`), dated on the visit's day, by its therapist.
    NoActivePlan when the patient has none; one session per visit."""
    require(actor, Permission.CLINICAL_WRITE)
    visit = _visit(session, appointment_id)
    if visit.status not in RECORDABLE_VISITS:
        raise TreatmentInvalid({"appointment_id": VISIT_STATUS})
    if _recorded(session, visit.id):
        raise TreatmentInvalid({"appointment_id": ALREADY_RECORDED})
    conditions = [_PLANS.c.patient_id == visit.patient_id, _PLANS.c.status == "ACTIVE"]
    if plan_id is not None:
        conditions.append(_PLANS.c.id == plan_id)
    active = _plans(session, *conditions)
    if not active:
        raise NoActivePlan(visit.patient_id)
    return _record(session, actor, _phase(session, actor, active[0]),
                   session_date=visit.appointment_date, notes=notes, pain_level=pain_level,
                   exercises=exercises, minutes=minutes, therapist_id=visit.doctor_id,
                   appointment_id=visit.id, today=today)  # fmt: skip
