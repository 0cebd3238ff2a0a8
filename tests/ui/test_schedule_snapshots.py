"""SVG snapshots of the day grid and the booking dialog at 120×40, on a fixed day (Monday
7 January 2030) with every cell state, so nothing depends on the clock.

Update after an intended change with: make test PYTEST_ARGS="--snapshot-update tests/ui"
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from textual.widgets import Input

from clinic_tui.services import appointments as appts
from tests.ui.conftest import settle, type_text
from tests.ui.test_schedule import (
    book,
    build_clinic,
    committed,
    go_to,
    open_grid,
    sign_in,
)

SIZE = (120, 40)
DAY = date(2030, 1, 7)  # a Monday
EARLY = datetime(2030, 1, 7, 7, 0)
LANGUAGES = ["en", "vi"]


def _clinic(db_url: str, language: str) -> None:
    desk = build_clinic(db_url, DAY, locale=language)  # signing in takes the account's language
    book(db_url, desk, "Nguyễn Văn An", "Phạm Minh Tuấn", DAY, time(8, 0), 2, now=EARLY)
    arrived = book(db_url, desk, "Đỗ Thị Mai", "Nguyễn Thị Lan", DAY, time(9, 0), now=EARLY)
    done = book(db_url, desk, "Lê Hoàng Nam", "Trần Văn Bình", DAY, time(8, 30), now=EARLY)
    with committed(db_url) as session:
        appts.check_in(session, desk.reception, arrived.id, expected_version=arrived.version,
                       now=datetime(2030, 1, 7, 8, 50))  # fmt: skip
        checked = appts.check_in(session, desk.reception, done.id, expected_version=done.version,
                                 now=datetime(2030, 1, 7, 8, 20))  # fmt: skip
        appts.complete(session, desk.reception, done.id, expected_version=checked.version)


async def _still(pilot) -> None:
    app = pilot.app
    await settle(app, pilot)
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def _grid(pilot) -> None:
    app = pilot.app
    await sign_in(app, pilot)
    grid = await open_grid(app, pilot, DAY)
    await go_to(pilot, grid, "Nguyễn Thị Lan", time(10, 0))
    await _still(pilot)


async def _dialog(pilot) -> None:
    app = pilot.app
    await _grid(pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    await type_text(pilot, "nguyen van an")
    await pilot.pause(0.3)
    await settle(app, pilot)
    await pilot.press("enter", "enter")
    await _still(pilot)


@pytest.mark.parametrize("language", LANGUAGES)
def test_day_grid(snap_compare, app_factory, db_url, language: str) -> None:
    _clinic(db_url, language)
    assert snap_compare(app_factory(lang=language), terminal_size=SIZE, run_before=_grid)


@pytest.mark.parametrize("language", LANGUAGES)
def test_booking_dialog(snap_compare, app_factory, db_url, language: str) -> None:
    _clinic(db_url, language)
    assert snap_compare(app_factory(lang=language), terminal_size=SIZE, run_before=_dialog)
