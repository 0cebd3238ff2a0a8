"""Video visits in the clinical record, and the admin's webhook-event log, through Pilot on a
real database: a therapist creates a session for an appointment, moves it through the call,
records who joined, is refused what the flow forbids, gets a token to copy (or is told what to
configure); the front desk sees status only; both languages, switched with F2."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from textual.widgets import Button, DataTable, OptionList, TextArea

from clinic_tui.i18n import format_date
from clinic_tui.models import TwilioWebhookEvent
from clinic_tui.services import telehealth
from clinic_tui.ui.screens.admin import AdminScreen
from clinic_tui.ui.screens.admin_webhooks import WebhooksPanel
from clinic_tui.ui.screens.clinical import ClinicalRecordScreen
from clinic_tui.ui.screens.clinical_video import PickDialog, TokenDialog, VideoPanel
from clinic_tui.ui.screens.confirm import ConfirmScreen
from tests.db.test_permissions_video import TWILIO_ENVIRON
from tests.ui.conftest import screen_text, settle
from tests.ui.test_schedule import MONDAY, Desk, book, build_clinic, committed, rows, sign_in
from tests.unit.test_twilio_token import decode

PATIENT = "Nguyễn Văn An"
THERAPIST = "Nguyễn Thị Lan"  # the doctor@clinic.vn account, and a therapist of the clinic
VISIT = f"{format_date(MONDAY, 'en')} 09:00–09:30"


@pytest.fixture(autouse=True)
def _no_twilio(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in TWILIO_ENVIRON:
        monkeypatch.delenv(variable, raising=False)


def clinic(url: str, *, locale: str = "en", steps: tuple[str, ...] = ()) -> tuple[Desk, Any]:
    """The clinic, a visit of PATIENT at 09:00 on MONDAY, and optionally a video session for it
    moved through `steps` with the patient joined (from "another terminal")."""
    desk = build_clinic(url, locale=locale)
    visit = book(url, desk, PATIENT, THERAPIST, MONDAY, time(9, 0))
    made = None
    if steps:
        with committed(url) as session:
            made = telehealth.create_session(session, desk.admin, visit.id)
            for step in steps:
                made = telehealth.move_status(session, desk.admin, made.id, step,
                                              expected_version=made.version)  # fmt: skip
            telehealth.record_event(session, desk.admin, made.id, "participant-connected",
                                    participant="patient")  # fmt: skip
    return desk, made


async def open_video(app, pilot, desk: Desk, email: str) -> VideoPanel:
    await sign_in(app, pilot, email)
    await app.push_screen(ClinicalRecordScreen(desk.patients[PATIENT], tab="video"))
    await settle(app, pilot)
    return app.screen.query_one(VideoPanel)


def cells(app, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(table_id, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def note(app) -> str:
    return str(app.screen.query_one("#video-note").render())


def options(app) -> list[str]:
    found = app.screen.query_one(OptionList)
    return [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]


def buttons(app) -> list[str]:
    return [str(button.label) for button in app.screen.query(Button)]


async def press(app, pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(app, pilot)


async def test_a_therapist_runs_a_video_visit(app_factory, db_url) -> None:
    desk, _made = clinic(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_video(app, pilot, desk, "doctor@clinic.vn")
        assert "No video session yet." in screen_text(app)
        await press(app, pilot, "n")
        assert isinstance(app.screen, PickDialog)
        assert options(app) == [f"{VISIT} · {THERAPIST}"]
        await press(app, pilot, "enter")
        [(room, status)] = rows(db_url, "SELECT room_name, status FROM video_call_sessions")
        assert status == "CREATED"
        assert note(app) == f"Video session created for the appointment of {VISIT}: room {room}."
        assert cells(app, "#video-sessions") == [[VISIT, THERAPIST, "Created", room, "—", "—",
                                                 "—"]]  # fmt: skip
        await press(app, pilot, "s")
        assert isinstance(app.screen, ConfirmScreen)
        assert buttons(app) == ["Start: the call is in progress", "Failed", "Cancel"]
        await press(app, pilot, "enter")
        assert note(app) == "Status is now: Call in progress."
        await press(app, pilot, "e")
        assert options(app)[:2] == ["The patient joined", "The patient left"]
        assert "You lost the connection" in options(app)
        await press(app, pilot, "enter")
        assert note(app) == "Event recorded."
        events = [row[1] for row in cells(app, "#video-events")]
        assert events == [f"{THERAPIST} moved the status: Created → Call in progress",
                          "The patient joined"]  # fmt: skip
        assert f"Events of room {room}" in screen_text(app)
        await press(app, pilot, "s")
        assert buttons(app) == ["Completed", "Failed", "Cancel"]
        await press(app, pilot, "enter")
        [row] = cells(app, "#video-sessions")
        assert row[2] == "Completed" and row[6].endswith(" s") and row[5] != "—"
        # What the flow forbids is explained, and nothing is asked.
        await press(app, pilot, "s")
        assert isinstance(app.screen, ClinicalRecordScreen)
        assert note(app).startswith("This video session is over (Completed): nothing more can")
        await press(app, pilot, "t")
        assert note(app).startswith("This video session is over (Completed)")
    assert rows(db_url, "SELECT status, duration_seconds >= 0 FROM video_call_sessions") == [
        ("COMPLETED", True)
    ]
    assert rows(db_url, "SELECT event_type FROM video_call_events ORDER BY occurred_at") == [
        ("status-changed",),
        ("participant-connected",),
        ("status-changed",),
    ]
    audited = rows(db_url, "SELECT action FROM audit_log WHERE action LIKE 'video%' ORDER BY id")
    assert audited == [("video_session_created",), ("video_session_status_changed",),
                       ("video_event_recorded",), ("video_session_status_changed",)]  # fmt: skip


async def test_without_credentials_the_token_key_says_what_to_set(app_factory, db_url) -> None:
    desk, made = clinic(db_url, locale="vi", steps=("IN_PROGRESS",))
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_video(app, pilot, desk, "doctor@clinic.vn")
        shown = screen_text(app)
        assert "Khám qua video" in shown and f"Sự kiện của phòng {made.room_name}" in shown
        assert cells(app, "#video-sessions")[0][2] == "Đang gọi"
        events = [row[1] for row in cells(app, "#video-events")]
        assert events == ["Võ Minh Quân đã chuyển trạng thái: Đã tạo → Đang gọi",
                          "Bệnh nhân đã vào phòng"]  # fmt: skip
        await press(app, pilot, "s")
        assert buttons(app) == ["Hoàn tất", "Không thành công", "Hủy"]
        await press(app, pilot, "escape")
        await press(app, pilot, "t")
        assert isinstance(app.screen, ClinicalRecordScreen)  # nothing to choose yet
        said = note(app)
        assert said.startswith("Mã truy cập video cần thông tin xác thực Twilio")
        assert "Chưa đặt CLINIC_TWILIO_API_KEY_SECRET." in said
        await press(app, pilot, "f2")
        said = note(app)
        assert said.startswith("Video tokens need the clinic's Twilio credentials: set "
                               "CLINIC_TWILIO_ACCOUNT_SID, CLINIC_TWILIO_API_KEY_SID and "
                               "CLINIC_TWILIO_API_KEY_SECRET")  # fmt: skip
        assert "CLINIC_TWILIO_ACCOUNT_SID is not set." in said
        assert cells(app, "#video-sessions")[0][2] == "Call in progress"
        assert [row[1] for row in cells(app, "#video-events")][1] == "The patient joined"
    assert rows(db_url, "SELECT count(*) FROM audit_log WHERE action = 'video_token_issued'") == [
        (0,)
    ]


async def test_a_token_to_copy_when_twilio_is_configured(
    app_factory, db_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in TWILIO_ENVIRON.items():
        monkeypatch.setenv(variable, value)
    desk, made = clinic(db_url, steps=("IN_PROGRESS",))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_video(app, pilot, desk, "doctor@clinic.vn")
        await press(app, pilot, "t")
        assert isinstance(app.screen, ConfirmScreen)
        assert buttons(app) == ["The patient", "You", "Cancel"]
        await press(app, pilot, "enter")
        assert isinstance(app.screen, TokenDialog)
        box = app.screen.query_one(TextArea)
        assert box.read_only
        token = box.text
        _header, claims = decode(token, TWILIO_ENVIRON["CLINIC_TWILIO_API_KEY_SECRET"])
        patient = f"patient-{desk.patients[PATIENT]}"
        assert claims["grants"] == {"identity": patient, "video": {"room": made.room_name}}
        assert f"For the patient ({patient}) in room {made.room_name}; valid until" in (
            screen_text(app))  # fmt: skip
        await press(app, pilot, "c")
        assert app.clipboard == token
        await press(app, pilot, "escape")
        assert isinstance(app.screen, ClinicalRecordScreen)
        assert note(app).startswith("Access token issued; it is valid until ")
    details = rows(db_url, "SELECT action, details::text FROM audit_log WHERE action LIKE 'video%'")
    assert ("video_token_issued", '{"participant": "patient"}') in details
    assert not any(token in text or made.room_name in text for _action, text in details)


async def test_the_front_desk_sees_status_only(app_factory, db_url) -> None:
    desk, made = clinic(db_url, locale="vi", steps=("IN_PROGRESS",))
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_video(app, pilot, desk, "reception@clinic.vn")
        table = app.screen.query_one("#video-sessions", DataTable)
        assert [str(column.label) for column in table.columns.values()] == [
            "Lịch hẹn", "Bác sĩ điều trị", "Trạng thái"
        ]  # fmt: skip
        day = format_date(MONDAY, "vi")
        assert cells(app, "#video-sessions") == [[f"{day} 09:00–09:30", THERAPIST, "Đang gọi"]]
        assert not app.screen.query_one("#video-events").display
        assert made.room_name not in screen_text(app)
        assert "Bác sĩ điều trị và quản trị viên thực hiện" in screen_text(app)
        for action in VideoPanel.WRITES:
            assert panel.check_action(action, ()) is False
        for key in ("n", "s", "e", "t"):
            await press(app, pilot, key)
            assert isinstance(app.screen, ClinicalRecordScreen)
        await press(app, pilot, "f2")
        assert cells(app, "#video-sessions")[0][2] == "Call in progress"
    assert rows(db_url, "SELECT count(*) FROM video_call_sessions") == [(1,)]


WEBHOOKS_PANEL = "clinic_tui.ui.screens.admin_webhooks:WebhooksPanel"


def add_webhooks(url: str, count: int) -> None:
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with committed(url) as session:
        for index in range(count):
            session.execute(insert(TwilioWebhookEvent).values(
                event_type="participant-connected", room_name=f"visit-{index}",
                room_sid=f"RM{index:032d}", participant_sid=f"PA{index:032d}",
                payload={"RoomName": f"visit-{index}", "StatusCallbackEvent": "connected"},
                signature_valid=index % 5 != 0, received_at=start + timedelta(seconds=index),
                processed_at=None if index % 2 else start + timedelta(seconds=index + 1),
            ))  # fmt: skip


async def test_the_admin_pages_through_the_webhook_log(app_factory, db_url) -> None:
    build_clinic(db_url)
    add_webhooks(db_url, 55)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot, "admin@clinic.vn")
        await app.push_screen(AdminScreen(tab="webhooks"))
        await settle(app, pilot)
        panel = app.screen.query_one(WebhooksPanel)
        shown = screen_text(app)
        assert "Page 1 of 2 · 55 events, newest first." in shown
        first = cells(app, "#webhooks-table")
        assert len(first) == 50
        # Newest first, to the second in the clinic's time; unprocessed ones say so.
        assert first[0] == ["11/23/2026 09:00:54", "participant-connected", "visit-54",
                            f"RM{54:032d}", f"PA{54:032d}", "matches",
                            "11/23/2026 09:00:55"]  # fmt: skip
        assert first[1][5:] == ["matches", "not processed"]
        assert first[4][5] == "does not match"  # visit-50
        assert 'RoomName = "visit-54"' in str(app.screen.query_one("#webhooks-payload").render())
        assert panel.check_action("page", (-1,)) is None
        await press(app, pilot, "n")
        assert [row[2] for row in cells(app, "#webhooks-table")] == [f"visit-{i}" for i in
                                                                     range(4, -1, -1)]  # fmt: skip
        assert "Page 2 of 2" in screen_text(app)
        assert panel.check_action("page", (1,)) is None
        await press(app, pilot, "f2")
        assert "Trang 2/2 · 55 sự kiện, mới nhất trước." in screen_text(app)
        table = app.screen.query_one("#webhooks-table", DataTable)
        assert [str(c.label) for c in table.columns.values()][:2] == ["Nhận lúc", "Sự kiện"]
        assert cells(app, "#webhooks-table")[-1][5] == "không khớp"  # visit-0: 0 % 5 == 0
        await press(app, pilot, "p")
        assert "Trang 1/2" in screen_text(app)
