"""Treatment protocols (issue 6): filtering by category and diagnosis through the GIN index,
the detail a therapist works from, and a patient's protocol from assignment to completion."""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry, Patient, User
from clinic_tui.services import protocols
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.protocols import (
    ProtocolEditConflict,
    ProtocolInvalid,
    ProtocolNotFound,
    ProtocolProblem,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "0014_clinical_protocols.json"
SEEDED = json.loads(SEEDS.read_text(encoding="utf-8"))
PATIENT_NAME = "Nguyễn Thị Hồng Nhung"


def _actor(session: Session, role: Role = Role.DOCTOR) -> Actor:
    """A real account (assignments and audit rows refer to it), without a password hash."""
    email = f"{role.lower()}-{uuid.uuid4().hex[:8]}@clinic.vn"
    user_id = session.execute(
        insert(User)
        .values(email=email, password_hash="x", full_name="Phạm Văn Đức", role=role.value)
        .returning(User.id)
    ).scalar_one()
    return Actor(user_id, email, "Phạm Văn Đức", role)


def _patient(session: Session) -> uuid.UUID:
    return session.execute(
        insert(Patient)
        .values(
            patient_code=f"T{uuid.uuid4().hex[:10].upper()}",
            full_name=PATIENT_NAME,
            date_of_birth=date(1971, 3, 8),
            gender="FEMALE",
        )
        .returning(Patient.id)
    ).scalar_one()


def _codes(found: list[protocols.ProtocolSummary]) -> list[str]:
    return [summary.code for summary in found]


def _protocol_id(session: Session, code: str) -> uuid.UUID:
    found = protocols.list_protocols(session, _actor(session))
    return next(summary.id for summary in found if summary.code == code)


# --- the list ---------------------------------------------------------------------------------


def test_all_five_seeded_protocols_are_listed_by_code(db_session: Session) -> None:
    found = protocols.list_protocols(db_session, _actor(db_session, Role.RECEPTIONIST))
    assert _codes(found) == sorted(p["code"] for p in SEEDED)
    lbp = next(s for s in found if s.code == "LBP-8W")
    assert (lbp.name_vi, lbp.duration_weeks, lbp.sessions_per_week) == (
        "Phục hồi chức năng đau thắt lưng", 8, 3,
    )  # fmt: skip
    assert lbp.target_icd10_codes == ("M54.5", "M54.4", "M51.2")


@pytest.mark.parametrize(
    ("category", "codes"),
    [
        ("neurological", ["STROKE-16W"]),
        ("Paediatric", ["PEDS-DD-24W"]),
        ("musculoskeletal", ["KNEE-OA-8W", "LBP-8W", "SHOULDER-12W"]),
        ("gossip", []),
    ],
)
def test_filter_by_category(db_session: Session, category: str, codes: list[str]) -> None:
    found = protocols.list_protocols(db_session, _actor(db_session), category=category)
    assert _codes(found) == codes


@pytest.mark.parametrize(
    ("diagnosis", "codes"),
    [
        ("M54.5", ["LBP-8W"]),  # a target code
        ("m54", ["LBP-8W"]),  # a prefix: M54.5 and M54.4 start with it
        ("M5", ["LBP-8W"]),  # M51.2, M54.4, M54.5
        ("M17.1", ["KNEE-OA-8W"]),
        ("M17.15", ["KNEE-OA-8W"]),  # under a target code
        ("M25.5", ["SHOULDER-12W"]),  # M25.51
        ("I6", ["STROKE-16W"]),
        ("R62.0", ["PEDS-DD-24W"]),
        ("Z99.9", []),
        ("đau lưng", ["LBP-8W"]),  # a term: its ICD-10 code
        ("lumbago", ["LBP-8W"]),
        ("thoái hóa khớp gối", ["KNEE-OA-8W"]),
        ("knee", ["KNEE-OA-8W"]),  # the anatomy term has no code: the best coded hit
        ("Đột quỵ", ["STROKE-16W"]),
        ("frozen shoulder", ["SHOULDER-12W"]),
        ("quokka", []),
        ("%", []),
    ],
)
def test_filter_by_diagnosis(db_session: Session, diagnosis: str, codes: list[str]) -> None:
    found = protocols.list_protocols(db_session, _actor(db_session), diagnosis=diagnosis)
    assert _codes(found) == codes


def test_category_and_diagnosis_together(db_session: Session) -> None:
    actor = _actor(db_session)
    assert _codes(
        protocols.list_protocols(db_session, actor, category="musculoskeletal", diagnosis="I63")
    ) == []  # fmt: skip
    assert _codes(
        protocols.list_protocols(db_session, actor, category="neurological", diagnosis="I63")
    ) == ["STROKE-16W"]  # fmt: skip


@pytest.fixture
def captured(db_session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The statements the session sends, with their parameters, as the driver gets them."""
    statements: list[tuple[str, Any]] = []
    connection = db_session.connection()

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", keep)
    yield statements
    event.remove(connection, "before_cursor_execute", keep)


def test_the_diagnosis_filter_reads_the_gin_index(
    db_session: Session, captured: list[tuple[str, Any]]
) -> None:
    db_session.execute(
        text(
            "INSERT INTO clinical_protocols (code, name_en, name_vi, category,"
            " target_icd10_codes, duration_weeks, sessions_per_week, goals, exercises,"
            " progression_criteria)"
            " SELECT 'GEN-' || i, 'Generated ' || i, 'Sinh ' || i, 'musculoskeletal',"
            " ARRAY['S' || lpad((i % 100)::text, 2, '0') || '.' || (i % 7),"
            "       'T' || lpad((i % 97)::text, 2, '0')],"
            " 6, 2, '[]', '[]', '{}' FROM generate_series(1, 5000) AS i"
        )
    )
    db_session.execute(
        text("SELECT gin_clean_pending_list('ix_clinical_protocols_target_icd10_codes')")
    )
    db_session.execute(text("ANALYZE clinical_protocols"))
    doctor = _actor(db_session)
    for diagnosis in ["M54.5", "lumbago", "M54"]:
        captured.clear()
        assert _codes(protocols.list_protocols(db_session, doctor, diagnosis=diagnosis)) == [
            "LBP-8W"
        ]
        statement, parameters = next((s, p) for s, p in captured if "&&" in s)
        explained = db_session.connection().exec_driver_sql("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in explained)
        assert "Bitmap Index Scan on ix_clinical_protocols_target_icd10_codes" in plan, plan
        assert "Seq Scan" not in plan, plan
    generated = protocols.list_protocols(db_session, _actor(db_session), diagnosis="S42.3")
    assert len(generated) == len([i for i in range(1, 5001) if i % 100 == 42 and i % 7 == 3])


# --- the detail -------------------------------------------------------------------------------


def test_the_detail_has_goals_phases_and_criteria_in_both_languages(db_session: Session) -> None:
    actor = _actor(db_session, Role.RECEPTIONIST)
    detail = protocols.get_protocol(db_session, actor, _protocol_id(db_session, "LBP-8W"))
    seeded = next(p for p in SEEDED if p["code"] == "LBP-8W")
    assert (detail.code, detail.session_minutes, detail.duration_weeks) == ("LBP-8W", 45, 8)
    assert detail.description_vi == seeded["description_vi"]
    assert detail.precautions_en == seeded["precautions_en"]
    assert [g.term for g in detail.goals] == ["short", "short", "long", "long"]
    assert detail.goals_for("long")[0].measure == "ODI"
    assert detail.goals[0].timeframe_weeks == 4 and detail.goals[0].vi.startswith("Giảm đau")
    assert list(detail.exercises) == ["initial", "intermediate", "advanced"]
    for phase, exercises in detail.exercises.items():
        expected = [e["name_en"] for e in seeded["exercises"] if e["phase"] == phase]
        assert [e.name_en for e in exercises] == expected
    cat_camel = next(e for e in detail.exercises["initial"] if e.name_en == "Cat-camel")
    assert (cat_camel.sets, cat_camel.reps, cat_camel.hold_seconds) == (2, 10, None)
    assert cat_camel.frequency_vi == "hằng ngày"
    assert [c.stage for c in detail.progression_criteria] == [
        "initial_to_intermediate", "intermediate_to_advanced", "discharge",
    ]  # fmt: skip
    assert detail.progression_criteria[2].vi.startswith("Chỉ số Oswestry")
    with pytest.raises(ProtocolNotFound):
        protocols.get_protocol(db_session, actor, uuid.uuid4())


# --- a patient's protocol ---------------------------------------------------------------------


def test_assign_advance_record_and_list(db_session: Session) -> None:
    doctor = _actor(db_session)
    patient_id = _patient(db_session)
    lbp = _protocol_id(db_session, "LBP-8W")
    view = protocols.assign_protocol(
        db_session, doctor, patient_id=patient_id, protocol_id=lbp, start_date=date(2025, 3, 3)
    )
    assert (view.current_phase, view.progress_status, view.version) == (
        "initial", "NOT_STARTED", 1,
    )  # fmt: skip
    assert (view.protocol_code, view.assigned_by, view.progress_notes) == (
        "LBP-8W",
        doctor.user_id,
        (),
    )
    view = protocols.advance_phase(db_session, doctor, view.id, expected_version=1)
    assert (view.current_phase, view.progress_status, view.version) == (
        "intermediate", "IN_PROGRESS", 2,
    )  # fmt: skip
    view = protocols.record_progress(
        db_session, doctor, view.id, note="Đau giảm còn 3/10.", status="IN_PROGRESS",
        expected_version=2,
    )  # fmt: skip
    view = protocols.advance_phase(db_session, doctor, view.id, expected_version=3)
    with pytest.raises(ProtocolInvalid) as last:
        protocols.advance_phase(db_session, doctor, view.id, expected_version=4)
    assert last.value.problems == {"current_phase": ProtocolProblem.LAST_PHASE}
    view = protocols.record_progress(
        db_session, doctor, view.id, note="", status="COMPLETED", expected_version=4
    )
    assert [(n.note, n.status, n.by) for n in view.progress_notes] == [
        ("Đau giảm còn 3/10.", "IN_PROGRESS", doctor.user_id),
        ("", "COMPLETED", doctor.user_id),
    ]
    assert view.progress_notes[0].at <= view.progress_notes[1].at
    assert (view.current_phase, view.progress_status, view.version) == ("advanced", "COMPLETED", 5)
    listed = protocols.patient_protocols(db_session, _actor(db_session, Role.RECEPTIONIST),
                                         patient_id)  # fmt: skip
    assert listed == [view]


def test_a_stale_screen_conflicts_and_writes_nothing(db_session: Session) -> None:
    doctor = _actor(db_session)
    view = protocols.assign_protocol(
        db_session, doctor, patient_id=_patient(db_session),
        protocol_id=_protocol_id(db_session, "KNEE-OA-8W"), start_date=date(2025, 1, 6),
    )  # fmt: skip
    protocols.advance_phase(db_session, doctor, view.id, expected_version=1)
    with pytest.raises(ProtocolEditConflict) as stale:
        protocols.advance_phase(db_session, doctor, view.id, expected_version=1)
    assert stale.value.current_version == 2
    with pytest.raises(ProtocolEditConflict):
        protocols.record_progress(
            db_session, doctor, view.id, note="late", status="IN_PROGRESS", expected_version=1
        )
    now = protocols.patient_protocols(db_session, doctor, view.patient_id)[0]
    assert (now.current_phase, now.version, now.progress_notes) == ("intermediate", 2, ())
    with pytest.raises(ProtocolNotFound):
        protocols.advance_phase(db_session, doctor, uuid.uuid4(), expected_version=1)


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        ({"phase": "expert"}, {"phase": ProtocolProblem.PHASE}),
        ({"patient_id": uuid.uuid4()}, {"patient_id": ProtocolProblem.PATIENT_NOT_FOUND}),
    ],
)
def test_an_assignment_is_checked(
    db_session: Session, change: dict[str, Any], problems: dict[str, ProtocolProblem]
) -> None:
    values = {
        "patient_id": _patient(db_session),
        "protocol_id": _protocol_id(db_session, "STROKE-16W"),
        "start_date": date(2025, 5, 5),
    } | change
    with pytest.raises(ProtocolInvalid) as refused:
        protocols.assign_protocol(db_session, _actor(db_session), **values)
    assert refused.value.problems == problems


def test_one_running_assignment_per_protocol_and_patient(db_session: Session) -> None:
    doctor, patient_id = _actor(db_session), _patient(db_session)
    stroke = _protocol_id(db_session, "STROKE-16W")
    first = protocols.assign_protocol(
        db_session, doctor, patient_id=patient_id, protocol_id=stroke,
        start_date=date(2025, 5, 5), phase="intermediate",
    )  # fmt: skip
    assert first.current_phase == "intermediate"
    with pytest.raises(ProtocolInvalid) as twice:
        protocols.assign_protocol(
            db_session, doctor, patient_id=patient_id, protocol_id=stroke,
            start_date=date(2025, 6, 1),
        )  # fmt: skip
    assert twice.value.problems == {"protocol_id": ProtocolProblem.ALREADY_ASSIGNED}
    protocols.record_progress(
        db_session, doctor, first.id, note="Chuyển viện.", status="DISCONTINUED",
        expected_version=1,
    )  # fmt: skip
    again = protocols.assign_protocol(
        db_session, doctor, patient_id=patient_id, protocol_id=stroke, start_date=date(2025, 6, 1)
    )
    assert [v.id for v in protocols.patient_protocols(db_session, doctor, patient_id)] == [
        again.id, first.id,
    ]  # fmt: skip
    with pytest.raises(ProtocolNotFound):
        protocols.assign_protocol(
            db_session, doctor, patient_id=patient_id, protocol_id=uuid.uuid4(),
            start_date=date(2025, 6, 1),
        )  # fmt: skip


def test_progress_is_checked_and_a_closed_protocol_stays_closed(db_session: Session) -> None:
    doctor = _actor(db_session)
    view = protocols.assign_protocol(
        db_session, doctor, patient_id=_patient(db_session),
        protocol_id=_protocol_id(db_session, "PEDS-DD-24W"), start_date=date(2025, 2, 2),
    )  # fmt: skip
    cases: list[tuple[str, str, dict[str, ProtocolProblem]]] = [
        ("ok", "FINISHED", {"status": ProtocolProblem.STATUS}),
        ("x" * 4001, "IN_PROGRESS", {"note": ProtocolProblem.TOO_LONG}),
        ("  \t ", "NOT_STARTED", {"note": ProtocolProblem.REQUIRED}),  # nothing new to say
    ]
    for note, status, problems in cases:
        with pytest.raises(ProtocolInvalid) as refused:
            protocols.record_progress(
                db_session, doctor, view.id, note=note, status=status, expected_version=1
            )
        assert refused.value.problems == problems
    note = "Bé ngồi vững 30 giây."
    view = protocols.record_progress(
        db_session, doctor, view.id, note=unicodedata.normalize("NFD", note) + "\x00",
        status="COMPLETED", expected_version=1,
    )  # fmt: skip
    assert view.progress_notes[-1].note == note
    for attempt in (
        lambda: protocols.advance_phase(db_session, doctor, view.id, expected_version=2),
        lambda: protocols.record_progress(
            db_session, doctor, view.id, note="again", status="IN_PROGRESS", expected_version=2
        ),
    ):
        with pytest.raises(ProtocolInvalid) as closed:
            attempt()
        assert closed.value.problems == {"progress_status": ProtocolProblem.CLOSED}


def test_the_audit_log_has_actions_and_ids_never_the_patient_or_the_notes(
    db_session: Session,
) -> None:
    doctor, patient_id = _actor(db_session), _patient(db_session)
    view = protocols.assign_protocol(
        db_session, doctor, patient_id=patient_id,
        protocol_id=_protocol_id(db_session, "SHOULDER-12W"), start_date=date(2025, 4, 1),
    )  # fmt: skip
    view = protocols.advance_phase(db_session, doctor, view.id, expected_version=1)
    protocols.record_progress(
        db_session, doctor, view.id, note="Nhung still cannot lift her arm overhead",
        status="IN_PROGRESS", expected_version=2,
    )  # fmt: skip
    entries = db_session.execute(
        select(AuditEntry).where(AuditEntry.entity == "patient_protocol").order_by(AuditEntry.id)
    ).scalars().all()  # fmt: skip
    assert [(e.action, e.entity_id, e.user_id) for e in entries] == [
        ("protocol_assigned", str(view.id), doctor.user_id),
        ("protocol_phase_advanced", str(view.id), doctor.user_id),
        ("protocol_progress_recorded", str(view.id), doctor.user_id),
    ]
    logged = json.dumps([e.details for e in entries], ensure_ascii=False)
    assert "Nhung" not in logged and "overhead" not in logged and str(patient_id) not in logged
    assert entries[2].details == {"status": "IN_PROGRESS"}


# --- who may ----------------------------------------------------------------------------------

Operation = Callable[[Session, Actor], object]


def _assign(session: Session, actor: Actor) -> object:
    return protocols.assign_protocol(
        session, actor, patient_id=_patient(session),
        protocol_id=_protocol_id(session, "LBP-8W"), start_date=date(2025, 7, 1),
    )  # fmt: skip


def _assigned(session: Session) -> protocols.PatientProtocolView:
    return _assign(session, _actor(session))  # type: ignore[return-value]


OPERATIONS: list[tuple[str, Operation, set[Role]]] = [
    ("list", lambda s, a: protocols.list_protocols(s, a, diagnosis="M54"),
     {Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR}),
    ("detail", lambda s, a: protocols.get_protocol(s, a, _protocol_id(s, "LBP-8W")),
     {Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR}),
    ("patient's protocols", lambda s, a: protocols.patient_protocols(s, a, _patient(s)),
     {Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR}),
    ("assign", _assign, {Role.ADMIN, Role.DOCTOR}),
    ("advance", lambda s, a: protocols.advance_phase(s, a, _assigned(s).id, expected_version=1),
     {Role.ADMIN, Role.DOCTOR}),
    ("progress", lambda s, a: protocols.record_progress(
        s, a, _assigned(s).id, note="ok", status="IN_PROGRESS", expected_version=1),
     {Role.ADMIN, Role.DOCTOR}),
]  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "operation", "allowed"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_who_may_read_and_who_may_assign(
    db_session: Session, role: Role, name: str, operation: Operation, allowed: set[Role]
) -> None:
    actor = _actor(db_session, role)
    if role in allowed:
        operation(db_session, actor)
    else:
        with pytest.raises(PermissionDenied):
            operation(db_session, actor)
