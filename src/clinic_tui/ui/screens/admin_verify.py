"""The verify tab: `clinic-tui db verify`'s checks as a checklist with ✓ / ✗ and details."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _
from clinic_tui.ui.screens.admin import AdminPanel
from clinic_tui.ui.widgets.tables import fill_measured

if TYPE_CHECKING:
    from clinic_tui.services.verify import Check


class VerifyPanel(AdminPanel):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_checks", N_("Run the checks again"), id="verify.run"),
    ]

    class Checked(Message):
        def __init__(self, checks: list[Check] | None, error: str | None = None) -> None:
            super().__init__()
            self.checks, self.error = checks, error

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.checks: list[Check] | None = None
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="verify-summary", classes="panel-title")
        yield DataTable(id="verify-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.relabel()

    def shown(self) -> None:
        self.action_run_checks()

    def relabel(self) -> None:
        from clinic_tui.services.verify import describe

        summary = self.query_one("#verify-summary", Static)
        table = self.query_one("#verify-table", DataTable)
        headers = ["", _("Check"), _("Details")]
        if self._error or self.checks is None:
            fill_measured(table, headers, [], fixed={0: 2})
            summary.update(
                Text(self._error, style="bold red") if self._error else _("Checking the database…")
            )
            return
        failed = sum(not check.ok for check in self.checks)
        summary.update(
            Text(_("All {count} checks passed.").format(count=len(self.checks)), style="bold green")
            if not failed
            else Text(
                _("{failed} of {count} checks failed.").format(
                    failed=failed, count=len(self.checks)
                ),
                style="bold red",
            )
        )
        rows = []
        for check in self.checks:
            style = "" if check.ok else "bold red"
            rows.append((None, [
                Text("✓" if check.ok else "✗", style=style or "green"),
                Text(describe(check, _), style=style),
                Text(check.detail, style=style),
            ]))  # fmt: skip
        fill_measured(table, headers, rows, fixed={0: 2})

    def action_run_checks(self) -> None:
        self.checks, self._error = None, None
        self.relabel()
        self._run()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False)
    def _run(self) -> None:
        from clinic_tui.services.verify import checklist

        try:
            with self.app.database.engine.connect() as conn:  # type: ignore[attr-defined]
                checks = checklist(conn, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Checked(None, describe_database_error(error)))
            return
        self.post_message(self.Checked(checks))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        self.checks, self._error = message.checks, message.error
        self.relabel()
