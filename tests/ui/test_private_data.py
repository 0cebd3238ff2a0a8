"""Secrets and patient data (issue 11 item 5): passwords only as argon2id hashes; a scripted
front-desk session leaves no patient's name, phone, card or national id in the log; receipts,
reports, backups and logs are readable by their owner only."""

from __future__ import annotations

import logging
import os
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time
from pathlib import Path

from argon2 import PasswordHasher, Type
from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session
from textual.widgets import DataTable, Input

from clinic_tui.domain.search_text import fold
from clinic_tui.models import User
from clinic_tui.services import auth, backups, receipts, staff
from clinic_tui.services.access import Role
from tests.ui.conftest import PASSWORD, settle, type_text
from tests.ui.test_invoicing import _add, _issue, _pay
from tests.ui.test_schedule import build_clinic, go_to, open_grid, pick_patient, sign_in

PATIENT = "Nguyễn Văn An"  # the first of build_clinic's patients
NATIONAL_ID = "079090001234"
CONTROL = "control line, not product output"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def loose_umask() -> Iterator[None]:
    """Files must be private by their own doing, not thanks to a careful umask."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# ---- passwords ---------------------------------------------------------------------------


def test_passwords_are_stored_only_as_argon2id_hashes(db_url: str) -> None:
    secrets = {
        "admin@clinic.vn": "first admin pass 1",
        "lan@clinic.vn": "reception pass 22",
        "minh@clinic.vn": "doctor pass 333 (reset)",
        "old@clinic.vn": "legacy hash pass 4444",
    }
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            admin = auth.create_first_admin(
                session, "Phạm Quốc Bảo", "admin@clinic.vn", *[secrets["admin@clinic.vn"]] * 2
            )
            auth.create_user(session, admin, full_name="Lê Thị Lan", email="lan@clinic.vn",
                             password=secrets["lan@clinic.vn"], role=Role.RECEPTIONIST)  # fmt: skip
            first = "first doctor pw"
            doctor = staff.create_staff(session, admin, full_name="Trần Minh",
                                        email="minh@clinic.vn", role="DOCTOR",
                                        password=first, password_again=first)  # fmt: skip
            staff.reset_password(session, admin, doctor.id, secrets["minh@clinic.vn"])
            # An account from an older installation: argon2i with weak parameters. Signing in
            # replaces it with today's argon2id hash.
            legacy = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.I)
            session.execute(insert(User.__table__).values(
                email="old@clinic.vn", full_name="Đỗ Cũ", role="RECEPTIONIST",
                password_hash=legacy.hash(secrets["old@clinic.vn"])))  # fmt: skip
            session.commit()
        with Session(engine) as session:
            outcome = auth.login(session, "old@clinic.vn", secrets["old@clinic.vn"])
            session.commit()
        assert outcome.actor is not None
        with engine.connect() as conn:
            hashes = dict(conn.execute(text("SELECT email, password_hash FROM users")).all())
            stored = conn.execute(
                text("SELECT (SELECT string_agg(u::text, ' ') FROM users u) || ' '"
                     " || (SELECT string_agg(a::text, ' ') FROM audit_log a)")
            ).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    assert set(hashes) == set(secrets)
    from clinic_tui.services.passwords import needs_rehash, verify_password

    for email, password_hash in hashes.items():
        assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), email
        assert verify_password(password_hash, secrets[email])
        assert not needs_rehash(password_hash), f"{email}: weaker than the program's parameters"
    for secret in (*secrets.values(), "first doctor pw"):
        assert secret not in stored  # not in any column of users, nor in any audit entry


# ---- files ---------------------------------------------------------------------------------


def test_receipts_and_reports_are_private_whatever_the_umask(tmp_path: Path) -> None:
    with loose_umask():
        receipt = receipts.export_receipt([PATIENT, "PT001"], tmp_path / "data" / "receipts")
        report = receipts.export_receipt(
            ["day,total"], tmp_path / "data" / "reports", name="cash-2026-01-02-abc.csv"
        )
        (tmp_path / "open").mkdir(mode=0o777)  # a folder someone else made: the file is private
        into_open = receipts.export_receipt(["x"], tmp_path / "open")
    for path in (receipt, report, into_open):
        assert mode(path) == 0o600, path
    assert mode(receipt.parent) == 0o700 and mode(report.parent) == 0o700


def test_missing_parent_folders_are_not_world_writable(tmp_path: Path) -> None:
    with loose_umask():
        receipts.export_receipt(["x"], tmp_path / "data" / "receipts")
        backups.prepare_folder(tmp_path / "other" / "backups")
    for made in (tmp_path / "data", tmp_path / "other"):
        assert mode(made) & 0o077 == 0, f"{made}: {oct(mode(made))}"


def test_backups_are_private_whatever_the_umask(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            admin = auth.create_first_admin(session, "Phạm Quốc Bảo", "a@clinic.vn",
                                            PASSWORD, PASSWORD)  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    with loose_umask():
        info = backups.backup_now(db_url, admin, backup_dir=tmp_path / "backups", keep=3)
    assert mode(info.path) == 0o600
    assert mode(info.path.with_suffix(".json")) == 0o600
    assert mode(info.path.parent) == 0o700
    assert [p.name for p in info.path.parent.iterdir() if p.name.startswith(".")] == []


# ---- a scripted session and its log ----------------------------------------------------------


@contextmanager
def logging_to(path: Path) -> Iterator[None]:
    """Everything the program says through `logging`, at every level, into `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def forbidden(url: str) -> dict[str, str]:
    """Every patient's name (as stored, decomposed, and without accents), phone, card and
    national id: none may reach a log."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            people = conn.execute(
                text("SELECT p.full_name, p.phone, p.national_id, i.bhyt_card_number"
                     " FROM patients p LEFT JOIN insurance_info i ON i.patient_id = p.id")
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    found: dict[str, str] = {}
    for name, phone, national_id, card in people:
        for variant in {name, unicodedata.normalize("NFD", name), fold(name)}:
            found[variant.casefold()] = f"name of {name}"
        for label, value in (("phone", phone), ("national id", national_id), ("card", card)):
            if value:
                found[value.casefold()] = f"{label} of {name}"
    return found


def leaks(text_: str, secrets: dict[str, str]) -> list[str]:
    lowered = text_.casefold()
    return sorted({what for value, what in secrets.items() if value in lowered})


def log_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if p.is_file() and ".log" in p.name]


async def test_a_scripted_session_logs_no_patient_data(app_factory, db_url, tmp_path) -> None:
    from clinic_tui.ui.screens.booking import BookingScreen
    from clinic_tui.ui.screens.invoicing import InvoicingScreen

    desk = build_clinic(db_url)
    patient_id = desk.patients[PATIENT]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE patients SET national_id = :n WHERE id = :p"),
                     {"n": NATIONAL_ID, "p": patient_id})  # fmt: skip
    engine.dispose()
    app = app_factory()
    data_dir = app.settings.data_dir
    captured = app.settings.log_dir / "session.log"
    with logging_to(captured):
        async with app.run_test(size=(140, 45)) as pilot:
            await sign_in(app, pilot)
            # Find the patient and open the record.
            await pilot.press("f3")
            await settle(app, pilot)
            box = app.screen.query_one("#patient-query", Input)
            box.focus()
            await type_text(pilot, "nguyen van an")
            await pilot.pause(0.3)
            await settle(app, pilot)
            app.screen.query_one(DataTable).focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen.query_one("#full_name", Input).value == PATIENT
            await pilot.press("escape")
            await settle(app, pilot)
            # Book a slot from the grid.
            grid = await open_grid(app, pilot)
            await go_to(pilot, grid, "Phạm Minh Tuấn", time(9, 0))
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, BookingScreen)
            await pick_patient(app, pilot, "nguyen van an")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen.id == "schedule"
            # Invoice, pay, export the receipt and the day's cash report.
            app.push_screen(InvoicingScreen(patient_id=patient_id))
            await settle(app, pilot)
            await _add(app, pilot, "PT001")
            await _add(app, pilot, "PT105")  # above the threshold: the patient pays a share
            await _issue(app, pilot)
            assert app.screen.invoice is not None
            await _pay(app, pilot, "cash", None, tendered="500000")
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            await pilot.press("e")
            await settle(app, pilot)
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("ctrl+o")
            await settle(app, pilot)
            await pilot.press("e")
            await settle(app, pilot)
            await pilot.press("escape", "f8")
            await settle(app, pilot)
            assert app.screen.id == "login"
        logging.getLogger("clinic_tui.ui").debug("%s: %s", CONTROL, PATIENT)

    engine = create_engine(db_url)
    with engine.connect() as conn:
        done = set(conn.execute(text("SELECT action FROM audit_log")).scalars())
    engine.dispose()
    assert {"patient_opened", "appointment_booked", "invoice_issued", "payment_taken"} <= done
    secrets = forbidden(db_url)
    lines = captured.read_text(encoding="utf-8").splitlines()
    # The capture works (it holds the control line, which names a patient) …
    assert [line for line in lines if CONTROL in line and leaks(line, secrets)]
    # … and nothing the program logged does.
    logged = [line for line in lines if CONTROL not in line]
    assert leaks("\n".join(logged), secrets) == []
    for path in log_files(data_dir):  # the program's own log files, once it writes some
        if path != captured:
            assert leaks(path.read_text(encoding="utf-8", errors="replace"), secrets) == []
    # What the session exported is its owner's only.
    exported = sorted((data_dir / "receipts").glob("receipt-*.txt"))
    exported += sorted((data_dir / "reports").glob("cash-*.csv"))
    assert len(exported) == 2
    for path in exported:
        assert mode(path) == 0o600 and mode(path.parent) == 0o700, path


async def test_textuals_debug_log_gets_no_password_or_patient(
    app_factory, db_url, tmp_path, monkeypatch
) -> None:
    import textual.constants

    build_clinic(db_url)
    target = tmp_path / "textual.log"
    monkeypatch.setattr(textual.constants, "LOG_FILE", str(target))  # as TEXTUAL_LOG=… does
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        app.screen.query_one("#patient-query", Input).focus()
        await type_text(pilot, PATIENT)
        await pilot.pause(0.3)
        await settle(app, pilot)
    written = target.read_text(encoding="utf-8") if target.exists() else ""
    assert PASSWORD not in written
    assert leaks(written, forbidden(db_url)) == []
