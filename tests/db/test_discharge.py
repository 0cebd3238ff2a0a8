"""Discharge on the real database: the plan's baseline-versus-latest numbers, the home program
taken from the protocol and edited, the bilingual summary, finalising, the take-home file in
each language, and the receptionist kept out."""

from __future__ import annotations

import stat
import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from clinic_tui.i18n import translate_to
from clinic_tui.models import AuditEntry, DischargePlan
from clinic_tui.services import discharge, protocols
from clinic_tui.services.access import PermissionDenied, Role
from clinic_tui.services.discharge import (
    DischargeConflict,
    DischargeInvalid,
    HomeExercise,
)
from tests.db.test_outcomes import audit_of, record
from tests.db.test_permissions_clinic import add_patient, add_user, setup_admin

D = Decimal


def lbp_protocol(session: Session) -> uuid.UUID:
    return session.scalar(text("SELECT id FROM clinical_protocols WHERE code = 'LBP-8W'"))


def a_patient_near_discharge(session: Session, doctor: Any, phase: str = "advanced") -> uuid.UUID:
    """Low back pain: ODI 46 → 18, VAS 8 → 3, Berg 30 → 32, on the LBP protocol."""
    patient = add_patient(session)
    protocols.assign_protocol(
        session,
        setup_admin(session),
        patient_id=patient,
        protocol_id=lbp_protocol(session),
        start_date=date(2026, 1, 5),
        phase=phase,
    )
    for code, day, score in (
        ("ODI", date(2026, 1, 5), "46"),
        ("ODI", date(2026, 2, 2), "30"),
        ("ODI", date(2026, 3, 2), "18"),
        ("VAS", date(2026, 1, 5), "8"),
        ("VAS", date(2026, 3, 2), "3"),
        ("BERG", date(2026, 1, 5), "30"),
        ("BERG", date(2026, 3, 2), "32"),
    ):
        record(session, doctor, patient, code, day, score)
    return patient


def test_a_plan_compares_every_instrument_used(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    patient = a_patient_near_discharge(db_session, doctor)
    plan = discharge.start_plan(
        db_session, doctor, patient_id=patient, planned_date=date(2026, 3, 9)
    )
    assert plan.status == "DRAFT" and plan.version == 1
    rows = {row.code: row for row in plan.comparison}
    assert list(rows) == ["BERG", "ODI", "VAS"]
    odi, vas, berg = rows["ODI"], rows["VAS"], rows["BERG"]
    assert (odi.baseline, odi.latest, odi.count) == (D(46), D(18), 3)
    assert (odi.baseline_on, odi.latest_on) == (date(2026, 1, 5), date(2026, 3, 2))
    assert (odi.change, odi.improvement, odi.percent, odi.mcid_met) == (
        D(-28),
        D(28),
        D("60.9"),
        True,
    )
    assert (vas.improvement, vas.percent, vas.mcid_met) == (D(5), D("62.5"), True)
    # Higher is better on Berg: +2 is better, but under its MCID of 4.
    assert (berg.change, berg.improvement, berg.percent, berg.mcid_met) == (
        D(2),
        D(2),
        D("6.7"),
        False,
    )


def test_the_home_program_comes_from_the_protocols_current_phase(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    patient = a_patient_near_discharge(db_session, doctor, phase="advanced")
    plan = discharge.start_plan(db_session, doctor, patient_id=patient)
    assert [e.name_en for e in plan.exercises] == [
        "Front plank",
        "Side plank",
        "Hip hinge lifting practice",
    ]
    assert plan.exercises[0].name_vi == "Chống cẳng tay giữ thẳng người (plank)"
    assert (plan.exercises[0].sets, plan.exercises[0].hold_seconds) == (3, 30)
    without = discharge.start_plan(db_session, doctor, patient_id=add_patient(db_session))
    assert without.exercises == ()


def test_one_plan_in_progress_at_a_time(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    patient = a_patient_near_discharge(db_session, doctor)
    discharge.start_plan(db_session, doctor, patient_id=patient)
    with pytest.raises(DischargeInvalid) as refused:
        discharge.start_plan(db_session, doctor, patient_id=patient)
    assert refused.value.problems == {"plan": discharge.ALREADY_OPEN}


def _save(session: Session, doctor: Any, plan: Any, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "planned_date": plan.planned_date,
        "exercises": plan.exercises,
        "summary_en": plan.summary_en,
        "summary_vi": plan.summary_vi,
        "recommendations_en": plan.recommendations_en,
        "recommendations_vi": plan.recommendations_vi,
        **changes,
    }
    return discharge.save_plan(session, doctor, plan.id, expected_version=plan.version, **values)


WALK = HomeExercise(
    name_en="Brisk walking",
    name_vi="Đi bộ nhanh",
    frequency_en="30 minutes a day",
    frequency_vi="30 phút mỗi ngày",
)


def test_edit_the_program_and_the_summaries(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    plan = discharge.start_plan(
        db_session, doctor, patient_id=a_patient_near_discharge(db_session, doctor)
    )
    first = replace(plan.exercises[0], sets=4)
    saved = _save(
        db_session,
        doctor,
        plan,
        planned_date=date(2026, 3, 9),
        exercises=[first, WALK],
        summary_en="Back pain much better; lifting safely.",
        summary_vi="Đau lưng giảm nhiều; nâng vật đúng tư thế.",
        recommendations_vi="Tái khám nếu đau lại.",
    )
    assert saved.version == 2
    assert [e.name_en for e in saved.exercises] == ["Front plank", "Brisk walking"]
    assert saved.exercises[0].sets == 4
    assert saved.summary_vi == "Đau lưng giảm nhiều; nâng vật đúng tư thế."
    assert saved.discharged_on == date(2026, 3, 9)
    stored = db_session.get(DischargePlan, plan.id)
    assert stored is not None and len(stored.baseline_comparison) == 3
    with pytest.raises(DischargeConflict):  # a second screen still showing version 1
        _save(db_session, doctor, plan, summary_en="Other text")
    with pytest.raises(DischargeInvalid) as refused:
        _save(db_session, doctor, saved, exercises=[HomeExercise("", ""), replace(WALK, reps=0)])
    assert refused.value.problems == {
        "exercises.0.name": discharge.NAME_REQUIRED,
        "exercises.1.reps": discharge.NOT_A_COUNT,
    }


def test_finalising_needs_both_summaries_and_freezes_the_numbers(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    patient = a_patient_near_discharge(db_session, doctor)
    plan = discharge.start_plan(db_session, doctor, patient_id=patient)
    plan = _save(db_session, doctor, plan, summary_en="Recovered.")
    with pytest.raises(DischargeInvalid) as refused:
        discharge.finalize_plan(
            db_session,
            doctor,
            plan.id,
            expected_version=plan.version,
            discharged_on=date(2026, 3, 9),
        )
    assert refused.value.problems == {"summary_vi": discharge.REQUIRED}
    plan = _save(db_session, doctor, plan, summary_vi="Đã hồi phục.")
    final = discharge.finalize_plan(
        db_session, doctor, plan.id, expected_version=plan.version, discharged_on=date(2026, 3, 10)
    )
    assert (final.status, final.discharged_on) == ("FINAL", date(2026, 3, 10))
    record(db_session, doctor, patient, "ODI", date(2026, 3, 20), "40")  # after discharge
    again = discharge.current_plan(db_session, doctor, patient)
    assert again is not None
    assert next(r for r in again.comparison if r.code == "ODI").latest == D(18)
    with pytest.raises(DischargeInvalid) as refused:
        _save(db_session, doctor, again, summary_en="Changed")
    assert refused.value.problems == {"plan": discharge.FINAL}
    # A new episode may start once the last plan is final.
    assert discharge.start_plan(db_session, doctor, patient_id=patient).status == "DRAFT"


def _exported(session: Session, doctor: Any, language: str, folder: Path) -> tuple[Path, str]:
    patient = a_patient_near_discharge(session, doctor, phase="initial")
    plan = discharge.start_plan(session, doctor, patient_id=patient)
    plan = _save(
        session,
        doctor,
        plan,
        planned_date=date(2026, 3, 9),
        exercises=[*plan.exercises[:1], WALK],
        summary_en="Back pain much better.",
        summary_vi="Đau lưng giảm nhiều.",
    )
    plan = discharge.finalize_plan(
        session, doctor, plan.id, expected_version=plan.version, discharged_on=date(2026, 3, 10)
    )
    path = discharge.export_handout(session, doctor, plan.id, language=language, directory=folder)
    return path, path.read_text(encoding="utf-8")


def test_the_handout_in_vietnamese(db_session: Session, tmp_path: Path) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    folder = tmp_path / "data" / "discharge"
    path, content = _exported(db_session, doctor, "vi", folder)
    words = " ".join(content.split())  # long lines are wrapped
    assert path.parent == folder and path.name.startswith("discharge-") and "-vi-" in path.name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def vi(message: str) -> str:
        return translate_to("vi", message)

    for expected in (
        vi("DISCHARGE SUMMARY"),
        "Ngô Thị Hoa",
        "10/03/2026",  # dd/mm/yyyy
        "Chỉ số giảm chức năng cột sống thắt lưng Oswestry (ODI)",
        "60,9%",  # a decimal comma
        vi("Better by {points} {unit} ({percent})").format(
            points="28", unit=vi("points"), percent="60,9%"
        ),
        "Nghiêng khung chậu ra sau",
        vi("{sets} sets × {reps} reps").format(sets=3, reps=10) + " · ",
        "hằng ngày",
        "Đi bộ nhanh",
        "30 phút mỗi ngày",
        "Đau lưng giảm nhiều.",
    ):
        assert expected in words, content
    assert "Back pain much better." not in content
    assert "Posterior pelvic tilt" not in content
    assert all(len(line) <= 72 for line in content.splitlines())


def test_the_handout_in_english(db_session: Session, tmp_path: Path) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    _path, content = _exported(db_session, doctor, "en", tmp_path / "discharge")
    words = " ".join(content.split())  # long lines are wrapped
    for expected in (
        "DISCHARGE SUMMARY",
        "Discharge date: 03/10/2026",  # mm/dd/yyyy
        "Oswestry Disability Index",
        "lower is better",
        "Better by 28 points (60.9%): a clinically important improvement (at least 10 points)",
        "Better by 2 points (6.7%): less than a clinically important improvement (4 points)",
        "1. Posterior pelvic tilt",
        "3 sets × 10 reps · hold 5 s · daily",
        "2. Brisk walking",
        "Back pain much better.",
    ):
        assert expected in words, content
    assert "Đau lưng giảm nhiều." not in content
    assert "(draft, not final)" not in content
    entries = [e for e in audit_of(db_session, doctor) if e.action == "discharge_exported"]
    assert [e.details["language"] for e in entries] == ["en"]


def test_audit_has_ids_and_actions_only(db_session: Session) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    patient = a_patient_near_discharge(db_session, doctor)
    plan = discharge.start_plan(db_session, doctor, patient_id=patient)
    _save(db_session, doctor, plan, summary_en="Secret clinical text", summary_vi="Bí mật")
    entries = [e for e in audit_of(db_session, doctor) if e.entity == "discharge_plan"]
    assert [e.action for e in entries] == ["discharge_plan_started", "discharge_plan_saved"]
    for entry in entries:
        assert entry.entity_id == str(plan.id)
        assert entry.details == {"patient_id": str(patient)}


def test_receptionists_are_kept_out_of_discharge(db_session: Session, tmp_path: Path) -> None:
    doctor = add_user(db_session, Role.DOCTOR)
    patient = a_patient_near_discharge(db_session, doctor)
    plan = discharge.start_plan(db_session, doctor, patient_id=patient)
    desk = add_user(db_session, Role.RECEPTIONIST)
    calls = [
        lambda: discharge.current_plan(db_session, desk, patient),
        lambda: discharge.protocol_exercises(db_session, desk, patient),
        lambda: discharge.start_plan(db_session, desk, patient_id=add_patient(db_session)),
        lambda: _save(db_session, desk, plan, summary_en="x"),
        lambda: discharge.finalize_plan(
            db_session, desk, plan.id, expected_version=1, discharged_on=date(2026, 3, 9)
        ),
        lambda: discharge.export_handout(
            db_session, desk, plan.id, language="vi", directory=tmp_path
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert audit_of(db_session, desk) == []
    assert list(tmp_path.iterdir()) == []
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.user_id == desk.user_id)
    assert db_session.scalar(count) == 0
