"""Typed messages that workers post to the app; handlers on the UI thread act on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from clinic_tui.db.engine import Database, ServerInfo
    from clinic_tui.services.status import DatabaseStatus


class DatabaseReady(Message):
    def __init__(self, database: Database, info: ServerInfo, status: DatabaseStatus) -> None:
        super().__init__()
        self.database, self.info, self.status = database, info, status


class ConnectionFailed(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
