"""The frame's top line: clinic, who is signed in and as what, language, database state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from clinic_tui.i18n import N_, _, current_language
from clinic_tui.services.access import ROLE_LABELS, Actor

DB_STATES = {
    "connecting": ("…", N_("Connecting")),
    "connected": ("●", N_("Connected")),
    "unavailable": ("✗", N_("Database unavailable")),
}


class ClinicHeader(Widget):
    DEFAULT_CSS = """
    ClinicHeader { dock: top; height: 1; background: $primary; color: $text; }
    """

    db_state: reactive[str] = reactive("connecting")

    def __init__(self) -> None:
        super().__init__(id="clinic-header")

    def on_mount(self) -> None:
        # The app sets the state of every open screen's header when it changes (see
        # ClinicApp.watch_db_state): watching the app from here would keep the header, and
        # its closed screen, alive as long as the app.
        self.db_state = getattr(self.app, "db_state", "connecting")

    def relabel(self) -> None:
        self.refresh()

    def render(self) -> Text:
        actor: Actor | None = getattr(self.app, "actor", None)
        symbol, label = DB_STATES.get(self.db_state, DB_STATES["connecting"])
        state = _(label)
        right = Text(f"{current_language().upper()}  {symbol} {state} ")
        clinic = " " + _("Physiotherapy clinic")
        who = ""
        if actor is not None:
            role = _(ROLE_LABELS[actor.role])
            who = f"{actor.full_name} · {role}"
        badge = " " + _("DEMO") + " " if actor is not None and actor.is_demo else ""
        # Narrow terminals drop the clinic's name first, then the role, never the state.
        room = self.size.width - right.cell_len - 1
        for candidate in (
            (clinic + "  │  " + who) if who else clinic,
            " " + who,
            " " + (actor.full_name if actor is not None else ""),
        ):
            left = Text(candidate, style="bold")
            if left.cell_len + len(badge) + 2 <= room:
                break
        left.truncate(max(room - len(badge) - 2, 1), overflow="ellipsis")
        if badge:
            left.append("  ")
            left.append(badge, style="reverse bold")
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        return left + Text(" " * gap) + right
