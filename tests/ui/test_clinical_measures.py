"""The outcome-measures tab through Pilot, in both languages: the trend of each instrument
(baseline, latest, change, MCID), recording a score with the instrument's instructions,
a score out of range refused at its field with nothing saved, removing a score, the period
of one year, and the tab hidden from receptionists."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from textual.widgets import DataTable, Input, Select, Static

from clinic_tui.i18n import translate_to
from clinic_tui.services import discharge, outcomes, protocols
from clinic_tui.services.access import Role
from tests.db.test_permissions_clinic import add, add_user
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_terms import signed_in

TODAY = date(2026, 11, 22)
SCORES = (
    ("ODI", date(2026, 1, 5), "46"),
    ("ODI", date(2026, 1, 19), "38"),
    ("ODI", date(2026, 2, 2), "30"),
    ("ODI", date(2026, 2, 16), "24"),
    ("ODI", date(2026, 3, 2), "18"),
    ("VAS", date(2026, 1, 5), "8"),
    ("VAS", date(2026, 2, 2), "6"),
    ("VAS", date(2026, 3, 2), "3"),
    ("BERG", date(2026, 1, 5), "30"),
    ("BERG", date(2026, 3, 2), "32"),
)


def seed_patient(
    url: str, *, scores: bool = True, protocol: bool = False, discharge_plan: bool = False
) -> uuid.UUID:
    """A patient with fixed scores (and a protocol and a discharge plan when asked),
    committed, so the app's own connections see them. Same data, same screen."""
    from clinic_tui.models import Patient

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            admin = add_user(session, Role.ADMIN, "Quản Trị Dữ Liệu")
            patient = add(
                session,
                Patient,
                patient_code="BN-2026-0042",
                full_name="Trần Thị Mai",
                date_of_birth=date(1978, 4, 12),
                gender="FEMALE",
                phone="0912345678",
            )
            ids = dict(session.execute(text("SELECT code, id FROM outcome_measures_library")).all())
            for code, day, value in SCORES if scores else ():
                outcomes.record_score(
                    session,
                    admin,
                    patient_id=patient,
                    library_id=ids[code],
                    measured_on=day,
                    score=value,
                    today=TODAY,
                )
            if protocol or discharge_plan:
                lbp = session.scalar(
                    text("SELECT id FROM clinical_protocols WHERE code = 'LBP-8W'")
                )
                protocols.assign_protocol(
                    session,
                    admin,
                    patient_id=patient,
                    protocol_id=lbp,
                    start_date=date(2026, 1, 5),
                    phase="advanced",
                )
            if discharge_plan:
                plan = discharge.start_plan(session, admin, patient_id=patient)
                discharge.save_plan(
                    session,
                    admin,
                    plan.id,
                    expected_version=plan.version,
                    planned_date=date(2026, 3, 9),
                    exercises=plan.exercises,
                    summary_en="Low back pain settled; lifting with a hip hinge.",
                    summary_vi="Hết đau thắt lưng; nâng vật đúng tư thế gập háng.",
                    recommendations_en="Keep the exercises three times a week.",
                    recommendations_vi="Duy trì bài tập ba lần mỗi tuần.",
                )
            session.commit()
            return patient
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


async def opened(app, pilot, patient: uuid.UUID, tab: str = "measures") -> None:
    from clinic_tui.ui.screens.clinical import ClinicalRecordScreen

    await signed_in(app, pilot, "doctor@clinic.vn")
    app.push_screen(ClinicalRecordScreen(patient, tab=tab))
    await settle(app, pilot)


def static(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def table_rows(app, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_the_trend_of_each_instrument(app_factory, staff, db_url, lang) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", locale=lang)
    patient = seed_patient(db_url)
    app = app_factory(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient)
        instruments = table_rows(app, "#measures-instruments")
        assert [row[:6] for row in instruments] == [
            ["BERG", "2", "30", "32", "+2", translate_to(lang, "not met")],
            ["ODI", "5", "46", "18", "−28", translate_to(lang, "met")],
            ["VAS", "3", "8", "3", "−5", translate_to(lang, "met")],
        ]
        summary = " ".join(static(app, "#measures-summary").split())
        assert "Berg" in summary and translate_to(lang, "higher is better") in summary
        assert ("05/01/2026" if lang == "vi" else "01/05/2026") in summary
        await pilot.press("down")  # ODI, lower is better
        await settle(app, pilot)
        summary = " ".join(static(app, "#measures-summary").split())
        assert translate_to(lang, "lower is better") in summary
        change = translate_to(lang, "Change {change}").format(
            change="−28 " + translate_to(lang, "points")
        )
        decimal = "," if lang == "vi" else "."
        better = translate_to(lang, "{percent} better").format(percent=f"60{decimal}9%")
        met = translate_to(lang, "MCID {mcid}: {verdict}").format(
            mcid="10 " + translate_to(lang, "points"), verdict=translate_to(lang, "met")
        )
        assert f"{change} · {better} · {met}" in summary
        dates = [row[0] for row in table_rows(app, "#measures-scores")]
        assert dates[0] == ("02/03/2026" if lang == "vi" else "03/02/2026")  # newest first
        assert len(dates) == 5
        chart = app.screen.query_one("#measures-chart")
        assert chart.trend is not None and chart.trend.instrument.code == "ODI"


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_record_a_score_with_the_instructions(app_factory, staff, db_url, lang) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", locale=lang)
    patient = seed_patient(db_url)
    app = app_factory(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient)
        await pilot.press("down", "down")  # VAS
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen.id == "record-score"
        instructions = " ".join(static(app, "#score-instructions").split())
        expected = "Yêu cầu người bệnh đánh dấu" if lang == "vi" else "Ask the patient to mark"
        assert expected in instructions
        assert translate_to(lang, "lower is better") in instructions
        day = app.screen.query_one("#measured_on", Input)
        day.value = "10/03/2026" if lang == "vi" else "03/10/2026"  # 10 March either way
        app.screen.query_one("#score", Input).focus()
        await type_text(pilot, "2,5" if lang == "vi" else "2.5")
        app.screen.query_one("#notes", Input).focus()
        await type_text(pilot, "Sau 10 buổi")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "clinical-record"
        stored = rows(
            db_url,
            "SELECT measured_on, score, notes FROM outcome_measures "
            "WHERE patient_id = :p AND measured_on = '2026-03-10'",
            p=patient,
        )
        assert stored == [(date(2026, 3, 10), Decimal("2.50"), "Sau 10 buổi")]
        vas = next(r for r in table_rows(app, "#measures-instruments") if r[0] == "VAS")
        assert vas[1:5] == [
            "4",
            "8",
            "2,5" if lang == "vi" else "2.5",
            "−5,5" if lang == "vi" else "−5.5",
        ]


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_a_score_out_of_range_is_refused_at_the_field(app_factory, staff, db_url, lang):
    staff("doctor@clinic.vn", role="DOCTOR", locale=lang)
    patient = seed_patient(db_url)
    app = app_factory(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient)
        await pilot.press("n")
        await settle(app, pilot)
        select = app.screen.query_one("#library_id", Select)
        berg = rows(db_url, "SELECT id FROM outcome_measures_library WHERE code = 'BERG'")[0][0]
        select.value = str(berg)
        await settle(app, pilot)
        app.screen.query_one("#score", Input).focus()
        await type_text(pilot, "60")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "record-score"  # still open, as typed
        error = static(app, "#field-score .field-error")
        message = translate_to(lang, "Above the scale: the score runs from {min} to {max} {unit}.")
        assert error == message.format(min="0", max="56", unit=translate_to(lang, "points"))
        assert app.screen.query_one("#score", Input).value == "60"
        count = rows(
            db_url, "SELECT count(*) FROM outcome_measures WHERE patient_id = :p", p=patient
        )
        assert count == [(len(SCORES),)]
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.id == "clinical-record"


async def test_remove_a_score_after_confirming(app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    patient = seed_patient(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient)
        app.screen.query_one("#measures-scores", DataTable).focus()  # BERG, newest first
        await pilot.press("x")
        await settle(app, pilot)
        assert "BERG of 03/02/2026: 32 points" in screen_text(app)
        await pilot.press("enter")  # "Remove" has the focus
        await settle(app, pilot)
        left = rows(
            db_url,
            "SELECT score FROM outcome_measures o JOIN outcome_measures_library l"
            " ON l.id = o.library_id WHERE l.code = 'BERG' AND o.patient_id = :p",
            p=patient,
        )
        assert left == [(Decimal("30.00"),)]
        assert "Score removed." in static(app, "#measures-status")


async def test_one_year_and_the_language_switch(app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    patient = seed_patient(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient)
        app.screen.query_one("#measures-period", Select).value = "2025"
        await settle(app, pilot)
        assert table_rows(app, "#measures-instruments") == []
        assert "No scores in this period" in static(app, "#measures-status")
        app.screen.query_one("#measures-period", Select).value = "2026"
        await settle(app, pilot)
        assert len(table_rows(app, "#measures-instruments")) == 3
        await pilot.press("f2")
        await settle(app, pilot)
        summary = static(app, "#measures-summary")
        assert translate_to("vi", "higher is better") in summary
        assert "05/01/2026" in summary  # dd/mm/yyyy now
        assert app.screen.query_one("#measures-period", Select).value == "2026"


async def test_receptionists_do_not_see_outcome_measures(app_factory, staff, db_url) -> None:
    from clinic_tui.ui.screens.clinical import ClinicalRecordScreen
    from clinic_tui.ui.screens.clinical_discharge import DischargePanel
    from clinic_tui.ui.screens.clinical_measures import MeasuresPanel

    staff("reception@clinic.vn", role="RECEPTIONIST")
    patient = seed_patient(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(app, pilot, "reception@clinic.vn")
        app.push_screen(ClinicalRecordScreen(patient, tab="measures"))
        await settle(app, pilot)
        assert not app.screen.query(MeasuresPanel) and not app.screen.query(DischargePanel)
        assert "46" not in screen_text(app)
