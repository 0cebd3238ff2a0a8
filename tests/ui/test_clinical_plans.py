"""The treatment-plans tab of the clinical record (issue 12 items 1, 6, 7), in both languages:
a plan whose diagnosis is picked from the term dropdown (its ICD-10 code kept) and which follows
a protocol; a session with exercises ticked from the protocol's current phase, a pain of 11
refused at its field; a visit's session on the active plan; the front desk sees no plans."""

from __future__ import annotations

import json
import uuid
from datetime import date, time, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from textual.widgets import DataTable, Input, Select, SelectionList, TextArea

from clinic_tui.services import treatment
from clinic_tui.services.access import Actor, Role
from clinic_tui.ui.screens.clinical import ClinicalRecordScreen
from clinic_tui.ui.screens.clinical_plans import PlanDialog, PlansPanel
from clinic_tui.ui.screens.clinical_session_dialog import SessionDialog
from clinic_tui.ui.screens.patients import today
from clinic_tui.ui.widgets.term_input import TermInput
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_terms import _rows, dropdown_rows, signed_in

PATIENT = "Nguyễn Thị Hồng Nhung"
DOCTOR = "BS. Trần Đức Minh"
# Per language: what a person reads (the Vietnamese of this tab's own texts).
SAYS = {
    "en": {"empty": "No treatment plan yet. Press n to create one.", "ongoing": "● Ongoing",
           "initial": "Initial", "pain": "Pain is scored from 0 to 10.",
           "recorded": "Treatment session recorded for", "no_plan":
           "This patient has no active treatment plan: create one first.",
           "term": "Low back pain", "exercise": "Cat-camel", "code": "ICD-10: M54.5",
           "saved": "Plan saved: Low back pain."},
    "vi": {"empty": "Chưa có kế hoạch điều trị. Nhấn n để tạo.", "ongoing": "● Đang điều trị",
           "initial": "Ban đầu", "pain": "Mức đau được chấm từ 0 đến 10.",
           "recorded": "Đã ghi buổi điều trị ngày", "no_plan":
           "Bệnh nhân này chưa có kế hoạch điều trị đang áp dụng: hãy tạo trước.",
           "term": "Đau thắt lưng", "exercise": "Cong và võng lưng ở tư thế quỳ bốn điểm",
           "code": "ICD-10: M54.5", "saved": "Đã lưu kế hoạch: Đau thắt lưng."},
}  # fmt: skip


@pytest.fixture(autouse=True)
def _only_this_tab(monkeypatch: pytest.MonkeyPatch) -> None:
    """The record with this tab alone: the other tabs have their own tests, and one of them
    failing to open must not hide what this one does."""
    plans = tuple(tab for tab in ClinicalRecordScreen.TABS if tab.id == "plans")
    monkeypatch.setattr(ClinicalRecordScreen, "TABS", plans)


def _typed_date(day: date, lang: str) -> str:
    """As a person types it: day first in Vietnamese, month first in English."""
    first, second = (day.day, day.month) if lang == "vi" else (day.month, day.day)
    return f"{first:02d}/{second:02d}/{day.year}"


def _seed(url: str, user_id: uuid.UUID) -> tuple[str, str]:
    """A patient, and the signed-in therapist's doctor row."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            patient = conn.execute(text(
                "INSERT INTO patients (patient_code, full_name, date_of_birth, gender, phone) "
                "VALUES ('BN-2026-000009', :name, DATE '1971-03-08', 'FEMALE', '0912345678') "
                "RETURNING id"), {"name": PATIENT}).scalar_one()  # fmt: skip
            doctor = conn.execute(text(
                "INSERT INTO doctors (full_name, email, specialization, user_id) "
                "VALUES (:name, 'minh@clinic.vn', 'musculoskeletal', :user) RETURNING id"),
                {"name": DOCTOR, "user": user_id}).scalar_one()  # fmt: skip
        return str(patient), str(doctor)
    finally:
        engine.dispose()


def _lbp_plan(url: str, user_id: uuid.UUID, patient: str, doctor: str) -> treatment.PlanView:
    """An active plan following LBP-8W from a week ago, made through the service."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            actor = Actor(user_id, "doctor@clinic.vn", DOCTOR, Role.DOCTOR)
            lbp = session.execute(
                text("SELECT id FROM clinical_protocols WHERE code = 'LBP-8W'")
            ).scalar_one()
            plan = treatment.create_plan(session, actor, uuid.UUID(patient), treatment.PlanInput(
                doctor_id=uuid.UUID(doctor), diagnosis="Đau thắt lưng", diagnosis_icd10="M54.5",
                start_date=today() - timedelta(days=7), protocol_id=lbp))  # fmt: skip
            session.commit()
            return plan
    finally:
        engine.dispose()


def _therapist(staff, db_url, lang: str = "en") -> tuple[str, str, uuid.UUID]:
    """The signed-in therapist's account and doctor row, and a patient."""
    user = staff("doctor@clinic.vn", role="DOCTOR", full_name=DOCTOR, locale=lang)
    patient, doctor = _seed(db_url, user.id)
    return patient, doctor, user.id


async def _record(app, pilot, patient: str) -> PlansPanel:
    app.push_screen(ClinicalRecordScreen(uuid.UUID(patient), tab="plans"))
    await settle(app, pilot)
    return app.screen.query_one(PlansPanel)


def _cells(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _fill(pilot, box: Input | TextArea, value: str) -> None:
    box.focus()
    if isinstance(box, Input):
        box.value = ""
    await type_text(pilot, value)


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_a_plan_with_a_picked_diagnosis_and_a_protocol(
    app_factory, staff, db_url, lang
) -> None:
    says = SAYS[lang]
    patient, doctor, _user = _therapist(staff, db_url, lang)
    app = app_factory(lang=lang)
    async with app.run_test(size=(140, 45)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        panel = await _record(app, pilot, patient)
        assert says["empty"] in screen_text(app)
        await pilot.press("n")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, PlanDialog)
        assert dialog.query_one("#plan-doctor", Select).value == doctor  # the therapist's own
        box = dialog.query_one("#plan-diagnosis", TermInput)
        assert box.has_focus
        await type_text(pilot, "dau lung")
        await settle(app, pilot)
        assert any("M54.5" in row for row in dropdown_rows(box))
        await pilot.press("enter")  # the best match is picked
        await settle(app, pilot)
        assert box.value == says["term"] and box.term_id is not None
        assert says["code"] in screen_text(app)
        lbp = _rows(db_url, "SELECT id FROM clinical_protocols WHERE code = 'LBP-8W'")[0][0]
        dialog.query_one("#plan-protocol", Select).value = str(lbp)
        await _fill(pilot, dialog.query_one("#plan-goals", TextArea), "Giam dau")
        end = today() + timedelta(weeks=8)
        await _fill(pilot, dialog.query_one("#plan-end", Input), _typed_date(end, lang))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is panel.screen  # saved and closed
        [row] = _rows(db_url, "SELECT diagnosis, diagnosis_icd10, doctor_id::text, goals, "
                      "start_date, planned_end_date, status, sessions_per_week "
                      "FROM treatment_plans WHERE patient_id = :p", p=patient)  # fmt: skip
        assert row == (says["term"], "M54.5", doctor, "Giam dau", today(), end, "ACTIVE", 3)
        [(linked,)] = _rows(db_url, "SELECT p.code FROM patient_protocols a JOIN "
                            "clinical_protocols p ON p.id = a.protocol_id "
                            "WHERE a.treatment_plan_id IS NOT NULL")  # fmt: skip
        assert linked == "LBP-8W"
        [cells] = _cells(panel.query_one("#plans-table", DataTable))
        assert cells[:3] == [says["ongoing"], says["term"], "M54.5"]
        assert cells[6] == f"LBP-8W · {says['initial']}" and cells[3] == DOCTOR
        assert cells[4] == f"{_typed_date(today(), lang)} – {_typed_date(end, lang)}"
        assert says["saved"] in screen_text(app)


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_a_session_with_exercises_and_a_pain_of_11_refused(
    app_factory, staff, db_url, lang
) -> None:
    says = SAYS[lang]
    patient, doctor, user_id = _therapist(staff, db_url, lang)
    app = app_factory(lang=lang)
    async with app.run_test(size=(140, 45)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        plan = _lbp_plan(db_url, user_id, patient, doctor)
        panel = await _record(app, pilot, patient)
        await pilot.press("s")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, SessionDialog)
        shown = screen_text(app)
        assert "LBP-8W" in shown and says["initial"] in shown
        exercises = dialog.query_one("#session-exercises", SelectionList)
        assert exercises.option_count == 4  # the initial phase's
        assert str(exercises.get_option_at_index(2).prompt) == says["exercise"]
        await _fill(pilot, dialog.query_one("#session-pain", Input), "11")
        await _fill(pilot, dialog.query_one("#session-minutes", Input), "45")
        exercises.focus()
        exercises.highlighted = 2
        await pilot.press("space", "up", "up", "space")  # Cat-camel, then the first
        assert exercises.selected == ["Cat-camel", "Posterior pelvic tilt"]
        await _fill(pilot, dialog.query_one("#session-notes", TextArea), "Do dau khi cui")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is dialog  # refused: still open, as typed
        assert dialog.query_one("#field-session-pain").has_class("-invalid")
        assert says["pain"] in screen_text(app)
        assert _rows(db_url, "SELECT count(*) FROM treatment_sessions") == [(0,)]
        await _fill(pilot, dialog.query_one("#session-pain", Input), "4")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is panel.screen
        [(day, pain, minutes, done, notes)] = _rows(
            db_url, "SELECT session_date, pain_level, minutes, exercises_done::text, notes "
            "FROM treatment_sessions WHERE treatment_plan_id = :p", p=plan.id)  # fmt: skip
        assert (day, pain, minutes, notes) == (today(), 4, 45, "Do dau khi cui")
        assert [e["name_en"] for e in json.loads(done)] == ["Posterior pelvic tilt", "Cat-camel"]
        shown = screen_text(app)
        assert says["recorded"] in shown and says["exercise"] in shown  # the plan's detail
        sessions = _cells(panel.query_one("#plans-sessions", DataTable))
        assert len(sessions) == 1 and sessions[0][1:3] == ["4", "45"]


async def test_enter_shows_sessions_and_phase_and_f2_follows(app_factory, staff, db_url) -> None:
    patient, doctor, user_id = _therapist(staff, db_url, "en")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        plan = _lbp_plan(db_url, user_id, patient, doctor)
        engine = create_engine(db_url)
        with Session(engine) as session:
            actor = Actor(user_id, "doctor@clinic.vn", DOCTOR, Role.DOCTOR)
            treatment.record_session(session, actor, plan.id, session_date=today(), pain_level=6,
                                     exercises=["Abdominal drawing-in"], minutes=30)  # fmt: skip
            session.commit()
        engine.dispose()
        panel = await _record(app, pilot, patient)
        assert "Abdominal drawing-in" not in screen_text(app)
        panel.query_one("#plans-table", DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Protocol LBP-8W Low back pain rehabilitation · phase: Initial" in shown
        assert "Exercises of this phase: Posterior pelvic tilt, Single knee-to-chest" in shown
        [row] = _cells(panel.query_one("#plans-sessions", DataTable))
        assert row[:4] == [today().strftime("%m/%d/%Y"), "6", "30", "Abdominal drawing-in"]
        await pilot.press("f2")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Phục hồi chức năng đau thắt lưng" in shown and "Ban đầu" in shown
        [row] = _cells(panel.query_one("#plans-sessions", DataTable))
        assert row[0] == today().strftime("%d/%m/%Y")
        assert row[3] == "Hóp bụng kích hoạt cơ ngang bụng"


async def test_editing_keeps_the_code_and_the_typing_across_f2(app_factory, staff, db_url) -> None:
    patient, doctor, user_id = _therapist(staff, db_url, "en")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        plan = _lbp_plan(db_url, user_id, patient, doctor)
        await _record(app, pilot, patient)
        await pilot.press("e")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, PlanDialog)
        assert "ICD-10: M54.5" in screen_text(app)
        per_week = dialog.query_one("#plan-per-week", Input)
        await _fill(pilot, per_week, "2")
        end = date(2027, 1, 5)
        await _fill(pilot, dialog.query_one("#plan-end", Input), "01/05/2027")
        await pilot.press("f2")  # the typed date is rewritten day first; nothing is lost
        await settle(app, pilot)
        assert dialog.query_one("#plan-end", Input).value == "05/01/2027"
        assert per_week.value == "2"
        await _fill(pilot, per_week, "15")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert dialog.query_one("#field-plan-per-week").has_class("-invalid")
        assert "Từ 1 đến 14 buổi mỗi tuần." in screen_text(app)
        await _fill(pilot, per_week, "2")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        [row] = _rows(db_url, "SELECT diagnosis_icd10, sessions_per_week, planned_end_date, "
                      "version FROM treatment_plans WHERE id = :p", p=plan.id)  # fmt: skip
        assert row == ("M54.5", 2, end, 2)


async def test_a_visit_records_its_session_on_the_active_plan(app_factory, staff, db_url) -> None:
    patient, doctor, user_id = _therapist(staff, db_url, "en")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn")
        engine = create_engine(db_url)
        with engine.begin() as conn:
            values = {"p": patient, "d": doctor, "day": today(), "start": time(9, 0),
                      "end": time(9, 45)}  # fmt: skip
            visit = conn.execute(text(
                "INSERT INTO appointments (patient_id, doctor_id, appointment_date, start_time, "
                "end_time, status) VALUES (:p, :d, :day, :start, :end, 'CHECKED_IN') "
                "RETURNING id::text"), values).scalar_one()  # fmt: skip
        engine.dispose()
        results: list[object] = []
        app.push_screen(SessionDialog(appointment_id=uuid.UUID(visit),
                                      patient_id=uuid.UUID(patient)), results.append)  # fmt: skip
        await settle(app, pilot)
        assert SAYS["en"]["no_plan"] in screen_text(app)
        await pilot.press("ctrl+s")  # nothing to save on
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert results == [None]
        plan = _lbp_plan(db_url, user_id, patient, doctor)
        app.push_screen(SessionDialog(appointment_id=uuid.UUID(visit),
                                      patient_id=uuid.UUID(patient)), results.append)  # fmt: skip
        await settle(app, pilot)
        dialog = app.screen
        assert dialog.query_one("#session-minutes", Input).value == "45"  # the visit's length
        assert not dialog.query_one("#field-session-date").display  # the visit's day
        await _fill(pilot, dialog.query_one("#session-pain", Input), "ba")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Type a whole number." in screen_text(app) and results == [None]
        await _fill(pilot, dialog.query_one("#session-pain", Input), "３")  # from an IME
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        recorded = results[-1]
        assert isinstance(recorded, treatment.SessionView)
        assert (recorded.treatment_plan_id, str(recorded.appointment_id)) == (plan.id, visit)
        assert _rows(db_url, "SELECT pain_level, minutes, therapist_id::text FROM "
                     "treatment_sessions") == [(3, 45, doctor)]  # fmt: skip


async def test_the_front_desk_sees_no_plans(app_factory, staff, db_url) -> None:
    desk = staff("reception@clinic.vn", role="RECEPTIONIST")
    patient, _doctor = _seed(db_url, desk.id)
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn")
        app.push_screen(ClinicalRecordScreen(uuid.UUID(patient), tab="plans"))
        await settle(app, pilot)
        assert not app.screen.query(PlansPanel)
        assert "Treatment plans" not in screen_text(app)
