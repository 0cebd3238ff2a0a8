"""The video-visits tab of a patient's clinical record (issue 12): the patient's video sessions
with their status in words, and the selected one's events with their times. Doctors and admins
create a session for an appointment, move its status on, record who joined or left, and get an
access token to copy; the front desk sees which appointment has a video visit and its status.

What the message line says is kept as msgids and values, so F2 tells it again in the other
language; a database error is kept as the sentence it already is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_date, format_datetime, format_number, format_time
from clinic_tui.services import telehealth as video
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.clinical import ClinicalPanel
from clinic_tui.ui.widgets.tables import fill_measured

Lines = list[tuple[str, dict[str, Any]]]  # a note: msgids and their values
EVENTS = {
    "participant-connected": N_("{who} joined"),
    "participant-disconnected": N_("{who} left"),
    "participant-reconnecting": N_("{who} lost the connection"),
    "participant-reconnected": N_("{who} reconnected"),
}
TARGETS = {"IN_PROGRESS": N_("Start: the call is in progress"), "COMPLETED": N_("Completed"),
           "FAILED": N_("Failed")}  # fmt: skip
PROBLEMS = {
    "missing": N_("{variable} is not set."),
    "format": N_(
        "{variable} does not look right: an Account SID is AC and an API key SID is SK, each "
        "followed by 32 hexadecimal digits."
    ),
}
NOT_CONFIGURED = N_(
    "Video tokens need the clinic's Twilio credentials: set CLINIC_TWILIO_ACCOUNT_SID, "
    "CLINIC_TWILIO_API_KEY_SID and CLINIC_TWILIO_API_KEY_SECRET in the environment clinic-tui "
    "starts in, then start it again. The token is signed on this computer; nothing is sent."
)


def status_text(status: str) -> str:
    return _(video.STATUS_LABELS.get(status, status))


def local(moment: datetime | None) -> str:
    return format_time(moment.astimezone(CLINIC_TIMEZONE)) if moment else "—"


def visit_text(visit: video.VisitRef) -> str:
    return f"{format_date(visit.day)} {format_time(visit.start)}–{format_time(visit.end)}"


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return _("{minutes} min {seconds} s").format(
        minutes=format_number(minutes), seconds=format_number(rest)
    )


def event_text(event: video.VideoEventView) -> str:
    if event.participant is video.Participant.PATIENT:
        who = _("The patient")
    else:
        who = event.staff_name or _("Someone")
    if event.event_type == video.EventType.STATUS_CHANGED:
        return _("{who} moved the status: {before} → {after}").format(
            who=who, before=status_text(event.from_status or ""),
            after=status_text(event.to_status or ""),
        )  # fmt: skip
    return _(EVENTS[event.event_type]).format(who=who) if event.event_type in EVENTS else (
        f"{event.event_type} ({who})")  # fmt: skip


class PickDialog(ModalScreen[str | None]):
    """Choose one of a few lines (an appointment, an event); dismisses with its key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="video_pick.cancel"),
    ]

    def __init__(self, title: str, choices: Callable[[], list[tuple[str, str, bool]]]) -> None:
        super().__init__(classes="video-dialog")
        self.title_msgid, self.choices = title, choices  # choices(): (key, text, disabled)

    def compose(self) -> ComposeResult:
        with Vertical(classes="video-dialog-panel"):
            yield Static(classes="panel-title video-dialog-title")
            yield OptionList(id="video-pick")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(OptionList).focus()

    def relabel(self) -> None:
        self.query_one(".video-dialog-title", Static).update(_(self.title_msgid))
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        choices = self.choices()
        options.set_options(Option(text, id=key, disabled=off) for key, text, off in choices)
        if highlighted is None:  # Enter takes the first line that can be taken
            highlighted = next((i for i, (_k, _t, off) in enumerate(choices) if not off), None)
        options.highlighted = highlighted

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TokenDialog(ModalScreen[None]):
    """The access token, read-only and selectable, with `c` to copy it to the clipboard."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", N_("Copy"), id="video_token.copy"),
        Binding("escape", "close", N_("Close"), id="video_token.close"),
    ]

    def __init__(self, token: video.VideoToken) -> None:
        super().__init__(classes="video-dialog")
        self.token = token

    def compose(self) -> ComposeResult:
        with Vertical(classes="video-dialog-panel"):
            yield Static(classes="panel-title video-dialog-title")
            yield Static(id="video-token-about")
            yield TextArea(self.token.token, id="video-token-text", read_only=True, soft_wrap=True)
            yield Static(classes="dialog-hint", id="video-token-hint")
            with Horizontal(classes="choices"):
                yield Button(id="video-token-copy", variant="primary")
                yield Button(id="video-token-close")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(TextArea).focus()

    def relabel(self) -> None:
        token = self.token
        who = _("the patient") if token.participant is video.Participant.PATIENT else _("you")
        self.query_one(".video-dialog-title", Static).update(_("Video access token"))
        about = _("For {who} ({identity}) in room {room}; valid until {time}.")
        self.query_one("#video-token-about", Static).update(about.format(
            who=who, identity=token.identity, room=token.room_name,
            time=format_datetime(token.expires_at.astimezone(CLINIC_TIMEZONE)),
        ))  # fmt: skip
        self.query_one("#video-token-hint", Static).update(
            _("Select the token with the mouse or Shift+arrows, or press c to copy all of it.")
        )
        self.query_one("#video-token-copy", Button).label = _("c  Copy")
        self.query_one("#video-token-close", Button).label = _("Close")

    @on(Button.Pressed, "#video-token-copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.token.token)
        self.notify(_("Token copied to the clipboard."))

    @on(Button.Pressed, "#video-token-close")
    def action_close(self) -> None:
        self.dismiss(None)


class VideoPanel(ClinicalPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_session", N_("New video session"), id="video.new"),
        Binding("s", "move_status", N_("Change status"), id="video.status"),
        Binding("e", "record_event", N_("Record event"), id="video.event"),
        Binding("t", "show_token", N_("Access token"), id="video.token"),
        Binding("r", "reload", N_("Refresh"), id="video.reload", show=False),
    ]
    WRITES: ClassVar = ("new_session", "move_status", "record_event", "show_token")

    class Loaded(Message):
        def __init__(self, sessions: list[Any]) -> None:
            super().__init__()
            self.sessions = sessions

    class Noted(Message):
        """Something to say; `reload` when the list changed, `select` the session to show."""

        def __init__(self, lines: Lines, *, error: bool = False, text: str | None = None,
                     reload: bool = False, select: uuid.UUID | None = None) -> None:  # fmt: skip
            super().__init__()
            self.lines, self.error, self.text = lines, error, text
            self.reload, self.select = reload, select

    class Choices(Message):
        def __init__(self, visits: list[video.VisitRef]) -> None:
            super().__init__()
            self.visits = visits

    class Token(Message):
        def __init__(self, token: video.VideoToken) -> None:
            super().__init__()
            self.token = token

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: list[Any] = []  # VideoSessionView, or VideoStatusView for the front desk
        self._note: tuple[Lines, bool] = ([], False)
        self._note_text: str | None = None
        self._select: uuid.UUID | None = None

    @property
    def writer(self) -> bool:
        return bool(self.app.actor.can(Permission.CLINICAL_WRITE))  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Static(id="video-title", classes="panel-title")
        yield Static(id="video-help", classes="dialog-hint")
        yield Static(id="video-note")
        yield DataTable(id="video-sessions", cursor_type="row", zebra_stripes=True)
        yield Static(id="video-events-title", classes="panel-title")
        yield DataTable(id="video-events", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#video-events").display = self.writer
        self.relabel()

    def shown(self) -> None:
        self._load()
        self.query_one("#video-sessions", DataTable).focus()

    # ---- texts ---------------------------------------------------------------------------

    def relabel(self) -> None:
        self.query_one("#video-title", Static).update(_("Video visits"))
        self.query_one("#video-help", Static).update(
            _("Each video session belongs to an appointment. Its status moves from Created to "
              "Call in progress, then Completed or Failed.") if self.writer else
            _("The status of this patient's video visits. Therapists and administrators run "
              "them.")
        )  # fmt: skip
        self._render_note()
        self._render_sessions()

    def _render_note(self) -> None:
        line = self.query_one("#video-note", Static)
        if self._note_text is not None:
            line.update(Text(self._note_text, style="bold red"))
            return
        lines, error = self._note
        shown = []
        for msgid, values in lines:
            words = {k: status_text(v) if k in ("status", "target") else v
                     for k, v in values.items()}  # fmt: skip
            shown.append(_(msgid).format(**words))
        line.update(Text("\n".join(shown), style="bold red" if error else "bold"))

    def _render_sessions(self) -> None:
        table = self.query_one("#video-sessions", DataTable)
        keep = self._select or getattr(self.selected(), "id", None)
        columns = [N_("Appointment"), N_("Therapist"), N_("Status")]
        if self.writer:
            columns += [N_("Room"), N_("Started"), N_("Ended"), N_("Length")]
        rows = []
        for item in self.sessions:
            row = [visit_text(item.visit), item.visit.doctor_name, status_text(item.status)]
            if isinstance(item, video.VideoSessionView):
                row += [item.room_name, local(item.started_at), local(item.ended_at),
                        duration_text(item.duration_seconds)]  # fmt: skip
            rows.append((str(item.id), row))
        fill_measured(table, [_(label) for label in columns], rows)
        if keep is not None:
            with suppress(Exception):  # no longer listed
                table.move_cursor(row=table.get_row_index(str(keep)))
        self._select = None
        self._render_events()

    def _render_events(self) -> None:
        chosen = self.selected()
        title = self.query_one("#video-events-title", Static)
        if not isinstance(chosen, video.VideoSessionView):
            title.update(_("No video session yet.") if not self.sessions else "")
        else:
            title.update(_("Events of room {room}").format(room=chosen.room_name))
        if not self.writer:  # the front desk sees no events
            return
        events = chosen.events if isinstance(chosen, video.VideoSessionView) else ()
        rows = [(str(event.id), [format_datetime(event.occurred_at.astimezone(CLINIC_TIMEZONE)),
                                 event_text(event)]) for event in events]  # fmt: skip
        fill_measured(self.query_one("#video-events", DataTable), [_("Time"), _("Event")], rows)

    def _say(self, lines: Lines, *, error: bool = False) -> None:
        self._note, self._note_text = (lines, error), None
        self._render_note()

    # ---- the selected session ------------------------------------------------------------

    def selected(self) -> Any:
        table = self.query_one("#video-sessions", DataTable)
        if not table.row_count or not table.is_valid_row_index(table.cursor_row):
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((s for s in self.sessions if str(s.id) == key), None)

    @on(DataTable.RowHighlighted, "#video-sessions")
    def _highlighted(self) -> None:
        self._render_events()
        self.screen.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.WRITES and not self.writer:
            return False  # the front desk reads status only: the keys are not theirs
        if action in ("move_status", "record_event", "show_token") and self.selected() is None:
            return None  # shown greyed until there is a session to act on
        return True

    # ---- workers -------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="video-load", exit_on_error=False)
    def _load(self) -> None:
        actor, writer = self.app.actor, self.writer  # type: ignore[attr-defined]
        read = video.video_sessions if writer else video.video_statuses
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                sessions = read(session, actor, self.patient_id)
        except Exception as error:
            self.post_message(self.Noted([], text=describe_database_error(error)))
            return
        self.post_message(self.Loaded(sessions))

    @work(thread=True, exclusive=True, group="video-change", exit_on_error=False)
    def _run(self, what: str, call: Callable[[Any], Any]) -> None:
        """Run one change in its own session and say how it went."""
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                result = call(session)
        except video.VideoRefused as refused:
            self.post_message(self.Noted([(refused.msgid, refused.values)], error=True))
        except video.VideoConflict as conflict:
            self.post_message(self.Noted([(conflict.msgid, {})], error=True, reload=True))
        except video.VideoNotFound:
            gone = N_("This video session or appointment no longer exists; the list is reloaded.")
            self.post_message(self.Noted([(gone, {})], error=True, reload=True))
        except video.TwilioNotConfigured as missing:
            self.post_message(self.Noted(_twilio_lines(missing.problems), error=True))
        except Exception as error:
            self.post_message(self.Noted([], text=describe_database_error(error)))
        else:
            self.post_message(self._outcome(what, result))

    def _outcome(self, what: str, result: Any) -> Message:
        if what == "choices":
            return self.Choices(result)
        if what == "token":
            return self.Token(result)
        if what == "created":
            values = {"room": result.room_name, "visit": visit_text(result.visit)}
            line = (N_("Video session created for the appointment of {visit}: room {room}."),
                    values)  # fmt: skip
        elif what == "status":
            line = (N_("Status is now: {status}."), {"status": result.status})
        else:
            line = (N_("Event recorded."), {})
        return self.Noted([line], reload=True, select=result.id)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.sessions = message.sessions
        self._render_sessions()
        self.screen.refresh_bindings()

    @on(Noted)
    def _noted(self, message: Noted) -> None:
        if message.text is not None:
            self._note_text = message.text
            self._render_note()
        else:
            self._say(message.lines, error=message.error)
        if message.error:
            self.app.bell()
        if message.reload:
            self._select = message.select
            self._load()

    # ---- actions -------------------------------------------------------------------------

    def action_new_session(self) -> None:
        actor = self.app.actor  # type: ignore[attr-defined]
        self._run("choices", lambda s: video.video_appointments(s, actor, self.patient_id))

    @on(Choices)
    def _choose_visit(self, message: Choices) -> None:
        visits = message.visits
        if not visits:
            self._say([(N_("This patient has no scheduled or checked-in appointment: book one "
                           "first (F4)."), {})], error=True)  # fmt: skip
            return

        def choices() -> list[tuple[str, str, bool]]:
            busy = _("already has an open video session")
            return [(str(v.appointment_id), f"{visit_text(v)} · {v.doctor_name}"
                     + (f" · {busy}" if v.has_open_session else ""), v.has_open_session)
                    for v in visits]  # fmt: skip

        def chosen(key: str | None) -> None:
            if key:
                actor = self.app.actor  # type: ignore[attr-defined]
                self._run("created", lambda s: video.create_session(s, actor, uuid.UUID(key)))

        self.app.push_screen(PickDialog(N_("Video session for which appointment?"), choices),
                             chosen)  # fmt: skip

    def _over(self, chosen: Any) -> bool:
        """A session that is over takes nothing more: say why instead of asking."""
        if chosen.status in video.FINISHED:
            self._say([(video.VideoRefusal.FINISHED.value, {"status": chosen.status})], error=True)
            self.app.bell()
        return chosen.status in video.FINISHED

    def action_move_status(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        chosen = self.selected()
        if chosen is None:
            return
        targets = video.NEXT.get(chosen.status, ())
        if self._over(chosen):
            return

        def answered(target: str | None) -> None:
            if target in targets:
                actor = self.app.actor  # type: ignore[attr-defined]
                self._run("status", lambda s: video.move_status(
                    s, actor, chosen.id, target, expected_version=chosen.version))  # fmt: skip

        answers = [(t, TARGETS[t]) for t in targets] + [("cancel", N_("Cancel"))]
        self.app.push_screen(ConfirmScreen(
            N_("Status of the video session"), N_("Room {room} is now: {status}. Move it to:"),
            answers, room=chosen.room_name, status=status_text(chosen.status),
        ), answered)  # fmt: skip

    def action_record_event(self) -> None:
        chosen = self.selected()
        if chosen is None or self._over(chosen):
            return

        def choices() -> list[tuple[str, str, bool]]:
            return [(f"{who}:{kind}", _(EVENTS[kind]).format(who=label()), False)
                    for who, label in (("patient", lambda: _("The patient")),
                                       ("staff", lambda: _("You")))
                    for kind in video.MANUAL_EVENTS]  # fmt: skip

        def picked(key: str | None) -> None:
            if key:
                who, _sep, kind = key.partition(":")
                actor = self.app.actor  # type: ignore[attr-defined]
                self._run("event", lambda s: video.record_event(
                    s, actor, chosen.id, kind, participant=who))  # fmt: skip

        self.app.push_screen(PickDialog(N_("What happened in the call?"), choices), picked)

    def action_show_token(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        chosen = self.selected()
        if chosen is None or self._over(chosen):
            return
        problems = video.twilio_problems()
        if problems:
            self._say(_twilio_lines(problems), error=True)
            return

        def answered(who: str | None) -> None:
            if who in ("patient", "staff"):
                actor = self.app.actor  # type: ignore[attr-defined]
                self._run("token", lambda s: video.access_token(
                    s, actor, chosen.id, participant=who))  # fmt: skip

        self.app.push_screen(ConfirmScreen(
            N_("Video access token"), N_("An access token to join room {room}, for whom?"),
            [("patient", N_("The patient")), ("staff", N_("You")), ("cancel", N_("Cancel"))],
            room=chosen.room_name,
        ), answered)  # fmt: skip

    @on(Token)
    def _token(self, message: Token) -> None:
        self._say([(N_("Access token issued; it is valid until {time}."),
                    {"time": local(message.token.expires_at)})])  # fmt: skip
        self.app.push_screen(TokenDialog(message.token))


def _twilio_lines(problems: dict[str, Any]) -> Lines:
    return [(NOT_CONFIGURED, {})] + [
        (PROBLEMS[str(problem)], {"variable": variable}) for variable, problem in problems.items()
    ]
