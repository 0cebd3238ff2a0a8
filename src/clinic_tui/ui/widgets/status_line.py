"""The line under a screen's table that says what just happened ("Checked in: …", "This slot
was just taken"). What was said is kept as a function of the current language, so F2 says it
again in the other language instead of leaving the old one on screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

Said = Callable[[], str]


class StatusLine(Static):
    def __init__(
        self,
        *,
        id: str,
        idle: Said | None = None,
        above: Callable[[], list[str]] | None = None,
    ) -> None:
        """`idle` is shown while nothing was said (e.g. "No appointments on this day."); `above`
        gives lines that stand over what was said for as long as they apply (a move in
        progress)."""
        super().__init__(id=id)
        self._idle, self._above = idle, above
        self.said: Said | None = None

    def say(self, text: Said | None) -> None:
        self.said = text
        self.relabel()

    def relabel(self) -> None:
        lines = list(self._above()) if self._above is not None else []
        if self.said is not None:
            lines.append(self.said())
        elif self._idle is not None:
            lines.append(self._idle())
        self.update("\n".join(line for line in lines if line))
