"""Patients (F3): searching by every kind of key, registering with BHYT cards, duplicates,
edit conflicts, and a form that survives a database error."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Input

from tests.ui.conftest import PASSWORD, screen_text, settle, type_text

PATIENTS = [
    # full name, date of birth, phone, national id, card (valid to)
    (
        "Nguyễn Văn An",
        date(1990, 1, 15),
        "0912345678",
        "079090001234",
        "DN4791234567890",
        date(2027, 12, 31),
    ),
    ("Đoàn Văn Hải", date(1985, 6, 2), "0903111222", None, None, None),
    ("Doãn Thị Mai", date(1978, 3, 9), "0987654321", None, "HT3011234500001", date(2025, 1, 31)),
    ("Trần Thị Bích", date(1962, 11, 30), "02838123456", None, None, None),
]


def _seed_patients(url: str) -> dict[str, str]:
    engine = create_engine(url)
    codes: dict[str, str] = {}
    try:
        with engine.begin() as conn:
            for index, (name, born, phone, national_id, card, valid_to) in enumerate(PATIENTS):
                code = f"BN-2026-{index + 1:06d}"
                patient_id = conn.execute(
                    text(
                        "INSERT INTO patients (patient_code, full_name, date_of_birth, gender,"
                        " phone, national_id) VALUES (:code, :name, :born, 'OTHER', :phone, :nid) "
                        "RETURNING id"
                    ),
                    {"code": code, "name": name, "born": born, "phone": phone, "nid": national_id},
                ).scalar_one()
                codes[name] = code
                if card:
                    conn.execute(
                        text(
                            "INSERT INTO insurance_info (patient_id, provider_type,"
                            " bhyt_card_number, bhyt_prefix_code, bhyt_benefit_level, "
                            "province_code, valid_from, valid_to) "
                            "VALUES (:pid, 'BHYT', :card, :prefix, :level, :province, "
                            "DATE '2024-01-01', :to)"
                        ),
                        {
                            "pid": patient_id,
                            "card": card,
                            "prefix": card[:2],
                            "level": int(card[2]),
                            "province": card[3:5],
                            "to": valid_to,
                        },
                    )
    finally:
        engine.dispose()
    return codes


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


async def _signed_in(app, pilot, email: str = "reception@clinic.vn") -> None:
    await settle(app, pilot)
    app.screen.query_one("#email", Input).focus()
    await type_text(pilot, email)
    await pilot.press("enter")
    await type_text(pilot, PASSWORD)
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("f3")
    await settle(app, pilot)
    assert app.screen.id == "patients"


async def _search(app, pilot, query: str) -> list[str]:
    box = app.screen.query_one("#patient-query", Input)
    box.value = ""
    box.focus()
    await type_text(pilot, query)
    await pilot.pause(0.3)
    await settle(app, pilot)
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("nguyen van an", ["Nguyễn Văn An"]),
        ("an nguyen", ["Nguyễn Văn An"]),
        ("NGUYỄN văn AN", ["Nguyễn Văn An"]),
        ("0912", ["Nguyễn Văn An"]),
        ("+84 912 345", ["Nguyễn Văn An"]),
        ("BN-2026-000004", ["Trần Thị Bích"]),
        ("079090001234", ["Nguyễn Văn An"]),
        ("DN 4 79 1234567890", ["Nguyễn Văn An"]),
    ],
)
async def test_search_by_every_kind(app_factory, staff, db_url, query, expected) -> None:
    staff()
    _seed_patients(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        assert await _search(app, pilot, query) == expected


async def test_doan_finds_both_spellings_with_their_accents(app_factory, staff, db_url) -> None:
    staff()
    _seed_patients(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        names = await _search(app, pilot, "doan")
        assert sorted(names) == ["Doãn Thị Mai", "Đoàn Văn Hải"]
        assert "✗ HT3011234500001" in screen_text(app) or any(
            "HT3011234500001" in str(cell)
            for cell in app.screen.query_one(DataTable).get_row_at(names.index("Doãn Thị Mai"))
        )


async def _fill(pilot, app, values: dict[str, str]) -> None:
    from clinic_tui.ui.widgets.fields import ChoiceField

    values = dict(values)
    gender = values.pop("gender", None)
    if gender:
        app.screen.query_one(ChoiceField).set_value(gender)
    for field_id, value in values.items():
        widget = app.screen.query_one(f"#{field_id}", Input)
        widget.focus()
        widget.value = ""
        await type_text(pilot, value)
    await pilot.pause()


async def _new_patient_form(app, pilot) -> None:
    await pilot.press("ctrl+n")
    await settle(app, pilot)
    assert app.screen.has_class("patient-form")


async def test_register_with_a_valid_card(app_factory, staff, db_url) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(
            pilot,
            app,
            {
                "full_name": "Phạm Thị Hồng",
                "date_of_birth": "03/15/1988",
                "gender": "FEMALE",
                "phone": "0913 222 333",
                "card_number": "dn4 79 1234567891",
                "card_valid_from": "01/01/2026",
                "card_valid_to": "12/31/2026",
            },
        )
        shown = screen_text(app)
        assert "DN 4 79 1234567891" in shown
        assert "80 %" in shown and "20 %" in shown
        assert "Ho Chi Minh City" in shown
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Saved" in screen_text(app)
    rows = _rows(
        db_url,
        "SELECT p.full_name, p.phone, i.bhyt_card_number, p.patient_code "
        "FROM patients p JOIN insurance_info i ON i.patient_id = p.id",
    )
    assert rows[0][:3] == ("Phạm Thị Hồng", "0913222333", "DN4791234567891")
    assert str(rows[0][3]).startswith("BN-")


async def test_invalid_card_is_explained_and_nothing_is_saved(app_factory, staff, db_url) -> None:
    staff(locale="vi")
    app = app_factory(lang="vi")
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(
            pilot,
            app,
            {
                "full_name": "Phạm Thị Hồng",
                "date_of_birth": "15/03/1988",
                "card_number": "DN9001234567890",
            },
        )
        shown = screen_text(app)
        assert "mức hưởng" in shown.lower() or "1 đến 5" in shown
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert _rows(db_url, "SELECT count(*) FROM patients") == [(0,)]


async def test_expired_card_is_stored_and_flagged(app_factory, staff, db_url) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(
            pilot,
            app,
            {
                "full_name": "Lý Văn Tài",
                "date_of_birth": "1/2/1950",
                "gender": "MALE",
                "card_number": "HT3011234567892",
                "card_valid_from": "01/01/2024",
                "card_valid_to": "12/31/2024",
            },
        )
        assert "EXPIRED" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert _rows(db_url, "SELECT bhyt_card_number, valid_to FROM insurance_info") == [
        ("HT3011234567892", date(2024, 12, 31))
    ]


async def test_ten_digit_card_with_its_parts(app_factory, staff, db_url) -> None:
    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(
            pilot,
            app,
            {
                "full_name": "Võ Thị Sáu",
                "date_of_birth": "05/20/1999",
                "gender": "FEMALE",
                "card_number": "0123456789",
            },
        )
        assert "enter the object code" in screen_text(app)
        await _fill(
            pilot,
            app,
            {
                "card_object_code": "gd",
                "card_level": "4",
                "card_province": "48",
                "card_valid_from": "01/01/2026",
                "card_valid_to": "12/31/2026",
            },
        )
        assert "GD 4 48 0123456789" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert _rows(db_url, "SELECT bhyt_card_number FROM insurance_info") == [("GD4480123456789",)]


async def test_similar_patient_warning_opens_the_existing_record(
    app_factory, staff, db_url
) -> None:
    staff()
    _seed_patients(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(pilot, app, {"full_name": "nguyen van an", "date_of_birth": "01/15/1990"})
        await pilot.pause(0.5)
        await settle(app, pilot)
        assert "Similar patients" in screen_text(app)
        similar = app.screen.query_one("#similar-patients")
        similar.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.has_class("patient-form")
        assert app.screen.query_one("#full_name", Input).value == "Nguyễn Văn An"
    assert _rows(db_url, "SELECT count(*) FROM patients") == [(len(PATIENTS),)]


async def test_card_already_on_another_patient_warns(app_factory, staff, db_url) -> None:
    staff()
    _seed_patients(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(pilot, app, {"full_name": "Bùi Văn Khánh", "card_number": "DN4791234567890"})
        await pilot.pause(0.5)
        await settle(app, pilot)
        assert "Possible duplicate" in screen_text(app)
        assert "Nguyễn Văn An" in screen_text(app)


async def test_second_save_of_a_changed_record_is_refused(app_factory, staff, db_url) -> None:
    staff()
    _seed_patients(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _search(app, pilot, "tran thi bich")
        app.screen.query_one(DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.query_one("#full_name", Input).value == "Trần Thị Bích"
        # Another terminal saves the same patient meanwhile.
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE patients SET address = 'Q.3', version = version + 1 "
                    "WHERE full_name = 'Trần Thị Bích'"
                )
            )
        engine.dispose()
        await _fill(pilot, app, {"phone": "0909000111"})
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Changed since you opened it" in screen_text(app)
    assert _rows(
        db_url, "SELECT phone, address FROM patients WHERE full_name = 'Trần Thị Bích'"
    ) == [("02838123456", "Q.3")]


async def test_database_error_keeps_the_form(app_factory, staff, db_url) -> None:
    from clinic_tui.db.engine import Database

    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(
            pilot,
            app,
            {"full_name": "Hồ Thị Lan", "date_of_birth": "07/07/1977", "gender": "FEMALE"},
        )
        working = app.database
        app.database = Database("postgresql+psycopg://postgres:x@127.0.0.1:9/clinic")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "cannot be reached" in screen_text(app)
        assert app.screen.query_one("#full_name", Input).value == "Hồ Thị Lan"
        app.database.close()
        app.database = working
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Saved" in screen_text(app)
    assert _rows(db_url, "SELECT full_name FROM patients") == [("Hồ Thị Lan",)]


async def test_doctor_reads_but_cannot_edit(app_factory, staff, db_url) -> None:
    staff("bs.minh@clinic.vn", role="DOCTOR", full_name="Lê Minh")
    _seed_patients(db_url)
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot, "bs.minh@clinic.vn")
        await _search(app, pilot, "tran thi bich")
        app.screen.query_one(DataTable).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.query_one("#full_name", Input).disabled
        await pilot.press("ctrl+n")  # no new-patient for doctors
        await settle(app, pilot)
    actions = [a for (a,) in _rows(db_url, "SELECT action FROM audit_log ORDER BY id")]
    assert "patient_opened" in actions


async def test_gender_left_unchosen_is_reported_not_sent_as_text(
    app_factory, staff, db_url
) -> None:
    from clinic_tui.ui.widgets.fields import ChoiceField

    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        choice = app.screen.query_one(ChoiceField)
        assert choice.value == ""
        choice.set_value("FEMALE")
        assert choice.value == "FEMALE"
        choice.set_value(None)
        assert choice.value == ""
        await _fill(pilot, app, {"full_name": "Mai Thị Lan", "date_of_birth": "02/02/1992"})
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Choose male, female or other." in screen_text(app) or "Required." in screen_text(
            app
        )
    assert _rows(db_url, "SELECT count(*) FROM patients") == [(0,)]


async def test_typed_text_is_dropped_only_after_a_yes(app_factory, staff, db_url) -> None:
    """Esc and the screen keys ask before leaving a form with typing in it; "Keep editing"
    leaves every character in place, "Discard and leave" goes, and nothing is saved."""
    staff()
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _signed_in(app, pilot)
        await _new_patient_form(app, pilot)
        await _fill(pilot, app, {"full_name": "Lê Văn Tâm", "phone": "0913 444 555"})
        form = app.screen
        for leave in ("escape", "f1"):
            await pilot.press(leave)
            await settle(app, pilot)
            assert "Leave this form and lose what was typed?" in screen_text(app)
            await pilot.click("#answer-stay")
            await settle(app, pilot)
            assert app.screen is form
            assert form.query_one("#full_name", Input).value == "Lê Văn Tâm"
            assert form.query_one("#phone", Input).value == "0913 444 555"
        await pilot.press("f1")
        await settle(app, pilot)
        await pilot.click("#answer-discard")
        await settle(app, pilot)
        assert app.screen.id == "today"
    assert _rows(db_url, "SELECT count(*) FROM patients") == [(0,)]
