"""The staff tab (F9): an admin creates a receptionist through the form (a wrong field is
explained first), deactivates them after confirming, and reads the last-admin refusal on
screen."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from textual.widgets import DataTable, Input, Select

from clinic_tui.models import User
from clinic_tui.services import auth
from clinic_tui.services import staff as staff_service
from clinic_tui.ui.screens.admin import AdminScreen
from clinic_tui.ui.screens.admin_staff import StaffPanel
from clinic_tui.ui.screens.admin_staff_forms import NewStaffDialog
from clinic_tui.ui.screens.confirm import ConfirmScreen
from tests.ui.conftest import PASSWORD, screen_text, settle, type_text

NEW_PASSWORD = "front desk 2026"


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _execute(url: str, sql: str, **params: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


async def staff_tab(app, pilot, email: str) -> StaffPanel:
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, email)
    await pilot.press("enter")
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("f9")
    await settle(app, pilot)
    assert isinstance(app.screen, AdminScreen)
    app.screen.action_show_tab("staff")
    await settle(app, pilot)
    return app.screen.query_one(StaffPanel)


def table_rows(panel: StaffPanel) -> list[str]:
    table = panel.query_one("#staff-table", DataTable)
    return [" | ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def fill(pilot, field_id: str, value: str) -> None:
    box = pilot.app.screen.query_one(f"#{field_id}", Input)
    box.value = ""
    box.focus()
    await type_text(pilot, value)


async def confirm(app, pilot, answer: str) -> None:
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.click(f"#answer-{answer}")
    await settle(app, pilot)


async def test_admin_creates_then_deactivates_a_receptionist(app_factory, staff, db_url) -> None:
    boss = staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        panel = await staff_tab(app, pilot, "admin@clinic.vn")
        [row] = table_rows(panel)
        assert row.startswith("Trần Quốc Bảo (you) | admin@clinic.vn | Administrator | active | ")
        assert row.endswith(" | 0")  # signed in just now, no failed attempt

        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NewStaffDialog)
        await fill(pilot, "staff-name", "Nguyễn Thị Lan")
        await fill(pilot, "staff-email", "lan@clinic.vn")
        app.screen.query_one("#staff-role", Select).focus()
        await pilot.press("enter", "down", "enter")
        await fill(pilot, "staff-password", NEW_PASSWORD)
        await fill(pilot, "staff-password-again", NEW_PASSWORD + "x")
        await pilot.press("enter")
        await settle(app, pilot)
        # The mismatch is explained at its field; nothing is saved; the dialog stays.
        assert isinstance(app.screen, NewStaffDialog)
        assert "The two passwords differ." in screen_text(app)
        assert app.screen.query_one("#field-staff-password-again").has_class("-invalid")
        assert _rows(db_url, "SELECT 1 FROM users WHERE email = 'lan@clinic.vn'") == []

        await fill(pilot, "staff-password-again", NEW_PASSWORD)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert "Account created for Nguyễn Thị Lan." in screen_text(app)
        assert _rows(db_url, "SELECT role, is_active FROM users WHERE email = 'lan@clinic.vn'") == [
            ("RECEPTIONIST", True)
        ]
        lan = panel.selected()
        assert lan is not None and lan.email == "lan@clinic.vn"  # the new account is selected
        assert any("lan@clinic.vn | Receptionist | active" in row for row in table_rows(panel))

        await pilot.press("d")
        await settle(app, pilot)
        assert "Deactivate Nguyễn Thị Lan?" in screen_text(app)
        await confirm(app, pilot, "deactivate")
        assert "Nguyễn Thị Lan is deactivated" in screen_text(app)
        assert any("lan@clinic.vn | Receptionist | inactive" in row for row in table_rows(panel))
        assert _rows(db_url, "SELECT is_active FROM users WHERE email = 'lan@clinic.vn'") == [
            (False,)
        ]
        actions = _rows(db_url, "SELECT action, user_id FROM audit_log WHERE action LIKE 'user_%'")
        assert actions == [("user_created", boss.id), ("user_deactivated", boss.id)]

        # Signing in with the initial password is refused now: the account is inactive.
        engine = create_engine(db_url)
        with Session(engine) as session:
            outcome = auth.login(session, "lan@clinic.vn", NEW_PASSWORD)
            session.commit()
        engine.dispose()
        assert outcome.problem is not None and outcome.problem.value == "inactive"


async def test_the_last_admin_refusal_is_shown_in_words(app_factory, staff, db_url) -> None:
    boss = staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    other = staff("khoa@clinic.vn", role="ADMIN", full_name="Võ Minh Khoa")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        panel = await staff_tab(app, pilot, "admin@clinic.vn")

        # One's own account: refused whatever the number of admins.
        panel.select(boss.id)
        await pilot.press("d")
        await settle(app, pilot)
        await confirm(app, pilot, "deactivate")
        assert "you cannot deactivate your own account" in screen_text(app)

        # Meanwhile, at another terminal, the second admin deactivates this one.
        engine = create_engine(db_url)
        with Session(engine) as session:
            second_admin = auth.actor_of(session.get(User, other.id))  # type: ignore[arg-type]
            staff_service.deactivate(session, second_admin, boss.id)
            session.commit()
        engine.dispose()

        panel.select(other.id)
        await pilot.press("d")
        await settle(app, pilot)
        await confirm(app, pilot, "deactivate")
        shown = screen_text(app)
        assert "Refused: Võ Minh Khoa is the last active administrator." in shown
        assert _rows(db_url, "SELECT is_active FROM users WHERE id = :id", id=other.id) == [(True,)]
        # The list was read again: this admin's own account now shows as inactive.
        assert any("admin@clinic.vn | Administrator | inactive" in r for r in table_rows(panel))


async def test_the_form_and_the_list_follow_the_language(app_factory, staff) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        panel = await staff_tab(app, pilot, "admin@clinic.vn")
        await pilot.press("n")
        await settle(app, pilot)
        await fill(pilot, "staff-name", "Lan")
        await pilot.press("enter")  # on to the email
        await fill(pilot, "staff-password", NEW_PASSWORD)
        await fill(pilot, "staff-password-again", NEW_PASSWORD + "x")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "The two passwords differ." in screen_text(app)
        await pilot.press("f2")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "Hai mật khẩu không khớp." in shown and "Họ và tên" in shown
        assert app.screen.query_one("#staff-name", Input).value == "Lan"  # typing is kept
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert any("Quản trị viên" in row for row in table_rows(panel))


async def test_unlock_reset_password_and_change_role(app_factory, staff, db_url) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    lan = staff("lan@clinic.vn", full_name="Nguyễn Thị Lan")
    _execute(db_url, "UPDATE users SET locked_until = now() + interval '10 minutes', "
                     "failed_login_count = 4 WHERE id = :id", id=lan.id)  # fmt: skip
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        panel = await staff_tab(app, pilot, "admin@clinic.vn")
        assert any("Receptionist | locked until " in row for row in table_rows(panel))

        panel.select(lan.id)
        await pilot.press("u")
        await settle(app, pilot)
        assert "Nguyễn Thị Lan is unlocked and may sign in now." in screen_text(app)
        assert any("lan@clinic.vn | Receptionist | active" in row for row in table_rows(panel))

        await pilot.press("p")
        await settle(app, pilot)
        assert "New password for Nguyễn Thị Lan" in screen_text(app)
        await fill(pilot, "staff-new-password", "short")
        await pilot.press("enter")
        await fill(pilot, "staff-new-password-again", "short")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "At least 10 characters." in screen_text(app)
        await fill(pilot, "staff-new-password", NEW_PASSWORD)
        await fill(pilot, "staff-new-password-again", NEW_PASSWORD)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert "A new password is set for Nguyễn Thị Lan." in screen_text(app)

        await pilot.press("o")
        await settle(app, pilot)
        app.screen.query_one("#staff-new-role", Select).value = "DOCTOR"
        await pilot.click("#staff-role-submit")
        await settle(app, pilot)
        assert "Nguyễn Thị Lan is now: Therapist." in screen_text(app)
        assert any("lan@clinic.vn | Therapist | active" in row for row in table_rows(panel))

    engine = create_engine(db_url)
    with Session(engine) as session:
        outcome = auth.login(session, "lan@clinic.vn", NEW_PASSWORD)
        session.commit()
    engine.dispose()
    assert outcome.actor is not None and outcome.actor.role.value == "DOCTOR"
    actions = [
        a
        for (a,) in _rows(
            db_url, "SELECT action FROM audit_log WHERE action LIKE 'user_%' ORDER BY id"
        )
    ]
    assert actions == ["user_unlocked", "user_password_reset", "user_role_changed"]
