"""What the scheduling screens say: cell symbols, statuses, types, specializations, and every
refusal of the scheduling services, in the current language. Symbols carry the meaning, so a
grid reads the same without colour."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_date, ngettext

# Cell states (services.scheduling.CellState values) → symbol, legend text.
CELL_SYMBOLS = {
    "free": "□",
    "booked": "■",
    "checked_in": "✓",
    "completed": "✔",
    "unavailable": "·",
}
LEGEND = (
    ("free", N_("free")),
    ("booked", N_("booked")),
    ("checked_in", N_("checked in")),
    ("completed", N_("completed")),
    ("unavailable", N_("not available")),
)
STATUS_LABELS = {
    "SCHEDULED": ("■", N_("Booked")),
    "CHECKED_IN": ("✓", N_("Checked in")),
    "COMPLETED": ("✔", N_("Completed")),
    "CANCELLED": ("✗", N_("Cancelled")),
    "NO_SHOW": ("∅", N_("No-show")),
}
TYPE_LABELS = {
    "INITIAL_EVALUATION": N_("Initial evaluation"),
    "FOLLOW_UP": N_("Follow-up"),
    "RE_EVALUATION": N_("Re-evaluation"),
    "DISCHARGE": N_("Discharge"),
}
SPECIALIZATIONS = {
    "musculoskeletal": N_("Musculoskeletal"),
    "neurological": N_("Neurological"),
    "sports": N_("Sports"),
    "paediatric": N_("Paediatric"),
    "geriatric": N_("Geriatric"),
    "cardiopulmonary": N_("Cardiopulmonary"),
}
CARD_LABELS = {
    "valid": ("✓", N_("valid")),
    "expired": ("✗", N_("expired")),
    "not_yet_valid": ("!", N_("not yet valid")),
    "none": ("—", N_("no card")),
}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))  # fmt: skip
WEEKDAYS_SHORT = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

REFUSALS = {
    "OUTSIDE_AVAILABILITY": N_("Not bookable: that time is outside the therapist's hours."),
    "SLOT_TAKEN": N_("This slot was just taken. The grid has been refreshed."),
    "PATIENT_BUSY": N_("The patient already has an appointment at that time ({times})."),
    "IN_THE_PAST": N_("That time has already passed."),
    "APPOINTMENTS_STAND": N_(
        "Refused: appointments stand in that range ({times}). Move or cancel them first."
    ),
    "ALREADY_AVAILABLE": N_("Those hours are already available."),
}
TRANSITIONS = {
    "CHECKED_IN": N_("Only a booked appointment can be checked in; this one is {status}."),
    "COMPLETED": N_("Only a checked-in appointment can be completed; this one is {status}."),
    "NO_SHOW": N_("Only a booked appointment can be marked no-show; this one is {status}."),
    "CANCELLED": N_("Only a booked appointment can be cancelled or moved; this one is {status}."),
}
TOO_EARLY = {
    "CHECKED_IN": N_("Too early to check in: the appointment is on {day}."),
    "NO_SHOW": N_("Too early for a no-show: the appointment starts at {time} on {day}."),
}
# Keys, not messages: named here so the extractor does not take them for text to translate.
KEY_CARD_NONE, KEY_CARD_EXPIRED = "CARD_NONE", "CARD_EXPIRED"
KEY_SAME_DAY = "PATIENT_HAS_APPOINTMENT_THAT_DAY"
WARNINGS = {
    "PATIENT_HAS_APPOINTMENT_THAT_DAY": N_("⚠ Already booked that day: {times}."),
    "CARD_EXPIRED": N_("⚠ BHYT card expired on {date}: no insurance cover for this visit."),
    "CARD_NOT_YET_VALID": N_("⚠ The BHYT card is not valid yet on that day."),
    "CARD_NONE": N_("⚠ No BHYT card: the patient pays in full."),
}
CONFLICT = N_(
    "Someone changed this appointment a moment ago; it has been reloaded. Nothing was changed."
)
NOT_ALLOWED = N_("Your role may not do this.")
GONE = N_("This appointment no longer exists.")


def clinic_now() -> datetime:
    """The clinic's wall clock, naive (as appointment times are stored)."""
    return datetime.now(CLINIC_TIMEZONE).replace(tzinfo=None)


def clinic_today() -> date:
    return clinic_now().date()


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def span(start: time, end: time) -> str:
    return f"{hhmm(start)}–{hhmm(end)}"


def day_title(day: date) -> str:
    """ "Monday 11/23/2026" / "Thứ hai 23/11/2026"."""
    return f"{_(WEEKDAYS[day.weekday()])} {format_date(day)}"


def short_day(day: date) -> str:
    """ "Mon 11/23" for a week column; the year is in the title."""
    text = format_date(day)
    return f"{_(WEEKDAYS_SHORT[day.weekday()])} {text[:5]}"


def legend() -> str:
    return "  ".join(f"{CELL_SYMBOLS[state]} {_(label)}" for state, label in LEGEND)


def week_title(doctor: Any, monday: date) -> str:
    week = f"{format_date(monday)} – {format_date(monday + timedelta(days=6))}"
    return _("Week of {name}: {week}").format(name=doctor.name if doctor else "", week=week)


def cell_line(doctor: str, key: str, day: date, start: time, end: time, cell: Any) -> str:
    """One grid cell in words: "Nguyễn Thị Lan (Musculoskeletal) · Monday 11/23/2026
    09:00–09:30 │ ■ booked · An (N.V.)"."""
    state = str(cell.state)
    what = f"{CELL_SYMBOLS[state]} {_(dict(LEGEND)[state])}"
    if cell.patient_short:
        what += f" · {cell.patient_short}"
    return f"{doctor} ({specialization(key)}) · {day_title(day)} {span(start, end)} │ {what}"


def slot_line(doctor: str, key: str, day: date, start: time, end: time) -> str:
    return f"{doctor} ({specialization(key)}) · {day_title(day)} {span(start, end)}"


def search_scopes(key: str | None) -> list[tuple[str, str]]:
    """Where "first available" looks: this therapist, their specialization, anyone."""
    if key is None:
        return [(_("Any therapist"), "all")]
    field = _("Any therapist in {specialization}").format(specialization=specialization(key))
    return [(_("This therapist"), "doctor"), (field, "specialization"), (_("Any therapist"), "all")]


def warning_text(warning: Any) -> str:
    """A booking's `appointments.BookingWarning`, said."""
    code = str(warning.code)
    times = ", ".join(span(a.start, a.end) for a in warning.appointments)
    valid_to = format_date(warning.card_valid_to) if warning.card_valid_to else "—"
    return _(WARNINGS.get(code, code)).format(times=times, date=valid_to)


def patient_lines(patient: Any, day: date, same_day: list[str]) -> list[str]:
    """The picked patient (`patient_search.PatientHit`) and what to warn about for ``day``."""
    born = format_date(patient.date_of_birth)
    lines = [f"✓ {patient.full_name} · {patient.patient_code} · {born} · "
             f"{patient.card_number or '—'}"]  # fmt: skip
    if patient.card_number is None:
        lines.append(_(WARNINGS[KEY_CARD_NONE]))
    elif patient.card_valid_to is not None and patient.card_valid_to < day:
        lines.append(_(WARNINGS[KEY_CARD_EXPIRED]).format(date=format_date(patient.card_valid_to)))
    if same_day:
        times = ", ".join(same_day)
        lines.append(_(WARNINGS[KEY_SAME_DAY]).format(times=times))
    return lines


def moving_text(patient: str, start: time, end: time) -> str:
    return _("Moving {patient} ({time}): choose a free slot and press Enter; Esc stops.").format(
        patient=patient, time=span(start, end)
    )


def not_available(can_edit: bool) -> Callable[[], str]:
    def text() -> str:
        said = _("Not available at that time.")
        return said + " " + _("Press h to add hours.") if can_edit else said

    return text


def specialization(key: str | None) -> str:
    if not key:
        return _("All specializations")
    return _(SPECIALIZATIONS[key]) if key in SPECIALIZATIONS else key


def status_text(status: str) -> str:
    symbol, label = STATUS_LABELS.get(status, ("?", status))
    return f"{symbol} {_(label)}"


def status_name(status: str) -> str:
    """The status alone, for use inside a sentence ("this one is Checked in")."""
    return _(STATUS_LABELS[status][1]) if status in STATUS_LABELS else status


def type_text(code: str) -> str:
    return _(TYPE_LABELS[code]) if code in TYPE_LABELS else code


def card_text(status: str, valid_to: date | None = None) -> str:
    symbol, label = CARD_LABELS.get(status, ("?", status))
    if status == "expired" and valid_to is not None:
        return f"{symbol} {_(label)} {format_date(valid_to)}"
    return f"{symbol} {_(label)}"


def slots_text(count: int, minutes: int) -> str:
    return ngettext("{count} slot ({minutes} min)", "{count} slots ({minutes} min)",
                    count).format(count=count, minutes=count * minutes)  # fmt: skip


def _times(appointments: Any) -> str:
    return ", ".join(span(a.start, a.end) for a in appointments or ()) or "—"


def explain(error: BaseException, *, day: date | None = None, start: time | None = None) -> str:
    """A refusal of the scheduling services as a sentence (``day``/``start``: the
    appointment's, for "too early"); anything else is a database problem."""
    from clinic_tui.services.access import PermissionDenied
    from clinic_tui.services.appointments import InvalidTransition, ScheduleConflict
    from clinic_tui.services.scheduling import NotFound, SchedulingError

    if isinstance(error, InvalidTransition):
        if error.reason == "not_yet" and error.target in TOO_EARLY:
            return _(TOO_EARLY[error.target]).format(
                day=format_date(day or clinic_today()), time=hhmm(start) if start else ""
            )
        return _(TRANSITIONS.get(error.target, TRANSITIONS["CANCELLED"])).format(
            status=status_name(error.status)
        )
    if isinstance(error, ScheduleConflict):
        return _(CONFLICT)
    if isinstance(error, PermissionDenied):
        return _(NOT_ALLOWED)
    if isinstance(error, NotFound):
        return _(GONE)
    if isinstance(error, SchedulingError) and str(error.code) in REFUSALS:
        return _(REFUSALS[str(error.code)]).format(times=_times(getattr(error, "appointments", ())))
    return describe_database_error(error)


def explained(error: BaseException, **context: Any) -> Callable[[], str]:
    """`explain` later, in whatever language is current then (a status line re-renders on
    F2). The error is bound here: an ``except`` clause unbinds its name when it ends."""
    return lambda: explain(error, **context)
