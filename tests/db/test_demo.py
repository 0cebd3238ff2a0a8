"""The demo clinic generator: accounts, therapists, schedules, patients, bookings and bills."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from clinic_tui.domain.vietnamese_names import FAMILY_NAME_WEIGHTS
from clinic_tui.services import demo_load
from clinic_tui.services.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DemoSummary,
    build_demo_clinic,
)
from clinic_tui.services.passwords import verify_password

TODAY = date(2026, 11, 23)  # a Monday: the clinic is open
FREEING = "('CANCELLED', 'NO_SHOW')"  # statuses that free their slot


def _age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def _build(engine: Engine, **options: object) -> DemoSummary:
    with Session(engine) as session:
        summary = build_demo_clinic(session, today=TODAY, **options)  # type: ignore[arg-type]
        session.commit()
    return summary


def _scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def _rows(engine: Engine, sql: str, **params: object) -> list:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())


@pytest.fixture
def demo(engine: Engine) -> tuple[Engine, DemoSummary]:
    return engine, _build(engine)


def test_three_demo_accounts_with_the_demo_password(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    rows = _rows(engine, "SELECT email, role, is_demo, password_hash, full_name FROM users")
    assert sorted((row.email, row.role) for row in rows) == sorted(DEMO_ACCOUNTS)
    assert summary.accounts_created == 3
    for row in rows:
        assert row.is_demo
        assert row.password_hash.startswith("$argon2id$")
        assert verify_password(row.password_hash, DEMO_PASSWORD)
        assert unicodedata.normalize("NFC", row.full_name) == row.full_name
    assert len({row.password_hash for row in rows}) == 1  # hashed once


def test_doctors_templates_and_four_weeks_of_availability(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, _summary = demo
    doctors = _rows(engine, "SELECT id, specialization, rating, consultation_fee FROM doctors")
    assert len(doctors) >= 6
    assert {d.specialization for d in doctors} >= {"musculoskeletal", "neurological", "paediatric"}
    assert all(re.fullmatch("[a-z]+", d.specialization) for d in doctors)
    assert all(3.5 <= d.rating <= 5 and d.consultation_fee % 1000 == 0 for d in doctors)
    linked = _scalar(
        engine,
        "SELECT count(*) FROM doctors d JOIN users u ON u.id = d.user_id"
        " WHERE u.email = 'doctor@demo.clinic'",
    )
    assert linked == 1
    assert _scalar(engine, "SELECT count(DISTINCT doctor_id) FROM weekly_schedule_templates") >= 6
    blocks = {
        (str(row.start_time), str(row.end_time))
        for row in _rows(engine, "SELECT start_time, end_time FROM weekly_schedule_templates")
    }
    assert blocks == {("07:30:00", "11:30:00"), ("13:30:00", "17:00:00")}
    assert _scalar(engine, "SELECT max(weekday) FROM weekly_schedule_templates") == 6
    # Not everyone works Saturdays.
    saturday = _scalar(
        engine, "SELECT count(DISTINCT doctor_id) FROM weekly_schedule_templates WHERE weekday = 6"
    )
    assert 0 < saturday < len(doctors)  # type: ignore[operator]
    # Every template block has its availability row on each of the next 28 days.
    missing = _scalar(
        engine,
        "SELECT count(*) FROM weekly_schedule_templates t"
        " CROSS JOIN generate_series(CAST(:today AS date), CAST(:today AS date) + 27, '1 day') d"
        " WHERE extract(isodow FROM d) = t.weekday AND NOT EXISTS ("
        "   SELECT 1 FROM doctor_availabilities a WHERE a.doctor_id = t.doctor_id"
        "   AND a.date = d::date AND a.start_time = t.start_time AND a.end_time = t.end_time"
        "   AND a.source = 'TEMPLATE' AND a.is_available)",
        today=TODAY,
    )
    assert missing == 0
    assert _scalar(engine, "SELECT max(date) FROM doctor_availabilities") >= TODAY + timedelta(26)


def test_two_hundred_patients_with_realistic_details(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    patients = _rows(
        engine,
        "SELECT patient_code, full_name, date_of_birth, phone, national_id, search_key"
        " FROM patients ORDER BY patient_code",
    )
    assert len(patients) == 200 == summary.patients_created == summary.demo_patients
    assert patients[0].patient_code == "BN-DEMO-000001"
    assert patients[-1].patient_code == "BN-DEMO-000200"
    for patient in patients:
        assert patient.full_name.split()[0] in FAMILY_NAME_WEIGHTS
        assert unicodedata.normalize("NFC", patient.full_name) == patient.full_name
        age = _age(patient.date_of_birth)
        assert 3 <= age <= 90
        assert patient.phone is None or re.fullmatch("0[35789][0-9]{8}", patient.phone)
        if patient.national_id is None:
            continue
        assert age >= 14
        assert patient.national_id[4:6] == f"{patient.date_of_birth.year % 100:02d}"
    assert sum(p.phone is not None for p in patients) > 160
    assert sum(p.national_id is not None for p in patients) > 140
    assert all(p.search_key.isascii() for p in patients)  # accent-free search key


def test_insurance_cards_are_valid_and_some_have_expired(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, _summary = demo
    share = _scalar(
        engine,
        "SELECT count(DISTINCT patient_id)::float / 200 FROM insurance_info"
        " WHERE provider_type = 'BHYT'",
    )
    assert 0.6 <= share <= 0.8  # type: ignore[operator]
    invalid = _scalar(
        engine,
        "SELECT count(*) FROM insurance_info i CROSS JOIN validate_bhyt_card(i.bhyt_card_number) v"
        " WHERE i.provider_type = 'BHYT' AND v.is_valid IS NOT TRUE",
    )
    assert invalid == 0
    cards = _rows(engine, "SELECT * FROM insurance_info WHERE provider_type = 'BHYT'")
    coverage = {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
    for card in cards:
        number = card.bhyt_card_number
        assert len(number) == 15 and card.bhyt_prefix_code == number[:2]
        assert card.bhyt_benefit_level == int(number[2]) and card.province_code == number[3:5]
        assert card.bhyt_coverage_percent == coverage[card.bhyt_benefit_level]
        assert card.bhyt_copay_rate == 100 - card.bhyt_coverage_percent
        assert card.valid_from <= card.valid_to
    expired = sum(card.valid_to < TODAY for card in cards)
    assert 0.03 <= expired / len(cards) <= 0.2
    assert len({card.bhyt_prefix_code for card in cards}) >= 6  # DN, HT, TE, GD, HS, …
    assert len({card.province_code for card in cards}) >= 4
    assert any(card.registered_facility_name for card in cards)
    assert any(card.five_year_continuous_from for card in cards)
    # Children under six carry the TE card, and only they do.
    children = _rows(
        engine,
        "SELECT i.bhyt_prefix_code, p.date_of_birth FROM insurance_info i"
        " JOIN patients p ON p.id = i.patient_id WHERE i.provider_type = 'BHYT'",
    )
    for code, born in children:
        assert (code == "TE") == (_age(born) < 6)


def test_appointments_past_and_future_never_overlap(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    by_status = dict(
        _rows(
            engine,
            "SELECT status || CASE WHEN appointment_date < :today THEN '/past' ELSE '/future' END,"
            " count(*) FROM appointments GROUP BY 1",
            today=TODAY,
        )
    )
    assert set(by_status) <= {
        "COMPLETED/past", "NO_SHOW/past", "CANCELLED/past", "SCHEDULED/future",
        "CANCELLED/future",
    }  # fmt: skip
    assert by_status["COMPLETED/past"] > 50 and by_status["SCHEDULED/future"] > 50
    assert sum(by_status.values()) == summary.appointments_created
    window = _rows(engine, "SELECT min(appointment_date), max(appointment_date) FROM appointments")
    assert window[0][0] >= TODAY - timedelta(14) and window[0][1] <= TODAY + timedelta(14)
    for column in ("doctor_id", "patient_id"):
        overlaps = _scalar(
            engine,
            f"SELECT count(*) FROM appointments a JOIN appointments b ON a.{column} = b.{column}"
            f" AND a.id < b.id AND a.during && b.during"
            f" WHERE a.status NOT IN {FREEING} AND b.status NOT IN {FREEING}",
        )
        assert overlaps == 0, column
    outside = _scalar(
        engine,
        "SELECT count(*) FROM appointments a WHERE NOT EXISTS (SELECT 1 FROM"
        " doctor_availabilities d WHERE d.doctor_id = a.doctor_id AND d.date = a.appointment_date"
        " AND d.start_time <= a.start_time AND a.end_time <= d.end_time AND d.is_available)",
    )
    assert outside == 0
    kinds = _scalar(engine, "SELECT count(DISTINCT appointment_type) FROM appointments")
    assert kinds == 4
    reasons = [row[0] for row in _rows(engine, "SELECT DISTINCT reason FROM appointments")]
    assert all(reason and reason[0].isupper() for reason in reasons)
    assert any(ch in "ạảãàáâậầấẩẫăắằặẳẵđ" for reason in reasons for ch in reason)


def test_issued_invoices_add_up(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    invoices = _rows(
        engine,
        "SELECT i.*, a.status AS visit_status,"
        " (SELECT sum(line_total) FROM invoice_line_items l WHERE l.invoice_id = i.id) AS lines,"
        " (SELECT sum(insurance_amount) FROM invoice_line_items l WHERE l.invoice_id = i.id)"
        " AS line_insurance,"
        " (SELECT coalesce(sum(amount), 0) FROM payments p WHERE p.invoice_id = i.id) AS paid"
        " FROM invoices i JOIN appointments a ON a.id = i.appointment_id",
    )
    issued = [i for i in invoices if i.status in ("ISSUED", "PARTIALLY_PAID", "PAID")]
    assert len(issued) >= 5 and len(invoices) == summary.invoices_created
    assert sum(i.status == "ISSUED" for i in invoices) >= 5
    for invoice in invoices:
        assert invoice.visit_status == "COMPLETED"
        assert re.fullmatch(r"INV-\d{4}-\d{6}", invoice.invoice_number)
        assert invoice.total_amount == invoice.lines
        assert invoice.insurance_amount == invoice.line_insurance
        assert invoice.total_amount == invoice.insurance_amount + invoice.patient_amount
        assert invoice.total_amount % 1000 == 0 and invoice.issued_at is not None
        if invoice.status == "PAID":
            assert invoice.paid == invoice.patient_amount
        elif invoice.status == "PARTIALLY_PAID":
            assert 0 < invoice.paid < invoice.patient_amount
        else:
            assert invoice.paid == 0
    assert any(i.insurance_amount > 0 for i in invoices)
    counter = _scalar(engine, "SELECT sum(last_number) FROM invoice_counters")
    assert counter == len(invoices)
    receipts = [row[0] for row in _rows(engine, "SELECT receipt_number FROM payments")]
    assert len(receipts) == summary.payments_created > 0
    assert all(re.fullmatch(r"RC-\d{4}-\d{7}", receipt) for receipt in receipts)
    methods = {row[0] for row in _rows(engine, "SELECT method FROM payments")}
    assert methods <= {"cash", "momo", "card", "bank_transfer"}


def test_rerun_adds_no_accounts_doctors_or_patients(engine: Engine) -> None:
    def counts() -> tuple[object, ...]:
        return tuple(
            _scalar(engine, f"SELECT count(*) FROM {table}")
            for table in ("users", "doctors", "patients", "insurance_info", "appointments",
                          "doctor_availabilities", "weekly_schedule_templates", "invoices")
        )  # fmt: skip

    _build(engine)
    before = counts()
    again = _build(engine)
    assert counts() == before
    assert again.accounts_created == again.doctors_created == again.patients_created == 0
    assert again.appointments_created == again.availabilities_created == 0
    assert again.demo_patients == 200


def test_rerun_with_more_patients_adds_the_shortfall(engine: Engine) -> None:
    first = _build(engine, patients=40)
    second = _build(engine, patients=70)
    assert (first.patients_created, second.patients_created, second.demo_patients) == (40, 30, 70)
    codes = [row[0] for row in _rows(engine, "SELECT patient_code FROM patients ORDER BY 1")]
    assert codes == [f"BN-DEMO-{n:06d}" for n in range(1, 71)]
    assert second.appointments_created > 0  # the newcomers get bookings around the old ones
    names = _rows(engine, "SELECT full_name, date_of_birth FROM patients")
    assert len(set(names)) == 70  # the top-up made new people, not copies


def test_progress_is_reported_up_to_done(engine: Engine) -> None:
    seen: list[tuple[str, float]] = []
    _build(engine, patients=30, progress=lambda message, fraction: seen.append((message, fraction)))
    fractions = [fraction for _message, fraction in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    assert all(message for message, _fraction in seen)


def test_copy_path_for_many_patients(engine: Engine) -> None:
    summary = _build(engine, patients=5_000)
    assert summary.used_copy and summary.patients_created == 5_000
    assert _scalar(engine, "SELECT count(*) FROM patients") == 5_000
    share = _scalar(
        engine,
        "SELECT count(DISTINCT patient_id)::float / 5000 FROM insurance_info"
        " WHERE provider_type = 'BHYT'",
    )
    assert 0.6 <= share <= 0.8  # type: ignore[operator]
    assert summary.insurance_created == _scalar(engine, "SELECT count(*) FROM insurance_info")
    invalid = _scalar(
        engine,
        "SELECT count(*) FROM insurance_info i CROSS JOIN validate_bhyt_card(i.bhyt_card_number) v"
        " WHERE i.provider_type = 'BHYT' AND v.is_valid IS NOT TRUE",
    )
    assert invalid == 0
    nguyen = _scalar(engine, "SELECT count(*) FROM patients WHERE search_key LIKE 'nguyen %'")
    assert 0.33 <= nguyen / 5000 <= 0.43  # type: ignore[operator]
    sample = _rows(engine, "SELECT full_name, address FROM patients ORDER BY patient_code LIMIT 20")
    for name, home in sample:
        assert name.split()[0] in FAMILY_NAME_WEIGHTS and len(name.split()) >= 3
        assert unicodedata.normalize("NFC", name) == name
        assert home is None or "," in home
    doan = _rows(engine, "SELECT DISTINCT split_part(full_name, ' ', 1) FROM patients"
                         " WHERE search_key LIKE 'doan %'")  # fmt: skip
    assert {row[0] for row in doan} <= {"Đoàn", "Doãn"} and doan
    assert _scalar(engine, "SELECT count(*) FROM appointments") > 0  # a sample gets bookings


def test_deferred_indexes_come_back_exactly(engine: Engine) -> None:
    query = (
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE tablename IN ('patients', 'insurance_info') ORDER BY 1"
    )
    before = _rows(engine, query)
    with Session(engine) as session:
        with demo_load.indexes_deferred(session):
            inside = session.execute(text(query)).all()
        after = session.execute(text(query)).all()
        session.commit()
    assert len(inside) < len(before)
    assert {name for name, _ in inside} >= {"pk_patients", "uq_patients_patient_code"}
    assert after == before == _rows(engine, query)
