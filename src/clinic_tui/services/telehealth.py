"""Video visits (issue 12): a session per call for an appointment, its status flow, its events,
access tokens for Twilio Video, and the admin's view of the provider's webhook log.

Status: CREATED → IN_PROGRESS → COMPLETED or FAILED; a call that never connects may also go
CREATED → FAILED, so it does not stay open for ever. Anything else is refused with the reason.
Room names are unique because the database says so (a unique constraint), not because this
module looked first. Doctors and admins write (CLINICAL_WRITE); receptionists read a visit's
status only (SCHEDULE_READ). The audit gets ids and actions, never a room name or a token.
Nothing here commits.
"""

from __future__ import annotations

import os
import re
import secrets
import time as clock
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from enum import StrEnum
from typing import Any, Final, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic_tui.domain.twilio_token import (
    DEFAULT_TTL_SECONDS,
    CredentialProblem,
    credentials_from,
    video_access_token,
)
from clinic_tui.i18n import N_
from clinic_tui.models import TwilioWebhookEvent, VideoCallEvent, VideoCallSession
from clinic_tui.models.telehealth import VIDEO_STATUSES
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require

_SESSIONS = cast(Table, VideoCallSession.__table__)
_EVENTS = cast(Table, VideoCallEvent.__table__)
_WEBHOOKS = cast(Table, TwilioWebhookEvent.__table__)
NEXT: Final[dict[str, tuple[str, ...]]] = {
    "CREATED": ("IN_PROGRESS", "FAILED"), "IN_PROGRESS": ("COMPLETED", "FAILED"),
    "COMPLETED": (), "FAILED": (),
}  # fmt: skip
FINISHED: Final = ("COMPLETED", "FAILED")
OPEN_APPOINTMENT: Final = ("SCHEDULED", "CHECKED_IN")
STATUS_LABELS: Final = {
    "CREATED": N_("Created"), "IN_PROGRESS": N_("Call in progress"), "COMPLETED": N_("Completed"),
    "FAILED": N_("Failed"),
}  # fmt: skip
_ROOM = re.compile(r"[A-Za-z0-9._-]{1,100}")
_ROOM_UNIQUE: Final = "uq_video_call_sessions_room_name"
_ROOM_ATTEMPTS: Final = 5


class EventType(StrEnum):
    """Twilio's own names, so events its webhooks report read the same as those typed here."""

    CONNECTED = "participant-connected"
    DISCONNECTED = "participant-disconnected"
    RECONNECTING = "participant-reconnecting"
    RECONNECTED = "participant-reconnected"
    STATUS_CHANGED = "status-changed"  # written by `move_status`, never by hand


MANUAL_EVENTS: Final = (EventType.CONNECTED, EventType.DISCONNECTED, EventType.RECONNECTING,
                        EventType.RECONNECTED)  # fmt: skip


class Participant(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"  # the signed-in doctor or admin


_PARTICIPANTS: Final = frozenset(p.value for p in Participant)


class VideoRefusal(StrEnum):
    """Why a change is refused; the value is the sentence staff read (a msgid). Values named
    {status} and {target} are status codes: the screen shows them in words."""

    FINISHED = N_(
        "This video session is over ({status}): nothing more can change. Create a new session "
        "for another call."
    )
    NOT_STARTED = N_(
        "A call that never started cannot be completed: start it first, or mark it failed."
    )
    BACKWARDS = N_("A call that has started cannot go back to {target}.")
    UNCHANGED = N_("The video session is already {status}.")
    UNKNOWN_STATUS = N_("{target} is not a status of a video session.")
    APPOINTMENT_CLOSED = N_(
        "This appointment is cancelled, missed or completed: a video session needs a scheduled "
        "or checked-in appointment."
    )
    OPEN_SESSION = N_(
        "This appointment already has a video session that is not over. Complete it, or mark "
        "it failed, first."
    )
    ROOM_TAKEN = N_("The room name {room} is already used by another video session.")
    ROOM_NAME = N_("A room name has 1 to 100 letters, digits, dots, dashes or underscores.")
    EVENT_TYPE = N_("{event} is not an event that can be recorded by hand.")
    PARTICIPANT = N_("Choose who the event is about: the patient or you.")


class VideoRefused(Exception):
    """A change the rules do not allow; nothing was written. `msgid` with `values` is the
    sentence staff read."""

    def __init__(self, reason: VideoRefusal, **values: str) -> None:
        super().__init__(f"{reason}: {values}")
        self.reason, self.values = reason, values

    @property
    def msgid(self) -> str:
        return self.reason.value


class VideoConflict(Exception):
    """The session changed since it was read (another terminal): reload; nothing was written."""

    msgid = N_("This video session was just changed on another terminal; the list is reloaded.")


class VideoNotFound(LookupError):
    """No such appointment or video session (deleted on another terminal)."""


class TwilioNotConfigured(Exception):
    """Tokens need the three Twilio values: `problems` maps each variable that is missing or
    malformed to what is wrong with it."""

    def __init__(self, problems: dict[str, CredentialProblem]) -> None:
        super().__init__(", ".join(f"{name}: {problem}" for name, problem in problems.items()))
        self.problems = problems


# ---- what the screens get ------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRef:
    """The appointment a session is for: enough to recognise it, nothing clinical."""

    appointment_id: uuid.UUID
    day: date
    start: day_time
    end: day_time
    doctor_name: str
    appointment_status: str
    has_open_session: bool = False


@dataclass(frozen=True)
class VideoEventView:
    id: uuid.UUID
    event_type: str
    occurred_at: datetime
    participant: Participant | None  # None: an identity this clinic did not issue
    staff_name: str | None  # whose identity, for a staff participant
    from_status: str | None = None  # status-changed events
    to_status: str | None = None


@dataclass(frozen=True)
class VideoStatusView:
    """What the front desk sees of a video visit: which appointment, and its status."""

    id: uuid.UUID
    visit: VisitRef
    status: str


@dataclass(frozen=True)
class VideoSessionView(VideoStatusView):
    room_name: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    created_at: datetime
    version: int
    events: tuple[VideoEventView, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class VideoToken:
    token: str = field(repr=False)
    identity: str
    room_name: str
    participant: Participant
    expires_at: datetime


# ---- rules ---------------------------------------------------------------------------------


def transition_refusal(current: str, target: str) -> VideoRefusal | None:
    """Why `current → target` is not allowed, or None when it is."""
    if target not in VIDEO_STATUSES:
        return VideoRefusal.UNKNOWN_STATUS
    if current in FINISHED:
        return VideoRefusal.FINISHED
    if target == current:
        return VideoRefusal.UNCHANGED
    if target in NEXT[current]:
        return None
    return VideoRefusal.BACKWARDS if target == "CREATED" else VideoRefusal.NOT_STARTED


def twilio_problems(environ: Mapping[str, str] | None = None) -> dict[str, CredentialProblem]:
    """What is missing or wrong in the Twilio settings (environment variable → problem); the
    screen asks before offering a token. Empty when tokens can be made."""
    return credentials_from(os.environ if environ is None else environ)[1]


def new_room_name(day: date) -> str:
    """Unguessable and free of patient details: providers keep room names in their logs."""
    return f"visit-{day:%Y%m%d}-{secrets.token_hex(5)}"


def _participant(value: str) -> Participant:
    if value not in _PARTICIPANTS:
        raise VideoRefused(VideoRefusal.PARTICIPANT)
    return Participant(value)


def _identity(participant: Participant, actor: Actor, patient_id: uuid.UUID) -> str:
    if participant is Participant.PATIENT:
        return f"patient-{patient_id}"
    return f"staff-{actor.user_id}"


# ---- reading -------------------------------------------------------------------------------

_VISIT_SQL: Final = (
    "a.id AS appointment_id, a.appointment_date, a.start_time, a.end_time, a.status AS a_status,"
    " d.full_name AS doctor_name"
)
_SESSIONS_SQL: Final = (
    f"SELECT s.id, s.room_name, s.status, s.started_at, s.ended_at, s.duration_seconds,"
    f" s.created_at, s.version, a.patient_id, {_VISIT_SQL}"
    " FROM video_call_sessions s JOIN appointments a ON a.id = s.appointment_id"
    " JOIN doctors d ON d.id = a.doctor_id"
)
_NEWEST_FIRST: Final = " ORDER BY a.appointment_date DESC, a.start_time DESC, s.created_at DESC"


def _visit(row: Any, has_open_session: bool = False) -> VisitRef:
    return VisitRef(row.appointment_id, row.appointment_date, row.start_time, row.end_time,
                    row.doctor_name, row.a_status, has_open_session)  # fmt: skip


def _events(
    session: Session, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[VideoEventView]]:
    found: dict[uuid.UUID, list[VideoEventView]] = {key: [] for key in session_ids}
    if not session_ids:
        return found
    rows = session.execute(
        text(
            "SELECT e.id, e.session_id, e.event_type, e.occurred_at, e.participant_identity,"
            " e.payload, u.full_name FROM video_call_events e LEFT JOIN users u"
            " ON e.participant_identity = 'staff-' || u.id::text"
            " WHERE e.session_id = ANY(:ids) ORDER BY e.occurred_at, e.created_at"
        ),
        {"ids": session_ids},
    )
    for row in rows:
        who = (row.participant_identity or "").partition("-")[0]
        payload = row.payload or {}
        found[row.session_id].append(VideoEventView(
            row.id, row.event_type, row.occurred_at,
            Participant(who) if who in _PARTICIPANTS else None, row.full_name,
            payload.get("from"), payload.get("to"),
        ))  # fmt: skip
    return found


def _session_views(session: Session, where: str, **params: Any) -> list[VideoSessionView]:
    rows = session.execute(text(f"{_SESSIONS_SQL} WHERE {where}{_NEWEST_FIRST}"), params).all()
    events = _events(session, [row.id for row in rows])
    return [VideoSessionView(row.id, _visit(row), row.status, row.room_name, row.started_at,
                             row.ended_at, row.duration_seconds, row.created_at, row.version,
                             tuple(events[row.id])) for row in rows]  # fmt: skip


def video_sessions(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[VideoSessionView]:
    """The patient's video sessions, newest visit first, each with its events in time order."""
    require(actor, Permission.CLINICAL_WRITE)
    return _session_views(session, "a.patient_id = :patient", patient=patient_id)


def video_statuses(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[VideoStatusView]:
    """The front desk's view: which appointment has a video session, and its status."""
    require(actor, Permission.SCHEDULE_READ)
    rows = session.execute(
        text(f"{_SESSIONS_SQL} WHERE a.patient_id = :patient{_NEWEST_FIRST}"),
        {"patient": patient_id},
    )
    return [VideoStatusView(row.id, _visit(row), row.status) for row in rows]


def video_appointments(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[VisitRef]:
    """The patient's scheduled or checked-in appointments, soonest first: those a video
    session can be created for (unless one of theirs is still open)."""
    require(actor, Permission.CLINICAL_WRITE)
    rows = session.execute(
        text(
            f"SELECT {_VISIT_SQL}, EXISTS (SELECT 1 FROM video_call_sessions s"
            " WHERE s.appointment_id = a.id AND s.status IN ('CREATED', 'IN_PROGRESS')) AS busy"
            " FROM appointments a JOIN doctors d ON d.id = a.doctor_id"
            " WHERE a.patient_id = :patient AND a.status IN ('SCHEDULED', 'CHECKED_IN')"
            " ORDER BY a.appointment_date, a.start_time LIMIT 50"
        ),
        {"patient": patient_id},
    )
    return [_visit(row, row.busy) for row in rows]


def _session_row(session: Session, video_session_id: uuid.UUID, *, lock: bool = False) -> Any:
    row = session.execute(
        text(f"{_SESSIONS_SQL} WHERE s.id = :id{' FOR UPDATE OF s' if lock else ''}"),
        {"id": video_session_id},
    ).one_or_none()
    if row is None:
        raise VideoNotFound(f"video session {video_session_id}")
    return row


def _view(session: Session, video_session_id: uuid.UUID) -> VideoSessionView:
    return _session_views(session, "s.id = :id", id=video_session_id)[0]


# ---- writing -------------------------------------------------------------------------------


def _audit(session: Session, actor: Actor, action: str, entity_id: uuid.UUID, **details: Any):
    audit.record(session, action, user_id=actor.user_id, entity="video_call_session",
                 entity_id=entity_id, details=details)  # fmt: skip


def create_session(
    session: Session, actor: Actor, appointment_id: uuid.UUID, *, room_name: str | None = None
) -> VideoSessionView:
    """A new session (CREATED) for an open appointment, in a room of its own: `room_name`
    when given, refused if another session has it; else a fresh name, drawn again if taken."""
    require(actor, Permission.CLINICAL_WRITE)
    if room_name is not None:
        room_name = unicodedata.normalize("NFC", room_name).strip()
        if not _ROOM.fullmatch(room_name):
            raise VideoRefused(VideoRefusal.ROOM_NAME)
    appointment = session.execute(
        text("SELECT status, appointment_date FROM appointments WHERE id = :id FOR UPDATE"),
        {"id": appointment_id},
    ).one_or_none()  # locked: two terminals cannot both open a session for it
    if appointment is None:
        raise VideoNotFound(f"appointment {appointment_id}")
    if appointment.status not in OPEN_APPOINTMENT:
        raise VideoRefused(VideoRefusal.APPOINTMENT_CLOSED)
    still_open = select(_SESSIONS.c.id).where(
        _SESSIONS.c.appointment_id == appointment_id, _SESSIONS.c.status.not_in(FINISHED)
    )
    if session.execute(still_open.limit(1)).first() is not None:
        raise VideoRefused(VideoRefusal.OPEN_SESSION)
    name = ""
    for _attempt in range(1 if room_name else _ROOM_ATTEMPTS):
        name = room_name or new_room_name(appointment.appointment_date)
        try:
            with session.begin_nested():
                new_id = session.execute(
                    insert(_SESSIONS)
                    .values(appointment_id=appointment_id, room_name=name, created_by=actor.user_id)
                    .returning(_SESSIONS.c.id)
                ).scalar_one()
        except IntegrityError as error:
            constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
            if constraint != _ROOM_UNIQUE:
                raise
            continue
        _audit(session, actor, "video_session_created", new_id, appointment_id=str(appointment_id))
        return _view(session, new_id)
    raise VideoRefused(VideoRefusal.ROOM_TAKEN, room=name)


def _moment(session: Session, now: datetime | None) -> datetime:
    # The server's clock, not this terminal's: every terminal stamps calls alike.
    return now if now is not None else session.execute(select(func.clock_timestamp())).scalar_one()


def move_status(
    session: Session, actor: Actor, video_session_id: uuid.UUID, target: str, *,
    expected_version: int, now: datetime | None = None,
) -> VideoSessionView:  # fmt: skip
    """Move the call on: IN_PROGRESS stamps its start; COMPLETED or FAILED its end and length.
    The change is also kept as a status-changed event, so the events read as a timeline."""
    require(actor, Permission.CLINICAL_WRITE)
    row = _session_row(session, video_session_id, lock=True)
    if row.version != expected_version:
        raise VideoConflict(video_session_id)
    refusal = transition_refusal(row.status, target)
    if refusal is not None:
        raise VideoRefused(refusal, status=row.status, target=target)
    moment = _moment(session, now)
    values: dict[str, Any] = {"status": target, "version": row.version + 1}
    if target == "IN_PROGRESS":
        values["started_at"] = moment
    else:
        moment = max(moment, row.started_at) if row.started_at else moment
        values["ended_at"] = moment
        if row.started_at is not None:
            values["duration_seconds"] = int((moment - row.started_at).total_seconds())
    session.execute(update(_SESSIONS).where(_SESSIONS.c.id == video_session_id).values(**values))
    _add_event(session, video_session_id, EventType.STATUS_CHANGED,
               _identity(Participant.STAFF, actor, row.patient_id), moment,
               {"source": "status", "from": row.status, "to": target})  # fmt: skip
    _audit(session, actor, "video_session_status_changed", video_session_id,
           **{"from": row.status, "to": target})  # fmt: skip
    return _view(session, video_session_id)


def _add_event(session: Session, video_session_id: uuid.UUID, event_type: str, who: str,
               at: datetime, payload: dict[str, str]) -> None:  # fmt: skip
    session.execute(insert(_EVENTS).values(
        session_id=video_session_id, event_type=str(event_type), participant_identity=who,
        occurred_at=at, payload=payload,
    ))  # fmt: skip


def _open_row(session: Session, video_session_id: uuid.UUID) -> Any:
    row = _session_row(session, video_session_id)
    if row.status in FINISHED:
        raise VideoRefused(VideoRefusal.FINISHED, status=row.status)
    return row


def record_event(
    session: Session, actor: Actor, video_session_id: uuid.UUID, event_type: str, *,
    participant: str, now: datetime | None = None,
) -> VideoSessionView:  # fmt: skip
    """Note that someone joined, left, lost or regained the connection, at `now` (the
    server's clock when not given). A session that is over takes no more events."""
    require(actor, Permission.CLINICAL_WRITE)
    if event_type not in MANUAL_EVENTS:
        raise VideoRefused(VideoRefusal.EVENT_TYPE, event=str(event_type))
    who = _participant(participant)
    row = _open_row(session, video_session_id)
    _add_event(session, video_session_id, event_type, _identity(who, actor, row.patient_id),
               _moment(session, now), {"source": "manual"})  # fmt: skip
    _audit(session, actor, "video_event_recorded", video_session_id,
           event_type=str(event_type), participant=who.value)  # fmt: skip
    return _view(session, video_session_id)


def access_token(
    session: Session, actor: Actor, video_session_id: uuid.UUID, *, participant: str,
    environ: Mapping[str, str] | None = None, now: datetime | None = None,
) -> VideoToken:  # fmt: skip
    """A Twilio Video token for the patient or the signed-in person to join the session's
    room, signed here with the clinic's API key (no network call). The audit records that
    one was issued and for whom, never the token."""
    require(actor, Permission.CLINICAL_WRITE)
    credentials, problems = credentials_from(os.environ if environ is None else environ)
    if credentials is None:
        raise TwilioNotConfigured(problems)
    who = _participant(participant)
    row = _open_row(session, video_session_id)
    issued_at = int(now.timestamp()) if now is not None else int(clock.time())
    name = _identity(who, actor, row.patient_id)
    token = video_access_token(credentials, identity=name, room=row.room_name,
                               issued_at=issued_at)  # fmt: skip
    _audit(session, actor, "video_token_issued", video_session_id, participant=who.value)
    expires = datetime.fromtimestamp(issued_at, UTC) + timedelta(seconds=DEFAULT_TTL_SECONDS)
    return VideoToken(token, name, row.room_name, who, expires)


# ---- the provider's webhook log (admin) ----------------------------------------------------


@dataclass(frozen=True)
class WebhookEventView:
    id: uuid.UUID
    event_type: str
    room_sid: str | None
    room_name: str | None
    participant_sid: str | None
    payload: dict[str, Any]
    signature_valid: bool  # whether Twilio's signature matched when it arrived
    received_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True)
class WebhookPage:
    events: tuple[WebhookEventView, ...]
    total: int
    page: int  # from 0
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def webhook_events(
    session: Session, actor: Actor, *, page: int = 0, page_size: int = 50
) -> WebhookPage:
    """One page of the webhook-event log, newest first; a page past the end shows the last."""
    require(actor, Permission.DATABASE_ADMIN)
    page_size = max(1, min(page_size, 500))
    total = session.execute(select(func.count()).select_from(_WEBHOOKS)).scalar_one()
    page = max(0, min(page, max(0, -(-total // page_size) - 1)))
    columns = [c for c in _WEBHOOKS.c if c.name != "created_at"]
    rows = session.execute(
        select(*columns)
        .order_by(_WEBHOOKS.c.received_at.desc(), _WEBHOOKS.c.created_at.desc(), _WEBHOOKS.c.id)
        .limit(page_size)
        .offset(page * page_size)
    )
    events = tuple(WebhookEventView(**row._mapping) for row in rows)
    return WebhookPage(events, total, page, page_size)
