"""The receipt's text (a pure function of the invoice view), its private export, printing with
`lp`, and the wording of the split's rules (issue 8 item 5)."""

from __future__ import annotations

import os
import stat
import sys
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from clinic_tui.domain.copay import Rule
from clinic_tui.services import receipts
from clinic_tui.services.billing_ledger import InvoiceView, LineView, PaymentView
from clinic_tui.services.receipts import PrintFailed, PrintProblem, receipt_lines
from clinic_tui.services.settings import ClinicInfo

D = Decimal
INVOICE = uuid.UUID(int=1)
AT = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)
CLINIC = ClinicInfo(
    name="Phòng khám Vật lý trị liệu An Khang",
    address="12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
    phone="028 3829 1234",
    slot_minutes=30,
    opening_from="07:30",
    opening_to="17:30",
    receipt_printer="",
)


def payment(
    n: int, amount: int, method: str, *, tendered: int | None = None, status: str = "COMPLETED"
) -> PaymentView:
    change = None if tendered is None else D(tendered - amount)
    return PaymentView(
        id=uuid.UUID(int=10 + n),
        invoice_id=INVOICE,
        invoice_number="INV-2026-000042",
        amount=D(amount),
        method=method,
        status=status,
        receipt_number=f"RC-2026-{n:07d}",
        cash_tendered=None if tendered is None else D(tendered),
        change_given=change,
        paid_at=AT,
        received_by=None,
        received_by_name="Trần Thị Lễ Tân",
        order_id=None,
        transaction_id=None,
        voided_at=None,
        void_reason=None,
    )


def line(position: int, code: str, en: str, vi: str, price: int, insurance: int) -> LineView:
    return LineView(
        position,
        code,
        en,
        vi,
        vi,
        1,
        D(price),
        D(price),
        D(price),
        D(price),
        D(insurance),
        D(price - insurance),
    )


VIEW = InvoiceView(
    id=INVOICE,
    invoice_number="INV-2026-000042",
    patient_id=uuid.UUID(int=2),
    appointment_id=None,
    doctor_id=None,
    service_date=date(2026, 7, 15),
    status="PAID",
    referred=True,
    card_number="DN4791234567890",
    rate=D(80),
    rules=(Rule.LEVEL,),
    lines=(
        line(1, "PT001", "Therapeutic Exercise", "Tập luyện trị liệu", 250_000, 200_000),
        line(2, "PT105", "Initial Evaluation", "Đánh giá ban đầu", 500_000, 400_000),
    ),
    total=D(750_000),
    insured_base=D(750_000),
    insurance=D(600_000),
    patient=D(150_000),
    payments=(
        payment(1, 100_000, "cash", tendered=200_000),
        payment(2, 20_000, "card", status="VOID"),
        payment(3, 50_000, "momo"),
        payment(4, 600_000, "bhyt"),
    ),
    paid=D(150_000),
    balance=D(0),
    bhyt_paid=D(600_000),
    bhyt_receivable=D(0),
    issued_at=AT,
    issued_by=None,
    voided_at=None,
    voided_by=None,
    voided_by_name=None,
    void_reason=None,
    replaces_invoice_id=None,
    replaced_by_id=None,
    version=4,
)

ENGLISH = """\
      Phòng khám Vật lý trị liệu An Khang
 12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí
                      Minh
              Phone: 028 3829 1234
================================================
                    RECEIPT
Invoice                          INV-2026-000042
Receipt no.                      RC-2026-0000003
Date                                  07/15/2026
Patient                            Nguyễn Văn An
Patient code                            BN000123
Therapist                         Nguyễn Thị Lan
BHYT card                        DN4791234567890
------------------------------------------------
PT001 Therapeutic Exercise
  1 × ₫250,000                          ₫250,000
  BHYT ₫200,000 · patient ₫50,000
PT105 Initial Evaluation
  1 × ₫500,000                          ₫500,000
  BHYT ₫400,000 · patient ₫100,000
------------------------------------------------
Total                                   ₫750,000
BHYT pays                               ₫600,000
Patient pays                            ₫150,000
------------------------------------------------
Payments
RC-2026-0000001 · Cash                  ₫100,000
  Tendered ₫200,000 · change ₫100,000
RC-2026-0000002 · Card (void)            ₫20,000
RC-2026-0000003 · MoMo                   ₫50,000
Paid                                    ₫150,000
Balance due                                   ₫0
================================================
                   Thank you!"""


def lines_of(view: InvoiceView = VIEW, language: str = "en", **names: str | None) -> list[str]:
    people = {
        "patient_name": "Nguyễn Văn An",
        "patient_code": "BN000123",
        "doctor_name": "Nguyễn Thị Lan",
    } | names
    return receipt_lines(view, CLINIC, language=language, **people)  # type: ignore[arg-type]


def test_english_receipt_exactly() -> None:
    assert "\n".join(lines_of()) == ENGLISH


def test_vietnamese_receipt_formats_money_and_dates_the_vietnamese_way() -> None:
    text = "\n".join(lines_of(language="vi"))
    assert "250.000\xa0₫" in text and "150.000\xa0₫" in text and "₫250" not in text
    assert "15/07/2026" in text
    assert "Tập luyện trị liệu" in text and "Therapeutic Exercise" not in text


@pytest.mark.parametrize("language", ["en", "vi"])
def test_every_line_fits_48_columns_even_with_long_names(language: str) -> None:
    long = replace(
        VIEW,
        lines=(line(1, "PT301", "Home Visit " * 8, "Thăm khám tại nhà " * 6, 9_999_999_999, 0),),
    )
    text = lines_of(
        long, language, patient_name="Tôn Nữ Hoàng Thị Ngọc Bảo Châu " * 3, doctor_name=None
    )
    assert max(len(x) for x in text) <= receipts.WIDTH
    assert all(x == x.rstrip() for x in text)
    assert not any("Therapist" in x for x in text)
    money = "₫9,999,999,999" if language == "en" else "9.999.999.999\xa0₫"
    assert any(x.endswith(money) for x in text)  # an amount is never split


def test_a_void_invoice_says_so_with_its_reason() -> None:
    void = replace(VIEW, status="VOID", void_reason="Nhập sai dịch vụ")
    text = lines_of(void)
    assert "*** VOID ***" in [x.strip() for x in text]
    assert "Voided: Nhập sai dịch vụ" in text


def test_without_insurance_or_payments_the_receipt_is_shorter() -> None:
    bare = replace(
        VIEW,
        card_number=None,
        insurance=D(0),
        patient=D(750_000),
        payments=(),
        paid=D(0),
        balance=D(750_000),
        status="ISSUED",
        lines=tuple(replace(x, insurance=D(0), patient=x.line_total) for x in VIEW.lines),
    )
    text = "\n".join(lines_of(bare))
    assert "Payments" not in text and "Receipt no." not in text and "BHYT card" not in text
    assert "BHYT ₫" not in text  # no per-line shares when the fund pays nothing
    assert "Balance due                             ₫750,000" in text


def test_rules_in_words() -> None:
    assert receipts.describe_rule(Rule.LEVEL, language="en", rate=D(80)) == (
        "BHYT pays 80% by the card's benefit level"
    )
    below = receipts.describe_rule(
        Rule.BELOW_THRESHOLD, language="en", rate=D(100), threshold=D(379_500)
    )
    assert below.startswith("The insured total is below ₫379,500")
    assert (
        receipts.describe_rule(Rule.SELF_REFERRED, language="en", rate=D(80), factor=D(50))
        == "Self-referred: BHYT pays 50% of its share"
    )
    for rule in Rule:
        for language in ("en", "vi"):
            assert receipts.describe_rule(rule, language=language, rate=D(80))
    assert receipts.method_label("bank_transfer", "en") == "Bank transfer"
    assert receipts.method_label("momo", "vi") == "MoMo"


# --- export and printing -------------------------------------------------------------------------


def test_export_writes_utf8_readable_by_the_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "receipts" / "2026"
    path = receipts.export_receipt(lines_of(language="vi"), folder)
    assert path.parent == folder and path.name.startswith("receipt-")
    assert path.read_text(encoding="utf-8") == "\n".join(lines_of(language="vi")) + "\n"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    named = receipts.export_receipt(["x"], folder, name="INV-2026-000042.txt")
    assert named.name == "INV-2026-000042.txt"
    with pytest.raises(FileExistsError):  # never overwritten
        receipts.export_receipt(["y"], folder, name="INV-2026-000042.txt")
    for bad in ("../escape.txt", ".hidden", "a/b.txt"):
        with pytest.raises(ValueError):
            receipts.export_receipt(["x"], folder, name=bad)


@pytest.fixture
def fake_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `lp` on PATH that records its arguments, and fails for printer "broken"."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "lp.log"
    script = bin_dir / "lp"
    script.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "if 'broken' in sys.argv: sys.stderr.write('lp: printer broken\\n'); sys.exit(1)\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return log


@pytest.mark.skipif(os.name != "posix", reason="lp is a POSIX command")
def test_print_runs_lp_on_the_configured_printer(tmp_path: Path, fake_lp: Path) -> None:
    path = receipts.export_receipt(["x"], tmp_path / "out")
    assert receipts.print_receipt(path, "") is False  # no printer configured: nothing to do
    assert not fake_lp.exists()
    assert receipts.print_receipt(path, " EPSON_TM_T82 ") is True
    assert fake_lp.read_text() == f"-d EPSON_TM_T82 {path.resolve()}\n"
    with pytest.raises(PrintFailed) as failed:
        receipts.print_receipt(path, "broken")
    assert failed.value.problem is PrintProblem.FAILED and "printer broken" in failed.value.detail
    with pytest.raises(PrintFailed) as option:
        receipts.print_receipt(path, "-o evil")
    assert option.value.problem is PrintProblem.PRINTER_NAME


def test_a_missing_lp_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp here
    with pytest.raises(PrintFailed) as missing:
        receipts.print_receipt(tmp_path / "r.txt", "EPSON")
    assert missing.value.problem is PrintProblem.NO_LP
