"""The webhook-event log (admin): what Twilio reported about the video rooms, newest first, a
page at a time, with the highlighted event's payload below. Read-only: the log is evidence of
what the provider said, so nothing here changes it (the retention clean-up is under
Maintenance)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.i18n import N_, _, format_datetime, format_number
from clinic_tui.services.telehealth import WebhookEventView, WebhookPage
from clinic_tui.ui.screens.admin import AdminPanel
from clinic_tui.ui.widgets.tables import fill_measured

PAGE_SIZE = 50
COLUMNS = (N_("Received"), N_("Event"), N_("Room"), N_("Room SID"), N_("Participant SID"),
           N_("Signature"), N_("Processed"))  # fmt: skip


def moment_text(moment: datetime | None) -> str:
    """Date and time to the second: webhooks arrive in bursts, and their order matters."""
    if moment is None:
        return "—"
    local = moment.astimezone(CLINIC_TIMEZONE)
    return f"{format_datetime(local)}:{local.second:02d}"


class WebhooksPanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "page(1)", N_("Next page"), id="webhooks.next"),
        Binding("p", "page(-1)", N_("Previous page"), id="webhooks.previous"),
        Binding("r", "reload", N_("Refresh"), id="webhooks.reload"),
    ]

    class Loaded(Message):
        def __init__(self, page: WebhookPage) -> None:
            super().__init__()
            self.page = page

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page: WebhookPage | None = None
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="webhooks-title", classes="panel-title")
        yield Static(id="webhooks-status")
        yield DataTable(id="webhooks-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="webhooks-payload")

    def on_mount(self) -> None:
        self.relabel()

    def shown(self) -> None:
        self._load(self.page.page if self.page else 0)
        self.query_one("#webhooks-table", DataTable).focus()

    def relabel(self) -> None:
        self.query_one("#webhooks-title", Static).update(_("Twilio webhook events"))
        self._render_status()
        self._render_table()

    def _render_status(self) -> None:
        line = self.query_one("#webhooks-status", Static)
        if self._error is not None:
            line.update(Text(self._error, style="bold red"))
        elif self.page is None:
            line.update("")
        elif not self.page.total:
            line.update(_("No webhook event has been received."))
        else:
            line.update(
                _("Page {page} of {pages} · {total} events, newest first.").format(
                    page=format_number(self.page.page + 1),
                    pages=format_number(self.page.pages),
                    total=format_number(self.page.total),
                )
            )

    def _render_table(self, *, keep_row: bool = True) -> None:
        table = self.query_one("#webhooks-table", DataTable)
        row = table.cursor_row if keep_row else 0  # a new page starts at its newest event
        rows = [
            (str(event.id), [
                moment_text(event.received_at), event.event_type, event.room_name or "—",
                event.room_sid or "—", event.participant_sid or "—",
                _("matches") if event.signature_valid else _("does not match"),
                moment_text(event.processed_at) if event.processed_at else _("not processed"),
            ])
            for event in (self.page.events if self.page else ())
        ]  # fmt: skip
        fill_measured(table, [_(label) for label in COLUMNS], rows)
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))
        self._render_payload()

    def _render_payload(self) -> None:
        event = self.highlighted()
        box = self.query_one("#webhooks-payload", Static)
        if event is None:
            box.update("")
            return
        lines = [f"  {key} = {json.dumps(value, ensure_ascii=False)}"
                 for key, value in sorted(event.payload.items())]  # fmt: skip
        box.update(Text("\n".join([_("Payload:"), *lines])))  # Text: brackets are not markup

    def highlighted(self) -> WebhookEventView | None:
        table = self.query_one("#webhooks-table", DataTable)
        if self.page is None or not table.is_valid_row_index(table.cursor_row):
            return None
        return self.page.events[table.cursor_row]

    @on(DataTable.RowHighlighted, "#webhooks-table")
    def _highlighted(self) -> None:
        self._render_payload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page" and parameters:
            if self.page is None:
                return None
            wanted = self.page.page + int(parameters[0])  # type: ignore[call-overload]
            return True if 0 <= wanted < self.page.pages else None  # greyed at either end
        return True

    def action_page(self, step: int) -> None:
        if self.page is not None and 0 <= self.page.page + step < self.page.pages:
            self._load(self.page.page + step)

    def action_reload(self) -> None:
        self._load(self.page.page if self.page else 0)

    @work(thread=True, exclusive=True, group="webhooks-load", exit_on_error=False)
    def _load(self, page: int) -> None:
        from clinic_tui.services import telehealth

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                found = telehealth.webhook_events(
                    session,
                    self.app.actor,  # type: ignore[attr-defined]
                    page=page,
                    page_size=PAGE_SIZE,
                )
        except Exception as error:
            self.post_message(self.Failed(describe_database_error(error)))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        moved = self.page is None or self.page.page != message.page.page
        self.page, self._error = message.page, None
        self._render_status()
        self._render_table(keep_row=not moved)
        self.screen.refresh_bindings()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._error = message.text
        self._render_status()
