"""What other terminals book, move or cancel, as messages on this one (DESIGN §5.3, issue 7).

After sign-in the app starts a `ScheduleListener` (LISTEN on the schedule channel, in its own
thread, reconnecting by itself). Each notification becomes a `ScheduleChanged` posted to the
app (``post_message`` is thread-safe), which hands a copy to every screen in its stack; open
grids and day lists reload, debounced, when the change touches what they show. After a
reconnection, what was announced meanwhile is lost, so a "reconnected" change tells every
screen to reload whatever it shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from textual.app import App
from textual.message import Message
from textual.message_pump import MessagePump
from textual.timer import Timer

log = logging.getLogger(__name__)
RECONNECTED = "reconnected"
DEBOUNCE_SECONDS = 0.2
_ATTRIBUTE = "_schedule_listener"


class ScheduleChanged(Message, bubble=False):
    """A schedule change committed somewhere: ``payload`` as `scheduling.notify` sent it
    (day, doctor_id, appointment_id, action[, until]), or ``{"action": "reconnected"}``."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self.payload = dict(payload)

    @property
    def full_refresh(self) -> bool:
        return self.payload.get("action") == RECONNECTED

    def touches(self, first: date, last: date | None = None, doctor_id: object = None) -> bool:
        """Whether a screen showing ``first``…``last`` (for ``doctor_id``, None: every doctor)
        should reload."""
        if self.full_refresh:
            return True
        last = last or first
        start = _date(self.payload.get("day"))
        end = _date(self.payload.get("until")) or start
        if start is None or end is None:
            return True
        if end < first or start > last:
            return False
        changed = self.payload.get("doctor_id")
        return doctor_id is None or changed is None or str(doctor_id) == changed


class ConnectionLost(Message, bubble=False):
    """The listening connection dropped: the database is unreachable until it reconnects."""


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def start(app: App[Any]) -> None:
    """Listen for schedule changes on the app's database (again, after a sign-in). A failure
    to listen is logged, never raised: the screens still reload on their own actions."""
    stop(app)
    database = getattr(app, "database", None)
    if database is None:
        return
    try:
        from clinic_tui.services.appointments import ScheduleListener

        listener = ScheduleListener(
            database.url,
            lambda payload: app.post_message(ScheduleChanged(payload)),
            on_reconnect=lambda: app.post_message(ScheduleChanged({"action": RECONNECTED})),
            on_lost=lambda: app.post_message(ConnectionLost()),
        )
    except Exception:
        log.exception("cannot listen for schedule changes")
        return
    setattr(app, _ATTRIBUTE, listener)


def stop(app: App[Any]) -> None:
    listener = getattr(app, _ATTRIBUTE, None)
    setattr(app, _ATTRIBUTE, None)
    if listener is not None:
        try:
            listener.close(timeout=2.0)
        except Exception:
            log.exception("closing the schedule listener failed")


def forward(app: App[Any], message: ScheduleChanged) -> None:
    """Give every screen of the stack its own copy (a message is handled once)."""
    for screen in app.screen_stack:
        screen.post_message(ScheduleChanged(message.payload))


class Debounced:
    """Run ``callback`` once, ``delay`` seconds after the last `poke` (a burst of changes —
    a reschedule announces two — makes one reload)."""

    def __init__(self, owner: MessagePump, callback: Callable[[], None],
                 delay: float = DEBOUNCE_SECONDS) -> None:  # fmt: skip
        self._owner, self._callback, self._delay = owner, callback, delay
        self._timer: Timer | None = None

    def poke(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._owner.set_timer(self._delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._callback()
