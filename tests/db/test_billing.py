"""Invoices on a real database (issue 8 items 1–3): the worked examples through `preview` and
`issue` on the seeded service codes, gapless numbers, void and reissue, permissions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.domain.copay import Rule
from clinic_tui.models import Appointment, AuditEntry, Doctor, InsuranceInfo, Patient, User
from clinic_tui.services import billing, settings
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.billing import (
    DraftProblem,
    InvalidDraft,
    InvoiceConflict,
    InvoiceDraft,
    ReasonRequired,
)

BEFORE_JULY = date(2026, 6, 15)  # base salary 2,340,000: threshold 351,000
AFTER_JULY = date(2026, 7, 15)  # base salary 2,530,000: threshold 379,500
CARDS = {
    "dn4": ("DN4791234567890", date(2020, 1, 1), date(2030, 12, 31)),
    "ht3": ("HT3791234567891", date(2020, 1, 1), date(2030, 12, 31)),
    "dn2": ("DN2791234567892", date(2020, 1, 1), date(2030, 12, 31)),
    "expired": ("DN4791234567893", date(2020, 1, 1), date(2025, 12, 31)),
}


def add(session: Session, model: Any, **values: Any) -> uuid.UUID:
    table = model.__table__
    return session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


def add_actor(session: Session, role: Role, name: str = "Lê Thu Hà") -> Actor:
    email = f"{role.lower()}.{uuid.uuid4().hex[:10]}@clinic.vn"
    user_id = add(session, User, email=email, password_hash="x", full_name=name, role=role.value)
    return Actor(user_id, email, name, role)


def add_patient(
    session: Session,
    name: str,
    card: str | None = None,
    *,
    five_years_from: date | None = None,
) -> uuid.UUID:
    patient_id = add(
        session,
        Patient,
        patient_code=f"BN{uuid.uuid4().hex[:10].upper()}",
        full_name=name,
        date_of_birth=date(1980, 5, 17),
        gender="MALE",
    )
    if card is not None:
        number, valid_from, valid_to = CARDS[card]
        add(
            session,
            InsuranceInfo,
            patient_id=patient_id,
            provider_type="BHYT",
            bhyt_card_number=number,
            valid_from=valid_from,
            valid_to=valid_to,
            is_primary=True,
            five_year_continuous_from=five_years_from,
        )
    return patient_id


@dataclass
class Desk:
    admin: Actor
    reception: Actor
    therapist: Actor
    patient_user: Actor
    doctor: uuid.UUID
    patients: dict[str, uuid.UUID]

    def draft(
        self, who: str, *lines: tuple[str, int] | str, day: date = AFTER_JULY, **more: Any
    ) -> InvoiceDraft:
        pairs = tuple((line, 1) if isinstance(line, str) else line for line in lines)
        return InvoiceDraft(
            patient_id=self.patients[who],
            service_date=day,
            referred=more.pop("referred", True),
            lines=pairs,
            doctor_id=more.pop("doctor_id", self.doctor),
            **more,
        )


def make_desk(session: Session) -> Desk:
    therapist = add_actor(session, Role.DOCTOR, "Nguyễn Thị Lan")
    doctor = add(
        session,
        Doctor,
        full_name="Nguyễn Thị Lan",
        email=f"{uuid.uuid4().hex[:8]}@c.vn",
        specialization="musculoskeletal",
        user_id=therapist.user_id,
    )
    patients = {card: add_patient(session, f"Nguyễn Văn {card.upper()}", card) for card in CARDS}
    patients["none"] = add_patient(session, "Lê Hoàng Nam")
    return Desk(
        admin=add_actor(session, Role.ADMIN, "Phạm Quản Trị"),
        reception=add_actor(session, Role.RECEPTIONIST, "Trần Thị Lễ Tân"),
        therapist=therapist,
        patient_user=add_actor(session, Role.PATIENT),
        doctor=doctor,
        patients=patients,
    )


@pytest.fixture
def desk(db_session: Session) -> Desk:
    return make_desk(db_session)


def add_code(session: Session, code: str, price: int, bhyt_price: int | None = None) -> None:
    session.execute(
        text(
            "INSERT INTO pt_service_codes (code, name_en, name_vi, category, unit_price,"
            " bhyt_price) VALUES (:code, 'Test service', 'Dịch vụ thử', 'therapy', :p, :b)"
        ),
        {"code": code, "p": price, "b": price if bhyt_price is None else bhyt_price},
    )


# --- service codes ------------------------------------------------------------------------------


def test_service_codes_autocomplete_on_code_and_both_names_without_accents(
    db_session: Session, desk: Desk
) -> None:
    def codes(typed: str, actor: Actor = desk.reception) -> list[str]:
        return [hit.code for hit in billing.service_codes(db_session, actor, typed)]

    assert codes("pt10") == ["PT105", "PT106"]
    assert codes("tap luyen") == ["PT001"]  # Tập luyện trị liệu
    assert codes("đánh giá") == codes("DANH GIA") == ["PT105", "PT106"]
    assert codes("evaluation") == ["PT105", "PT106"]
    assert codes("100%_") == []  # wildcards are literal
    assert len(codes("")) == 8
    assert codes("pt00", desk.therapist) == ["PT001", "PT002", "PT003", "PT004"]  # a lookup
    first = billing.service_codes(db_session, desk.reception, "PT106")[0]
    assert (first.price, first.bhyt_price, first.covered) == (Decimal(350000), 300000, True)
    assert str(first.price) == "350000"  # whole dong, not 350000.00
    with pytest.raises(PermissionDenied):
        billing.service_codes(db_session, desk.patient_user, "pt")


# --- the worked examples -------------------------------------------------------------------------

EXAMPLES = [
    # (card, lines, day, insurance, patient, rules)
    ("dn4", ("PT001", "PT105"), AFTER_JULY, 600_000, 150_000, (Rule.LEVEL,)),
    ("dn4", ("PT003",), AFTER_JULY, 200_000, 0, (Rule.BELOW_THRESHOLD,)),
    ("dn4", ("PT004", "PT201"), AFTER_JULY, 320_000, 80_000, (Rule.LEVEL,)),
    ("dn4", ("TS360",), BEFORE_JULY, 288_000, 72_000, (Rule.LEVEL,)),
    ("dn4", ("TS360",), AFTER_JULY, 360_000, 0, (Rule.BELOW_THRESHOLD,)),
    ("ht3", ("PT001", "PT105"), AFTER_JULY, 712_500, 37_500, (Rule.LEVEL,)),
    ("dn2", ("PT001", "PT105"), AFTER_JULY, 750_000, 0, (Rule.LEVEL,)),
    ("expired", ("PT001", "PT105"), AFTER_JULY, 0, 750_000, (Rule.CARD_NOT_VALID_ON_DATE,)),
    ("none", ("PT001", "PT105"), AFTER_JULY, 0, 750_000, (Rule.NO_CARD,)),
    ("dn4", ("PT106",), AFTER_JULY, 300_000, 50_000, (Rule.BELOW_THRESHOLD,)),
]


@pytest.mark.parametrize(("card", "lines", "day", "insurance", "patient", "rules"), EXAMPLES)
def test_worked_examples_preview_and_issue_alike(
    db_session: Session, desk: Desk, card, lines, day, insurance, patient, rules
) -> None:
    add_code(db_session, "TS360", 360_000)  # a line of 360,000: no seeded code costs that
    draft = desk.draft(card, *lines, day=day)
    shown = billing.preview(db_session, desk.reception, draft)
    assert (shown.insurance, shown.patient, shown.rules) == (insurance, patient, rules)
    assert shown.total == shown.insurance + shown.patient
    assert sum(line.insurance for line in shown.lines) == shown.insurance
    issued = billing.issue(db_session, desk.reception, draft)
    assert (issued.insurance, issued.patient, issued.rules) == (insurance, patient, rules)
    assert [(x.code, x.insurance, x.patient) for x in issued.lines] == [
        (x.code, x.insurance, x.patient) for x in shown.lines
    ]
    assert issued.status == ("PAID" if patient == 0 else "ISSUED")
    assert issued.card_number == (None if card == "none" else CARDS[card][0])


def test_preview_reports_the_settings_and_the_line_above_its_bhyt_price(
    db_session: Session, desk: Desk
) -> None:
    shown = billing.preview(db_session, desk.reception, desk.draft("dn4", "PT106", "PT001"))
    pt106 = shown.lines[0]
    assert (pt106.line_total, pt106.insured_base, pt106.bhyt_price) == (350_000, 300_000, 300_000)
    assert pt106.patient == 350_000 - pt106.insurance  # the 50,000 above the cap is the patient's
    assert pt106.patient >= 50_000
    assert (shown.threshold, shown.base_salary, shown.factor) == (379_500, 2_530_000, 100)
    assert (shown.rate, shown.card_level, shown.card_recognised) == (80, 4, True)
    before = billing.preview(
        db_session, desk.reception, desk.draft("dn4", "PT003", day=BEFORE_JULY)
    )
    assert (before.threshold, before.base_salary) == (351_000, 2_340_000)


def test_self_referred_patient_with_a_50_percent_factor(db_session: Session, desk: Desk) -> None:
    settings.add_dated_value(
        db_session, desk.admin, settings.SELF_REFERRAL_FACTOR, date(2026, 7, 1), Decimal(50)
    )
    draft = desk.draft("dn4", "PT001", "PT105", referred=False)
    shown = billing.preview(db_session, desk.reception, draft)
    assert (shown.insurance, shown.patient, shown.factor) == (300_000, 450_000, 50)
    assert shown.rules == (Rule.LEVEL, Rule.SELF_REFERRED)
    issued = billing.issue(db_session, desk.reception, draft)
    assert (issued.insurance, issued.patient, issued.referred) == (300_000, 450_000, False)
    # Referred, the factor does not apply; before July the factor was 100 %.
    referred = desk.draft("dn4", "PT001", "PT105")
    assert billing.preview(db_session, desk.reception, referred).insurance == 600_000
    early = desk.draft("dn4", "PT001", "PT105", referred=False, day=BEFORE_JULY)
    assert billing.preview(db_session, desk.reception, early).insurance == 600_000


def test_five_continuous_years_after_six_months_of_co_payments(
    db_session: Session, desk: Desk
) -> None:
    holder = add_patient(db_session, "Trần Văn Năm", "dn4", five_years_from=date(2024, 3, 1))
    draft = InvoiceDraft(
        patient_id=holder,
        service_date=AFTER_JULY,
        referred=True,
        lines=(("PT001", 1), ("PT105", 1)),
    )
    assert billing.preview(db_session, desk.reception, draft).insurance == 600_000
    # 160 × 500,000 insured at 80 %: 16,000,000 co-paid, above 6 × 2,530,000 = 15,180,000.
    earlier = InvoiceDraft(
        patient_id=holder, service_date=date(2026, 7, 2), referred=True, lines=(("PT301", 160),)
    )
    first = billing.issue(db_session, desk.reception, earlier)
    assert first.rules == (Rule.LEVEL,)
    shown = billing.preview(db_session, desk.reception, draft)
    assert shown.copay_this_year == 16_000_000
    assert (shown.insurance, shown.patient, shown.rules) == (750_000, 0, (Rule.FIVE_YEARS,))
    # Next year starts again from nothing; a voided invoice's co-payment does not count.
    next_year = InvoiceDraft(
        patient_id=holder,
        service_date=date(2027, 1, 5),
        referred=True,
        lines=(("PT001", 1), ("PT105", 1)),
    )
    assert billing.preview(db_session, desk.reception, next_year).insurance == 600_000
    billing.void(
        db_session, desk.reception, first.id, reason="sai số lượng", expected_version=first.version
    )
    assert billing.preview(db_session, desk.reception, draft).insurance == 600_000
    # Without the five years, the same co-payments change nothing.
    plain = desk.draft("dn4", ("PT301", 160), day=date(2026, 7, 2))
    billing.issue(db_session, desk.reception, plain)
    again = desk.draft("dn4", "PT001", "PT105")
    assert billing.preview(db_session, desk.reception, again).insurance == 600_000


# --- issuing -------------------------------------------------------------------------------------


def test_issuing_gives_consecutive_numbers_and_records_the_invoice(
    db_session: Session, desk: Desk
) -> None:
    first = billing.issue(db_session, desk.reception, desk.draft("dn4", "PT001", ("PT003", 2)))
    second = billing.issue(db_session, desk.admin, desk.draft("none", "PT201"))
    year = db_session.execute(
        text("SELECT extract(year FROM now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::int")
    ).scalar_one()
    prefix, number = first.invoice_number.rsplit("-", 1)
    assert prefix == f"INV-{year}" and len(number) == 6
    assert second.invoice_number == f"INV-{year}-{int(number) + 1:06d}"
    assert [(x.position, x.code, x.quantity, x.line_total) for x in first.lines] == [
        (1, "PT001", 1, 250_000),
        (2, "PT003", 2, 400_000),
    ]
    assert first.lines[1].description == "Vật lý trị liệu"
    assert (first.status, first.doctor_id, first.issued_by) == (
        "ISSUED",
        desk.doctor,
        desk.reception.user_id,
    )
    assert (first.paid, first.balance, first.bhyt_receivable) == (0, first.patient, first.insurance)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(first.id))
    ).one()
    assert (entry.action, entry.user_id) == ("invoice_issued", desk.reception.user_id)
    assert "Nguyễn" not in str(entry.details)  # ids, never patient details
    listed = billing.invoices_for(db_session, desk.reception, patient_id=desk.patients["dn4"])
    assert [s.invoice_number for s in listed] == [first.invoice_number]
    assert listed[0].balance == first.patient
    by_day = billing.invoices_for(db_session, desk.reception, day=AFTER_JULY)
    assert {s.invoice_number for s in by_day} >= {first.invoice_number, second.invoice_number}


def test_issue_recomputes_with_todays_prices_whatever_the_screen_saw(
    db_session: Session, desk: Desk
) -> None:
    draft = desk.draft("none", "PT201")
    assert billing.preview(db_session, desk.reception, draft).total == 150_000
    db_session.execute(
        text(
            "UPDATE pt_service_codes SET unit_price = 160000, bhyt_price = 160000"
            " WHERE code = 'PT201'"
        )
    )
    assert billing.issue(db_session, desk.reception, draft).total == 160_000


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ((), DraftProblem.NO_LINES),
        ((("PT001", 0),), DraftProblem.QUANTITY),
        ((("PT001", True),), DraftProblem.QUANTITY),
        ((("PT001", 1001),), DraftProblem.QUANTITY),
        ((("PT999", 1),), DraftProblem.UNKNOWN_CODE),
        ((("PT002", 1),), DraftProblem.UNKNOWN_CODE),  # retired below
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_numbered(
    db_session: Session, desk: Desk, lines, problem
) -> None:
    db_session.execute(text("UPDATE pt_service_codes SET is_active = false WHERE code = 'PT002'"))
    counters = db_session.execute(text("SELECT count(*) FROM invoices")).scalar_one()
    with pytest.raises(InvalidDraft) as refused:
        billing.issue(db_session, desk.reception, desk.draft("dn4", *lines))
    assert refused.value.problem is problem
    assert db_session.execute(text("SELECT count(*) FROM invoices")).scalar_one() == counters
    with pytest.raises(InvalidDraft) as too_early:  # before the first base salary on record
        billing.preview(
            db_session, desk.reception, desk.draft("dn4", "PT001", day=date(2023, 6, 30))
        )
    assert too_early.value.problem is DraftProblem.SERVICE_DATE
    with pytest.raises(InvalidDraft):
        billing.preview(
            db_session,
            desk.reception,
            InvoiceDraft(
                patient_id=uuid.uuid4(),
                service_date=AFTER_JULY,
                referred=True,
                lines=(("PT001", 1),),
            ),
        )


def test_draft_helpers_build_new_drafts(desk: Desk) -> None:
    draft = desk.draft("dn4").with_line(" pt001 ").with_line("PT003", 2).with_quantity(0, 3)
    assert draft.lines == (("PT001", 3), ("PT003", 2))
    assert draft.without_line(0).lines == (("PT003", 2),)


def test_an_appointment_is_invoiced_once_and_fills_in_the_doctor(
    db_session: Session, desk: Desk
) -> None:
    visit = add(
        db_session,
        Appointment,
        patient_id=desk.patients["dn4"],
        doctor_id=desk.doctor,
        appointment_date=AFTER_JULY,
        start_time=time(9),
        end_time=time(9, 30),
        status="COMPLETED",
    )
    draft = desk.draft("dn4", "PT001", appointment_id=visit, doctor_id=None)
    issued = billing.issue(db_session, desk.reception, draft)
    assert (issued.appointment_id, issued.doctor_id) == (visit, desk.doctor)
    with pytest.raises(InvalidDraft) as twice:
        billing.issue(db_session, desk.reception, draft)
    assert (twice.value.problem, twice.value.detail) == (
        DraftProblem.APPOINTMENT_INVOICED,
        issued.invoice_number,
    )
    with pytest.raises(InvalidDraft) as other:
        billing.issue(db_session, desk.reception, desk.draft("none", "PT001", appointment_id=visit))
    assert other.value.problem is DraftProblem.APPOINTMENT
    billing.void(
        db_session, desk.reception, issued.id, reason="wrong lines", expected_version=issued.version
    )
    assert billing.issue(db_session, desk.reception, draft).appointment_id == visit


# --- void and reissue ----------------------------------------------------------------------------


def test_void_keeps_the_rows_and_reissue_replaces_the_invoice(
    db_session: Session, desk: Desk
) -> None:
    issued = billing.issue(db_session, desk.reception, desk.draft("dn4", "PT001", ("PT105", 1)))
    with pytest.raises(ReasonRequired):
        billing.void(
            db_session, desk.reception, issued.id, reason="  ", expected_version=issued.version
        )
    with pytest.raises(InvoiceConflict):
        billing.void(
            db_session, desk.reception, issued.id, reason="x", expected_version=issued.version + 1
        )
    with pytest.raises(InvalidDraft) as live:
        billing.reissue(db_session, desk.reception, issued.id)
    assert live.value.problem is DraftProblem.REPLACES_NOT_VOID
    voided = billing.void(
        db_session,
        desk.admin,
        issued.id,
        reason=" Nhập  sai dịch vụ ",
        expected_version=issued.version,
    )
    assert (voided.status, voided.void_reason, voided.voided_by) == (
        "VOID",
        "Nhập sai dịch vụ",
        desk.admin.user_id,
    )
    assert voided.voided_by_name == "Phạm Quản Trị" and voided.voided_at is not None
    assert (voided.invoice_number, voided.total, len(voided.lines)) == (
        issued.invoice_number,
        issued.total,
        2,
    )
    with pytest.raises(InvoiceConflict) as again:
        billing.void(db_session, desk.admin, issued.id, reason="x", expected_version=voided.version)
    assert again.value.status == "VOID"

    draft = billing.reissue(db_session, desk.reception, issued.id)
    assert draft.lines == (("PT001", 1), ("PT105", 1))
    assert (draft.patient_id, draft.service_date, draft.replaces_invoice_id) == (
        issued.patient_id,
        issued.service_date,
        issued.id,
    )
    fixed = billing.issue(db_session, desk.reception, draft.without_line(1).with_line("PT003"))
    assert fixed.replaces_invoice_id == issued.id
    assert fixed.invoice_number != issued.invoice_number
    assert billing.invoice_view(db_session, desk.reception, issued.id).replaced_by_id == fixed.id
    with pytest.raises(InvalidDraft) as replaced:
        billing.issue(db_session, desk.reception, draft)
    assert replaced.value.problem is DraftProblem.ALREADY_REPLACED
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(issued.id))
    ).all()
    assert sorted(actions) == ["invoice_issued", "invoice_voided"]


# --- permissions ---------------------------------------------------------------------------------


def test_doctors_and_patients_cannot_issue_or_void(db_session: Session, desk: Desk) -> None:
    draft = desk.draft("dn4", "PT001", "PT105")
    issued = billing.issue(db_session, desk.reception, draft)
    nobody: Any = None  # no one signed in
    for actor in (desk.therapist, desk.patient_user, nobody):
        with pytest.raises(PermissionDenied):
            billing.preview(db_session, actor, draft)
        with pytest.raises(PermissionDenied):
            billing.issue(db_session, actor, draft)
        with pytest.raises(PermissionDenied):
            billing.void(db_session, actor, issued.id, reason="x", expected_version=issued.version)
        with pytest.raises(PermissionDenied):
            billing.reissue(db_session, actor, issued.id)
        with pytest.raises(PermissionDenied):
            billing.invoice_view(db_session, actor, issued.id)
    assert billing.issue(db_session, desk.admin, draft).status == "ISSUED"
