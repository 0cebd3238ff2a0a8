"""A progress bar over the revisions being applied, with the log of what ran."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, ProgressBar


class MigrationProgress(Vertical):
    DEFAULT_CSS = """
    MigrationProgress { height: auto; }
    MigrationProgress > Log { height: 8; border: round $panel; }
    """

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False, id="migration-bar")
        yield Log(id="migration-log", auto_scroll=True)

    def clear(self) -> None:
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(Log).clear()

    def step(self, done: int, total: int, line: str) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        if line:
            self.query_one(Log).write_line(line)
