"""The discharge tab through Pilot, in both languages: starting a plan from the scores and the
protocol, editing the home program and the bilingual summary, finalising, and writing the
patient's hand-out in the language they read."""

from __future__ import annotations

import stat

import pytest
from textual.widgets import Input, TextArea

from clinic_tui.i18n import translate_to
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_clinical_measures import opened, rows, seed_patient, static, table_rows


def plan_row(url: str, patient) -> tuple[object, ...]:
    found = rows(
        url,
        "SELECT status, home_exercise_program, version FROM discharge_plans WHERE patient_id = :p",
        p=patient,
    )
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_start_a_plan_from_the_scores_and_the_protocol(app_factory, staff, db_url, lang):
    staff("doctor@clinic.vn", role="DOCTOR", locale=lang)
    patient = seed_patient(db_url, protocol=True)
    app = app_factory(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient, "discharge")
        assert "n" in static(app, "#discharge-status")  # "press n to start one"
        await pilot.press("n")
        await settle(app, pilot)
        status, program, _version = plan_row(db_url, patient)
        assert status == "DRAFT"
        assert [item["name_en"] for item in program] == [
            "Front plank",
            "Side plank",
            "Hip hinge lifting practice",
        ]
        comparison = table_rows(app, "#discharge-comparison")
        assert [row[0].split(" · ")[0] for row in comparison] == ["BERG", "ODI", "VAS"]
        odi = comparison[1]
        decimal = "," if lang == "vi" else "."
        assert odi[1] == ("46 · 05/01/2026" if lang == "vi" else "46 · 01/05/2026")
        assert odi[3].startswith("−28 ")
        assert odi[4] == translate_to(lang, "{percent} better").format(percent=f"60{decimal}9%")
        assert odi[5] == translate_to(lang, "met") + " (10)"
        assert comparison[0][5] == translate_to(lang, "not met") + " (4)"  # Berg +2 < 4
        names = [row[1] for row in table_rows(app, "#discharge-exercises")]
        expected = "Chống cẳng tay giữ thẳng người (plank)" if lang == "vi" else "Front plank"
        assert names[0] == expected


@pytest.mark.parametrize("lang", ["en", "vi"])
async def test_edit_the_home_program(app_factory, staff, db_url, lang) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", locale=lang)
    patient = seed_patient(db_url, discharge_plan=True)
    app = app_factory(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient, "discharge")
        await pilot.press("a")
        await settle(app, pilot)
        assert app.screen.id == "discharge-exercise-dialog"
        app.screen.query_one("#name_vi", Input).focus()
        await type_text(pilot, "Đi bộ nhanh")
        app.screen.query_one("#sets", Input).focus()
        await type_text(pilot, "abc")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "discharge-exercise-dialog"  # refused at the field
        error = static(app, "#field-sets .field-error")
        assert error == translate_to(lang, "A whole number from 1 to {max}.").format(max=20)
        app.screen.query_one("#sets", Input).value = ""
        app.screen.query_one("#frequency_vi", Input).value = "30 phút mỗi ngày"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "clinical-record"
        _status, program, version = plan_row(db_url, patient)
        assert program[-1]["name_vi"] == "Đi bộ nhanh" and program[-1]["name_en"] == ""
        assert program[-1]["frequency_vi"] == "30 phút mỗi ngày" and version == 3
        names = [row[1] for row in table_rows(app, "#discharge-exercises")]
        assert names[-1] == "Đi bộ nhanh"  # the other language's name when one is missing
        # Remove the first exercise: the cursor starts on it.
        app.screen.query_one("#discharge-exercises").focus()
        await pilot.press("x")
        await settle(app, pilot)
        _status, program, _version = plan_row(db_url, patient)
        assert [item["name_en"] for item in program] == [
            "Side plank",
            "Hip hinge lifting practice",
            "",
        ]


async def test_write_the_summary_and_finalise(app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR")
    patient = seed_patient(db_url, protocol=True)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient, "discharge")
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("f")  # no summary yet
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert translate_to("en", "Required.") in static(app, "#discharge-notice")
        assert plan_row(db_url, patient)[0] == "DRAFT"
        await pilot.press("s")
        await settle(app, pilot)
        assert app.screen.id == "discharge-summary-dialog"
        app.screen.query_one("#planned_date", Input).value = "03/09/2026"
        app.screen.query_one("#summary_en", TextArea).text = "Back pain settled."
        app.screen.query_one("#summary_vi", TextArea).text = "Hết đau lưng."
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.id == "clinical-record"
        summary = rows(
            db_url,
            "SELECT summary_en, summary_vi, discharged_on::text FROM "
            "discharge_summaries WHERE patient_id = :p",
            p=patient,
        )
        assert summary == [("Back pain settled.", "Hết đau lưng.", "2026-03-09")]
        assert "Back pain settled." in static(app, "#discharge-summary")
        await pilot.press("f")
        await settle(app, pilot)
        assert "03/09/2026" in screen_text(app)
        await pilot.press("enter")
        await settle(app, pilot)
        assert plan_row(db_url, patient)[0] == "FINAL"
        assert "03/09/2026" in static(app, "#discharge-status")
        assert app.screen.query_one("DischargePanel").check_action("summary", ()) is False


@pytest.mark.parametrize(("lang", "answer"), [("en", "vi"), ("vi", "en")])
async def test_the_hand_out_in_the_patients_language(app_factory, staff, db_url, lang, answer):
    staff("doctor@clinic.vn", role="DOCTOR", locale=lang)
    patient = seed_patient(db_url, discharge_plan=True)
    app = app_factory(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, patient, "discharge")
        await pilot.press("w")
        await settle(app, pilot)
        app.screen.query_one(f"#answer-{answer}").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        folder = app.settings.data_dir / "discharge"
        [path] = list(folder.iterdir())
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_text(encoding="utf-8")
        assert translate_to(answer, "DISCHARGE SUMMARY") in content
        if answer == "vi":
            assert "Hết đau thắt lưng; nâng vật đúng tư thế gập háng." in content
            assert "09/03/2026" in content and "Chống cẳng tay giữ thẳng người" in content
        else:
            assert "Low back pain settled; lifting with a hip hinge." in content
            assert "03/09/2026" in content and "Front plank" in content
        assert str(path) in " ".join(static(app, "#discharge-notice").split())
