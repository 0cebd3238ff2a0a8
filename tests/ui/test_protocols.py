"""Protocols (F7): filtering by category and by diagnosis, the detail in both languages, and a
patient's protocol from assignment through a phase move to recorded progress."""

from __future__ import annotations

from datetime import date

from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Input, OptionList, Select

from clinic_tui.ui.screens.protocol_assign import PatientPicker
from clinic_tui.ui.widgets.term_input import TermInput
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_terms import _rows, signed_in

PATIENT = "Nguyễn Thị Hồng Nhung"


def _seed_patient(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return str(conn.execute(text(
                "INSERT INTO patients (patient_code, full_name, date_of_birth, gender, phone) "
                "VALUES ('BN-2026-000001', :name, DATE '1971-03-08', 'FEMALE', '0912345678') "
                "RETURNING id"), {"name": PATIENT}).scalar_one())  # fmt: skip
    finally:
        engine.dispose()


def listed(app) -> list[str]:
    options = app.screen.query_one("#protocol-list", OptionList)
    return [str(options.get_option_at_index(i).prompt).split("\n")[0]
            for i in range(options.option_count)]  # fmt: skip


async def _diagnosis(app, pilot, typed: str) -> TermInput:
    box = app.screen.query_one("#protocol-diagnosis", TermInput)
    box.value = ""
    box.focus()
    await type_text(pilot, typed)
    await pilot.pause(0.4)  # the filter waits for a pause in typing
    await settle(app, pilot)
    return box


async def test_filter_by_category_and_by_diagnosis(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f7")
        assert app.screen.id == "protocols"
        assert listed(app) == ["KNEE-OA-8W", "LBP-8W", "PEDS-DD-24W", "SHOULDER-12W",
                               "STROKE-16W"]  # fmt: skip
        select = app.screen.query_one("#protocol-category", Select)
        select.value = "neurological"
        await settle(app, pilot)
        assert listed(app) == ["STROKE-16W"]
        select.value = "musculoskeletal"
        await settle(app, pilot)
        assert listed(app) == ["KNEE-OA-8W", "LBP-8W", "SHOULDER-12W"]
        await _diagnosis(app, pilot, "M54")  # a typed ICD-10 prefix
        assert listed(app) == ["LBP-8W"]
        assert "Low back pain rehabilitation" in screen_text(app)
        await _diagnosis(app, pilot, "đau lưng")  # a term, as typed
        assert listed(app) == ["LBP-8W"]
        select.clear()
        await _diagnosis(app, pilot, "I63")
        assert listed(app) == ["STROKE-16W"]
        select.value = "paediatric"
        await settle(app, pilot)
        assert listed(app) == []
        assert "No protocol for this category and diagnosis." in screen_text(app)


async def test_a_picked_term_filters_by_its_code(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f7")
        box = await _diagnosis(app, pilot, "gonarthrosis")
        await pilot.press("enter")
        await settle(app, pilot)
        assert box.value == "Knee osteoarthritis" and box.term_id is not None
        assert listed(app) == ["KNEE-OA-8W"]
        shown = screen_text(app)
        assert "Quadriceps sets" in shown and "3 sets × 10 reps, hold 5 s" in shown


async def test_detail_follows_the_language(app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", locale="vi")
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f7")
        await _diagnosis(app, pilot, "M54.5")
        shown = screen_text(app)
        assert "Phục hồi chức năng đau thắt lưng" in shown
        assert "Giảm đau ít nhất 2 điểm theo thang điểm đau dạng số." in shown
        assert "Nghiêng khung chậu ra sau" in shown and "hằng ngày" in shown
        await pilot.press("f2")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Low back pain rehabilitation" in shown
        assert "Reduce pain by at least 2 points on the numeric rating scale." in shown
        assert "Posterior pelvic tilt" in shown and "Goals" in shown and "Short term" in shown
        assert "Progression criteria" in shown and "Precautions" in shown
        assert "8 weeks" in shown and "3 sessions a week" in shown
        assert app.screen.query_one("#protocol-diagnosis", TermInput).value == "M54.5"


async def _choose_patient(app, pilot) -> None:
    app.screen.query_one("#protocol-list", OptionList).focus()
    await pilot.press("p")
    await type_text(pilot, "hong nhung")
    await pilot.pause(0.3)
    await settle(app, pilot)
    await pilot.press("enter")  # one match: chosen at once
    await settle(app, pilot)
    assert app.screen.query_one(PatientPicker).chosen is not None


async def test_assign_move_phase_and_record_progress(app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    _seed_patient(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f7")
        await _diagnosis(app, pilot, "M54")
        await _choose_patient(app, pilot)
        assert f"{PATIENT} · BN-2026-000001 follows no protocol yet." in screen_text(app)
        await pilot.press("a")
        await settle(app, pilot)
        assert app.screen.id == "assign-protocol"
        assert app.screen.query_one(".protocol-dialog-panel").region.x == 15  # centred
        assert app.screen.query_one(PatientPicker).input.value == PATIENT
        start = app.screen.query_one("#start_date", Input)
        start.value = ""
        start.focus()
        await type_text(pilot, "06/05/2026")  # English: month first
        phase = app.screen.query_one("#phase", Select)
        phase.value = "intermediate"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "protocols"
        table = app.screen.query_one("#patient-protocols", DataTable)
        assert [str(cell) for cell in table.get_row_at(0)][:4] == [
            "Low back pain rehabilitation",
            "06/05/2026",
            "Intermediate",
            "Not started",
        ]
        assert _rows(
            db_url, "SELECT start_date, current_phase, progress_status FROM patient_protocols"
        ) == [(date(2026, 6, 5), "intermediate", "NOT_STARTED")]

        table.focus()
        await pilot.press("n")
        await settle(app, pilot)
        assert "from the Intermediate phase to the Advanced phase" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert [str(cell) for cell in table.get_row_at(0)][2:4] == ["Advanced", "In progress"]

        await pilot.press("r")
        await settle(app, pilot)
        assert app.screen.id == "record-progress"
        await type_text(pilot, "Đi bộ 30 phút không đau.")
        app.screen.query_one("#status", Select).value = "COMPLETED"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "protocols"
        assert [str(cell) for cell in table.get_row_at(0)][2:5] == [
            "Advanced",
            "Completed",
            "Đi bộ 30 phút không đau.",
        ]
        await pilot.press("n")  # nothing more to move on: the last phase
        await settle(app, pilot)
        assert app.screen.id == "protocols"
    [(phase, status, notes)] = _rows(
        db_url, "SELECT current_phase, progress_status, progress_notes FROM patient_protocols"
    )
    assert (phase, status) == ("advanced", "COMPLETED")
    assert [(n["note"], n["status"]) for n in notes] == [("Đi bộ 30 phút không đau.", "COMPLETED")]


async def test_bad_date_and_a_second_assignment_are_explained(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN", locale="vi")
    _seed_patient(db_url)
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "admin@clinic.vn", "f7")
        await _diagnosis(app, pilot, "M17")
        await _choose_patient(app, pilot)
        for attempt in range(2):
            await pilot.press("a")
            await settle(app, pilot)
            start = app.screen.query_one("#start_date", Input)
            start.value = "31/02/2026" if attempt == 0 else "05/06/2026"  # Vietnamese: day first
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            if attempt == 0:
                assert app.screen.id == "assign-protocol"  # not a date: nothing saved
                start.value = "05/06/2026"
                await pilot.press("f2")  # English now: the date is rewritten month first
                await settle(app, pilot)
                assert start.value == "06/05/2026"
                await pilot.press("ctrl+s")
                await settle(app, pilot)
                await pilot.press("f2")
                await settle(app, pilot)
        assert app.screen.id == "assign-protocol"
        assert "đang theo phác đồ này" in screen_text(
            app
        ) or "already following this protocol" in screen_text(app)
    assert _rows(db_url, "SELECT start_date FROM patient_protocols") == [(date(2026, 6, 5),)]


async def test_progress_saved_on_a_changed_assignment_is_refused_then_kept(
    app_factory, staff, db_url
) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    patient_id = _seed_patient(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patient_protocols (patient_id, protocol_id, start_date) "
                          "SELECT :p, id, DATE '2026-01-05' FROM clinical_protocols "
                          "WHERE code = 'SHOULDER-12W'"), {"p": patient_id})  # fmt: skip
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "doctor@clinic.vn", "f7")
        await _choose_patient(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        with engine.begin() as conn:  # someone else moves it on meanwhile
            conn.execute(
                text(
                    "UPDATE patient_protocols SET current_phase = 'intermediate', "
                    "progress_status = 'IN_PROGRESS', version = version + 1"
                )
            )
        await type_text(pilot, "Tầm vận động vai tăng.")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "record-progress"
        shown = screen_text(app)
        assert "Not saved" in shown and "Phase: Intermediate · status: In progress" in shown
        assert app.screen.query_one("#note", Input).value == "Tầm vận động vai tăng."
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "protocols"
    engine.dispose()
    [(notes,)] = _rows(db_url, "SELECT progress_notes FROM patient_protocols")
    assert [n["note"] for n in notes] == ["Tầm vận động vai tăng."]


async def test_receptionist_reads_but_cannot_assign(app_factory, staff, db_url) -> None:
    staff()
    _seed_patient(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn", "f7")
        assert app.screen.id == "protocols"
        assert len(listed(app)) == 5
        await _choose_patient(app, pilot)
        footer = " ".join(str(w.render()) for w in app.screen.query("FooterKey"))
        assert "Assign" not in footer and "Next phase" not in footer
        app.screen.query_one("#protocol-list", OptionList).focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert app.screen.id == "protocols"
    assert _rows(db_url, "SELECT count(*) FROM patient_protocols") == [(0,)]


async def test_the_patients_record_lists_their_protocols(app_factory, staff, db_url) -> None:
    import uuid

    from clinic_tui.ui.screens.patient_form import PatientFormScreen

    staff(locale="vi")
    patient_id = _seed_patient(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patient_protocols (patient_id, protocol_id, start_date, "
                          "current_phase, progress_status) SELECT :p, id, DATE '2026-01-05', "
                          "'intermediate', 'IN_PROGRESS' FROM clinical_protocols "
                          "WHERE code = 'SHOULDER-12W'"), {"p": patient_id})  # fmt: skip
    engine.dispose()
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn", "f3")
        app.push_screen(PatientFormScreen(patient_id=uuid.UUID(patient_id)))
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Phác đồ" in shown
        assert "05/01/2026" in shown and "Trung gian" in shown and "Đang điều trị" in shown
