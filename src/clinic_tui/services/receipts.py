"""Receipts: the text (pure), its export to a private file, and printing with ``lp``
(DESIGN §5.2, issue 8 item 5). Also the wording of the split's rules and of payment methods.

The text is plain UTF-8, at most `WIDTH` columns, for 58 mm / 80 mm receipt printers and the
screen's preview alike. Labels are English msgids marked with `N_` and translated with
`translate_to`, so a receipt comes out in the patient's language whatever the screen's; money
and dates are formatted by babel. Vietnamese text is NFC, where one character is one column.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import textwrap
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Final

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.domain.copay import Rule
from clinic_tui.i18n import N_, format_date, format_money, format_percent, translate_to
from clinic_tui.services.billing_ledger import BHYT_METHOD, InvoiceView
from clinic_tui.services.settings import ClinicInfo

WIDTH: Final = 48

METHOD_LABELS: Final = {
    "cash": N_("Cash"),
    "card": N_("Card"),
    "bank_transfer": N_("Bank transfer"),
    # Brand names: the same in every language.
    "momo": "MoMo",
    "zalopay": "ZaloPay",
    "vnpay": "VNPay",
    "bhyt": "BHYT",
}

RULE_LABELS: Final = {
    Rule.NO_CARD: N_("No BHYT card: the patient pays everything"),
    Rule.CARD_NOT_VALID_ON_DATE: N_(
        "The BHYT card is not valid on the service date: the patient pays everything"
    ),
    Rule.LEVEL: N_("BHYT pays {rate} by the card's benefit level"),
    Rule.BELOW_THRESHOLD: N_(
        "The insured total is below {threshold}, 15 percent of the base salary: BHYT pays all of it"
    ),
    Rule.FIVE_YEARS: N_(
        "Five continuous years and this year's co-payments above six months' base salary:"
        " BHYT pays all of it"
    ),
    Rule.SELF_REFERRED: N_("Self-referred: BHYT pays {factor} of its share"),
}


def method_label(method: str, language: str) -> str:
    return translate_to(language, METHOD_LABELS.get(method, method))


def describe_rule(
    rule: Rule,
    *,
    language: str,
    rate: Decimal,
    threshold: Decimal | None = None,
    factor: Decimal | None = None,
) -> str:
    """A rule in words. ``rate`` and ``factor`` are percent; an issued invoice does not keep
    the threshold or the factor, so they may be None (shown as a dash)."""
    return translate_to(language, RULE_LABELS[rule]).format(
        rate=format_percent(rate, language),
        threshold="—" if threshold is None else format_money(threshold, language),
        factor="—" if factor is None else format_percent(factor, language),
    )


# --- the text --------------------------------------------------------------------------------


def _wrap(text: str, indent: str = "") -> list[str]:
    # Money keeps its no-break space (babel's), so an amount is never split over two lines.
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    ) or [indent.rstrip()]


def _centred(text: str) -> list[str]:
    return [line.center(WIDTH).rstrip() for line in _wrap(text)]


def _row(label: str, value: str, indent: str = "") -> list[str]:
    """``label`` on the left, ``value`` flush right; on two lines when they do not fit."""
    left = indent + label
    if len(left) + 1 + len(value) <= WIDTH:
        return [left + value.rjust(WIDTH - len(left))]
    return _wrap(label, indent) + [part.rjust(WIDTH) for part in _wrap(value)]


def receipt_lines(
    view: InvoiceView,
    clinic: ClinicInfo,
    *,
    language: str,
    patient_name: str,
    patient_code: str,
    doctor_name: str | None,
) -> list[str]:
    """The receipt of ``view`` in ``language``: clinic, patient, date, therapist, each line with
    its shares, both totals, the desk's payments with change, the balance, receipt number."""

    def t(message: str) -> str:
        return translate_to(language, message)

    def money(amount: Decimal) -> str:
        return format_money(amount, language)

    rule, double = "-" * WIDTH, "=" * WIDTH
    desk = [p for p in view.payments if p.method != BHYT_METHOD]
    counted = [p for p in desk if p.counts]
    out = _centred(clinic.name)
    if clinic.address:
        out += _centred(clinic.address)
    if clinic.phone:
        out += _centred(t(N_("Phone: {phone}")).format(phone=clinic.phone))
    out += [double, *_centred(t(N_("RECEIPT")))]
    if view.is_void:
        out += _centred(t(N_("*** VOID ***")))
    out += _row(t(N_("Invoice")), view.invoice_number)
    if counted and counted[-1].receipt_number:
        out += _row(t(N_("Receipt no.")), counted[-1].receipt_number)
    out += _row(t(N_("Date")), format_date(view.service_date, language))
    out += _row(t(N_("Patient")), patient_name)
    out += _row(t(N_("Patient code")), patient_code)
    if doctor_name:
        out += _row(t(N_("Therapist")), doctor_name)
    if view.card_number:
        out += _row(t(N_("BHYT card")), view.card_number)
    out.append(rule)
    for line in view.lines:
        out += _wrap(f"{line.code} {line.name_vi if language == 'vi' else line.name_en}")
        out += _row(f"{line.quantity} × {money(line.unit_price)}", money(line.line_total), "  ")
        if view.insurance > 0:  # with no insurance at all, the shares say nothing new
            shares = t(N_("BHYT {insurance} · patient {patient}")).format(
                insurance=money(line.insurance), patient=money(line.patient)
            )
            out += _wrap(shares, "  ")
    out += [rule, *_row(t(N_("Total")), money(view.total))]
    out += _row(t(N_("BHYT pays")), money(view.insurance))
    out += _row(t(N_("Patient pays")), money(view.patient))
    out.append(rule)
    if desk:
        out.append(t(N_("Payments")))
    for payment in desk:
        label = f"{payment.receipt_number or ''} · {method_label(payment.method, language)}"
        if not payment.counts:
            label += " " + t(N_("(void)"))
        out += _row(label, money(payment.amount))
        if payment.counts and payment.cash_tendered is not None:
            cash = t(N_("Tendered {tendered} · change {change}")).format(
                tendered=money(payment.cash_tendered),
                change=money(payment.change_given or Decimal(0)),
            )
            out += _wrap(cash, "  ")
    out += _row(t(N_("Paid")), money(view.paid))
    out += _row(t(N_("Balance due")), money(view.balance))
    out.append(double)
    if view.is_void and view.void_reason:
        out += _wrap(t(N_("Voided: {reason}")).format(reason=view.void_reason))
    out += _centred(t(N_("Thank you!")))
    return [unicodedata.normalize("NFC", line) for line in out]


# --- export and printing ---------------------------------------------------------------------


def export_receipt(lines: Sequence[str], directory: Path | str, *, name: str | None = None) -> Path:
    """Write the receipt to a new UTF-8 file readable by its owner only (0600): a receipt holds
    a patient's name and what they were treated for. A directory this creates is 0700."""
    from clinic_tui.private_files import private_folder

    folder = Path(directory)
    if not folder.exists():
        private_folder(folder)
    if name is None:
        stamp = datetime.now(CLINIC_TIMEZONE).strftime("%Y%m%d-%H%M%S")
        name = f"receipt-{stamp}-{secrets.token_hex(3)}.txt"
    if Path(name).name != name or name.startswith("."):
        raise ValueError(f"not a plain file name: {name!r}")
    path = folder / name
    # O_EXCL: never write through an existing file or a link planted in its place.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(descriptor, 0o600)  # exact, whatever the umask
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


class PrintProblem(StrEnum):
    NO_LP = "no_lp"  # the `lp` command (CUPS) is not installed
    PRINTER_NAME = "printer_name"
    FAILED = "failed"
    TIMEOUT = "timeout"


class PrintFailed(Exception):
    def __init__(self, problem: PrintProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else str(problem))
        self.problem, self.detail = problem, detail


def print_receipt(path: Path, printer: str, *, timeout: float = 30.0) -> bool:
    """Send ``path`` to ``printer`` with ``lp -d``. Returns False when no printer is configured
    (nothing to do); raises `PrintFailed` when ``lp`` is missing or refuses."""
    printer = printer.strip()
    if not printer:
        return False
    if printer.startswith("-"):  # lp would read it as an option
        raise PrintFailed(PrintProblem.PRINTER_NAME, printer)
    lp = shutil.which("lp")
    if lp is None:
        raise PrintFailed(PrintProblem.NO_LP, "lp not found on PATH")
    command = [lp, "-d", printer, str(Path(path).resolve())]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise PrintFailed(PrintProblem.TIMEOUT, f"lp took over {timeout:g} s") from error
    except OSError as error:
        raise PrintFailed(PrintProblem.FAILED, str(error)) from error
    if done.returncode != 0:
        raise PrintFailed(PrintProblem.FAILED, (done.stderr or done.stdout).strip()[:500])
    return True
