"""The first screen says which database it reached, the server version and the revision."""

from __future__ import annotations

from tests.ui.conftest import screen_text


async def _settled(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_shows_database_version_and_revision_in_english(app_factory, db_url) -> None:
    app = app_factory(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await _settled(app, pilot)
        text = screen_text(app)
    assert "Server version" in text
    assert "PostgreSQL 18" in text
    database_name = db_url.rsplit("/", 1)[1].split("?")[0]
    assert database_name in text
    assert app.server_info is not None
    assert (app.server_info.revision or "empty database") in text


async def test_shows_the_same_in_vietnamese_and_switches_with_f2(app_factory) -> None:
    app = app_factory(lang="vi")
    async with app.run_test(size=(100, 30)) as pilot:
        await _settled(app, pilot)
        assert "Phiên bản máy chủ" in screen_text(app)
        await pilot.press("f2")
        await pilot.pause()
        assert "Server version" in screen_text(app)


async def test_unreachable_server_is_a_message_not_a_crash(app_factory) -> None:
    app = app_factory(url="postgresql+psycopg://postgres:x@127.0.0.1:9/clinic")
    async with app.run_test(size=(100, 30)) as pilot:
        await _settled(app, pilot)
        assert "cannot be reached" in screen_text(app)
