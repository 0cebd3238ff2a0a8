"""Invoicing (F5): building an invoice with the live BHYT split, the rule in words, issuing,
paying in two methods, voiding, the receipt's text, the cash report, who may open it."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from clinic_tui.config import CLINIC_TIMEZONE
from tests.ui.conftest import PASSWORD, screen_text, settle, type_text

CARD = "DN4791234567890"


def _seed_patient(url: str) -> uuid.UUID:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            patient_id = conn.execute(
                text(
                    "INSERT INTO patients (patient_code, full_name, date_of_birth, gender, phone)"
                    " VALUES ('BN-2026-000042', 'Nguyễn Văn An', DATE '1980-05-17', 'MALE',"
                    " '0912345678') RETURNING id"
                )
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO insurance_info (patient_id, provider_type, bhyt_card_number,"
                    " valid_from, valid_to, is_primary) VALUES (:pid, 'BHYT', :card,"
                    " DATE '2020-01-01', DATE '2035-12-31', true)"
                ),
                {"pid": patient_id, "card": CARD},
            )
    finally:
        engine.dispose()
    return patient_id


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


async def _sign_in(app, pilot, email: str = "reception@clinic.vn") -> None:
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, email)
    await pilot.press("enter")
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await settle(app, pilot)


async def _open(app, pilot, patient_id: uuid.UUID | None = None):
    from clinic_tui.ui.screens.invoicing import InvoicingScreen

    await _sign_in(app, pilot)
    if patient_id is None:
        await pilot.press("f5")
    else:
        app.push_screen(InvoicingScreen(patient_id=patient_id))
    await settle(app, pilot)
    assert app.screen.id == "invoicing"
    return app.screen


async def _add(app, pilot, code: str) -> None:
    box = app.screen.query_one("#service-query", Input)
    box.focus()
    await type_text(pilot, code)
    await pilot.pause(0.3)
    await settle(app, pilot)
    await pilot.press("enter")
    await pilot.pause(0.1)
    await settle(app, pilot)


def _cells(screen) -> list[list[str]]:
    table = screen.query_one("#invoice-lines", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _static(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _issue(app, pilot) -> None:
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    assert app.screen.__class__.__name__ == "ConfirmScreen"
    await pilot.click("#answer-issue")
    await settle(app, pilot)


async def _pay(app, pilot, method: str, amount: str | None, tendered: str = "") -> str:
    await pilot.press("ctrl+t")
    await settle(app, pilot)
    dialog = app.screen
    assert dialog.id == "payment-dialog"
    dialog.query_one("#payment-method", Select).value = method
    if amount is not None:
        dialog.query_one("#payment-amount", Input).value = amount
    dialog.query_one("#payment-tendered", Input).value = tendered
    await pilot.pause()
    shown = screen_text(app)
    await pilot.click("#payment-take")
    await settle(app, pilot)
    return shown


async def test_building_an_invoice_shows_the_split(app_factory, staff, db_url) -> None:
    _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot)
        # The patient is found as on F3.
        screen.query_one("#invoice-patient-query", Input).focus()
        await type_text(pilot, "BN-2026-000042")
        await pilot.pause(0.3)
        await settle(app, pilot)
        await pilot.press("enter", "enter")
        await settle(app, pilot)
        assert "BN-2026-000042" in _static(screen, "#invoice-patient")
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "pt105")
        rows = _cells(screen)
        assert [row[0] for row in rows] == ["PT001", "PT105"]
        totals = _static(screen, "#invoice-totals")
        assert "750,000" in totals and "600,000" in totals and "150,000" in totals
        assert "BHYT pays 80" in _static(screen, "#invoice-rule")
        # Quantity up, then the line removed: the split follows.
        screen.query_one("#invoice-lines", DataTable).focus()
        await pilot.press("down", "plus")
        await settle(app, pilot)
        assert _cells(screen)[1][2] == "2"
        assert "1,250,000" in _static(screen, "#invoice-totals")
        await pilot.press("delete")
        await settle(app, pilot)
        assert [row[0] for row in _cells(screen)] == ["PT001"]
        # Self-referred: the factor applies and is said in words.
        screen.query_one("#referred", Checkbox).value = False
        await settle(app, pilot)
        assert "Self-referred" in _static(screen, "#invoice-rule")


async def test_rule_wording_under_the_threshold(app_factory, staff, db_url) -> None:
    patient_id = _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot, patient_id)
        await _add(app, pilot, "PT003")
        rule = _static(screen, "#invoice-rule")
        assert "100" in rule and "379,500" in rule and "BHYT pays all of it" in rule
        assert _cells(screen)[0][5] == "₫200,000" and _cells(screen)[0][6] == "₫0"


async def test_issue_pay_twice_void_and_receipt(app_factory, staff, db_url, tmp_path: Path) -> None:
    patient_id = _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot, patient_id)
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        await _issue(app, pilot)
        number = f"INV-{datetime.now(CLINIC_TIMEZONE).year}-000001"
        assert screen.invoice.invoice_number == number
        assert number in _static(screen, "#invoice-patient")
        assert number in _static(screen, "#invoice-status")
        # Lines of an issued invoice no longer change.
        await _add(app, pilot, "PT003")
        assert len(_cells(screen)) == 2
        # Two payments: card, then cash with change.
        await _pay(app, pilot, "card", "100,000")
        assert screen.invoice.status == "PARTIALLY_PAID"
        shown = await _pay(app, pilot, "cash", None, tendered="100000")
        assert "50,000" in shown  # the balance by default, and the change to give
        assert "Change to give: ₫50,000" in shown
        assert screen.invoice.status == "PAID"
        assert "Paid" in _static(screen, "#invoice-patient")
        assert _rows(db_url, "SELECT method, amount FROM payments ORDER BY paid_at") == [
            ("card", 100000),
            ("cash", 50000),
        ]
        # The receipt in English, then exported under the data dir.
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        receipt = "\n".join(app.screen.lines)
        assert "BN-2026-000042" in receipt and "Nguyễn Văn An" in receipt
        assert "600,000" in receipt and "150,000" in receipt and number in receipt
        assert "No receipt printer" in screen_text(app)
        await pilot.press("e")
        files = list((tmp_path / "data" / "receipts").glob("receipt-*.txt"))
        assert len(files) == 1 and "BN-2026-000042" in files[0].read_text(encoding="utf-8")
        await pilot.press("escape")
        await settle(app, pilot)
        # Void with a typed reason, confirmed: the row stays, marked VOID and struck through.
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        await pilot.press("enter")  # no reason yet: refused
        await settle(app, pilot)
        assert "A reason is required." in screen_text(app)
        await type_text(pilot, "wrong patient")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.click("#answer-void")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.invoice.is_void
        assert "VOID" in _static(screen, "#invoice-patient")
        assert "wrong patient" in _static(screen, "#invoice-totals")
        cell = screen.query_one("#invoice-lines", DataTable).get_row_at(0)[0]
        assert "strike" in str(cell.style)
        assert _rows(db_url, "SELECT invoice_number, status, void_reason FROM invoices") == [
            (number, "VOID", "wrong patient")
        ]


async def test_cash_report_and_csv(app_factory, staff, db_url, tmp_path: Path) -> None:
    patient_id = _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot, patient_id)
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        await _issue(app, pilot)
        await _pay(app, pilot, "momo", None)
        assert screen.invoice.status == "PAID"
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        shown = screen_text(app)
        assert "invoices issued: 1" in shown and "150,000" in shown
        methods = app.screen.query_one("#cash-methods", DataTable)
        rows = [[str(c) for c in methods.get_row_at(i)] for i in range(methods.row_count)]
        assert ["MoMo", "1", "₫150,000"] in rows
        staff_table = app.screen.query_one("#cash-staff", DataTable)
        assert str(staff_table.get_row_at(0)[0]) == "Nguyễn Thị Lan"
        await pilot.press("e")
        files = list((tmp_path / "data" / "reports").glob("cash-*.csv"))
        assert len(files) == 1
        assert "payments_by_method,momo,1,150000" in files[0].read_text(encoding="utf-8")
        # Another day: PgUp shows yesterday (nothing), T comes back to today.
        await pilot.press("pageup")
        await settle(app, pilot)
        assert "invoices issued: 0" in screen_text(app)
        await pilot.press("t")
        await settle(app, pilot)
        assert "invoices issued: 1" in screen_text(app)


async def test_a_voided_invoice_is_reissued_from_the_screen(app_factory, staff, db_url) -> None:
    patient_id = _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot, patient_id)
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        await _issue(app, pilot)
        first = screen.invoice.invoice_number
        await pilot.press("ctrl+b")  # not void yet: refused with the reason
        await settle(app, pilot)
        assert "Only a voided invoice can be reissued" in screen_text(app)
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        await type_text(pilot, "wrong quantity")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.click("#answer-void")
        await settle(app, pilot)
        assert screen.invoice.is_void
        await pilot.press("ctrl+b")
        await settle(app, pilot)
        assert screen.invoice is None and len(screen.draft.lines) == 2
        assert f"replacing {first}" in screen_text(app)
        await _issue(app, pilot)
        second = screen.invoice.invoice_number
        assert second != first
    assert _rows(
        db_url,
        "SELECT n.invoice_number, o.invoice_number, n.total_amount FROM invoices n"
        " JOIN invoices o ON o.id = n.replaces_invoice_id",
    ) == [(second, first, 750000)]


async def test_payment_above_the_balance_keeps_the_dialog(app_factory, staff, db_url) -> None:
    patient_id = _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot, patient_id)
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        await _issue(app, pilot)
        await _pay(app, pilot, "cash", "200000")
        assert app.screen.id == "payment-dialog"
        assert "At most ₫150,000" in screen_text(app)
        assert app.screen.query_one("#payment-amount", Input).value == "200000"
        await pilot.press("escape")
        await settle(app, pilot)
        assert screen.invoice.status == "ISSUED"


async def test_a_doctor_cannot_reach_invoicing(app_factory, staff, db_url) -> None:
    from clinic_tui.ui.navigation import allowed

    staff("doctor@clinic.vn", role="DOCTOR")
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await _sign_in(app, pilot, "doctor@clinic.vn")
        assert "invoicing" not in [d.id for d in allowed(app.actor)]
        before = app.screen
        await pilot.press("f5")
        await settle(app, pilot)
        assert app.screen is before and app.screen.id != "invoicing"


async def test_receptionist_is_offered_f5(app_factory, staff, db_url) -> None:
    from clinic_tui.ui.navigation import allowed

    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await _sign_in(app, pilot)
        assert "invoicing" in [d.id for d in allowed(app.actor)]


def test_parse_dong() -> None:
    from clinic_tui.ui.screens.payment_dialog import parse_dong

    assert parse_dong("150,000") == 150000
    assert parse_dong("150.000") == 150000
    assert parse_dong("") is None and parse_dong("12a") is None


async def test_language_switch_redraws_the_split(app_factory, staff, db_url) -> None:
    from clinic_tui.i18n import format_money

    patient_id = _seed_patient(db_url)
    staff()
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await _open(app, pilot, patient_id)
        await _add(app, pilot, "PT001")
        await _add(app, pilot, "PT105")
        await pilot.press("f2")
        await settle(app, pilot)
        totals = _static(screen, "#invoice-totals")
        assert format_money(600000, "vi") in totals and format_money(150000, "vi") in totals
        assert "600.000" in totals
