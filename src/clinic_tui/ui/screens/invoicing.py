"""Invoicing (F5): pick the patient, add service codes, see the BHYT split live, issue, take
payments, void, print the receipt, and the day's cash report (issue 8)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from clinic_tui.cli import describe_database_error
from clinic_tui.i18n import N_, _, current_language, format_money, format_percent
from clinic_tui.services.access import Permission
from clinic_tui.ui.screens.base import ClinicScreen
from clinic_tui.ui.screens.patients import DEBOUNCE_SECONDS, today

LINE_COLUMNS = (
    ("code", N_("Code")),
    ("name", N_("Service")),
    ("quantity", N_("Qty")),
    ("total", N_("Total")),
    ("insured", N_("Insured base")),
    ("insurance", N_("BHYT pays")),
    ("patient", N_("Patient pays")),
)
STATUS_LABELS = {
    "ISSUED": N_("Issued"),
    "PARTIALLY_PAID": N_("Partially paid"),
    "PAID": N_("Paid"),
    "VOID": N_("VOID"),
}
DRAFT_PROBLEMS = {
    "no_lines": N_("Add at least one service before issuing."),
    "quantity": N_("A quantity must be a whole number from 1 to 1000."),
    "unknown_code": N_("Unknown or retired service code: {detail}"),
    "patient": N_("This patient no longer exists."),
    "appointment": N_("The appointment is missing or belongs to another patient."),
    "appointment_invoiced": N_("This appointment is already invoiced: {detail}"),
    "replaces_not_void": N_("Only a voided invoice can be reissued."),
    "already_replaced": N_("This invoice was already reissued as {detail}."),
    "service_date": N_("No base salary is set for the service date; ask the administrator."),
}


def describe_error(error: Exception) -> str:
    """Any error of a billing call, in the current language."""
    from clinic_tui.services.billing import InvalidDraft, InvoiceConflict, ReasonRequired

    if isinstance(error, InvalidDraft):
        return _(
            DRAFT_PROBLEMS.get(str(error.problem), N_("The invoice cannot be issued."))
        ).format(detail=error.detail)
    if isinstance(error, InvoiceConflict):
        return _("The invoice changed on another terminal; it was loaded again.")
    if isinstance(error, ReasonRequired):
        return _("A reason is required.")
    return describe_database_error(error)


def money(amount: Decimal) -> str:
    return format_money(amount, current_language())


class InvoicingScreen(ClinicScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "issue", N_("Issue"), id="invoicing.issue"),
        Binding("ctrl+t", "pay", N_("Payment"), id="invoicing.pay"),
        Binding("ctrl+l", "void", N_("Void"), id="invoicing.void"),
        Binding("ctrl+r", "receipt", N_("Receipt"), id="invoicing.receipt"),
        Binding("ctrl+o", "cash_report", N_("Cash report"), id="invoicing.cash_report"),
        Binding("ctrl+n", "new_invoice", N_("New invoice"), id="invoicing.new"),
        Binding("ctrl+b", "reissue", N_("Reissue"), id="invoicing.reissue"),
        Binding("delete", "remove_line", N_("Remove line"), id="invoicing.remove", show=False),
        Binding("plus,equals_sign", "quantity(1)", N_("More"), id="invoicing.more", show=False),
        Binding("minus", "quantity(-1)", N_("Fewer"), id="invoicing.fewer", show=False),
    ]

    class Answered(Message):
        """A worker's answer; ``token`` says which request it answers (stale ones are dropped)."""

        def __init__(self, kind: str, token: object, value: Any) -> None:
            super().__init__()
            self.kind, self.token, self.value = kind, token, value

    class Failed(Message):
        def __init__(self, kind: str, token: object, error: str) -> None:
            super().__init__()
            self.kind, self.token, self.error = kind, token, error

    def __init__(
        self, patient_id: uuid.UUID | None = None, appointment_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(id="invoicing")
        self._start = (patient_id, appointment_id)
        self._debouncers: dict[str, Timer] = {}
        self._patient: dict[str, Any] | None = None
        self._hits: list[Any] = []
        self._services: list[Any] = []
        self.draft: Any = None  # InvoiceDraft while building
        self.preview: Any = None  # InvoicePreview of `draft`
        self.invoice: Any = None  # InvoiceView once issued
        self._status: tuple[str, dict[str, object]] | str | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="invoice-patient")
        with Horizontal(id="invoice-patient-row"):
            yield Input(id="invoice-patient-query", compact=True, max_length=200)
        yield DataTable(id="invoice-patient-results", cursor_type="row")
        with Horizontal(id="invoice-service-row"):
            yield Input(id="service-query", compact=True, max_length=100)
            yield Checkbox(id="referred", value=True, compact=True)
        yield OptionList(id="service-results")
        yield DataTable(id="invoice-lines", cursor_type="row", zebra_stripes=True)
        yield Static(id="invoice-totals")
        yield Static(id="invoice-rule")
        yield Static(id="invoice-status")
        with Horizontal(id="invoice-buttons"):
            for name in ("issue", "pay", "void", "reissue", "receipt", "cash_report",
                         "new_invoice"):  # fmt: skip
                yield Button("", id=f"invoice-{name.replace('_', '-')}", compact=True)

    BUTTONS: ClassVar[dict[str, str]] = {
        "issue": N_("Issue"),
        "pay": N_("Payment"),
        "void": N_("Void"),
        "reissue": N_("Reissue"),
        "receipt": N_("Receipt"),
        "cash_report": N_("Cash report"),
        "new_invoice": N_("New invoice"),
    }

    def on_mount(self) -> None:
        self.relabel()
        patient_id, appointment_id = self._start
        if appointment_id is not None or patient_id is not None:
            self._run("start", self._start, self._load_start)
        else:
            self.query_one("#invoice-patient-query", Input).focus()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#invoice-patient-query", Input).placeholder = _(
            "Patient: name, phone, patient code or BHYT card"
        )
        self.query_one("#service-query", Input).placeholder = _(
            "Service: code or name (English or Vietnamese); Enter adds"
        )
        self.query_one("#referred", Checkbox).label = _("Referred by another facility")
        for name, label in self.BUTTONS.items():
            self.query_one(f"#invoice-{name.replace('_', '-')}", Button).label = _(label)
        patients = self.query_one("#invoice-patient-results", DataTable)
        patients.clear(columns=True)
        for key, title in (
            ("code", N_("Patient code")),
            ("name", N_("Full name")),
            ("card", N_("BHYT card")),
        ):
            patients.add_column(_(title), key=key)
        lines = self.query_one("#invoice-lines", DataTable)
        lines.clear(columns=True)
        for key, title in LINE_COLUMNS:
            lines.add_column(_(title), key=key)
        self._show_hits()
        self._show_services()
        self._redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        actor = getattr(self.app, "actor", None)
        if action in ("pay",):
            return actor is not None and actor.can(Permission.PAYMENT_WRITE)
        if action == "cash_report":
            return actor is not None and actor.can(Permission.PAYMENT_WRITE)
        return True

    # ---- running work in threads -----------------------------------------------------------

    def _run(self, kind: str, token: object, job: Callable[[Any, Any], Any]) -> None:
        self._worker(kind, token, job)

    @work(thread=True, exit_on_error=False)
    def _worker(self, kind: str, token: object, job: Callable[[Any, Any], Any]) -> None:
        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                value = job(session, self.app.actor)  # type: ignore[attr-defined]
        except Exception as error:
            self.post_message(self.Failed(kind, token, describe_error(error)))
            return
        self.post_message(self.Answered(kind, token, value))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        if message.kind == "preview" and message.token != self.draft:
            return
        if message.kind == "preview":
            self.preview = None
        if message.kind == "voided":  # changed meanwhile on another terminal: show it as it is
            self.reload_invoice()
        self._set_status(message.error)
        self._redraw()

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        handler = getattr(self, f"_on_{message.kind}")
        handler(message.token, message.value)

    def _set_status(self, msgid: str | None, **values: object) -> None:
        self._status = (msgid, values) if msgid and values else msgid
        self._draw_status()

    def _draw_status(self) -> None:
        status = self._status
        if status is None:
            text = ""
        elif isinstance(status, tuple):
            text = _(status[0]).format(**status[1])
        else:
            text = _(status)  # a msgid, or an already translated error (returned unchanged)
        self.query_one("#invoice-status", Static).update(text)

    # ---- the patient -----------------------------------------------------------------------

    def _load_start(self, session: Any, actor: Any) -> dict[str, Any]:
        from sqlalchemy import text as sql

        patient_id, appointment_id = self._start
        result: dict[str, Any] = {
            "appointment_id": appointment_id,
            "doctor_id": None,
            "service_date": today(),
        }
        if appointment_id is not None:
            row = session.execute(
                sql(
                    "SELECT patient_id, doctor_id, appointment_date FROM appointments "
                    "WHERE id = :id"
                ),
                {"id": appointment_id},
            ).one()
            patient_id = row.patient_id
            result.update(doctor_id=row.doctor_id, service_date=row.appointment_date)
        row = session.execute(
            sql(
                "SELECT p.id, p.patient_code, p.full_name, (SELECT bhyt_card_number FROM"
                " insurance_info i WHERE i.patient_id = p.id AND provider_type = 'BHYT'"
                " ORDER BY is_primary DESC, created_at DESC LIMIT 1) AS card"
                " FROM patients p WHERE p.id = :id"
            ),
            {"id": patient_id},
        ).one()
        result.update(id=row.id, code=row.patient_code, name=row.full_name, card=row.card)
        return result

    def _on_start(self, token: object, value: dict[str, Any]) -> None:
        self._choose(value)

    @on(Input.Changed, "#invoice-patient-query")
    def _patient_typed(self, event: Input.Changed) -> None:
        self._debounce("patient", event.value, self._search_patients)

    def _debounce(self, name: str, text: str, start: Callable[[str], None]) -> None:
        if name in self._debouncers:
            self._debouncers[name].stop()
        self._debouncers[name] = self.set_timer(DEBOUNCE_SECONDS, lambda: start(text))

    def _search_patients(self, text: str) -> None:
        from clinic_tui.services import patient_search

        if not text.strip():
            self._hits = []
            self._show_hits()
            return
        self._run(
            "patients",
            text,
            lambda session, actor: patient_search.search(session, actor, text, today=today()),
        )

    def _on_patients(self, token: object, hits: list[Any]) -> None:
        if token != self.query_one("#invoice-patient-query", Input).value:
            return
        self._hits = hits
        self._show_hits()

    def _show_hits(self) -> None:
        table = self.query_one("#invoice-patient-results", DataTable)
        table.clear()
        for index, hit in enumerate(self._hits):
            table.add_row(
                Text(getattr(hit, "patient_code", "")),
                Text(hit.full_name),  # typed text, never markup
                Text(hit.card_number or "—"),
                key=str(index),
            )
        table.display = bool(self._hits) and self.invoice is None

    @on(Input.Submitted, "#invoice-patient-query")
    def _patient_submitted(self) -> None:
        table = self.query_one("#invoice-patient-results", DataTable)
        if table.row_count:
            table.focus()

    @on(DataTable.RowSelected, "#invoice-patient-results")
    def _patient_selected(self, event: DataTable.RowSelected) -> None:
        hit = self._hits[int(event.row_key.value or 0)]
        self._choose(
            {
                "id": hit.id,
                "code": getattr(hit, "patient_code", ""),
                "name": hit.full_name,
                "card": hit.card_number,
                "appointment_id": None,
                "doctor_id": None,
                "service_date": today(),
            }
        )

    def _choose(self, patient: dict[str, Any]) -> None:
        from clinic_tui.services.billing import InvoiceDraft

        self._patient = patient
        self.invoice = None
        self._hits = []
        self._show_hits()
        self.draft = InvoiceDraft(
            patient_id=patient["id"],
            service_date=patient["service_date"],
            referred=self.query_one("#referred", Checkbox).value,
            appointment_id=patient["appointment_id"],
            doctor_id=patient["doctor_id"],
        )
        self.preview = None
        self._set_status(None)
        self._changed()
        self.query_one("#service-query", Input).focus()

    # ---- lines -----------------------------------------------------------------------------

    @on(Input.Changed, "#service-query")
    def _service_typed(self, event: Input.Changed) -> None:
        self._debounce("service", event.value, self._search_services)

    def _search_services(self, text: str) -> None:
        from clinic_tui.services import billing

        self._run(
            "services",
            text,
            lambda session, actor: billing.service_codes(session, actor, text, limit=8),
        )

    def _on_services(self, token: object, services: list[Any]) -> None:
        if token != self.query_one("#service-query", Input).value:
            return
        self._services = services if str(token).strip() else []
        self._show_services()

    def _show_services(self) -> None:
        options = self.query_one("#service-results", OptionList)
        options.clear_options()
        vi = current_language() == "vi"
        for service in self._services:
            name = service.name_vi if vi else service.name_en
            options.add_option(
                Option(f"{service.code}  {name}  {money(service.price)}", id=service.code)
            )
        if self._services:
            options.highlighted = 0
        options.display = bool(self._services)

    @on(Input.Submitted, "#service-query")
    def _service_submitted(self) -> None:
        options = self.query_one("#service-results", OptionList)
        if options.highlighted is not None and self._services:
            self._add(self._services[options.highlighted].code)

    @on(OptionList.OptionSelected, "#service-results")
    def _service_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._add(event.option.id)

    def on_key(self, event: Any) -> None:
        # Up and down in the service box move through its results.
        if self.focused is not self.query_one("#service-query", Input):
            return
        options = self.query_one("#service-results", OptionList)
        if event.key in ("down", "up") and self._services:
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
            event.stop()

    def _add(self, code: str) -> None:
        if self.draft is None or self.invoice is not None:
            self._set_status(N_("Choose the patient first."))
            return
        self.draft = self.draft.with_line(code)
        box = self.query_one("#service-query", Input)
        box.value = ""
        self._services = []
        self._show_services()
        self._changed()
        box.focus()

    def _line_index(self) -> int | None:
        table = self.query_one("#invoice-lines", DataTable)
        if self.draft is None or self.invoice is not None or not self.draft.lines:
            return None
        return min(table.cursor_row, len(self.draft.lines) - 1)

    def action_remove_line(self) -> None:
        index = self._line_index()
        if index is not None and self.focused is self.query_one("#invoice-lines", DataTable):
            self.draft = self.draft.without_line(index)
            self._changed()

    def action_quantity(self, step: int) -> None:
        index = self._line_index()
        if index is None or self.focused is not self.query_one("#invoice-lines", DataTable):
            return
        quantity = self.draft.lines[index][1] + step
        if 1 <= quantity <= 1000:
            self.draft = self.draft.with_quantity(index, quantity)
            self._changed()

    @on(Checkbox.Changed, "#referred")
    def _referred(self, event: Checkbox.Changed) -> None:
        import dataclasses

        if self.draft is not None and self.invoice is None:
            self.draft = dataclasses.replace(self.draft, referred=event.value)
            self._changed()

    def _changed(self) -> None:
        """The draft changed: draw what is known and ask for the split again."""
        from clinic_tui.services import billing

        self._redraw()
        draft = self.draft
        if draft is None or not draft.lines:
            self.preview = None
            self._redraw()
            return
        self._run("preview", draft, lambda session, actor: billing.preview(session, actor, draft))

    def _on_preview(self, token: object, preview: Any) -> None:
        if token != self.draft:  # an answer for an older draft
            return
        self.preview = preview
        if isinstance(self._status, str) and self._status not in (None,):
            self._set_status(None)
        self._redraw()

    # ---- drawing ---------------------------------------------------------------------------

    def _redraw(self) -> None:
        self._draw_patient()
        self._draw_lines()
        self._draw_totals()
        self._draw_status()

    def _draw_patient(self) -> None:
        patient = self._patient
        if patient is None:
            text = _("No patient chosen: search above.")
        else:
            text = _("Patient: {name} ({code}) · BHYT card: {card}").format(
                name=patient["name"], code=patient["code"], card=patient["card"] or "—"
            )
        if self.invoice is not None:
            view = self.invoice
            status = Text(
                _(STATUS_LABELS.get(view.status, view.status)),
                style="bold red" if view.is_void else "bold green",
            )
            self.query_one("#invoice-patient", Static).update(
                Text.assemble(
                    text,
                    "  ·  ",
                    _("Invoice {number}").format(number=view.invoice_number),
                    " ",
                    status,
                )
            )
        else:
            self.query_one("#invoice-patient", Static).update(text)

    def _rows(self) -> list[tuple[Any, ...]]:
        vi = current_language() == "vi"
        if self.invoice is not None:
            source = self.invoice.lines
        elif self.preview is not None:
            source = self.preview.lines
        else:
            return [
                (code, "", str(quantity), "…", "", "", "")
                for code, quantity in (self.draft.lines if self.draft else ())
            ]
        return [
            (
                line.code,
                line.name_vi if vi else line.name_en,
                str(line.quantity),
                money(line.line_total),
                money(line.insured_base),
                money(line.insurance),
                money(line.patient),
            )
            for line in source
        ]

    def _draw_lines(self) -> None:
        table = self.query_one("#invoice-lines", DataTable)
        cursor = table.cursor_row
        table.clear()
        void = self.invoice is not None and self.invoice.is_void
        for index, row in enumerate(self._rows()):
            table.add_row(
                *(Text(cell, style="strike dim") if void else cell for cell in row), key=str(index)
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _draw_totals(self) -> None:
        from clinic_tui.services import receipts

        source = self.invoice if self.invoice is not None else self.preview
        totals = self.query_one("#invoice-totals", Static)
        rule = self.query_one("#invoice-rule", Static)
        if source is None:
            totals.update("")
            rule.update("")
            return
        text = _(
            "Total {total} · insured base {base} · BHYT pays {insurance} · patient pays {patient}"
        ).format(
            total=money(source.total),
            base=money(source.insured_base),
            insurance=money(source.insurance),
            patient=money(source.patient),
        )
        if self.invoice is not None:
            text += "\n" + _("Paid {paid} · balance due {balance}").format(
                paid=money(self.invoice.paid), balance=money(self.invoice.balance)
            )
            if self.invoice.is_void:
                text += "\n" + _("VOID: {reason}").format(reason=self.invoice.void_reason or "")
        totals.update(
            Text(text, style="strike" if self.invoice is not None and self.invoice.is_void else "")
        )
        language = current_language()
        words = [
            receipts.describe_rule(
                item,
                language=language,
                rate=source.rate,
                threshold=getattr(source, "threshold", None),
                factor=getattr(source, "factor", None),
            )
            for item in source.rules
        ]
        rate = _("Coverage {rate}").format(rate=format_percent(source.rate, language))
        rule.update(rate + (": " + "; ".join(words) if words else ""))

    # ---- issuing ---------------------------------------------------------------------------

    def action_issue(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        if self.invoice is not None:
            self._set_status(N_("This invoice is already issued; void it to change it."))
            return
        if self.draft is None or not self.draft.lines:
            self._set_status(N_("Add at least one service before issuing."))
            return
        if self.preview is None:
            self._set_status(N_("The split is still being computed; try again."))
            return
        draft = self.draft

        def answered(answer: str | None) -> None:
            if answer == "issue" and draft == self.draft:
                self._issue(draft)

        self.app.push_screen(
            ConfirmScreen(
                N_("Issue the invoice"),
                N_(
                    "Issue the invoice for {name}? BHYT pays {insurance}, the patient pays "
                    "{patient}. An issued invoice can only be voided, not edited."
                ),
                [("issue", N_("Issue")), ("cancel", N_("Cancel"))],
                name=self._patient["name"] if self._patient else "",
                insurance=money(self.preview.insurance),
                patient=money(self.preview.patient),
            ),
            answered,
        )

    def _issue(self, draft: Any) -> None:
        from clinic_tui.services import billing

        self._run("issued", draft, lambda session, actor: billing.issue(session, actor, draft))

    def _on_issued(self, token: object, view: Any) -> None:
        self.invoice = view
        self._set_status(N_("Invoice {number} issued."), number=view.invoice_number)
        self._redraw()

    def reload_invoice(self) -> None:
        from clinic_tui.services import billing

        if self.invoice is not None:
            invoice_id = self.invoice.id
            self._run(
                "loaded",
                invoice_id,
                lambda session, actor: billing.invoice_view(session, actor, invoice_id),
            )

    def _on_voided(self, token: object, view: Any) -> None:
        self._set_status(N_("Invoice {number} voided."), number=view.invoice_number)
        self._on_loaded(token, view)

    def _on_loaded(self, token: object, view: Any) -> None:
        if self.invoice is not None and self.invoice.id == token:
            self.invoice = view
            self._redraw()

    def action_new_invoice(self) -> None:
        self.invoice = None
        self.draft = None
        self.preview = None
        self._patient = None
        self._set_status(None)
        self.query_one("#invoice-patient-query", Input).value = ""
        self._redraw()
        self.query_one("#invoice-patient-query", Input).focus()

    # ---- payments, void, receipt, report ---------------------------------------------------

    def _need_invoice(self) -> bool:
        if self.invoice is None:
            self._set_status(N_("Issue the invoice first."))
            return False
        return True

    def action_pay(self) -> None:
        from clinic_tui.ui.screens.payment_dialog import PaymentDialog

        if not self._need_invoice():
            return
        if self.invoice.is_void or self.invoice.balance <= 0:
            self._set_status(N_("Nothing is left to pay on this invoice."))
            return
        self.app.push_screen(PaymentDialog(self.invoice), lambda paid: self.reload_invoice())

    def action_void(self) -> None:
        from clinic_tui.ui.screens.payment_dialog import VoidDialog

        if not self._need_invoice():
            return
        if self.invoice.is_void:
            self._set_status(N_("This invoice is already void."))
            return
        invoice = self.invoice

        def reason_given(reason: str | None) -> None:
            from clinic_tui.services import billing

            if reason:
                self._run(
                    "voided",
                    invoice.id,
                    lambda session, actor: billing.void(
                        session, actor, invoice.id, reason=reason, expected_version=invoice.version
                    ),
                )

        self.app.push_screen(VoidDialog(invoice.invoice_number), reason_given)

    def action_reissue(self) -> None:
        """A voided invoice's visit and lines as a new draft, to correct and issue; the new
        invoice records the one it replaces."""
        from clinic_tui.services import billing

        if not self._need_invoice():
            return
        if not self.invoice.is_void:
            self._set_status(N_("Only a voided invoice can be reissued: void it first."))
            return
        invoice_id = self.invoice.id
        self._run("reissued", invoice_id,
                  lambda session, actor: billing.reissue(session, actor, invoice_id))  # fmt: skip

    def _on_reissued(self, token: object, draft: Any) -> None:
        if self.invoice is None or self.invoice.id != token:
            return
        number = self.invoice.invoice_number
        self.invoice, self.draft, self.preview = None, draft, None
        if self._patient is not None:
            self._patient = {**self._patient, "service_date": draft.service_date}
        self.query_one("#referred", Checkbox).value = draft.referred
        self._set_status(N_("New draft replacing {number}: correct it, then issue (Ctrl+S)."),
                         number=number)  # fmt: skip
        self._changed()
        self.query_one("#service-query", Input).focus()

    def action_receipt(self) -> None:
        from clinic_tui.ui.screens.receipt_preview import ReceiptScreen

        if self._need_invoice():
            self.app.push_screen(ReceiptScreen(self.invoice.id))

    def action_cash_report(self) -> None:
        from clinic_tui.ui.screens.receipt_preview import CashReportScreen

        self.app.push_screen(CashReportScreen(today()))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        action = (event.button.id or "").removeprefix("invoice-").replace("-", "_")
        if action in self.BUTTONS and self.check_action(action, ()):
            getattr(self, f"action_{action}")()

    def service_day(self) -> date:
        return self.draft.service_date if self.draft else today()
