"""First run, signing in and out, lockout, language switch on a filled form."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from textual.widgets import Input

from tests.ui.conftest import PASSWORD, screen_text, settle, type_text


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


async def _sign_in(app, pilot, email: str, password: str) -> None:
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, email)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(app, pilot)


async def test_first_run_migrates_then_creates_the_first_admin(app_factory, empty_db_url) -> None:
    app = app_factory(url=empty_db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.screen.id == "first-run"
        assert "Create the first administrator" in screen_text(app)
        await pilot.press("enter")  # the first choice is focused
        await pilot.pause()
        await type_text(pilot, "Trần Thị Mai")
        await pilot.press("enter")
        await type_text(pilot, "Mai@Clinic.vn")
        await pilot.press("enter")
        await type_text(pilot, "correct horse")
        await pilot.press("enter")
        await type_text(pilot, "correct horse")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == "today"  # the landing screen (issue 7)
        assert "Trần Thị Mai" in str(app.screen.query_one("#clinic-header").render())
    users = _rows(empty_db_url, "SELECT email, role, left(password_hash, 10) FROM users")
    assert users == [("mai@clinic.vn", "ADMIN", "$argon2id$")]
    from clinic_tui.db import migrations

    revision = _rows(empty_db_url, "SELECT version_num FROM alembic_version")
    assert revision == [(migrations.head(),)]


async def test_first_admin_form_explains_each_bad_field(app_factory, empty_db_url) -> None:
    app = app_factory(url=empty_db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # empty name
        await type_text(pilot, "not-an-email")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Enter a name." in shown
        assert "Enter a valid email address." in shown
        assert "At least 10 characters." in shown
        assert app.screen.query_one("#admin-email", Input).value == "not-an-email"
    assert _rows(empty_db_url, "SELECT count(*) FROM users") == [(0,)]


async def test_sign_in_and_out(app_factory, staff, db_url) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await _sign_in(app, pilot, "reception@clinic.vn", PASSWORD)
        assert app.screen.id == "today"  # the landing screen (issue 7)
        assert "Nguyễn Thị Lan" in str(app.screen.query_one("#clinic-header").render())
        await pilot.press("f8")
        await settle(app, pilot)
        assert app.screen.id == "login"
        assert app.actor is None
        assert not any(screen.id in ("home", "today") for screen in app.screen_stack)
        assert app.screen.query_one("#email", Input).value == ""
    assert [a for (a,) in _rows(db_url, "SELECT action FROM audit_log ORDER BY id")] == [
        "login",
        "logout",
    ]


async def test_wrong_password_says_so_and_clears_the_password(app_factory, staff) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await _sign_in(app, pilot, "reception@clinic.vn", "wrong password")
        assert app.screen.id == "login"
        assert "Wrong email or password." in screen_text(app)
        assert app.screen.query_one("#password", Input).value == ""
        assert app.screen.query_one("#email", Input).value == "reception@clinic.vn"


async def test_five_failures_lock_the_account_until_a_time(app_factory, staff, db_url) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await _sign_in(app, pilot, "reception@clinic.vn", "wrong 1")
        for attempt in range(2, 6):
            await type_text(pilot, f"wrong {attempt}")
            await pilot.press("enter")
            await settle(app, pilot)
        assert "locked until" in screen_text(app)
        await type_text(pilot, PASSWORD)  # even the right password is refused now
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == "login"
        assert "locked until" in screen_text(app)
    assert _rows(db_url, "SELECT locked_until IS NOT NULL FROM users") == [(True,)]


async def test_language_switch_keeps_a_filled_form(app_factory, staff) -> None:
    staff()
    app = app_factory(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await type_text(pilot, "lan@clinic.vn")
        await pilot.press("enter")
        await type_text(pilot, "half typed")
        await pilot.press("f2")
        await pilot.pause()
        shown = screen_text(app)
        assert "Đăng nhập" in shown
        assert "Mật khẩu" in shown
        assert app.screen.query_one("#email", Input).value == "lan@clinic.vn"
        assert app.screen.query_one("#password", Input).value == "half typed"
        await pilot.press("f2")
        await pilot.pause()
        assert "Sign in" in screen_text(app)


async def test_language_is_remembered_per_user(app_factory, staff, db_url) -> None:
    staff(locale="vi")
    app = app_factory(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await _sign_in(app, pilot, "reception@clinic.vn", PASSWORD)
        app.open_destination("home")  # the welcome text is on the start page
        await settle(app, pilot)
        assert "Chào mừng" in screen_text(app)
        await pilot.press("f2")
        await settle(app, pilot)
        assert "Welcome" in screen_text(app)
    assert _rows(db_url, "SELECT locale FROM users") == [("en",)]


async def test_help_lists_keys_and_closes(app_factory, staff) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await _sign_in(app, pilot, "reception@clinic.vn", PASSWORD)
        await pilot.press("f12")
        await pilot.pause()
        shown = screen_text(app)
        assert "F2" in shown and "Sign out" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.id == "today"  # the landing screen (issue 7)


async def test_database_behind_lets_only_an_admin_in(app_factory, staff, db_url, tmp_path) -> None:
    from clinic_tui.db import migrations

    staff()
    staff("boss@clinic.vn", role="ADMIN", full_name="Võ Minh Quân")
    migrations.downgrade(db_url, "0016")  # behind this program's head
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await _sign_in(app, pilot, "reception@clinic.vn", PASSWORD)
        assert app.screen.id == "login"
        assert "administrator" in screen_text(app)
        app.screen.query_one("#email", Input).value = ""
        app.screen.query_one("#email", Input).focus()
        await _sign_in(app, pilot, "boss@clinic.vn", PASSWORD)
        assert app.screen.id == "upgrade"
        await pilot.press("enter")  # "Upgrade now" is focused
        await settle(app, pilot)
        assert app.screen.id == "today"  # the landing screen (issue 7)
    assert _rows(db_url, "SELECT version_num FROM alembic_version") == [(migrations.head(),)]
    # The service checked the admin's permission, took a backup first and audited the run.
    assert _rows(db_url, "SELECT count(*) FROM audit_log WHERE action = 'schema.upgrade'") == [(1,)]
    assert list((tmp_path / "data" / "backups").glob("*.dump"))


async def test_first_run_loads_a_demo_clinic_and_names_its_accounts(
    app_factory, empty_db_url
) -> None:
    app = app_factory(url=empty_db_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("tab")  # from "Create the first administrator" to "Load a demo clinic"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.id == "login"
        assert "reception@demo.clinic" in screen_text(app)
        await _sign_in(app, pilot, "reception@demo.clinic", "demo-clinic")
        assert app.screen.id == "today"  # the landing screen (issue 7)
        from clinic_tui.i18n import _

        # Demo accounts sign in in their remembered language (Vietnamese).
        assert _("DEMO") == "DÙNG THỬ"
        assert "DÙNG THỬ" in str(app.screen.query_one("#clinic-header").render())
    assert _rows(empty_db_url, "SELECT count(*) FROM users WHERE is_demo") == [(3,)]
    assert _rows(empty_db_url, "SELECT count(*) FROM patients") == [(200,)]
