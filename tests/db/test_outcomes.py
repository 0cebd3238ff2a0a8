"""Outcome measures on the real database: recording a score (and refusing one out of range,
leaving nothing behind), trends per instrument, partition pruning for a one-year range,
removal, and the receptionist kept out."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from clinic_tui.domain.outcomes import ScoreProblem
from clinic_tui.models import AuditEntry, OutcomeMeasure
from clinic_tui.services import outcomes
from clinic_tui.services.access import PermissionDenied, Role
from clinic_tui.services.outcomes import SCORE_PROBLEMS, OutcomeInvalid, ScoreNotFound
from tests.db.test_permissions_clinic import add_patient, add_user

D = Decimal
TODAY = date(2026, 11, 22)


def instrument_id(session: Session, code: str) -> uuid.UUID:
    found = session.scalar(
        text("SELECT id FROM outcome_measures_library WHERE code = :c"), {"c": code}
    )
    assert found is not None
    return found


def record(session: Session, actor: Any, patient: uuid.UUID, code: str, day: date, score: str):
    return outcomes.record_score(
        session,
        actor,
        patient_id=patient,
        library_id=instrument_id(session, code),
        measured_on=day,
        score=score,
        today=TODAY,
    )


def scores_of(session: Session, patient: uuid.UUID) -> int:
    query = (
        select(func.count()).select_from(OutcomeMeasure).where(OutcomeMeasure.patient_id == patient)
    )
    return session.scalar(query) or 0


def audit_of(session: Session, actor: Any) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.user_id == actor.user_id).order_by(AuditEntry.id)
    return list(session.scalars(query))


def test_the_library_in_both_languages(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    found = {item.code: item for item in outcomes.list_instruments(db_session, doctor)}
    assert {"VAS", "NDI", "ODI", "LEFS", "BERG"} <= set(found)
    assert found["ODI"].higher_is_better is False and found["LEFS"].higher_is_better is True
    assert found["VAS"].instructions("vi").startswith("Yêu cầu người bệnh")
    assert found["VAS"].instructions("en").startswith("Ask the patient")
    assert found["BERG"].range.max_score == 56


def test_record_a_score_in_its_years_partition(db_session: Session) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    saved = record(db_session, doctor, patient, "VAS", date(2026, 3, 2), " 7,5 ")
    assert saved.score == D("7.50") and saved.measured_on == date(2026, 3, 2)
    where = db_session.execute(
        text(
            "SELECT tableoid::regclass::text, score, recorded_by"
            " FROM outcome_measures WHERE id = :i"
        ),
        {"i": saved.id},
    ).one()
    assert where == ("outcome_measures_y2026", D("7.50"), doctor.user_id)
    [entry] = audit_of(db_session, doctor)
    assert (entry.action, entry.entity, entry.entity_id) == (
        "outcome_recorded",
        "outcome_measure",
        str(saved.id),
    )
    assert set(entry.details) == {"patient_id", "library_id"}  # ids only: no score, no notes


@pytest.mark.parametrize(
    ("code", "typed", "problem"),
    [
        ("VAS", "10.5", ScoreProblem.ABOVE_MAX),
        ("BERG", "57", ScoreProblem.ABOVE_MAX),
        ("FIM", "17", ScoreProblem.BELOW_MIN),
        ("ODI", "-1", ScoreProblem.BELOW_MIN),
        ("LEFS", "abc", ScoreProblem.NOT_A_NUMBER),
        ("NDI", "", ScoreProblem.REQUIRED),
    ],
)
def test_a_score_outside_the_range_writes_nothing(
    db_session: Session, code: str, typed: str, problem: ScoreProblem
) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    with pytest.raises(OutcomeInvalid) as refused:
        record(db_session, doctor, patient, code, date(2026, 3, 2), typed)
    assert refused.value.problems == {"score": SCORE_PROBLEMS[problem]}
    assert set(refused.value.values) == {"min", "max", "unit"}
    assert scores_of(db_session, patient) == 0
    assert audit_of(db_session, doctor) == []


def test_every_wrong_field_is_named(db_session: Session) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    with pytest.raises(OutcomeInvalid) as refused:
        outcomes.record_score(
            db_session,
            doctor,
            patient_id=uuid.uuid4(),
            library_id=uuid.uuid4(),
            measured_on=date(2026, 11, 23),
            score="5",
            notes="x" * 2001,
            today=TODAY,
        )
    assert set(refused.value.problems) == {"library_id", "measured_on", "notes", "patient_id"}
    with pytest.raises(OutcomeInvalid) as refused:
        outcomes.record_score(
            db_session,
            doctor,
            patient_id=patient,
            library_id=instrument_id(db_session, "VAS"),
            measured_on=None,
            score=D("3.333"),
            today=TODAY,
        )
    assert refused.value.problems == {
        "measured_on": outcomes.REQUIRED,
        "score": SCORE_PROBLEMS[ScoreProblem.TOO_PRECISE],
    }
    assert scores_of(db_session, patient) == 0


def _odi_and_lefs(session: Session, actor: Any, patient: uuid.UUID) -> None:
    for code, day, score in (
        ("ODI", date(2025, 11, 3), "46"),
        ("ODI", date(2026, 1, 10), "30"),
        ("ODI", date(2026, 2, 20), "18"),
        ("LEFS", date(2026, 1, 10), "40"),
        ("LEFS", date(2026, 2, 20), "47"),
    ):
        record(session, actor, patient, code, day, score)


def test_trends_per_instrument_respect_direction(db_session: Session) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    _odi_and_lefs(db_session, doctor, patient)
    record(db_session, doctor, add_patient(db_session, "Lê Văn Tám"), "ODI", date(2026, 1, 5), "90")
    trends = {t.instrument.code: t for t in outcomes.patient_trends(db_session, doctor, patient)}
    assert list(trends) == ["LEFS", "ODI"]
    odi = trends["ODI"]
    assert [s.score for s in odi.scores] == [D(46), D(30), D(18)]
    result = odi.comparison
    assert (result.baseline, result.latest, result.change) == (D(46), D(18), D(-28))
    assert (result.improvement, result.percent, result.mcid_met) == (D(28), D("60.9"), True)
    lefs = trends["LEFS"].comparison  # higher is better: +7 is better, under its MCID of 9
    assert (lefs.improvement, lefs.percent, lefs.mcid_met) == (D(7), D("17.5"), False)
    this_year = outcomes.patient_trends(
        db_session, doctor, patient, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31)
    )
    odi_2026 = next(t for t in this_year if t.instrument.code == "ODI")
    assert odi_2026.baseline.score == D(30) and odi_2026.comparison.improvement == D(12)


def _scanned(session: Session, run: Any) -> set[str]:
    """The tables PostgreSQL plans to read for the queries `run` makes."""
    statements: list[tuple[str, Any]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "outcome_measures" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert statements, "no query on outcome_measures"
    found: set[str] = set()
    for statement, parameters in statements:
        cursor = connection.connection.driver_connection.execute(
            "EXPLAIN (FORMAT JSON) " + statement, parameters
        )
        _relations(cursor.fetchone()[0], found)
    return found


def _relations(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        for value in node.values():
            _relations(value, found)
    elif isinstance(node, list):
        for value in node:
            _relations(value, found)


def test_a_one_year_range_reads_one_partition(db_session: Session) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    _odi_and_lefs(db_session, doctor, patient)
    start, end = outcomes.year_range(2025)
    one_year = _scanned(
        db_session,
        lambda: outcomes.patient_trends(db_session, doctor, patient, date_from=start, date_to=end),
    )
    assert {name for name in one_year if name.startswith("outcome_measures_y")} == {
        "outcome_measures_y2025"
    }
    assert "outcome_measures_default" not in one_year
    everything = _scanned(db_session, lambda: outcomes.patient_trends(db_session, doctor, patient))
    assert {"outcome_measures_y2024", "outcome_measures_y2030", "outcome_measures_default"} <= (
        everything
    )


def test_remove_a_score_recorded_by_mistake(db_session: Session) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    saved = record(db_session, doctor, patient, "NDI", date(2024, 6, 1), "24")
    outcomes.remove_score(db_session, doctor, score_id=saved.id, measured_on=saved.measured_on)
    assert scores_of(db_session, patient) == 0
    assert [e.action for e in audit_of(db_session, doctor)] == [
        "outcome_recorded",
        "outcome_removed",
    ]
    with pytest.raises(ScoreNotFound):
        outcomes.remove_score(db_session, doctor, score_id=saved.id, measured_on=saved.measured_on)


def test_receptionists_neither_read_nor_write_scores(db_session: Session) -> None:
    doctor, patient = add_user(db_session, Role.DOCTOR), add_patient(db_session)
    saved = record(db_session, doctor, patient, "VAS", date(2026, 3, 2), "6")
    desk = add_user(db_session, Role.RECEPTIONIST)
    calls = [
        lambda: outcomes.list_instruments(db_session, desk),
        lambda: outcomes.patient_trends(db_session, desk, patient),
        lambda: record(db_session, desk, patient, "VAS", date(2026, 3, 3), "5"),
        lambda: outcomes.remove_score(
            db_session, desk, score_id=saved.id, measured_on=saved.measured_on
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert scores_of(db_session, patient) == 1
    assert audit_of(db_session, desk) == []
