"""The receipt's preview with export and printing, and the day's cash report with its CSV
export (issue 8 items 5 and 6)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from clinic_tui.i18n import N_, _, current_language, format_date, format_money
from clinic_tui.services.receipts import METHOD_LABELS


def _data_dir(app: Any) -> Path:
    return Path(app.settings.data_dir)


class _Loaded(Message):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class _Failed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ReceiptScreen(ModalScreen[None]):
    """The receipt of an invoice in the current language; E exports, P prints."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Close"), id="receipt.close"),
        Binding("e", "export", N_("Export"), id="receipt.export"),
        Binding("p", "print", N_("Print"), id="receipt.print"),
    ]

    def __init__(self, invoice_id: uuid.UUID) -> None:
        super().__init__(id="receipt-preview")
        self.invoice_id = invoice_id
        self.lines: list[str] = []
        self.printer = ""
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-panel"):
            yield Static(_("Receipt"), classes="panel-title")
            with VerticalScroll(id="receipt-scroll"):
                yield Static(_("Loading…"), id="receipt-text")
            yield Static(id="receipt-status", classes="dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(_("Export to a file"), id="receipt-export", variant="primary")
                yield Button(_("Print"), id="receipt-print", disabled=True)
                yield Button(_("Close"), id="receipt-close")

    def on_mount(self) -> None:
        self._load(current_language())

    @work(thread=True, exclusive=True, group="receipt", exit_on_error=False)
    def _load(self, language: str) -> None:
        from sqlalchemy import text as sql

        from clinic_tui.cli import describe_database_error
        from clinic_tui.services import billing, receipts
        from clinic_tui.services.settings import clinic_info

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                view = billing.invoice_view(
                    session,
                    self.app.actor,  # type: ignore[attr-defined]
                    self.invoice_id,
                )
                clinic = clinic_info(session)
                who = session.execute(
                    sql(
                        "SELECT p.full_name, p.patient_code, (SELECT full_name FROM doctors"
                        " WHERE id = :doctor) AS doctor FROM patients p WHERE p.id = :patient"
                    ),
                    {"patient": view.patient_id, "doctor": view.doctor_id},
                ).one()
        except Exception as error:
            self.post_message(_Failed(describe_database_error(error)))
            return
        lines = receipts.receipt_lines(
            view,
            clinic,
            language=language,
            patient_name=who[0],
            patient_code=who[1],
            doctor_name=who[2],
        )
        self.post_message(_Loaded((lines, clinic.receipt_printer)))

    @on(_Loaded)
    def _loaded(self, message: _Loaded) -> None:
        self.lines, self.printer = message.value
        self.query_one("#receipt-text", Static).update("\n".join(self.lines))
        self.query_one("#receipt-print", Button).disabled = not self.printer.strip()
        if not self.printer.strip():
            self.query_one("#receipt-status", Static).update(
                _("No receipt printer is configured; export the receipt to a file.")
            )

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        self.query_one("#receipt-status", Static).update(message.error)

    def _export(self) -> Path | None:
        from clinic_tui.services.receipts import export_receipt

        if not self.lines:
            return None
        if self.exported is None:
            try:
                self.exported = export_receipt(self.lines, _data_dir(self.app) / "receipts")
            except OSError as error:
                self.query_one("#receipt-status", Static).update(
                    _("The receipt could not be saved: {error}").format(error=error)
                )
                return None
        return self.exported

    @on(Button.Pressed, "#receipt-export")
    def action_export(self) -> None:
        path = self._export()
        if path is not None:
            self.query_one("#receipt-status", Static).update(
                _("Receipt saved to {path}").format(path=path)
            )

    @on(Button.Pressed, "#receipt-print")
    def action_print(self) -> None:
        if not self.printer.strip():
            return
        path = self._export()
        if path is not None:
            self.query_one("#receipt-status", Static).update(_("Sending to the printer…"))
            self._send_to_printer(path, self.printer)

    @work(thread=True, exclusive=True, group="receipt-print", exit_on_error=False)
    def _send_to_printer(self, path: Path, printer: str) -> None:
        from clinic_tui.services.receipts import PrintFailed, print_receipt

        try:
            print_receipt(path, printer)
        except PrintFailed as error:
            self.post_message(
                _Failed(
                    _("Printing failed ({problem}): {detail}").format(
                        problem=error.problem, detail=error.detail
                    )
                )
            )
            return
        self.post_message(_Failed(_("Sent to the printer {printer}.").format(printer=printer)))

    @on(Button.Pressed, "#receipt-close")
    def action_close(self) -> None:
        self.dismiss(None)


class CashReportScreen(ModalScreen[None]):
    """The day's money at the desk: by method, by receptionist, invoices issued and voided."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Close"), id="cash.close"),
        Binding("e", "export", N_("Export CSV"), id="cash.export"),
        Binding("pageup", "shift_day(-1)", N_("Previous day"), id="cash.previous_day"),
        Binding("pagedown", "shift_day(1)", N_("Next day"), id="cash.next_day"),
        Binding("t", "today", N_("Today"), id="cash.today"),
        Binding("g", "go_to_date", N_("Go to date"), id="cash.go_to_date"),
    ]

    def __init__(self, day: date) -> None:
        super().__init__(id="cash-report")
        self.day = day
        self.report: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-panel"):
            yield Static(id="cash-title", classes="panel-title")
            yield Static(_("PgUp / PgDn: another day · T: today · G: go to a date"),
                         classes="dialog-hint")  # fmt: skip
            yield DataTable(id="cash-methods", cursor_type="none")
            yield DataTable(id="cash-staff", cursor_type="none")
            yield DataTable(id="cash-invoices", cursor_type="none")
            yield Static(id="cash-summary")
            yield Static(id="cash-status", classes="dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(_("Export CSV"), id="cash-export", variant="primary")
                yield Button(_("Close"), id="cash-close")

    def on_mount(self) -> None:
        self.show_day(self.day)

    def show_day(self, day: date) -> None:
        self.day, self.report = day, None
        self.query_one("#cash-title", Static).update(
            _("Cash report for {day}").format(day=format_date(day))
        )
        self.query_one("#cash-status", Static).update(_("Loading…"))
        self._load(day)

    def action_shift_day(self, days: int) -> None:
        from datetime import timedelta

        self.show_day(self.day + timedelta(days=days))

    def action_today(self) -> None:
        from clinic_tui.ui.widgets.schedule_text import clinic_today

        self.show_day(clinic_today())

    def action_go_to_date(self) -> None:
        from clinic_tui.ui.widgets.schedule_dialogs import GoToDateDialog

        self.app.push_screen(GoToDateDialog(), lambda day: self.show_day(day) if day else None)

    @work(thread=True, exclusive=True, group="cash-report", exit_on_error=False)
    def _load(self, day: date) -> None:
        from clinic_tui.cli import describe_database_error
        from clinic_tui.services import payments

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                report = payments.cash_report(
                    session,
                    self.app.actor,  # type: ignore[attr-defined]
                    day,
                )
        except Exception as error:
            self.post_message(_Failed(describe_database_error(error)))
            return
        self.post_message(_Loaded(report))

    @on(_Loaded)
    def _loaded(self, message: _Loaded) -> None:
        from clinic_tui.ui.screens.invoicing import STATUS_LABELS

        if message.value.day != self.day:  # an older day's answer, after PgUp / PgDn
            return
        self.query_one("#cash-status", Static).update("")
        self.report = report = message.value
        money = lambda amount: format_money(amount, current_language())  # noqa: E731
        methods = self.query_one("#cash-methods", DataTable)
        methods.clear(columns=True)
        methods.add_columns(_("Method"), _("Payments"), _("Amount"))
        for item in report.by_method:
            methods.add_row(
                _(METHOD_LABELS.get(item.method, item.method)), str(item.count), money(item.amount)
            )
        staff = self.query_one("#cash-staff", DataTable)
        staff.clear(columns=True)
        staff.add_columns(_("Receptionist"), _("Payments"), _("Amount"))
        for person in report.by_receptionist:
            staff.add_row(person.name or "—", str(person.count), money(person.amount))
        invoices = self.query_one("#cash-invoices", DataTable)
        invoices.clear(columns=True)
        invoices.add_columns(
            _("Invoice"), _("Status"), _("Total"), _("Patient pays"), _("Void reason")
        )
        for item in (*report.issued, *report.voided):
            status = _(STATUS_LABELS.get(item.status, item.status))
            invoices.add_row(
                item.invoice_number,
                status,
                money(item.total),
                money(item.patient),
                item.void_reason or "",
            )
        self.query_one("#cash-summary", Static).update(
            _(
                "Payments: {count}, {total} · voided payments: {voided} · invoices issued: "
                "{issued}, voided: {void} · BHYT receivable {receivable}"
            ).format(
                count=report.payments_count,
                total=money(report.payments_total),
                voided=report.voided_payments_count,
                issued=len(report.issued),
                void=len(report.voided),
                receivable=money(report.bhyt_receivable),
            )
        )

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        self.query_one("#cash-status", Static).update(message.error)

    @on(Button.Pressed, "#cash-export")
    def action_export(self) -> None:
        import secrets

        from clinic_tui.services.payments import cash_report_csv
        from clinic_tui.services.receipts import export_receipt

        if self.report is None:
            return
        text = cash_report_csv(self.report)
        name = f"cash-{self.day.isoformat()}-{secrets.token_hex(3)}.csv"
        try:
            path = export_receipt(text.splitlines(), _data_dir(self.app) / "reports", name=name)
        except OSError as error:
            self.query_one("#cash-status", Static).update(
                _("The report could not be saved: {error}").format(error=error)
            )
            return
        self.query_one("#cash-status", Static).update(_("Report saved to {path}").format(path=path))

    @on(Button.Pressed, "#cash-close")
    def action_close(self) -> None:
        self.dismiss(None)
