"""Reference data on a real database (issue 9 item 8): service codes, BHYT rules, clinic
settings and dated values; refusals explained per field and writing nothing; a new base salary
used by the invoice split from its date only; every change audited; admins only."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry, InsuranceInfo
from clinic_tui.services import billing, reference, settings
from clinic_tui.services import reference_checks as checks
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.billing import InvoiceDraft
from clinic_tui.services.reference_checks import ReferenceConflict, ReferenceDataError
from tests.db.test_billing import add, add_actor, add_patient

NEW_CODE = {
    "code": "pt 401", "name_en": "Dry Needling", "name_vi": "Châm kim khô",
    "category": "therapy", "price": "350.000 ₫", "bhyt_price": "300,000",
    "covered": True, "duration_minutes": "30",
}  # fmt: skip


@pytest.fixture
def admin(db_session: Session) -> Actor:
    return add_actor(db_session, Role.ADMIN, "Phạm Quản Trị")


def snapshot(session: Session) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    tables = ("pt_service_codes", "bhyt_validation_rules", "bhyt_object_code_levels",
              "clinic_settings", "dated_settings", "audit_log")  # fmt: skip
    return {
        table: sorted(map(str, session.execute(text(f"SELECT * FROM {table}")).all()))
        for table in tables
    }


def audits(session: Session, action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(session.scalars(query))


def refused(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ReferenceDataError) as caught:
        call(*args, **kwargs)
    return caught.value.problems


# --- service codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("250000", Decimal(250_000)),
        ("250.000", Decimal(250_000)),
        ("250,000", Decimal(250_000)),
        ("1.250.000 ₫", Decimal(1_250_000)),
        ("₫1,250,000", Decimal(1_250_000)),
        ("250.000đ", Decimal(250_000)),
        ("250000.5", Decimal("250000.5")),  # kept, for the caller to refuse as not whole
        ("1.250,000", None),  # two kinds of separator
        ("25O000", None),
        ("-5", None),
        ("", None),
        (True, None),
    ],
)
def test_amounts_as_typed(typed: object, amount: Decimal | None) -> None:
    assert checks.parse_amount(typed) == amount  # type: ignore[arg-type]


def test_list_filters_by_code_or_either_name_without_accents(
    db_session: Session, admin: Actor
) -> None:
    every = reference.list_service_codes(db_session, admin)
    assert [row.code for row in every][:4] == ["PT001", "PT002", "PT003", "PT004"]
    assert len(every) == 8
    assert [r.code for r in reference.list_service_codes(db_session, admin, "danh gia")] == [
        "PT105", "PT106"]  # fmt: skip
    assert [r.code for r in reference.list_service_codes(db_session, admin, "HOME")] == ["PT301"]
    assert [r.code for r in reference.list_service_codes(db_session, admin, "tap di")] == ["PT004"]
    assert reference.list_service_codes(db_session, admin, "%") == []
    pt106 = next(row for row in every if row.code == "PT106")
    assert (pt106.price, pt106.bhyt_price, pt106.covered, pt106.active) == (
        350_000, 300_000, True, True)  # fmt: skip


def test_create_a_code_typed_with_separators_is_billable_and_audited(
    db_session: Session, admin: Actor
) -> None:
    row = reference.create_service_code(db_session, admin, **NEW_CODE)
    assert (row.code, row.price, row.bhyt_price, row.duration_minutes) == (
        "PT401", 350_000, 300_000, 30)  # fmt: skip
    assert str(row.price) == "350000"  # whole dong, no ".00"
    assert "PT401" in billing.services_by_code(db_session, ["pt401"])
    [entry] = audits(db_session, "service_code_created")
    assert (entry.user_id, entry.entity_id) == (admin.user_id, str(row.id))
    assert entry.details["code"] == "PT401"
    assert entry.details["after"]["price"] == 350_000
    assert entry.details["after"]["name_vi"] == "Châm kim khô"


def test_refused_codes_say_why_per_field_and_write_nothing(
    db_session: Session, admin: Actor
) -> None:
    before = snapshot(db_session)
    problems = refused(
        reference.create_service_code, db_session, admin, code="1X", name_en="  ",
        name_vi="Châm kim", category="surgery", price="250000.5", bhyt_price="abc",
        duration_minutes="0",
    )  # fmt: skip
    assert problems == {
        "code": checks.CODE_FORMAT, "name_en": checks.REQUIRED,
        "category": checks.CATEGORY, "price": checks.WHOLE_DONG,
        "bhyt_price": checks.AMOUNT, "duration_minutes": checks.DURATION,
    }  # fmt: skip
    above = refused(reference.create_service_code, db_session, admin,
                    **{**NEW_CODE, "bhyt_price": "400000"})  # fmt: skip
    assert above == {"bhyt_price": checks.BHYT_ABOVE_PRICE}
    for price, problem in (("-5", checks.AMOUNT), ("", checks.REQUIRED),
                           (Decimal("1e11"), checks.TOO_LARGE)):  # fmt: skip
        assert refused(reference.create_service_code, db_session, admin,
                       **{**NEW_CODE, "price": price}) == {"price": problem}  # fmt: skip
    assert snapshot(db_session) == before


def test_a_taken_code_is_a_field_error_and_the_transaction_goes_on(
    db_session: Session, admin: Actor
) -> None:
    before = snapshot(db_session)
    problems = refused(reference.create_service_code, db_session, admin,
                       **{**NEW_CODE, "code": "pt001"})  # fmt: skip
    assert problems == {"code": checks.CODE_TAKEN}
    assert snapshot(db_session) == before  # the savepoint is gone, the session still works
    assert reference.create_service_code(db_session, admin, **NEW_CODE).code == "PT401"


def test_update_prices_and_retire_audited_with_before_and_after(
    db_session: Session, admin: Actor
) -> None:
    [pt001] = reference.list_service_codes(db_session, admin, "PT001")
    edit = {
        "name_en": pt001.name_en, "name_vi": pt001.name_vi, "category": pt001.category,
        "price": "275.000", "bhyt_price": pt001.bhyt_price, "covered": pt001.covered,
        "duration_minutes": pt001.duration_minutes, "active": True,
    }  # fmt: skip
    saved = reference.update_service_code(db_session, admin, pt001.id, **edit,
                                          expected_version=pt001.version)  # fmt: skip
    assert (saved.price, saved.version) == (275_000, pt001.version + 1)
    assert billing.services_by_code(db_session, ["PT001"])["PT001"].price == 275_000
    [entry] = audits(db_session, "service_code_updated")
    assert entry.details == {"code": "PT001", "before": {"price": 250_000},
                             "after": {"price": 275_000}}  # fmt: skip
    # Saved from a stale screen: refused, nothing overwritten.
    with pytest.raises(ReferenceConflict):
        reference.update_service_code(db_session, admin, pt001.id, **{**edit, "price": 260_000},
                                      expected_version=pt001.version)  # fmt: skip
    # Nothing changed: nothing written, nothing audited.
    same = reference.update_service_code(db_session, admin, pt001.id, **edit)
    assert same.version == saved.version
    assert len(audits(db_session, "service_code_updated")) == 1
    # A refused edit leaves the row and the log as they were.
    before = snapshot(db_session)
    assert refused(reference.update_service_code, db_session, admin, pt001.id,
                   **{**edit, "bhyt_price": "300000"}) == {
        "bhyt_price": checks.BHYT_ABOVE_PRICE}  # fmt: skip
    assert snapshot(db_session) == before
    retired = reference.update_service_code(
        db_session, admin, pt001.id, **{**edit, "active": False}
    )
    assert not retired.active
    assert "PT001" not in billing.services_by_code(db_session, ["PT001"])
    assert retired in reference.list_service_codes(db_session, admin, "PT001")


# --- BHYT rules ------------------------------------------------------------------------------


def card_valid(session: Session, number: str) -> bool:
    query = text("SELECT is_valid FROM validate_bhyt_card(:n)")
    return bool(session.execute(query, {"n": number}).scalar_one())


def test_add_a_rule_then_disable_and_enable_it(db_session: Session, admin: Actor) -> None:
    assert not card_valid(db_session, "ZZ4791234567890")
    rule = reference.add_bhyt_rule(
        db_session, admin, object_code="zz", usual_level="4", meaning_vi="Đối tượng thử",
        meaning_en="Test group", source="QĐ thử", active_from=date(2025, 1, 1),
    )  # fmt: skip
    assert (rule.object_code, rule.usual_level, rule.active, rule.confirmed) == ("ZZ", 4, True,
                                                                                 False)  # fmt: skip
    assert rule in reference.list_bhyt_rules(db_session, admin)
    assert card_valid(db_session, "ZZ4791234567890")
    level = db_session.execute(text("SELECT level, is_current FROM bhyt_object_code_levels"
                                    " WHERE object_code = 'ZZ'")).one()  # fmt: skip
    assert tuple(level) == (4, True)
    off = reference.set_bhyt_rule_active(db_session, admin, rule.id, False)
    assert not off.active and not card_valid(db_session, "ZZ4791234567890")
    assert reference.set_bhyt_rule_active(db_session, admin, rule.id, True).active
    assert card_valid(db_session, "ZZ4791234567890")
    [added] = audits(db_session, "bhyt_rule_added")
    assert added.details["object_code"] == "ZZ" and added.details["after"]["usual_level"] == 4
    [disabled] = audits(db_session, "bhyt_rule_disabled")
    assert disabled.details["before"] == {"active": True}
    assert disabled.details["after"] == {"active": False}
    assert len(audits(db_session, "bhyt_rule_enabled")) == 1
    # Enabling an enabled rule changes nothing and logs nothing.
    reference.set_bhyt_rule_active(db_session, admin, rule.id, True)
    assert len(audits(db_session, "bhyt_rule_enabled")) == 1


def test_refused_rules_write_nothing(db_session: Session, admin: Actor) -> None:
    before = snapshot(db_session)
    assert refused(reference.add_bhyt_rule, db_session, admin, object_code="D1",
                   usual_level="6", meaning_vi="", meaning_en="x",
                   active_from=date(2026, 1, 2), active_to=date(2026, 1, 1)) == {
        "object_code": checks.OBJECT_CODE, "usual_level": checks.LEVEL,
        "meaning_vi": checks.REQUIRED, "active_to": checks.DATE_ORDER,
    }  # fmt: skip
    assert refused(reference.add_bhyt_rule, db_session, admin, object_code="dn",
                   usual_level=4, meaning_vi="Trùng", meaning_en="Twin") == {
        "object_code": checks.OBJECT_CODE_TAKEN}  # fmt: skip
    assert snapshot(db_session) == before


# --- clinic settings -------------------------------------------------------------------------

CLINIC = {
    "name": "  Phòng khám  An Khang ", "address": "12 Lê Lợi, Quận 1", "phone": "028 3829 1234",
    "slot_minutes": "20", "opening_from": time(7, 0), "opening_to": time(18, 30),
}  # fmt: skip


def test_clinic_settings_saved_and_audited_once_with_what_changed(
    db_session: Session, admin: Actor
) -> None:
    old = reference.get_clinic_settings(db_session, admin)
    info = reference.update_clinic_settings(db_session, admin, **CLINIC)
    assert (info.name, info.address, info.phone, info.slot_minutes) == (
        "Phòng khám An Khang", "12 Lê Lợi, Quận 1", "02838291234", 20)  # fmt: skip
    assert (info.opening_from, info.opening_to) == ("07:00", "18:30")
    assert settings.clinic_info(db_session) == info
    [entry] = audits(db_session, "settings_changed")
    changes = entry.details["changes"]
    assert changes["clinic_name"] == {"before": old.name, "after": "Phòng khám An Khang"}
    assert changes["slot_minutes"] == {"before": 30, "after": 20}
    assert changes["opening_hours"]["after"] == {"from": "07:00", "to": "18:30"}
    reference.update_clinic_settings(db_session, admin, **{**CLINIC, "address": "14 Lê Lợi"})
    [_, second] = audits(db_session, "settings_changed")
    assert list(second.details["changes"]) == ["clinic_address"]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("name", " ", checks.REQUIRED),
        ("phone", "12345", checks.PHONE),
        ("slot_minutes", "25", checks.SLOT),  # 1440 / 25 is not whole
        ("slot_minutes", "half an hour", checks.SLOT),
        ("slot_minutes", "300", checks.SLOT),
        ("opening_to", time(7, 0), checks.HOURS_ORDER),
    ],
)
def test_refused_settings_write_nothing(
    db_session: Session, admin: Actor, field: str, value: object, problem: str
) -> None:
    before = snapshot(db_session)
    problems = refused(reference.update_clinic_settings, db_session, admin,
                       **{**CLINIC, field: value})  # fmt: skip
    assert problems == {field: problem}
    assert snapshot(db_session) == before


# --- dated values ----------------------------------------------------------------------------


def test_history_lists_the_seeded_values_with_their_source(
    db_session: Session, admin: Actor
) -> None:
    history = reference.dated_history(db_session, admin, reference.BASE_SALARY)
    assert [(e.effective_from, e.value) for e in history] == [
        (date(2023, 7, 1), 1_800_000), (date(2024, 7, 1), 2_340_000),
        (date(2026, 7, 1), 2_530_000)]  # fmt: skip
    assert history[1].source == "Nghị định 73/2024/NĐ-CP" and history[1].created_by is None
    with pytest.raises(ValueError):
        reference.dated_history(db_session, admin, "clinic_name")


def test_a_future_base_salary_is_used_from_its_date_only(db_session: Session, admin: Actor) -> None:
    reception = add_actor(db_session, Role.RECEPTIONIST)
    patient = add_patient(db_session, "Trần Văn Bình")
    add(db_session, InsuranceInfo, patient_id=patient, provider_type="BHYT", is_primary=True,
        bhyt_card_number="DN4791234567899", valid_from=date(2020, 1, 1),
        valid_to=date(2099, 12, 31))  # fmt: skip
    future = date.today() + timedelta(days=60)
    entry = reference.add_dated_setting(db_session, admin, reference.BASE_SALARY,
                                        effective_from=future, value="3.000.000",
                                        source="Nghị định thử")  # fmt: skip
    assert (entry.value, entry.created_by) == (3_000_000, "Phạm Quản Trị")

    def split(day: date) -> billing.InvoicePreview:
        draft = InvoiceDraft(patient_id=patient, service_date=day, referred=True,
                             lines=(("PT003", 2),))  # fmt: skip
        return billing.preview(db_session, reception, draft)

    # 400,000 insured at level 4: 80 % above 15 % of the base salary, 100 % below it.
    day_before, on_the_day = split(future - timedelta(days=1)), split(future)
    assert (day_before.base_salary, day_before.threshold) == (2_530_000, 379_500)
    assert (day_before.rate, day_before.insurance, day_before.patient) == (80, 320_000, 80_000)
    assert (on_the_day.base_salary, on_the_day.threshold) == (3_000_000, 450_000)
    assert (on_the_day.rate, on_the_day.insurance, on_the_day.patient) == (100, 400_000, 0)
    [audit_entry] = audits(db_session, "dated_setting_added")
    assert audit_entry.entity_id == reference.BASE_SALARY
    assert audit_entry.details == {"effective_from": future.isoformat(),
                                   "before": "2530000.00", "after": "3000000"}  # fmt: skip


def test_dated_values_refused_write_nothing(db_session: Session, admin: Actor) -> None:
    before = snapshot(db_session)
    salary = reference.BASE_SALARY
    for value in ("0", "-1", Decimal(0), "2.530.000,5"):
        problems = refused(reference.add_dated_setting, db_session, admin, salary,
                           effective_from=date(2030, 1, 1), value=value)  # fmt: skip
        assert set(problems) == {"value"}
    assert refused(reference.add_dated_setting, db_session, admin, salary,
                   effective_from=date(2026, 7, 1), value="2600000") == {
        "effective_from": checks.DATE_TAKEN}  # fmt: skip
    for value in ("101", "-5", "50.555", "abc"):
        assert refused(reference.add_dated_setting, db_session, admin,
                       reference.SELF_REFERRAL_FACTOR, effective_from=date(2030, 1, 1),
                       value=value) == {"value": checks.PERCENT}  # fmt: skip
    assert snapshot(db_session) == before
    # A facility level where self-referred patients get nothing is real (DESIGN §5.2).
    zero = reference.add_dated_setting(db_session, admin, reference.SELF_REFERRAL_FACTOR,
                                       effective_from=date(2030, 1, 1), value="0 %")  # fmt: skip
    assert zero.value == 0


def test_a_date_taken_meanwhile_is_refused_by_the_constraint(
    db_session: Session, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another admin's value for the same date, as if it landed between the check and the insert.
    settings.add_dated_value(db_session, admin, reference.BASE_SALARY, date(2031, 1, 1),
                             Decimal(3_100_000))  # fmt: skip
    monkeypatch.setattr(settings, "history", lambda session, key: ())
    problems = refused(reference.add_dated_setting, db_session, admin, reference.BASE_SALARY,
                       effective_from=date(2031, 1, 1), value=3_200_000)  # fmt: skip
    monkeypatch.undo()
    assert problems == {"effective_from": checks.DATE_TAKEN}
    values = reference.dated_history(db_session, admin, reference.BASE_SALARY)
    assert [e.value for e in values if e.effective_from == date(2031, 1, 1)] == [3_100_000]


# --- who may ---------------------------------------------------------------------------------

OPERATIONS = {
    "list_service_codes": lambda s, a: reference.list_service_codes(s, a),
    "create_service_code": lambda s, a: reference.create_service_code(s, a, **NEW_CODE),
    "update_service_code": lambda s, a: reference.update_service_code(
        s, a, uuid.uuid4(), name_en="x", name_vi="x", category="therapy", price=1,
        bhyt_price=None, covered=True, duration_minutes=30, active=True),
    "list_bhyt_rules": lambda s, a: reference.list_bhyt_rules(s, a),
    "add_bhyt_rule": lambda s, a: reference.add_bhyt_rule(
        s, a, object_code="ZZ", usual_level=4, meaning_vi="x", meaning_en="x"),
    "set_bhyt_rule_active": lambda s, a: reference.set_bhyt_rule_active(s, a, uuid.uuid4(), False),
    "get_clinic_settings": lambda s, a: reference.get_clinic_settings(s, a),
    "update_clinic_settings": lambda s, a: reference.update_clinic_settings(s, a, **CLINIC),
    "therapists_off_the_rows": lambda s, a: reference.therapists_off_the_rows(
        s, a, today=date(2026, 1, 5)),
    "dated_history": lambda s, a: reference.dated_history(s, a, reference.BASE_SALARY),
    "add_dated_setting": lambda s, a: reference.add_dated_setting(
        s, a, reference.BASE_SALARY, effective_from=date(2030, 1, 1), value=3_000_000),
}  # fmt: skip


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.DOCTOR])
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_only_admins_keep_reference_data(db_session: Session, role: Role, operation: str) -> None:
    actor = add_actor(db_session, role)
    before = snapshot(db_session)
    with pytest.raises(PermissionDenied):
        OPERATIONS[operation](db_session, actor)
    assert snapshot(db_session) == before
