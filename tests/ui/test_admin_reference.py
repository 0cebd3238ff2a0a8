"""The reference-data tab (F9): an admin edits a service code's price (a bad amount is explained
at the field first), adds a base salary from a future date, renames the clinic, and disables
then re-enables a BHYT object code after confirming."""

from __future__ import annotations

from datetime import date

from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Input, Static

from clinic_tui.i18n import _
from clinic_tui.ui.screens.admin import AdminScreen
from clinic_tui.ui.screens.admin_reference import ReferencePanel
from clinic_tui.ui.screens.admin_reference_forms import DatedValueDialog, ServiceCodeDialog
from clinic_tui.ui.screens.confirm import ConfirmScreen
from clinic_tui.ui.widgets.fields import Field
from tests.ui.conftest import PASSWORD, screen_text, settle, type_text


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


async def reference_tab(app, pilot, email: str) -> ReferencePanel:
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
    app.screen.action_show_tab("reference")
    await settle(app, pilot)
    return app.screen.query_one(ReferencePanel)


def table_rows(panel: ReferencePanel, table_id: str) -> list[str]:
    table = panel.query_one(f"#{table_id}", DataTable)
    return [" | ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def retype(pilot, field_id: str, value: str) -> None:
    box = pilot.app.screen.query_one(f"#{field_id}", Input)
    box.value = ""
    box.focus()
    await type_text(pilot, value)


def field_error(app, field_id: str) -> str:
    field = app.screen.query_one(f"#field-{field_id}", Field)
    return (
        str(field.query_one(".field-error", Static).render()) if field.has_class("-invalid") else ""
    )


async def test_price_base_salary_and_clinic_name_through_the_tab(
    app_factory, staff, db_url
) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    app = app_factory()
    async with app.run_test(size=(150, 50)) as pilot:
        panel = await reference_tab(app, pilot, "admin@clinic.vn")
        rows = table_rows(panel, "reference-codes")
        assert len(rows) == 8
        assert rows[0].startswith("PT001 | Therapeutic Exercise | Tập luyện trị liệu")
        assert "₫250,000" in rows[0]

        # A price with a letter in it: explained at the field, nothing saved, typing kept.
        panel.query_one("#reference-codes", DataTable).focus()
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, ServiceCodeDialog)
        assert app.screen.query_one("#code", Input).disabled
        await retype(pilot, "price", "27O.000")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ServiceCodeDialog)
        assert "whole dong" in field_error(app, "price")
        assert field_error(app, "name_en") == ""
        assert _rows(db_url, "SELECT unit_price FROM pt_service_codes WHERE code = 'PT001'") == [
            (250_000,)
        ]
        await retype(pilot, "price", "275.000")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert _rows(db_url, "SELECT unit_price FROM pt_service_codes WHERE code = 'PT001'") == [
            (275_000,)
        ]
        assert "₫275,000" in table_rows(panel, "reference-codes")[0]
        assert "Saved: PT001 Therapeutic Exercise." in screen_text(app)

        # A base salary from a future date, typed in the English order (mm/dd/yyyy).
        await pilot.press("3")
        await settle(app, pilot)
        assert panel.section == "settings"
        panel.query_one("#reference-base_salary", DataTable).focus()
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, DatedValueDialog)
        await retype(pilot, "effective_from", "07/01/2027")
        await retype(pilot, "value", "2,800,000")
        await retype(pilot, "source", "Nghị định thử")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert _rows(
            db_url,
            "SELECT value, source FROM dated_settings"
            " WHERE key = 'base_salary' AND effective_from = :day",
            day=date(2027, 7, 1),
        ) == [(2_800_000, "Nghị định thử")]
        salary = table_rows(panel, "reference-base_salary")
        assert salary[-1].startswith("07/01/2027 | ₫2,800,000 | Nghị định thử | Trần Quốc Bảo")

        # The clinic's name, saved with Ctrl+S while typing.
        await retype(pilot, "name", "Phòng khám An Khang")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert _rows(db_url, "SELECT value FROM clinic_settings WHERE key = 'clinic_name'") == [
            ("Phòng khám An Khang",)
        ]
        assert "Clinic settings saved." in screen_text(app)
        actions = [row[0] for row in _rows(db_url, "SELECT action FROM audit_log ORDER BY id")]
        assert {"service_code_updated", "dated_setting_added", "settings_changed"} <= set(actions)


async def test_settings_refused_at_the_field_then_a_rule_disabled(
    app_factory, staff, db_url
) -> None:
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo", locale="vi")
    app = app_factory(lang="vi")
    async with app.run_test(size=(150, 50)) as pilot:
        panel = await reference_tab(app, pilot, "admin@clinic.vn")
        await pilot.press("3")
        await settle(app, pilot)
        await retype(pilot, "slot_minutes", "25")
        await retype(pilot, "opening_to", "7h")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert field_error(app, "slot_minutes") != ""
        assert field_error(app, "opening_to") != ""
        assert field_error(app, "name") == ""
        assert _rows(db_url, "SELECT value FROM clinic_settings WHERE key = 'slot_minutes'") == [
            (30,)
        ]

        await pilot.press("escape", "2")
        await settle(app, pilot)
        assert panel.section == "rules"
        table = panel.query_one("#reference-rules", DataTable)
        codes = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        table.move_cursor(row=codes.index("DN"))
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#answer-yes")
        await settle(app, pilot)
        dn = "SELECT is_active FROM bhyt_validation_rules WHERE object_code = 'DN'"
        assert _rows(db_url, dn) == [(False,)]
        dn_row = table_rows(panel, "reference-rules")[codes.index("DN")]
        assert dn_row.endswith(_("Disabled"))
        assert _("Object code {code} disabled.").format(code="DN") in screen_text(app)
        await pilot.press("d")
        await settle(app, pilot)
        await pilot.click("#answer-yes")
        await settle(app, pilot)
        assert _rows(db_url, dn) == [(True,)]


async def test_leaving_with_unsaved_settings_asks_first(app_factory, staff, db_url) -> None:
    from clinic_tui.ui.screens.confirm import ConfirmScreen

    staff("admin@clinic.vn", role="ADMIN")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await reference_tab(app, pilot, "admin@clinic.vn")
        panel.action_section("settings")
        await settle(app, pilot)
        await retype(pilot, "name", "Phòng khám chưa lưu")
        await pilot.press("f3")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # stay: the typing is still there
        await settle(app, pilot)
        assert isinstance(app.screen, AdminScreen)
        assert app.screen.query_one("#name", Input).value == "Phòng khám chưa lưu"


async def test_a_slot_length_that_cuts_a_therapists_hours_is_pointed_out(
    app_factory, staff, db_url
) -> None:
    """Saved all the same (the admin may mean it), but told which rows will show as unavailable,
    in the language of the moment."""
    staff("admin@clinic.vn", role="ADMIN", full_name="Trần Quốc Bảo")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        doctor = conn.execute(text(
            "INSERT INTO doctors (full_name, email, specialization)"
            " VALUES ('Nguyễn Thị Lan', 'lan@clinic.vn', 'musculoskeletal') RETURNING id"
        )).scalar_one()  # fmt: skip
        conn.execute(text(
            "INSERT INTO weekly_schedule_templates (doctor_id, weekday, start_time, end_time,"
            " valid_from) VALUES (:d, 1, '07:30', '11:30', DATE '2026-01-01')"
        ), {"d": doctor})  # fmt: skip
    engine.dispose()
    app = app_factory()
    async with app.run_test(size=(150, 50)) as pilot:
        await reference_tab(app, pilot, "admin@clinic.vn")
        await pilot.press("3")
        await settle(app, pilot)
        await retype(pilot, "slot_minutes", "20")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        status = app.screen.query_one("#reference-status", Static)
        assert str(status.render()).startswith(
            "Clinic settings saved. 1 therapist's weekly hours start or end inside a 20-minute row"
        )
        await pilot.press("f2")
        await settle(app, pilot)
        vietnamese = "1 kỹ thuật viên có giờ làm hằng tuần bắt đầu hoặc kết thúc giữa một hàng 20"
        assert vietnamese in str(status.render())
        await pilot.press("f2")
        await retype(pilot, "slot_minutes", "30")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert str(status.render()) == "Clinic settings saved."
    assert _rows(db_url, "SELECT value FROM clinic_settings WHERE key = 'slot_minutes'") == [(30,)]
