"""Snapshots at 120×40: the term dropdown open (English) and a protocol's detail in Vietnamese.

The protocol's texts come from the database, so they are Vietnamese already; labels follow the
catalog once it is filled (then update with `--snapshot-update`).
"""

from __future__ import annotations

from textual.widgets import Input

from tests.ui.conftest import settle, type_text
from tests.ui.test_terms import signed_in

SIZE = (120, 40)


async def _still(pilot) -> None:
    app = pilot.app
    await settle(app, pilot)
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_term_dropdown_open(snap_compare, app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", full_name="Phạm Minh Khoa")

    async def run_before(pilot) -> None:
        await signed_in(pilot.app, pilot, "doctor@clinic.vn", "f6")
        await type_text(pilot, "dau")  # Vietnamese without accents, in the English UI
        await _still(pilot)

    assert snap_compare(app_factory(lang="en"), terminal_size=SIZE, run_before=run_before)


def test_protocol_detail_in_vietnamese(snap_compare, app_factory, staff) -> None:
    staff("doctor@clinic.vn", role="DOCTOR", full_name="Phạm Minh Khoa", locale="vi")

    async def run_before(pilot) -> None:
        app = pilot.app
        await signed_in(app, pilot, "doctor@clinic.vn", "f7")
        app.screen.query_one("#protocol-diagnosis", Input).focus()
        await type_text(pilot, "M54")
        await pilot.pause(0.4)
        await settle(app, pilot)
        await pilot.press("escape")  # the dropdown closes
        await pilot.press("escape")  # back to the list
        await _still(pilot)

    assert snap_compare(app_factory(lang="vi"), terminal_size=SIZE, run_before=run_before)
