"""Snapshot at 120×40: the invoice screen with the BHYT split of PT001 + PT105 on a DN4 card
(insurance 600,000, patient 150,000), on a fixed service date so the picture does not age."""

from __future__ import annotations

import dataclasses
from datetime import date

from textual.widgets import Input

from tests.ui.conftest import settle
from tests.ui.test_invoicing import _add, _open, _seed_patient


def test_invoice_screen_with_a_split(snap_compare, app_factory, staff, db_url) -> None:
    patient_id = _seed_patient(db_url)
    staff()

    async def run_before(pilot) -> None:
        app = pilot.app
        screen = await _open(app, pilot, patient_id)
        screen.draft = dataclasses.replace(screen.draft, service_date=date(2026, 7, 15))
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        await settle(app, pilot)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()
        assert screen.preview.insurance == 600000 and screen.preview.patient == 150000

    assert snap_compare(app_factory(), terminal_size=(120, 40), run_before=run_before)
