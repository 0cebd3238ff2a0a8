"""SVG snapshots at a fixed size, taken once workers are done and the cursor does not blink.

Update after an intended change with: make test PYTEST_ARGS="--snapshot-update tests/ui"
"""

from __future__ import annotations

from textual.widgets import Input

from tests.ui.conftest import settle

SIZE = (100, 30)


async def _still(pilot) -> None:
    app = pilot.app
    await settle(app, pilot)
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_login_in_english(snap_compare, app_factory, staff) -> None:
    staff()
    assert snap_compare(app_factory(lang="en"), terminal_size=SIZE, run_before=_still)


def test_login_in_vietnamese(snap_compare, app_factory, staff) -> None:
    staff()
    assert snap_compare(app_factory(lang="vi"), terminal_size=SIZE, run_before=_still)


def test_first_run_choice(snap_compare, app_factory, empty_db_url) -> None:
    assert snap_compare(app_factory(url=empty_db_url), terminal_size=SIZE, run_before=_still)


def _patient_form_with_card(card: str):
    async def run_before(pilot) -> None:
        from tests.ui.conftest import PASSWORD, type_text

        app = pilot.app
        await settle(app, pilot)
        app.screen.query_one("#email", Input).focus()
        await type_text(pilot, "reception@clinic.vn")
        await pilot.press("enter")
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        for field_id, value in (
            ("full_name", "Phạm Thị Hồng"),
            ("date_of_birth", "03/15/1988"),
            ("card_number", card),
        ):
            widget = app.screen.query_one(f"#{field_id}", Input)
            widget.focus()
            await type_text(pilot, value)
        app.screen.query_one("#card_number", Input).blur()
        await _still(pilot)

    return run_before


def test_patient_form_with_a_valid_card(snap_compare, app_factory, staff) -> None:
    staff()
    assert snap_compare(
        app_factory(lang="en"),
        terminal_size=(120, 40),
        run_before=_patient_form_with_card("dn4 79 1234567890"),
    )


def test_patient_form_with_an_invalid_card(snap_compare, app_factory, staff) -> None:
    staff()
    assert snap_compare(
        app_factory(lang="en"),
        terminal_size=(120, 40),
        run_before=_patient_form_with_card("DX9001234567890"),
    )
