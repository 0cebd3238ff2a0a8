"""Taking a payment on an issued invoice (method, amount, cash tendered with the change to give
shown live) and the reason for voiding one (issue 8 item 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from clinic_tui.i18n import N_, _, current_language, format_money
from clinic_tui.services.receipts import METHOD_LABELS

METHODS = ("cash", "card", "bank_transfer", "momo", "zalopay", "vnpay")
AMOUNT_KEY = "amount"  # a key, not a message: kept out of _() for the extractor
PAYMENT_PROBLEMS = {
    "amount": N_("Enter an amount in whole dong, more than zero."),
    "not_whole_dong": N_("Enter an amount in whole dong, more than zero."),
    "method": N_("Choose a payment method."),
    "tendered_too_low": N_("The cash tendered is less than the amount."),
    "tendered_not_cash": N_("Cash tendered applies to cash payments only."),
    "reference": N_("The reference is too long."),
    "invoice_void": N_("This invoice is void; it cannot be paid."),
    "already_void": N_("This payment is already void."),
}


def parse_dong(text: str) -> int | None:
    """Whole dong typed with or without separators ("150,000", "150.000", "150 000")."""
    digits = "".join(char for char in text if char not in " ,.\u00a0")
    # ASCII only ("²" is a digit to isdigit, not to int) and no more than a dong amount needs.
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 15 else None


class PaymentDialog(ModalScreen[bool]):
    """Dismisses with True once a payment was recorded, False on Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Cancel"), id="payment.cancel"),
    ]

    class Paid(Message):
        def __init__(self, payment: Any) -> None:
            super().__init__()
            self.payment = payment

    class Refused(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, invoice: Any) -> None:
        super().__init__(id="payment-dialog")
        self.invoice = invoice

    def compose(self) -> ComposeResult:
        money = format_money(self.invoice.balance, current_language())
        with Vertical(classes="dialog-panel"):
            yield Static(
                _("Payment for {number}: balance due {balance}").format(
                    number=self.invoice.invoice_number, balance=money
                ),
                classes="panel-title",
            )
            with Horizontal(classes="payment-row"):
                yield Label(_("Method"), classes="dialog-label")
                yield Select(
                    [(_(METHOD_LABELS[m]), m) for m in METHODS],
                    value="cash",
                    allow_blank=False,
                    id="payment-method",
                    compact=True,
                )
            with Horizontal(classes="payment-row"):
                yield Label(_("Amount"), classes="dialog-label")
                yield Input(
                    str(int(self.invoice.balance)), id="payment-amount", compact=True, max_length=20
                )
            with Horizontal(classes="payment-row", id="payment-tendered-row"):
                yield Label(_("Cash tendered"), classes="dialog-label")
                yield Input(id="payment-tendered", compact=True, max_length=20)
            yield Static(id="payment-change")
            yield Static(id="payment-error", classes="dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(_("Take payment"), id="payment-take", variant="primary")
                yield Button(_("Cancel"), id="payment-close")

    def on_mount(self) -> None:
        self.query_one("#payment-amount", Input).focus()
        self._update()

    @property
    def method(self) -> str:
        return str(self.query_one("#payment-method", Select).value)

    @on(Select.Changed)
    @on(Input.Changed)
    def _update(self) -> None:
        cash = self.method == "cash"
        self.query_one("#payment-tendered-row").display = cash
        amount = parse_dong(self.query_one("#payment-amount", Input).value)
        tendered = parse_dong(self.query_one("#payment-tendered", Input).value)
        text = ""
        if cash and amount is not None and tendered is not None:
            if tendered >= amount:
                text = _("Change to give: {change}").format(
                    change=format_money(tendered - amount, current_language())
                )
            else:
                text = _("The cash tendered is less than the amount.")
        self.query_one("#payment-change", Static).update(text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#payment-take")
    def _take(self) -> None:
        amount = parse_dong(self.query_one("#payment-amount", Input).value)
        tendered_text = self.query_one("#payment-tendered", Input).value
        tendered = parse_dong(tendered_text) if tendered_text.strip() else None
        error = self.query_one("#payment-error", Static)
        if amount is None or amount <= 0 or (tendered_text.strip() and tendered is None):
            error.update(_(PAYMENT_PROBLEMS[AMOUNT_KEY]))
            return
        if amount > self.invoice.balance:
            error.update(
                _("At most {balance} is left to pay.").format(
                    balance=format_money(self.invoice.balance, current_language())
                )
            )
            return
        error.update(_("Recording the payment…"))
        self._pay(
            self.method,
            Decimal(amount),
            Decimal(tendered) if tendered is not None and self.method == "cash" else None,
        )

    @work(thread=True, exclusive=True, group="payment", exit_on_error=False)
    def _pay(self, method: str, amount: Decimal, tendered: Decimal | None) -> None:
        from clinic_tui.cli import describe_database_error
        from clinic_tui.services import payments

        try:
            with self.app.database.session() as session:  # type: ignore[attr-defined]
                payment = payments.pay(
                    session,
                    self.app.actor,  # type: ignore[attr-defined]
                    self.invoice.id,
                    amount=amount,
                    method=method,
                    cash_tendered=tendered,
                )
        except payments.Overpayment as refused:
            self.post_message(
                self.Refused(
                    _("At most {balance} is left to pay.").format(
                        balance=format_money(refused.remaining, current_language())
                    )
                )
            )
            return
        except payments.InvalidPayment as refused:
            self.post_message(
                self.Refused(
                    _(PAYMENT_PROBLEMS.get(str(refused.problem), N_("The payment was refused.")))
                )
            )
            return
        except Exception as failure:
            self.post_message(self.Refused(describe_database_error(failure)))
            return
        self.post_message(self.Paid(payment))

    @on(Paid)
    def _paid(self, message: Paid) -> None:
        self.dismiss(True)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        # The dialog stays open with what was typed.
        self.query_one("#payment-error", Static).update(message.error)

    @on(Button.Pressed, "#payment-close")
    def action_close(self) -> None:
        self.dismiss(False)


class VoidDialog(ModalScreen[str | None]):
    """Asks for the reason, then confirms; dismisses with the reason or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Cancel"), id="void.cancel"),
    ]

    def __init__(self, number: str) -> None:
        super().__init__(id="void-dialog")
        self.number = number

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-panel"):
            yield Static(
                _("Void invoice {number}").format(number=self.number), classes="panel-title"
            )
            yield Label(_("Reason (required; kept with the invoice)"), classes="dialog-label")
            yield Input(id="void-reason", compact=True, max_length=500)
            yield Static(id="void-error", classes="dialog-notice")
            with Horizontal(classes="choices"):
                yield Button(_("Void"), id="void-confirm", variant="error")
                yield Button(_("Cancel"), id="void-close")

    def on_mount(self) -> None:
        self.query_one("#void-reason", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#void-confirm")
    def _confirm(self) -> None:
        from clinic_tui.ui.screens.confirm import ConfirmScreen

        reason = self.query_one("#void-reason", Input).value.strip()
        if not reason:
            self.query_one("#void-error", Static).update(_("A reason is required."))
            return

        def answered(answer: str | None) -> None:
            if answer == "void":
                self.dismiss(reason)

        self.app.push_screen(
            ConfirmScreen(
                N_("Void the invoice"),
                N_("Void invoice {number}? It stays on record, marked VOID, with the reason."),
                [("void", N_("Void")), ("cancel", N_("Keep it"))],
                number=self.number,
            ),
            answered,
        )

    @on(Button.Pressed, "#void-close")
    def action_close(self) -> None:
        self.dismiss(None)
