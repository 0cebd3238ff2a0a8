"""Role-matrix rows for video visits and the webhook-event log (the matrix itself runs in
tests/db/test_permissions.py).

Each operation builds the data it needs inside the test's rolled-back transaction, with a
separate administrator for the setup steps, so the call under test really runs when allowed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from clinic_tui.models import TwilioWebhookEvent
from clinic_tui.services import telehealth
from clinic_tui.services.access import Actor, Permission
from tests.db.test_permissions_clinic import Need, Operation, booked, setup_admin

# Well-formed but fake: a token is signed locally, nothing is sent to Twilio.
TWILIO_ENVIRON = {
    "CLINIC_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "CLINIC_TWILIO_API_KEY_SID": "SK" + "1" * 32,
    "CLINIC_TWILIO_API_KEY_SECRET": "not-a-real-secret",
}


def video_session(session: Session) -> tuple[Any, uuid.UUID]:
    """A CREATED video session for a fresh appointment, made by the setup administrator, and
    whose appointment it is."""
    appointment = booked(session)
    made = telehealth.create_session(session, setup_admin(session), appointment.id)
    return made, appointment.patient_id


def _sessions(session: Session, actor: Actor) -> object:
    return telehealth.video_sessions(session, actor, video_session(session)[1])


def _statuses(session: Session, actor: Actor) -> object:
    return telehealth.video_statuses(session, actor, video_session(session)[1])


def _appointments(session: Session, actor: Actor) -> object:
    return telehealth.video_appointments(session, actor, booked(session).patient_id)


def _create(session: Session, actor: Actor) -> object:
    return telehealth.create_session(session, actor, booked(session).id)


def _move(session: Session, actor: Actor) -> object:
    made = video_session(session)[0]
    return telehealth.move_status(
        session, actor, made.id, "IN_PROGRESS", expected_version=made.version
    )


def _event(session: Session, actor: Actor) -> object:
    return telehealth.record_event(
        session, actor, video_session(session)[0].id, "participant-connected", participant="patient"
    )


def _token(session: Session, actor: Actor) -> object:
    return telehealth.access_token(
        session, actor, video_session(session)[0].id, participant="staff", environ=TWILIO_ENVIRON
    )


def _webhooks(session: Session, actor: Actor) -> object:
    session.execute(insert(TwilioWebhookEvent).values(event_type="room-created"))
    return telehealth.webhook_events(session, actor)


OPERATIONS: list[tuple[str, Operation, Need]] = [
    ("telehealth.video_sessions", _sessions, Permission.CLINICAL_WRITE),
    # The front desk sees which appointment has a video session and its status, nothing more.
    ("telehealth.video_statuses", _statuses, Permission.SCHEDULE_READ),
    ("telehealth.video_appointments", _appointments, Permission.CLINICAL_WRITE),
    ("telehealth.create_session", _create, Permission.CLINICAL_WRITE),
    ("telehealth.move_status", _move, Permission.CLINICAL_WRITE),
    ("telehealth.record_event", _event, Permission.CLINICAL_WRITE),
    ("telehealth.access_token", _token, Permission.CLINICAL_WRITE),
    ("telehealth.webhook_events", _webhooks, Permission.DATABASE_ADMIN),
]
