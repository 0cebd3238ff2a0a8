"""Outcome measures (issue 12 item 2): the instrument library, scores recorded for a patient,
and each instrument's trend from baseline to latest.

Clinical data: every call needs `Permission.CLINICAL_WRITE` (receptionists neither read nor
write it, DESIGN §5.4). Scores are checked against the instrument's range before anything is
written; each change is audited by ids and actions, never the score or the notes.

`outcome_measures` is partitioned by year of `measured_on`. A query for a date range puts the
range into the SQL as constants (`literal_execute`), so PostgreSQL prunes partitions when it
plans: a one-year range reads one partition. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import Date, Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.domain.outcomes import (
    Comparison,
    InstrumentRange,
    ScoreError,
    ScoreProblem,
    compare,
    parse_score,
)
from clinic_tui.i18n import N_
from clinic_tui.models import OutcomeMeasure, OutcomeMeasureDefinition, Patient
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require

_LIBRARY = cast(Table, OutcomeMeasureDefinition.__table__)
_SCORES = cast(Table, OutcomeMeasure.__table__)
_PATIENTS = cast(Table, Patient.__table__)
MAX_NOTES = 2000

# What each problem says at its field (values: {min}, {max}, {unit}, formatted by the screen).
REQUIRED: Final = N_("Required.")
SCORE_PROBLEMS: Final = {
    ScoreProblem.REQUIRED: REQUIRED,
    ScoreProblem.NOT_A_NUMBER: N_("Not a number: type a score such as 7 or 7.5."),
    ScoreProblem.TOO_PRECISE: N_("At most two decimals."),
    ScoreProblem.BELOW_MIN: N_("Below the scale: the score runs from {min} to {max} {unit}."),
    ScoreProblem.ABOVE_MAX: N_("Above the scale: the score runs from {min} to {max} {unit}."),
}
UNKNOWN_INSTRUMENT: Final = N_("Choose an instrument of the library.")
FUTURE_DATE: Final = N_("This date is in the future.")
NOTES_TOO_LONG: Final = N_("Too long: at most 2000 characters.")
UNKNOWN_PATIENT: Final = N_("This patient is no longer registered.")


class OutcomeInvalid(Exception):
    """What was typed cannot be saved: field name → msgid. Nothing was written. `values`
    fill the msgids' placeholders (the instrument's range)."""

    def __init__(self, problems: Mapping[str, str], values: Mapping[str, object] = {}) -> None:
        super().__init__(", ".join(f"{field}: {msgid}" for field, msgid in problems.items()))
        self.problems, self.values = dict(problems), dict(values)


class ScoreNotFound(LookupError):
    """The score is gone (removed from another terminal)."""


@dataclass(frozen=True)
class Instrument:
    id: uuid.UUID
    code: str
    name_en: str
    name_vi: str
    description_en: str | None
    description_vi: str | None
    instructions_en: str | None
    instructions_vi: str | None
    body_region: str
    min_score: Decimal
    max_score: Decimal
    unit: str
    higher_is_better: bool
    mcid: Decimal

    @property
    def range(self) -> InstrumentRange:
        return InstrumentRange(self.min_score, self.max_score, self.higher_is_better, self.mcid)

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en

    def instructions(self, language: str) -> str:
        return (self.instructions_vi if language == "vi" else self.instructions_en) or ""


@dataclass(frozen=True)
class Score:
    id: uuid.UUID
    library_id: uuid.UUID
    measured_on: date
    score: Decimal
    notes: str | None
    created_at: datetime


@dataclass(frozen=True)
class InstrumentTrend:
    """One instrument's scores for a patient, oldest first, and the first against the last."""

    instrument: Instrument
    scores: tuple[Score, ...]

    @property
    def baseline(self) -> Score:
        return self.scores[0]

    @property
    def latest(self) -> Score:
        return self.scores[-1]

    @property
    def comparison(self) -> Comparison:
        return compare(self.baseline.score, self.latest.score, self.instrument.range)


def _instrument(row: Mapping[Any, Any]) -> Instrument:
    return Instrument(**{name: row[name] for name in Instrument.__dataclass_fields__})


def _score(row: Mapping[Any, Any]) -> Score:
    return Score(**{name: row[name] for name in Score.__dataclass_fields__})


def list_instruments(session: Session, actor: Actor) -> list[Instrument]:
    """The active instruments of the library, by code."""
    require(actor, Permission.CLINICAL_WRITE)
    query = select(_LIBRARY).where(_LIBRARY.c.is_active).order_by(_LIBRARY.c.code)
    return [_instrument(row) for row in session.execute(query).mappings()]


def year_range(year: int) -> tuple[date, date]:
    """The first and last day of a year: the bounds of one partition."""
    return date(year, 1, 1), date(year, 12, 31)


def _clinic_today() -> date:
    return datetime.now(CLINIC_TIMEZONE).date()


def record_score(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    library_id: uuid.UUID | None,
    measured_on: date | None,
    score: str | Decimal,
    notes: str = "",
    treatment_plan_id: uuid.UUID | None = None,
    today: date | None = None,
) -> Score:
    """Record a score measured on a day. The score is checked against the instrument's range
    (typed with a point or a comma); a refusal names every field that is wrong and writes
    nothing."""
    from clinic_tui.forms.patient import clean_text

    require(actor, Permission.CLINICAL_WRITE)
    problems: dict[str, str] = {}
    values: dict[str, object] = {}
    row = None
    if library_id is not None:
        query = select(_LIBRARY).where(_LIBRARY.c.id == library_id, _LIBRARY.c.is_active)
        row = session.execute(query).mappings().one_or_none()
    if row is None:
        problems["library_id"] = UNKNOWN_INSTRUMENT
    else:
        instrument = _instrument(row)
        values = {"min": instrument.min_score, "max": instrument.max_score, "unit": instrument.unit}
        try:
            value = (
                parse_score(score, instrument.range)
                if isinstance(score, str)
                else _checked(score, instrument)
            )
        except ScoreError as error:
            problems["score"] = SCORE_PROBLEMS[error.problem]
    if measured_on is None:
        problems["measured_on"] = REQUIRED
    elif measured_on > (today or _clinic_today()):
        problems["measured_on"] = FUTURE_DATE
    cleaned = clean_text(notes or "", multiline=True)
    if len(cleaned) > MAX_NOTES:
        problems["notes"] = NOTES_TOO_LONG
    if session.scalar(select(_PATIENTS.c.id).where(_PATIENTS.c.id == patient_id)) is None:
        problems["patient_id"] = UNKNOWN_PATIENT
    if problems:
        raise OutcomeInvalid(problems, values)
    assert row is not None and measured_on is not None
    saved = (
        session.execute(
            insert(_SCORES)
            .values(
                patient_id=patient_id,
                library_id=library_id,
                measured_on=measured_on,
                score=value,
                notes=cleaned or None,
                treatment_plan_id=treatment_plan_id,
                recorded_by=actor.user_id,
            )
            .returning(*_SCORES.c)
        )
        .mappings()
        .one()
    )
    audit.record(
        session,
        "outcome_recorded",
        user_id=actor.user_id,
        entity="outcome_measure",
        entity_id=saved["id"],
        details={"patient_id": str(patient_id), "library_id": str(library_id)},
    )
    return _score(saved)


def _checked(score: Decimal, instrument: Instrument) -> Decimal:
    from clinic_tui.domain.outcomes import check_score

    problem = check_score(score, instrument.range)
    if problem is not None:
        raise ScoreError(problem)
    return score


def remove_score(session: Session, actor: Actor, *, score_id: uuid.UUID, measured_on: date) -> None:
    """Remove a score recorded by mistake. `measured_on` is part of the key: the delete
    touches one partition."""
    require(actor, Permission.CLINICAL_WRITE)
    s = _SCORES
    gone = session.execute(
        delete(s)
        .where(s.c.id == score_id, s.c.measured_on == measured_on)
        .returning(s.c.patient_id)
    ).scalar_one_or_none()
    if gone is None:
        raise ScoreNotFound(score_id)
    audit.record(
        session,
        "outcome_removed",
        user_id=actor.user_id,
        entity="outcome_measure",
        entity_id=score_id,
        details={"patient_id": str(gone)},
    )


def scores_query(
    patient_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    library_id: uuid.UUID | None = None,
) -> Any:
    """A patient's scores joined to their instruments, oldest first. The date bounds are
    rendered as constants so the planner prunes partitions outside them."""
    s, lib = _SCORES, _LIBRARY
    query = (
        select(
            s.c.id,
            s.c.library_id,
            s.c.measured_on,
            s.c.score,
            s.c.notes,
            s.c.created_at,
            *(c.label(f"lib_{c.name}") for c in lib.c),
        )
        .join(lib, lib.c.id == s.c.library_id)
        .where(s.c.patient_id == patient_id)
        .order_by(lib.c.code, s.c.measured_on, s.c.created_at)
    )
    if date_from is not None:
        low = bindparam("measured_from", date_from, type_=Date, literal_execute=True)
        query = query.where(s.c.measured_on >= low)
    if date_to is not None:
        high = bindparam("measured_to", date_to, type_=Date, literal_execute=True)
        query = query.where(s.c.measured_on <= high)
    if library_id is not None:
        query = query.where(s.c.library_id == library_id)
    return query


def collect_trends(
    session: Session,
    patient_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[InstrumentTrend]:
    """Each instrument the patient was measured with (in the range), by code. For services
    that have checked the permission already (the discharge plan)."""
    grouped: dict[uuid.UUID, tuple[Instrument, list[Score]]] = {}
    query = scores_query(patient_id, date_from=date_from, date_to=date_to)
    for row in session.execute(query).mappings():
        if row["library_id"] not in grouped:
            fields = {name: row[f"lib_{name}"] for name in Instrument.__dataclass_fields__}
            grouped[row["library_id"]] = (Instrument(**fields), [])
        grouped[row["library_id"]][1].append(_score(row))
    return [InstrumentTrend(instrument, tuple(scores)) for instrument, scores in grouped.values()]


def patient_trends(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[InstrumentTrend]:
    """A patient's trends, one per instrument used, between two days (inclusive) when given:
    a range inside one year reads only that year's partition."""
    require(actor, Permission.CLINICAL_WRITE)
    return collect_trends(session, patient_id, date_from=date_from, date_to=date_to)
