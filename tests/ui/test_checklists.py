"""The check-in checklist through Pilot (issue 12 item 3): from the day list (F1) the dialog
refuses to check in until the required items are ticked, then the list shows the patient
checked in and the answers are in the database; the admin builds a checklist in the admin
screen's tab. In English and in Vietnamese."""

from __future__ import annotations

import uuid
from datetime import time

import pytest
from textual.widgets import Checkbox, DataTable, Input

from clinic_tui.i18n import _, ngettext
from clinic_tui.services import checklists
from clinic_tui.services.checklists import ChecklistIncomplete
from clinic_tui.ui.screens.admin import TABS, AdminScreen
from clinic_tui.ui.screens.admin_checklists import ChecklistsPanel, ItemDialog, TemplateDialog
from clinic_tui.ui.screens.checklist_dialog import REQUIRED, ChecklistDialog
from clinic_tui.ui.screens.tabbed import PanelTab
from clinic_tui.ui.widgets import schedule_text as say
from clinic_tui.ui.widgets.fields import ChoiceField, Field
from tests.db.test_checklists import without_the_seeded_checklist
from tests.ui.conftest import screen_text, settle, type_text
from tests.ui.test_schedule import build_clinic, committed, insert_appointment, rows, sign_in

ITEMS = (  # English, Vietnamese, required
    ("Consent to treatment signed", "Đã ký giấy đồng ý điều trị", True),
    ("BHYT card seen", "Đã xem thẻ BHYT", False),
    ("Photo ID checked", "Đã kiểm tra giấy tờ tùy thân có ảnh", True),
)
PANEL_TAB = PanelTab("checklists", "Check-in checklists",
                     "clinic_tui.ui.screens.admin_checklists:ChecklistsPanel",
                     checklists.Permission.REFERENCE_ADMIN)  # fmt: skip


def _today():
    from clinic_tui.ui.widgets.schedule_text import clinic_today

    return clinic_today()


def clinic_with_a_visit(db_url: str, locale: str = "en") -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The clinic of test_schedule, a checklist in use (made explicitly: no seed has one) and
    a visit this morning for Nguyễn Văn An."""
    desk = build_clinic(db_url, locale=locale)
    with committed(db_url) as session:
        without_the_seeded_checklist(session)
        made = checklists.create_template(session, desk.admin, name_en="Check-in",
                                          name_vi="Tiếp đón")  # fmt: skip
        for label_en, label_vi, required in ITEMS:
            checklists.add_item(session, desk.admin, made.id, label_en=label_en,
                                label_vi=label_vi, required=required)  # fmt: skip
        made = checklists.list_templates(session, desk.admin)[0]
        checklists.activate_template(session, desk.admin, made.id, expected_version=made.version)
    visit = insert_appointment(db_url, desk, "Nguyễn Văn An", "Nguyễn Thị Lan", _today(),
                               time(0, 0), time(0, 30))  # fmt: skip
    return visit, [item.id for item in made.items]


async def check_in_from_the_day_list(app, pilot, patient: str) -> list[object]:
    """What the day list's check-in does with the dialog: open it for the selected visit and,
    once checked in, say so and reload the list. Returns the dialog's answers."""
    from clinic_tui.ui.screens.appointment_actions import done_text

    today = app.screen
    entry = next(e for e in today.entries if e.patient_name == patient)
    answers: list[object] = []

    def done(checked_in: bool | None) -> None:
        answers.append(checked_in)
        if checked_in:
            today._say(done_text("check_in", entry))
            today.reload_schedule()

    app.push_screen(ChecklistDialog(appointment_id=entry.appointment_id,
                                    patient_name=entry.patient_name,
                                    expected_version=entry.version), done)  # fmt: skip
    await settle(app, pilot)
    return answers


def boxes(app) -> list[Checkbox]:
    return list(app.screen.query(Checkbox))


def day_list(app) -> dict[str, str]:
    table = app.screen.query_one("#today-list", DataTable)
    return {
        str(table.get_row_at(i)[2]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
    }


def status(db_url: str, visit: uuid.UUID) -> str:
    return rows(db_url, "SELECT status FROM appointments WHERE id = :id", id=visit)[0][0]


async def test_check_in_refused_until_required_items_are_ticked(app_factory, db_url) -> None:
    visit, (consent, card, photo) = clinic_with_a_visit(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        answers = await check_in_from_the_day_list(app, pilot, "Nguyễn Văn An")
        assert isinstance(app.screen, ChecklistDialog)
        # Required said in words, not only by colour.
        assert [str(box.label) for box in boxes(app)] == [
            "Consent to treatment signed (required)", "BHYT card seen",
            "Photo ID checked (required)",
        ]  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ChecklistDialog)
        assert (
            "Tick every required item before checking in: "
            "Consent to treatment signed, Photo ID checked." in screen_text(app)
        )
        assert status(db_url, visit) == "SCHEDULED"
        assert app.screen.focused is boxes(app)[0]  # the first item still to tick
        await pilot.press("space", "ctrl+s")
        await settle(app, pilot)
        assert "before checking in: Photo ID checked." in screen_text(app)
        assert status(db_url, visit) == "SCHEDULED"
        assert app.screen.focused is boxes(app)[2]  # the one still missing
        await pilot.press("space")
        assert [box.value for box in boxes(app)] == [True, False, True]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert answers == [True]
        assert app.screen.id == "today"
        assert day_list(app)["Nguyễn Văn An"] == "✓ Checked in"
        assert "Checked in: Nguyễn Văn An." in screen_text(app)

        # Opened again, it shows the answers kept with the visit, and checks nothing in.
        await check_in_from_the_day_list(app, pilot, "Nguyễn Văn An")
        assert [(box.value, box.disabled) for box in boxes(app)] == [(True, True), (False, True),
                                                                     (True, True)]  # fmt: skip
        assert "This visit is Checked in: the answers kept with it are shown." in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.id == "today"
    kept = rows(db_url, "SELECT item_id, is_checked FROM visit_checklist_responses"
                " WHERE appointment_id = :id", id=visit)  # fmt: skip
    assert dict(kept) == {consent: True, card: False, photo: True}
    assert status(db_url, visit) == "CHECKED_IN"


async def test_the_checklist_in_vietnamese_and_escape(app_factory, db_url) -> None:
    visit, _ids = clinic_with_a_visit(db_url, locale="vi")
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        answers = await check_in_from_the_day_list(app, pilot, "Nguyễn Văn An")
        labels = [str(box.label) for box in boxes(app)]
        assert labels == [
            _(REQUIRED).format(item="Đã ký giấy đồng ý điều trị"), "Đã xem thẻ BHYT",
            _(REQUIRED).format(item="Đã kiểm tra giấy tờ tùy thân có ảnh"),
        ]  # fmt: skip
        await pilot.press("escape")  # nothing changes
        await settle(app, pilot)
        assert answers == [False]
        assert status(db_url, visit) == "SCHEDULED"

        answers = await check_in_from_the_day_list(app, pilot, "Nguyễn Văn An")
        await pilot.press("down", "space", "ctrl+s")  # the optional card only
        await settle(app, pilot)
        refusal = _(ChecklistIncomplete.msgid).format(
            items="Đã ký giấy đồng ý điều trị, Đã kiểm tra giấy tờ tùy thân có ảnh"
        )
        assert refusal in screen_text(app)
        await pilot.press("f2")  # the items follow the language, the ticks stay
        await settle(app, pilot)
        assert str(boxes(app)[2].label) == "Photo ID checked (required)"
        assert "Consent to treatment signed, Photo ID checked." in screen_text(app)
        assert [box.value for box in boxes(app)] == [False, True, False]
        await pilot.press("f2")
        await settle(app, pilot)
        boxes(app)[0].focus()
        await pilot.press("space", "down", "down", "space", "ctrl+s")
        await settle(app, pilot)
        assert answers == [True]
        assert day_list(app)["Nguyễn Văn An"] == say.status_text("CHECKED_IN")
    assert status(db_url, visit) == "CHECKED_IN"


# --- the admin's tab ------------------------------------------------------------------------


@pytest.fixture
def with_the_tab(monkeypatch):
    """The admin screen with the checklists tab listed (its TABS entry is added at merge)."""
    if not any(tab.id == "checklists" for tab in TABS):
        monkeypatch.setattr(AdminScreen, "TABS", (*TABS, PANEL_TAB))


async def open_tab(app, pilot) -> ChecklistsPanel:
    await sign_in(app, pilot, "admin@clinic.vn")
    await pilot.press("f9")
    await settle(app, pilot)
    app.screen.action_show_tab("checklists")
    await settle(app, pilot)
    return app.screen.query_one(ChecklistsPanel)


async def fill(app, pilot, **values: str) -> None:
    for field_id, value in values.items():
        box = app.screen.query_one(f"#{field_id}", Input)
        box.value = ""
        box.focus()
        await type_text(pilot, value)


def table(panel: ChecklistsPanel, name: str) -> list[list[str]]:
    found = panel.query_one(f"#checklists-{name}", DataTable)
    return [[str(cell) for cell in found.get_row_at(i)] for i in range(found.row_count)]


async def test_admin_builds_a_checklist_in_vietnamese(app_factory, db_url, with_the_tab) -> None:
    build_clinic(db_url, locale="vi")
    with committed(db_url) as session:
        without_the_seeded_checklist(session)
    app = app_factory(lang="vi")
    async with app.run_test(size=(140, 45)) as pilot:
        panel = await open_tab(app, pilot)
        assert table(panel, "templates") == []
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, TemplateDialog)
        await fill(app, pilot, name_en="Check-in", name_vi="Tiếp đón")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        no_items = ngettext("{count} item", "{count} items", 0).format(count=0)
        assert table(panel, "templates") == [["Check-in", "Tiếp đón", _("not in use"), no_items]]

        # An item with an empty English text: explained at the field, nothing saved.
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, ItemDialog)
        await fill(app, pilot, label_vi="Đã ký giấy đồng ý điều trị")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen.query_one("#field-label_en", Field).has_class("-invalid")
        await fill(app, pilot, label_en="Consent signed")
        app.screen.query_one("#field-required", ChoiceField).set_value("yes")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot)
        await fill(app, pilot, label_en="Photo ID checked", label_vi="Đã kiểm tra CCCD")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert [row[1:4] for row in table(panel, "items")] == [
            ["Consent signed", "Đã ký giấy đồng ý điều trị", _("required")],
            ["Photo ID checked", "Đã kiểm tra CCCD", _("optional")],
        ]
        assert _("Item saved: {item}.").format(item="Đã kiểm tra CCCD") in screen_text(app)

        # The cursor is on the new item: move it up, make it required, use the checklist.
        await pilot.press("k")
        await settle(app, pilot)
        assert [row[1] for row in table(panel, "items")] == ["Photo ID checked", "Consent signed"]
        await pilot.press("e")
        await settle(app, pilot)
        app.screen.query_one("#field-required", ChoiceField).set_value("yes")
        await fill(app, pilot, label_vi="Đã kiểm tra giấy tờ tùy thân có ảnh")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        assert table(panel, "templates")[0][2] == "✓ " + _("in use")
        assert _("{name} is now used at check-in.").format(name="Tiếp đón") in screen_text(app)
        await pilot.press("d")  # retire the selected item (the photo ID, still under the cursor)
        await settle(app, pilot)
        assert table(panel, "items")[0][4] == _("Retired")
    saved = rows(db_url, "SELECT i.label_vi, i.is_required, i.is_active, t.is_active"
                 " FROM visit_checklist_items i JOIN visit_checklist_templates t"
                 " ON t.id = i.template_id ORDER BY i.position")  # fmt: skip
    assert saved == [
        ("Đã kiểm tra giấy tờ tùy thân có ảnh", True, False, True),
        ("Đã ký giấy đồng ý điều trị", True, True, True),
    ]
    logged = rows(db_url, "SELECT action FROM audit_log WHERE action LIKE 'checklist%' ORDER BY id")
    assert [action for (action,) in logged] == [
        "checklist_template_created", "checklist_item_added", "checklist_item_added",
        "checklist_items_reordered", "checklist_item_updated", "checklist_template_activated",
        "checklist_item_retired",
    ]  # fmt: skip
