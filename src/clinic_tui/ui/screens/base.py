"""The frame every signed-in screen lives in: header, body, footer with the F-keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen

from clinic_tui.ui.widgets.footer import ClinicFooter
from clinic_tui.ui.widgets.header import ClinicHeader


class ClinicScreen(Screen[None]):
    """A screen with the clinic frame. Subclasses yield their body from `compose_body` and
    re-render their texts in `relabel` when the language changes (inputs keep their values)."""

    def compose(self) -> ComposeResult:
        yield ClinicHeader()
        yield from self.compose_body()
        yield ClinicFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def relabel(self) -> None:
        for header in self.query(ClinicHeader):
            header.relabel()
