"""Snapshots at 120×40 of a patient's clinical record: the ODI trend chart (English) and the
discharge comparison (Vietnamese), from fixed scores on fixed dates.

Instrument and exercise names come from the database, so they are Vietnamese already; labels
follow the catalog once it is filled, and the tab's styles once they are in the app's
stylesheet (then update with `--snapshot-update`).
"""

from __future__ import annotations

from textual.widgets import Input

from tests.ui.conftest import settle
from tests.ui.test_clinical_measures import seed_patient
from tests.ui.test_terms import signed_in

SIZE = (120, 40)


async def _open(pilot, patient, tab: str) -> None:
    from clinic_tui.ui.screens.clinical import ClinicalRecordScreen

    app = pilot.app
    await signed_in(app, pilot, "doctor@clinic.vn")
    app.push_screen(ClinicalRecordScreen(patient, tab=tab))
    await settle(app, pilot)


async def _still(pilot) -> None:
    app = pilot.app
    await settle(app, pilot)
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_odi_trend_chart(snap_compare, app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", full_name="Phạm Minh Khoa")
    patient = seed_patient(db_url)

    async def run_before(pilot) -> None:
        await _open(pilot, patient, "measures")
        await pilot.press("down")  # BERG → ODI: five scores, lower is better, MCID met
        await _still(pilot)

    assert snap_compare(app_factory(lang="en"), terminal_size=SIZE, run_before=run_before)


def test_discharge_comparison_in_vietnamese(snap_compare, app_factory, staff, db_url) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", full_name="Phạm Minh Khoa", locale="vi")
    patient = seed_patient(db_url, discharge_plan=True)

    async def run_before(pilot) -> None:
        await _open(pilot, patient, "discharge")
        await _still(pilot)

    assert snap_compare(app_factory(lang="vi"), terminal_size=SIZE, run_before=run_before)
