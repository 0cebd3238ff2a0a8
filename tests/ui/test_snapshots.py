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
