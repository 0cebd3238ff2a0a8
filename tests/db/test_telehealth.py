"""Video visits (issue 12): a session per call with a room of its own, the status flow and its
refusals, events with their times, tokens signed locally, what the front desk may read, the
admin's webhook log, and an audit that never holds a token or a room name."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from clinic_tui.domain.twilio_token import CredentialProblem
from clinic_tui.models import AuditEntry, TwilioWebhookEvent, VideoCallSession
from clinic_tui.models.telehealth import VIDEO_STATUSES
from clinic_tui.services import appointments, telehealth
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.telehealth import (
    TwilioNotConfigured,
    VideoConflict,
    VideoNotFound,
    VideoRefusal,
    VideoRefused,
    transition_refusal,
)
from tests.db.test_permissions_clinic import add_user, booked, setup_admin
from tests.db.test_permissions_video import TWILIO_ENVIRON
from tests.unit.test_twilio_token import decode

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in the clinic


@pytest.fixture
def doctor(db_session: Session) -> Actor:
    return add_user(db_session, Role.DOCTOR, "Trần Thị Hạnh")


def _new(session: Session, actor: Actor, **kwargs: Any) -> tuple[telehealth.VideoSessionView, Any]:
    appointment = booked(session)
    return telehealth.create_session(session, actor, appointment.id, **kwargs), appointment


def _move(session: Session, actor: Actor, made: Any, target: str, at: datetime | None = None):
    return telehealth.move_status(
        session, actor, made.id, target, expected_version=made.version, now=at
    )


def _audit(session: Session, actor: Actor) -> list[tuple[str, str | None, dict[str, Any]]]:
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.details)
        .where(AuditEntry.user_id == actor.user_id)
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_create_lists_and_audits(db_session: Session, doctor: Actor) -> None:
    made, appointment = _new(db_session, doctor)
    assert made.status == "CREATED" and made.version == 1 and made.events == ()
    assert made.room_name.startswith(f"visit-{appointment.day:%Y%m%d}-")
    assert made.visit.appointment_id == appointment.id
    assert made.visit.doctor_name == "BS. Trần Đức Minh"
    assert made.started_at is None and made.ended_at is None
    listed = telehealth.video_sessions(db_session, doctor, appointment.patient_id)
    assert [s.id for s in listed] == [made.id]
    choices = telehealth.video_appointments(db_session, doctor, appointment.patient_id)
    assert [(c.appointment_id, c.has_open_session) for c in choices] == [(appointment.id, True)]
    assert _audit(db_session, doctor) == [
        ("video_session_created", str(made.id), {"appointment_id": str(appointment.id)})
    ]


def test_a_call_from_start_to_completion(db_session: Session, doctor: Actor) -> None:
    made, _appointment = _new(db_session, doctor)
    started = _move(db_session, doctor, made, "IN_PROGRESS", T0)
    assert (started.status, started.started_at, started.version) == ("IN_PROGRESS", T0, 2)
    telehealth.record_event(db_session, doctor, made.id, "participant-connected",
                            participant="patient", now=T0 + timedelta(minutes=1))  # fmt: skip
    telehealth.record_event(db_session, doctor, made.id, "participant-disconnected",
                            participant="staff", now=T0 + timedelta(minutes=20))  # fmt: skip
    done = _move(db_session, doctor, started, "COMPLETED", T0 + timedelta(minutes=25))
    assert done.status == "COMPLETED" and done.finished
    assert done.ended_at == T0 + timedelta(minutes=25) and done.duration_seconds == 25 * 60
    timeline = [(e.event_type, e.participant, e.staff_name, e.from_status, e.to_status,
                 e.occurred_at - T0) for e in done.events]  # fmt: skip
    assert timeline == [
        ("status-changed", "staff", "Trần Thị Hạnh", "CREATED", "IN_PROGRESS", timedelta(0)),
        ("participant-connected", "patient", None, None, None, timedelta(minutes=1)),
        ("participant-disconnected", "staff", "Trần Thị Hạnh", None, None, timedelta(minutes=20)),
        ("status-changed", "staff", "Trần Thị Hạnh", "IN_PROGRESS", "COMPLETED",
         timedelta(minutes=25)),
    ]  # fmt: skip
    actions = [action for action, _id, _details in _audit(db_session, doctor)]
    assert actions == ["video_session_created", "video_session_status_changed",
                       "video_event_recorded", "video_event_recorded",
                       "video_session_status_changed"]  # fmt: skip


def test_a_call_that_never_connects_may_fail(db_session: Session, doctor: Actor) -> None:
    made, _appointment = _new(db_session, doctor)
    failed = _move(db_session, doctor, made, "FAILED", T0)
    assert failed.status == "FAILED" and failed.ended_at == T0
    assert failed.started_at is None and failed.duration_seconds is None


ALLOWED = {("CREATED", "IN_PROGRESS"), ("CREATED", "FAILED"), ("IN_PROGRESS", "COMPLETED"),
           ("IN_PROGRESS", "FAILED")}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), list(itertools.product(VIDEO_STATUSES, repeat=2)))
def test_the_flow_refuses_everything_else_with_a_reason(current: str, target: str) -> None:
    refusal = transition_refusal(current, target)
    if (current, target) in ALLOWED:
        assert refusal is None
    elif current in ("COMPLETED", "FAILED"):
        assert refusal is VideoRefusal.FINISHED
    elif current == target:
        assert refusal is VideoRefusal.UNCHANGED
    elif target == "CREATED":
        assert refusal is VideoRefusal.BACKWARDS
    else:
        assert (current, target, refusal) == ("CREATED", "COMPLETED", VideoRefusal.NOT_STARTED)
    assert transition_refusal("CREATED", "PAUSED") is VideoRefusal.UNKNOWN_STATUS


@pytest.mark.parametrize(
    ("path", "target", "reason"),
    [
        ((), "COMPLETED", VideoRefusal.NOT_STARTED),
        (("IN_PROGRESS",), "CREATED", VideoRefusal.BACKWARDS),
        (("IN_PROGRESS",), "IN_PROGRESS", VideoRefusal.UNCHANGED),
        (("IN_PROGRESS", "COMPLETED"), "FAILED", VideoRefusal.FINISHED),
        (("FAILED",), "IN_PROGRESS", VideoRefusal.FINISHED),
        ((), "ON_HOLD", VideoRefusal.UNKNOWN_STATUS),
    ],
)
def test_a_refused_move_writes_nothing(
    db_session: Session, doctor: Actor, path: tuple[str, ...], target: str, reason: VideoRefusal
) -> None:
    made, appointment = _new(db_session, doctor)
    for step in path:
        made = _move(db_session, doctor, made, step)
    before = _audit(db_session, doctor)
    with pytest.raises(VideoRefused) as refused:
        _move(db_session, doctor, made, target)
    assert refused.value.reason is reason and refused.value.msgid == reason.value
    assert refused.value.values == {"status": made.status, "target": target}
    again = telehealth.video_sessions(db_session, doctor, appointment.patient_id)[0]
    assert (again.status, again.version, len(again.events)) == (made.status, made.version,
                                                                len(made.events))  # fmt: skip
    assert _audit(db_session, doctor) == before


def test_a_stale_version_is_a_conflict(db_session: Session, doctor: Actor) -> None:
    made, _appointment = _new(db_session, doctor)
    _move(db_session, doctor, made, "IN_PROGRESS")
    with pytest.raises(VideoConflict):
        _move(db_session, doctor, made, "FAILED")  # still version 1: another terminal moved it


def test_the_database_decides_that_room_names_are_unique(
    db_session: Session, doctor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _appointment = _new(db_session, doctor, room_name="visit-physio-01")
    with pytest.raises(VideoRefused) as refused:
        _new(db_session, doctor, room_name="visit-physio-01")
    assert refused.value.reason is VideoRefusal.ROOM_TAKEN
    assert refused.value.values == {"room": "visit-physio-01"}
    # The refusal rolled back its savepoint only: the transaction goes on.
    names = iter(["visit-physio-01", "visit-physio-01", "visit-physio-02"])
    monkeypatch.setattr(telehealth, "new_room_name", lambda _day: next(names))
    drawn, _appointment = _new(db_session, doctor)
    assert drawn.room_name == "visit-physio-02"  # taken names are drawn again
    monkeypatch.setattr(telehealth, "new_room_name", lambda _day: "visit-physio-01")
    with pytest.raises(VideoRefused) as refused:
        _new(db_session, doctor)
    assert refused.value.reason is VideoRefusal.ROOM_TAKEN
    count = (
        select(func.count())
        .select_from(VideoCallSession)
        .where(VideoCallSession.room_name.like("visit-physio-%"))
    )
    assert db_session.scalar(count) == 2 and first.room_name == "visit-physio-01"
    with pytest.raises(VideoRefused) as refused:
        _new(db_session, doctor, room_name="phòng khám 1")
    assert refused.value.reason is VideoRefusal.ROOM_NAME


def test_one_open_session_per_appointment_and_only_for_open_ones(
    db_session: Session, doctor: Actor
) -> None:
    made, appointment = _new(db_session, doctor)
    with pytest.raises(VideoRefused) as refused:
        telehealth.create_session(db_session, doctor, appointment.id)
    assert refused.value.reason is VideoRefusal.OPEN_SESSION
    _move(db_session, doctor, made, "FAILED")
    again = telehealth.create_session(db_session, doctor, appointment.id)  # a second try
    assert again.room_name != made.room_name
    cancelled = booked(db_session)
    appointments.cancel(db_session, setup_admin(db_session), cancelled.id, reason="Bận",
                        expected_version=cancelled.version)  # fmt: skip
    with pytest.raises(VideoRefused) as refused:
        telehealth.create_session(db_session, doctor, cancelled.id)
    assert refused.value.reason is VideoRefusal.APPOINTMENT_CLOSED
    assert telehealth.video_appointments(db_session, doctor, cancelled.patient_id) == []
    with pytest.raises(VideoNotFound):
        telehealth.create_session(db_session, doctor, uuid.uuid4())


def test_events_are_refused_when_over_or_unknown(db_session: Session, doctor: Actor) -> None:
    made, _appointment = _new(db_session, doctor)
    with pytest.raises(VideoRefused) as refused:
        telehealth.record_event(db_session, doctor, made.id, "status-changed", participant="staff")
    assert refused.value.reason is VideoRefusal.EVENT_TYPE
    with pytest.raises(VideoRefused) as refused:
        telehealth.record_event(db_session, doctor, made.id, "participant-connected",
                                participant="visitor")  # fmt: skip
    assert refused.value.reason is VideoRefusal.PARTICIPANT
    _move(db_session, doctor, made, "FAILED")
    with pytest.raises(VideoRefused) as refused:
        telehealth.record_event(db_session, doctor, made.id, "participant-connected",
                                participant="patient")  # fmt: skip
    assert refused.value.reason is VideoRefusal.FINISHED
    assert refused.value.values == {"status": "FAILED"}
    with pytest.raises(VideoNotFound):
        telehealth.record_event(db_session, doctor, uuid.uuid4(), "participant-connected",
                                participant="patient")  # fmt: skip


def test_the_front_desk_reads_status_only(db_session: Session, doctor: Actor) -> None:
    made, appointment = _new(db_session, doctor)
    _move(db_session, doctor, made, "IN_PROGRESS")
    desk = add_user(db_session, Role.RECEPTIONIST, "Lê Thị Thu")
    [seen] = telehealth.video_statuses(db_session, desk, appointment.patient_id)
    assert type(seen) is telehealth.VideoStatusView
    assert (seen.id, seen.status, seen.visit.appointment_id) == (made.id, "IN_PROGRESS",
                                                                appointment.id)  # fmt: skip
    assert not hasattr(seen, "room_name") and not hasattr(seen, "events")
    for refused_call in (
        lambda: telehealth.video_sessions(db_session, desk, appointment.patient_id),
        lambda: telehealth.video_appointments(db_session, desk, appointment.patient_id),
        lambda: telehealth.create_session(db_session, desk, appointment.id),
        lambda: _move(db_session, desk, made, "COMPLETED"),
        lambda: telehealth.record_event(db_session, desk, made.id, "participant-connected",
                                        participant="patient"),
        lambda: telehealth.access_token(db_session, desk, made.id, participant="patient",
                                        environ=TWILIO_ENVIRON),
        lambda: telehealth.webhook_events(db_session, desk),
    ):  # fmt: skip
        with pytest.raises(PermissionDenied):
            refused_call()
    assert _audit(db_session, desk) == []
    with pytest.raises(PermissionDenied):
        telehealth.webhook_events(db_session, doctor)


def test_without_credentials_the_token_explains_what_to_set(
    db_session: Session, doctor: Actor
) -> None:
    made, _appointment = _new(db_session, doctor)
    with pytest.raises(TwilioNotConfigured) as missing:
        telehealth.access_token(db_session, doctor, made.id, participant="staff", environ={})
    assert missing.value.problems == {
        "CLINIC_TWILIO_ACCOUNT_SID": CredentialProblem.MISSING,
        "CLINIC_TWILIO_API_KEY_SID": CredentialProblem.MISSING,
        "CLINIC_TWILIO_API_KEY_SECRET": CredentialProblem.MISSING,
    }
    assert telehealth.twilio_problems({}) == missing.value.problems
    assert telehealth.twilio_problems(TWILIO_ENVIRON) == {}


def test_a_token_is_signed_locally_and_never_audited(db_session: Session, doctor: Actor) -> None:
    made, appointment = _new(db_session, doctor)
    issued = telehealth.access_token(db_session, doctor, made.id, participant="patient",
                                     environ=TWILIO_ENVIRON, now=T0)  # fmt: skip
    header, claims = decode(issued.token, TWILIO_ENVIRON["CLINIC_TWILIO_API_KEY_SECRET"])
    assert header["cty"] == "twilio-fpa;v=1"
    assert claims["grants"] == {"identity": f"patient-{appointment.patient_id}",
                                "video": {"room": made.room_name}}  # fmt: skip
    assert claims["iss"] == TWILIO_ENVIRON["CLINIC_TWILIO_API_KEY_SID"]
    assert claims["sub"] == TWILIO_ENVIRON["CLINIC_TWILIO_ACCOUNT_SID"]
    assert claims["exp"] == int(T0.timestamp()) + 3600 == int(issued.expires_at.timestamp())
    mine = telehealth.access_token(db_session, doctor, made.id, participant="staff",
                                   environ=TWILIO_ENVIRON)  # fmt: skip
    assert mine.identity == f"staff-{doctor.user_id}" and mine.token != issued.token
    assert issued.token not in repr(issued)
    # Ids and actions only: no token, no secret, no room name anywhere in the audit.
    written = json.dumps(_audit(db_session, doctor), default=str)
    for secret in (issued.token, mine.token, TWILIO_ENVIRON["CLINIC_TWILIO_API_KEY_SECRET"],
                   made.room_name):  # fmt: skip
        assert secret not in written
    tokens = [d for a, _i, d in _audit(db_session, doctor) if a == "video_token_issued"]
    assert tokens == [{"participant": "patient"}, {"participant": "staff"}]
    _move(db_session, doctor, made, "FAILED")
    with pytest.raises(VideoRefused) as refused:
        telehealth.access_token(db_session, doctor, made.id, participant="staff",
                                environ=TWILIO_ENVIRON)  # fmt: skip
    assert refused.value.reason is VideoRefusal.FINISHED


def test_the_webhook_log_pages_newest_first(db_session: Session) -> None:
    admin = setup_admin(db_session)
    db_session.execute(delete(TwilioWebhookEvent))  # rolled back with the test
    empty = telehealth.webhook_events(db_session, admin)
    assert (empty.events, empty.total, empty.page, empty.pages) == ((), 0, 0, 1)
    for minute in range(7):
        db_session.execute(insert(TwilioWebhookEvent).values(
            event_type="participant-connected", room_sid=f"RM{minute:032d}",
            room_name=f"visit-{minute}", payload={"SequenceNumber": str(minute)},
            signature_valid=minute % 2 == 0, received_at=T0 + timedelta(minutes=minute),
        ))  # fmt: skip
    first = telehealth.webhook_events(db_session, admin, page=0, page_size=3)
    assert (first.total, first.pages) == (7, 3)
    assert [e.room_name for e in first.events] == ["visit-6", "visit-5", "visit-4"]
    assert first.events[0].signature_valid and not first.events[1].signature_valid
    assert first.events[0].payload == {"SequenceNumber": "6"}
    last = telehealth.webhook_events(db_session, admin, page=2, page_size=3)
    assert [e.room_name for e in last.events] == ["visit-0"]
    beyond = telehealth.webhook_events(db_session, admin, page=9, page_size=3)
    assert beyond.page == 2 and beyond.events == last.events
