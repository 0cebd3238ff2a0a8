"""Discharge (issue 12 item 4): a plan comparing every instrument's baseline with its latest
score, a home exercise program taken from the patient's protocol (then edited), a summary
in both languages, and a UTF-8 hand-out in the patient's language.

Clinical data: every call needs `Permission.CLINICAL_WRITE`. A draft's comparison is worked
out from the scores each time it is read and stored when saved; a final plan keeps what it
was finalised with. Saves are optimistic (`expected_version`, tested inside the UPDATE) and
audited by ids and actions only. Nothing here commits.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import LANGUAGES, N_
from clinic_tui.models import (
    ClinicalProtocol,
    DischargePlan,
    DischargeSummary,
    Patient,
    PatientProtocol,
    TreatmentPlan,
)
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.discharge_handout import (
    COUNT_LIMITS,
    ComparisonRow,
    DischargeView,
    HomeExercise,
    comparison_rows,
    exercise_from_json,
    row_from_json,
    row_to_json,
)
from clinic_tui.services.outcomes import REQUIRED, collect_trends

__all__ = ["ComparisonRow", "DischargeView", "HomeExercise"]

_PLANS = cast(Table, DischargePlan.__table__)
_SUMMARIES = cast(Table, DischargeSummary.__table__)
MAX_TEXT: Final = 4000
MAX_NAME: Final = 200
TOO_LONG: Final = N_("Too long.")
ALREADY_OPEN: Final = N_("This patient already has a discharge plan in progress.")
FINAL: Final = N_("This discharge plan is final: it can no longer be changed.")
NAME_REQUIRED: Final = N_("Give the exercise a name in at least one language.")
NOT_A_COUNT: Final = N_("A whole number from 1 to {max}.")


class DischargeInvalid(Exception):
    """What was typed cannot be saved: field name → msgid. Nothing was written."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {msgid}" for field, msgid in problems.items()))
        self.problems = dict(problems)


class DischargeNotFound(LookupError):
    pass


class DischargeConflict(Exception):
    """The plan changed since it was shown: reload it; nothing was overwritten."""


def _comparison(session: Session, plan: Mapping[Any, Any]) -> tuple[ComparisonRow, ...]:
    if plan["status"] != "DRAFT":
        return tuple(row_from_json(item) for item in plan["baseline_comparison"])
    start = None
    if plan["treatment_plan_id"] is not None:  # the episode of care it closes
        query = select(TreatmentPlan.start_date).where(
            TreatmentPlan.id == plan["treatment_plan_id"]
        )
        start = session.scalar(query)
    return comparison_rows(collect_trends(session, plan["patient_id"], date_from=start))


def _view(session: Session, plan: Mapping[Any, Any]) -> DischargeView:
    summary: Mapping[Any, Any] = (
        session.execute(select(_SUMMARIES).where(_SUMMARIES.c.discharge_plan_id == plan["id"]))
        .mappings()
        .one_or_none()
        or {}
    )
    return DischargeView(
        id=plan["id"],
        patient_id=plan["patient_id"],
        treatment_plan_id=plan["treatment_plan_id"],
        planned_date=plan["planned_date"],
        status=plan["status"],
        comparison=_comparison(session, plan),
        exercises=tuple(exercise_from_json(item) for item in plan["home_exercise_program"]),
        summary_en=summary.get("summary_en") or "",
        summary_vi=summary.get("summary_vi") or "",
        recommendations_en=summary.get("recommendations_en") or "",
        recommendations_vi=summary.get("recommendations_vi") or "",
        discharged_on=summary.get("discharged_on"),
        version=plan["version"],
    )


def _plan(session: Session, plan_id: uuid.UUID) -> Mapping[Any, Any]:
    row = session.execute(select(_PLANS).where(_PLANS.c.id == plan_id)).mappings().one_or_none()
    if row is None:
        raise DischargeNotFound(plan_id)
    return row


def current_plan(session: Session, actor: Actor, patient_id: uuid.UUID) -> DischargeView | None:
    """The patient's discharge plan: the one in progress, else the latest final one."""
    require(actor, Permission.CLINICAL_WRITE)
    query = (
        select(_PLANS)
        .where(_PLANS.c.patient_id == patient_id)
        .order_by((_PLANS.c.status == "DRAFT").desc(), _PLANS.c.created_at.desc())
        .limit(1)
    )
    row = session.execute(query).mappings().one_or_none()
    return None if row is None else _view(session, row)


def protocol_exercises(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[HomeExercise]:
    """The exercises of the current phase of the patient's latest protocol that was not
    discontinued (all its exercises when that phase lists none)."""
    require(actor, Permission.CLINICAL_WRITE)
    a, p = PatientProtocol, ClinicalProtocol
    found = session.execute(
        select(a.current_phase, p.exercises)
        .join(p, p.id == a.protocol_id)
        .where(a.patient_id == patient_id, a.progress_status != "DISCONTINUED")
        .order_by(a.start_date.desc(), a.created_at.desc())
        .limit(1)
    ).one_or_none()
    if found is None:
        return []
    phase, exercises = found
    chosen = [item for item in exercises or [] if item.get("phase") == phase] or exercises or []
    return [exercise_from_json(item) for item in chosen]


def start_plan(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    planned_date: date | None = None,
    treatment_plan_id: uuid.UUID | None = None,
) -> DischargeView:
    """A draft plan, its home program filled from the patient's protocol."""
    require(actor, Permission.CLINICAL_WRITE)
    if session.scalar(select(Patient.id).where(Patient.id == patient_id)) is None:
        raise DischargeNotFound(patient_id)
    p = _PLANS
    draft = select(p.c.id).where(p.c.patient_id == patient_id, p.c.status == "DRAFT")
    if session.scalar(draft.limit(1)) is not None:
        raise DischargeInvalid({"plan": ALREADY_OPEN})
    program = [asdict(item) for item in protocol_exercises(session, actor, patient_id)]
    values = {
        "patient_id": patient_id,
        "planned_date": planned_date,
        "created_by": actor.user_id,
        "treatment_plan_id": treatment_plan_id,
        "home_exercise_program": program,
    }
    plan_id = session.execute(insert(p).values(**values).returning(p.c.id)).scalar_one()
    _audit(session, actor, "discharge_plan_started", plan_id, patient_id)
    return _view(session, _plan(session, plan_id))


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    plan_id: uuid.UUID,
    patient_id: uuid.UUID,
    **details: str,
) -> None:
    audit.record(
        session,
        action,
        user_id=actor.user_id,
        entity="discharge_plan",
        entity_id=plan_id,
        details={"patient_id": str(patient_id), **details},
    )


def _clean_exercise(item: HomeExercise, index: int, problems: dict[str, str]) -> dict[str, Any]:
    from clinic_tui.forms.patient import clean_text

    out: dict[str, Any] = {}
    for f in fields(HomeExercise):
        raw = getattr(item, f.name)
        if f.name in COUNT_LIMITS:
            limit = COUNT_LIMITS[f.name]
            if raw is not None and (not isinstance(raw, int) or not 1 <= raw <= limit):
                problems[f"exercises.{index}.{f.name}"] = NOT_A_COUNT
            out[f.name] = raw
            continue
        text = clean_text(raw or "", multiline=f.name.startswith("instructions"))
        if len(text) > (MAX_TEXT if f.name.startswith("instructions") else MAX_NAME):
            problems[f"exercises.{index}.{f.name}"] = TOO_LONG
        out[f.name] = text or None
    if not (out["name_en"] or out["name_vi"]):
        problems[f"exercises.{index}.name"] = NAME_REQUIRED
    out["name_en"], out["name_vi"] = out["name_en"] or "", out["name_vi"] or ""
    return out


def save_plan(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    *,
    expected_version: int,
    planned_date: date | None,
    exercises: Sequence[HomeExercise],
    summary_en: str = "",
    summary_vi: str = "",
    recommendations_en: str = "",
    recommendations_vi: str = "",
) -> DischargeView:
    """Save a draft: date, home program, summaries; the comparison is stored as it is now."""
    from clinic_tui.forms.patient import clean_text

    require(actor, Permission.CLINICAL_WRITE)
    problems: dict[str, str] = {}
    program = [_clean_exercise(item, i, problems) for i, item in enumerate(exercises)]
    texts = {
        "summary_en": summary_en,
        "summary_vi": summary_vi,
        "recommendations_en": recommendations_en,
        "recommendations_vi": recommendations_vi,
    }
    texts = {key: clean_text(value or "", multiline=True) for key, value in texts.items()}
    problems |= {key: TOO_LONG for key, value in texts.items() if len(value) > MAX_TEXT}
    plan = _open(session, plan_id, expected_version)
    if problems:
        raise DischargeInvalid(problems)
    comparison = [row_to_json(row) for row in _comparison(session, plan)]
    _write(
        session,
        plan,
        {
            "planned_date": planned_date,
            "home_exercise_program": program,
            "baseline_comparison": comparison,
        },
    )
    if any(texts.values()) or session.scalar(_summary_exists(plan_id)):
        _store_summary(session, plan, texts, planned_date or _today(), None)
    _audit(session, actor, "discharge_plan_saved", plan_id, plan["patient_id"])
    return _view(session, _plan(session, plan_id))


def finalize_plan(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    *,
    expected_version: int,
    discharged_on: date,
) -> DischargeView:
    """Close the plan: both summaries must be written; the comparison is kept as it is now."""
    require(actor, Permission.CLINICAL_WRITE)
    plan = _open(session, plan_id, expected_version)
    view = _view(session, plan)
    missing = {key: REQUIRED for key in ("summary_en", "summary_vi") if not getattr(view, key)}
    if missing:
        raise DischargeInvalid(missing)
    comparison = [row_to_json(row) for row in view.comparison]
    _write(session, plan, {"status": "FINAL", "baseline_comparison": comparison})
    texts = {
        key: getattr(view, key)
        for key in ("summary_en", "summary_vi", "recommendations_en", "recommendations_vi")
    }
    _store_summary(session, plan, texts, discharged_on, comparison)
    _audit(session, actor, "discharge_finalized", plan_id, plan["patient_id"])
    return _view(session, _plan(session, plan_id))


def _today() -> date:
    return datetime.now(CLINIC_TIMEZONE).date()


def _summary_exists(plan_id: uuid.UUID) -> Any:
    return select(_SUMMARIES.c.id).where(_SUMMARIES.c.discharge_plan_id == plan_id)


def _open(session: Session, plan_id: uuid.UUID, expected_version: int) -> Mapping[Any, Any]:
    plan = _plan(session, plan_id)
    if plan["version"] != expected_version:
        raise DischargeConflict(plan_id)
    if plan["status"] != "DRAFT":
        raise DischargeInvalid({"plan": FINAL})
    return plan


def _write(session: Session, plan: Mapping[Any, Any], values: dict[str, Any]) -> None:
    p = _PLANS
    saved = session.execute(
        update(p)
        .where(p.c.id == plan["id"], p.c.version == plan["version"])
        .values(**values, version=p.c.version + 1)
        .returning(p.c.id)
    ).scalar_one_or_none()
    if saved is None:
        raise DischargeConflict(plan["id"])


def _store_summary(
    session: Session,
    plan: Mapping[Any, Any],
    texts: Mapping[str, str],
    discharged_on: date,
    outcome: list[dict[str, Any]] | None,
) -> None:
    values: dict[str, Any] = {**texts, "discharged_on": discharged_on}
    if outcome is not None:
        values["outcome_summary"] = outcome
    s = _SUMMARIES
    session.execute(
        upsert(s)
        .values(
            discharge_plan_id=plan["id"],
            patient_id=plan["patient_id"],
            created_by=plan["created_by"],
            **values,
        )
        .on_conflict_do_update(
            index_elements=[s.c.discharge_plan_id], set_={**values, "version": s.c.version + 1}
        )
    )


def export_handout(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    *,
    language: str,
    directory: Path | str,
) -> Path:
    """Write the hand-out in `language` to a new private file (0600, in a 0700 folder)."""
    from clinic_tui.services.discharge_handout import Handout, handout_lines
    from clinic_tui.services.receipts import export_receipt
    from clinic_tui.services.settings import clinic_info

    require(actor, Permission.CLINICAL_WRITE)
    if language not in LANGUAGES:
        raise ValueError(f"no hand-out in {language!r}")
    plan = _plan(session, plan_id)
    patient = session.execute(
        select(Patient.full_name, Patient.patient_code).where(Patient.id == plan["patient_id"])
    ).one()
    clinic = clinic_info(session)
    handout = Handout(
        clinic.name,
        clinic.address,
        clinic.phone,
        patient.full_name,
        patient.patient_code,
        _view(session, plan),
    )
    stamp = datetime.now(CLINIC_TIMEZONE).strftime("%Y%m%d-%H%M%S")
    name = f"discharge-{stamp}-{language}-{secrets.token_hex(3)}.txt"
    path = export_receipt(handout_lines(handout, language), directory, name=name)
    _audit(session, actor, "discharge_exported", plan_id, plan["patient_id"], language=language)
    return path
