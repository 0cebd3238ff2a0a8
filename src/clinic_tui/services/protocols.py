"""Evidence-based treatment protocols and their assignment to patients (issue 6, DESIGN §6).

Protocols are reference data anyone with lookups may read; assigning one, moving its phase on
and recording progress is for doctors and admins (`Permission.PROTOCOL_ASSIGN`). Edits are
optimistic (`expected_version`, tested inside the UPDATE) and audited by ids and actions
only: progress notes are clinical text and never reach the audit log. Nothing here commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import String, Table, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, array
from sqlalchemy.orm import Session

from clinic_tui.models import ClinicalProtocol, Patient, PatientProtocol
from clinic_tui.models.clinical import PHASES, PROGRESS_STATUSES
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.terms import clean, search_terms

_PROTOCOLS = cast(Table, ClinicalProtocol.__table__)
_ASSIGNED = cast(Table, PatientProtocol.__table__)
_PATIENTS = cast(Table, Patient.__table__)
CLOSED_STATUSES = ("COMPLETED", "DISCONTINUED")
CRITERIA_ORDER = ("initial_to_intermediate", "intermediate_to_advanced", "discharge")
MAX_NOTE_LENGTH = 4000
_ICD10 = re.compile(r"([A-Z][0-9]{1,2})(?:\.([0-9A-Z]{0,4}))?")  # "M54", "M54.5", "M5", "M54."


@dataclass(frozen=True)
class ProtocolSummary:
    id: uuid.UUID
    code: str
    name_en: str
    name_vi: str
    category: str
    duration_weeks: int
    sessions_per_week: int
    target_icd10_codes: tuple[str, ...]


@dataclass(frozen=True)
class Goal:
    term: str  # "short" or "long"
    en: str
    vi: str
    timeframe_weeks: int | None
    measure: str | None  # an outcome measure's code: "NRS", "ODI"…


@dataclass(frozen=True)
class Exercise:
    phase: str
    name_en: str
    name_vi: str
    sets: int | None
    reps: int | None
    hold_seconds: int | None
    frequency_en: str | None
    frequency_vi: str | None
    instructions_en: str | None
    instructions_vi: str | None


@dataclass(frozen=True)
class Criterion:
    stage: str  # "initial_to_intermediate", "intermediate_to_advanced" or "discharge"
    en: str
    vi: str


@dataclass(frozen=True)
class ProtocolDetail(ProtocolSummary):
    description_en: str | None
    description_vi: str | None
    session_minutes: int
    goals: tuple[Goal, ...]
    exercises: dict[str, tuple[Exercise, ...]]  # by phase: initial, intermediate, advanced
    progression_criteria: tuple[Criterion, ...]
    precautions_en: str | None
    precautions_vi: str | None

    def goals_for(self, term: str) -> tuple[Goal, ...]:
        return tuple(goal for goal in self.goals if goal.term == term)


@dataclass(frozen=True)
class ProgressNote:
    at: datetime
    by: uuid.UUID | None  # the user who wrote it
    note: str
    status: str


@dataclass(frozen=True)
class PatientProtocolView:
    id: uuid.UUID
    patient_id: uuid.UUID
    protocol_id: uuid.UUID
    protocol_code: str
    protocol_name_en: str
    protocol_name_vi: str
    start_date: date
    current_phase: str
    progress_status: str
    progress_notes: tuple[ProgressNote, ...]
    assigned_by: uuid.UUID | None
    version: int
    updated_at: datetime


class ProtocolProblem(StrEnum):
    """What is wrong with one field; the UI translates the value."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    PHASE = "phase"
    STATUS = "status"
    PATIENT_NOT_FOUND = "patient_not_found"
    ALREADY_ASSIGNED = "already_assigned"
    LAST_PHASE = "last_phase"
    CLOSED = "closed"  # completed or discontinued: nothing more to record


class ProtocolInvalid(Exception):
    def __init__(self, problems: dict[str, ProtocolProblem]) -> None:
        super().__init__(", ".join(f"{k}={v}" for k, v in problems.items()))
        self.problems = problems  # field name → problem


class ProtocolNotFound(LookupError):
    """No such (active) protocol, or no such assignment."""


class ProtocolEditConflict(Exception):
    """The assignment changed since it was opened: reload it, nothing was overwritten."""

    def __init__(self, patient_protocol_id: uuid.UUID, current_version: int) -> None:
        super().__init__(f"patient protocol {patient_protocol_id} is at version {current_version}")
        self.patient_protocol_id, self.current_version = patient_protocol_id, current_version


_Data = TypeVar("_Data")


def _pick(cls: type[_Data], source: Mapping[Any, Any], **values: Any) -> _Data:
    """A dataclass from a row or a JSON object: its fields by name (absent ones None)."""
    names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: source.get(name) for name in names if name not in values}, **values)


# --- reading protocols -----------------------------------------------------------------------


def _summary(row: Mapping[Any, Any]) -> ProtocolSummary:
    return _pick(ProtocolSummary, row, target_icd10_codes=tuple(row["target_icd10_codes"] or ()))


def _codes_for(code: str) -> list[str]:
    """ICD-10 codes a diagnosis stands for: the code; the codes above it (a protocol for M17
    treats M17.1); and, since it may be a prefix, those one level under it (M54 → M54.0 …
    M54.9; M54.5 → M54.50 …; M5 → M50 … M59 and M50.0 … M59.9). Listing them keeps the match
    an `&&` on the GIN index, which cannot answer "starts with"; one level keeps the list
    short enough (a dozen codes) for the planner to choose the index."""
    match = _ICD10.fullmatch(code.replace(" ", "").upper())
    if match is None:
        return []
    stem, tail = match.group(1), match.group(2) or ""
    if len(stem) == 2:  # "M5": the categories M50 … M59 and one level under each
        return [c for digit in range(10) for c in _codes_for(f"{stem}{digit}")]
    above = [stem, *(f"{stem}.{tail[:n]}" for n in range(1, len(tail)))] if tail else []
    itself = f"{stem}.{tail}" if tail else stem
    below = [f"{stem}.{tail}{digit}" for digit in range(10)] if len(tail) < 4 else []
    return list(dict.fromkeys([*above, itself, *below]))


def _diagnosis_codes(session: Session, actor: Actor, diagnosis: str) -> list[str]:
    """An ICD-10 code or prefix as typed, or a term resolved through `search_terms` to the
    codes of its best hits that carry one ("đau lưng" → M54.5, "knee" → M17)."""
    typed = clean(diagnosis)
    if _ICD10.fullmatch(typed.replace(" ", "").upper()):
        return _codes_for(typed)
    coded = [hit for hit in search_terms(session, actor, typed) if hit.icd10_code]
    best = [hit for hit in coded if hit.rank == coded[0].rank] if coded else []
    return list(dict.fromkeys(c for hit in best for c in _codes_for(hit.icd10_code or "")))


def list_protocols(
    session: Session, actor: Actor, *, category: str | None = None, diagnosis: str | None = None
) -> list[ProtocolSummary]:
    """Active protocols, by code; of one category, and/or targeting a diagnosis (an ICD-10
    code or prefix, or a term), matched by `target_icd10_codes && ARRAY[…]` on its GIN index."""
    require(actor, Permission.LOOKUP)
    query = select(_PROTOCOLS).where(_PROTOCOLS.c.is_active).order_by(_PROTOCOLS.c.code)
    if category:
        query = query.where(_PROTOCOLS.c.category == category.strip().lower())
    if diagnosis and diagnosis.strip():
        codes = _diagnosis_codes(session, actor, diagnosis)
        if not codes:
            return []
        wanted = array(codes, type_=ARRAY(String(10)))  # the column's type: varchar(10)[]
        query = query.where(_PROTOCOLS.c.target_icd10_codes.overlap(wanted))
    return [_summary(row) for row in session.execute(query).mappings()]


def get_protocol(session: Session, actor: Actor, protocol_id: uuid.UUID) -> ProtocolDetail:
    """The protocol a therapist works from, in both languages: goals, exercises per phase,
    progression criteria, precautions."""
    require(actor, Permission.LOOKUP)
    query = select(_PROTOCOLS).where(_PROTOCOLS.c.id == protocol_id)
    row = session.execute(query).mappings().one_or_none()
    if row is None:
        raise ProtocolNotFound(protocol_id)
    exercises = [_pick(Exercise, item) for item in row["exercises"] or []]
    phases = dict.fromkeys([*PHASES, *(exercise.phase for exercise in exercises)])
    criteria = dict(row["progression_criteria"] or {})
    stages = dict.fromkeys([*(s for s in CRITERIA_ORDER if s in criteria), *criteria])
    return _pick(
        ProtocolDetail,
        row,
        target_icd10_codes=tuple(row["target_icd10_codes"] or ()),
        goals=tuple(_pick(Goal, goal) for goal in row["goals"] or []),
        exercises={p: tuple(e for e in exercises if e.phase == p) for p in phases},
        progression_criteria=tuple(_pick(Criterion, criteria[s], stage=s) for s in stages),
    )


# --- patients' protocols ---------------------------------------------------------------------


def _note(item: Mapping[Any, Any]) -> ProgressNote:
    by = item.get("by")
    return ProgressNote(
        at=datetime.fromisoformat(str(item["at"])),
        by=uuid.UUID(str(by)) if by else None,
        note=str(item.get("note") or ""),
        status=str(item.get("status") or ""),
    )


def _views(session: Session, *conditions: Any) -> list[PatientProtocolView]:
    p, a = _PROTOCOLS, _ASSIGNED
    query = (
        select(a, p.c.code.label("protocol_code"), p.c.name_en.label("protocol_name_en"),
               p.c.name_vi.label("protocol_name_vi"))
        .join(p, p.c.id == a.c.protocol_id)
        .where(*conditions)
        .order_by(a.c.start_date.desc(), a.c.created_at.desc())
    )  # fmt: skip
    return [
        _pick(PatientProtocolView, row, progress_notes=tuple(map(_note, row["progress_notes"])))
        for row in session.execute(query).mappings()
    ]


def _view(session: Session, patient_protocol_id: uuid.UUID) -> PatientProtocolView:
    views = _views(session, _ASSIGNED.c.id == patient_protocol_id)
    if not views:
        raise ProtocolNotFound(patient_protocol_id)
    return views[0]


def patient_protocols(
    session: Session, actor: Actor, patient_id: uuid.UUID
) -> list[PatientProtocolView]:
    """A patient's protocols, the latest start first."""
    require(actor, Permission.PATIENT_READ)
    return _views(session, _ASSIGNED.c.patient_id == patient_id)


def _audit(
    session: Session, actor: Actor, action: str, assigned: uuid.UUID, **details: str
) -> None:
    audit.record(session, action, user_id=actor.user_id, entity="patient_protocol",
                 entity_id=assigned, details=details)  # fmt: skip


def assign_protocol(
    session: Session, actor: Actor, *, patient_id: uuid.UUID, protocol_id: uuid.UUID,
    start_date: date, phase: str = "initial",
) -> PatientProtocolView:  # fmt: skip
    """Start a patient on a protocol (not started yet, at `phase`). A protocol the patient
    is still following (not completed or discontinued) is refused."""
    require(actor, Permission.PROTOCOL_ASSIGN)
    if phase not in PHASES:
        raise ProtocolInvalid({"phase": ProtocolProblem.PHASE})
    if session.scalar(select(_PATIENTS.c.id).where(_PATIENTS.c.id == patient_id)) is None:
        raise ProtocolInvalid({"patient_id": ProtocolProblem.PATIENT_NOT_FOUND})
    active = select(_PROTOCOLS.c.id).where(_PROTOCOLS.c.id == protocol_id, _PROTOCOLS.c.is_active)
    if session.scalar(active) is None:
        raise ProtocolNotFound(protocol_id)
    a = _ASSIGNED
    following = select(a.c.id).where(
        a.c.patient_id == patient_id,
        a.c.protocol_id == protocol_id,
        a.c.progress_status.not_in(CLOSED_STATUSES),
    )
    if session.scalar(following.limit(1)) is not None:
        raise ProtocolInvalid({"protocol_id": ProtocolProblem.ALREADY_ASSIGNED})
    values = {"patient_id": patient_id, "protocol_id": protocol_id, "start_date": start_date,
              "assigned_by": actor.user_id, "current_phase": phase}  # fmt: skip
    assigned = session.execute(insert(a).values(**values).returning(a.c.id)).scalar_one()
    _audit(session, actor, "protocol_assigned", assigned, protocol_id=str(protocol_id), phase=phase)
    return _view(session, assigned)


def _open(
    session: Session, patient_protocol_id: uuid.UUID, expected_version: int
) -> PatientProtocolView:
    """The assignment to change: a stale screen learns of the conflict first, then closed
    ones are refused."""
    view = _view(session, patient_protocol_id)
    if view.version != expected_version:
        raise ProtocolEditConflict(patient_protocol_id, view.version)
    if view.progress_status in CLOSED_STATUSES:
        raise ProtocolInvalid({"progress_status": ProtocolProblem.CLOSED})
    return view


def _save(session: Session, view: PatientProtocolView, values: dict[str, Any]) -> None:
    """The UPDATE with the version test in it: two saves from one version cannot both pass."""
    a = _ASSIGNED
    saved = session.execute(
        sql_update(a)
        .where(a.c.id == view.id, a.c.version == view.version)
        .values(**values, version=a.c.version + 1)
        .returning(a.c.id)
    ).scalar_one_or_none()
    if saved is None:
        raise ProtocolEditConflict(view.id, _view(session, view.id).version)


def advance_phase(
    session: Session, actor: Actor, patient_protocol_id: uuid.UUID, *, expected_version: int
) -> PatientProtocolView:
    """Move to the next phase (initial → intermediate → advanced); a protocol not started
    yet is in progress from then on."""
    require(actor, Permission.PROTOCOL_ASSIGN)
    view = _open(session, patient_protocol_id, expected_version)
    at = PHASES.index(view.current_phase)
    if at + 1 >= len(PHASES):
        raise ProtocolInvalid({"current_phase": ProtocolProblem.LAST_PHASE})
    status = "IN_PROGRESS" if view.progress_status == "NOT_STARTED" else view.progress_status
    _save(session, view, {"current_phase": PHASES[at + 1], "progress_status": status})
    _audit(session, actor, "protocol_phase_advanced", view.id, **{"from": view.current_phase,
           "to": PHASES[at + 1]})  # fmt: skip
    return _view(session, view.id)


def record_progress(
    session: Session, actor: Actor, patient_protocol_id: uuid.UUID, *, note: str, status: str,
    expected_version: int,
) -> PatientProtocolView:  # fmt: skip
    """Append {at, by, note, status} to the progress notes and set the status. A note may be
    empty only when the status changes. The audit gets the status, never the note."""
    require(actor, Permission.PROTOCOL_ASSIGN)
    cleaned = clean(note, keep_lines=True)
    problems: dict[str, ProtocolProblem] = {}
    if status not in PROGRESS_STATUSES:
        problems["status"] = ProtocolProblem.STATUS
    if len(cleaned) > MAX_NOTE_LENGTH:
        problems["note"] = ProtocolProblem.TOO_LONG
    if problems:
        raise ProtocolInvalid(problems)
    view = _open(session, patient_protocol_id, expected_version)
    if not cleaned and status == view.progress_status:
        raise ProtocolInvalid({"note": ProtocolProblem.REQUIRED})
    entry = func.jsonb_build_object(
        "at", func.to_jsonb(func.now()), "by", str(actor.user_id), "note", cleaned, "status", status
    )
    notes = _ASSIGNED.c.progress_notes.op("||", return_type=JSONB)(func.jsonb_build_array(entry))
    _save(session, view, {"progress_notes": notes, "progress_status": status})
    _audit(session, actor, "protocol_progress_recorded", view.id, status=status)
    return _view(session, view.id)
