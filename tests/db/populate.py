"""Fill every table of the schema with at least one valid row.

Used to prove that a migration keeps data (count rows before, migrate, count again) and that
`populate_every_table` itself knows every table (tests/db/test_constraints.py). Nothing here
commits: the caller owns the transaction.

Rows are inserted with Core statements over the models' tables, parents first. Values that
must be unique carry a random tag, so the function may run twice on one database; the few
fixed reference keys (object code ZX, province 99, this year's invoice counter) use
ON CONFLICT so a second run still succeeds.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from clinic_tui.models import (
    Appointment,
    AuditEntry,
    Base,
    BhytObjectCodeLevel,
    BhytProvince,
    BhytValidationRule,
    ClinicalProtocol,
    ClinicSetting,
    DatedSetting,
    DischargePlan,
    DischargeSummary,
    Doctor,
    DoctorAvailability,
    InsuranceInfo,
    Invoice,
    InvoiceCounter,
    InvoiceLineItem,
    MedicalTerm,
    OutcomeMeasure,
    OutcomeMeasureDefinition,
    Patient,
    PatientProtocol,
    Payment,
    ScheduleException,
    ServiceCode,
    TreatmentPlan,
    TreatmentSession,
    TwilioWebhookEvent,
    User,
    VideoCallEvent,
    VideoCallSession,
    VisitChecklistItem,
    VisitChecklistResponse,
    VisitChecklistTemplate,
    WeeklyScheduleTemplate,
)

ALL_TABLES: tuple[str, ...] = tuple(table.name for table in Base.metadata.sorted_tables)

# The extra reference rows (the seeds already hold the real ones).
EXTRA_OBJECT_CODE = "ZX"
EXTRA_PROVINCE = "99"
INVOICE_YEAR = 2025
VISIT_DAY = date(2025, 3, 10)  # a Monday; outcome_measures has a partition for 2025
ICT = timezone(timedelta(hours=7))


def vi(text: str) -> str:
    """Vietnamese text as stored: NFC."""
    return unicodedata.normalize("NFC", text)


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows held by every table of the models' metadata (partitioned tables count all years)."""
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }


def _add(connection: Connection, model: Any, **values: Any) -> Any:
    """Insert one row and return its primary key (the first key column)."""
    table: Table = model.__table__
    key = next(iter(table.primary_key.columns))
    return connection.execute(insert(table).values(**values).returning(key)).scalar_one()


def _add_unless_present(connection: Connection, model: Any, **values: Any) -> None:
    connection.execute(pg_insert(model.__table__).values(**values).on_conflict_do_nothing())


def populate_every_table(connection: Connection) -> dict[str, int]:
    """Insert at least one valid row into every table; return each table's row count after."""
    tag = uuid.uuid4().hex[:8]

    # --- reference data: one extra row beside the seeds -------------------------------------
    _add_unless_present(
        connection,
        BhytValidationRule,
        object_code=EXTRA_OBJECT_CODE,
        usual_level=4,
        meaning_vi=vi("Mã thử nghiệm (chỉ dùng trong kiểm thử)"),
        meaning_en="Test code (tests only)",
        is_confirmed=False,
        source="tests/db/populate.py",
        active_from=date(2025, 1, 1),
    )
    _add(
        connection,
        BhytObjectCodeLevel,
        object_code=EXTRA_OBJECT_CODE,
        level=4,
        meaning_en="Test code (tests only)",
        meaning_vi=vi("Mã thử nghiệm (chỉ dùng trong kiểm thử)"),
        is_confirmed=False,
        is_current=True,
        source="tests/db/populate.py",
        active_from=date(2025, 1, 1),
    )
    _add_unless_present(
        connection,
        BhytProvince,
        code=EXTRA_PROVINCE,
        name_vi=vi("Tỉnh thử nghiệm"),
        name_en="Test province",
        is_confirmed=False,
        note="tests only",
    )
    # bhyt_benefit_levels: its key is the level, 1–5 by a check, and the seed holds all five;
    # there is no valid extra row, so the seeded ones stand for it.

    service_code_id = _add(
        connection,
        ServiceCode,
        code=f"PT9{tag[:6]}",
        name_en="Dry needling",
        name_vi=vi("Châm kim khô"),
        category="therapy",
        unit_price=Decimal("250000"),
        bhyt_price=Decimal("200000"),
        bhyt_covered=True,
        duration_minutes=30,
    )
    library_id = _add(
        connection,
        OutcomeMeasureDefinition,
        code=f"T{tag}",
        name_en="Patient-specific pain score",
        name_vi=vi("Điểm đau theo bệnh nhân"),
        description_en="0 no pain, 10 worst pain imaginable.",
        description_vi=vi("0 không đau, 10 đau nhất có thể tưởng tượng."),
        body_region="general",
        min_score=Decimal("0"),
        max_score=Decimal("10"),
        unit="points",
        higher_is_better=False,
        mcid=Decimal("2"),
    )
    protocol_id = _add(
        connection,
        ClinicalProtocol,
        code=f"TEST-NECK-{tag}",
        name_en="Mechanical neck pain",
        name_vi=vi("Đau cổ cơ học"),
        category="musculoskeletal",
        description_en="Graded mobility and strengthening.",
        description_vi=vi("Vận động và tăng cường sức cơ tăng dần."),
        target_icd10_codes=["M54.2", "M47.8"],
        duration_weeks=6,
        sessions_per_week=2,
        session_minutes=45,
        goals=[{"en": "Reduce pain", "vi": vi("Giảm đau")}],
        exercises=[{"phase": "initial", "name_vi": vi("Gập cằm"), "sets": 3, "reps": 10}],
        progression_criteria={"intermediate": "NDI improved by 5 points"},
    )
    term_id = _add(
        connection,
        MedicalTerm,
        term_en="Cervical spondylosis",
        term_vi=vi("Thoái hóa cột sống cổ"),
        aliases=["neck arthritis", vi("thoái hóa đốt sống cổ")],
        category="condition",
        icd10_code="M47.8",
        description_vi=vi("Thoái hóa đĩa đệm và khớp cột sống cổ."),
    )

    # --- people ------------------------------------------------------------------------------
    receptionist_id = _add(
        connection,
        User,
        email=f"le.thi.mai.{tag}@phongkham.vn",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$notarealhash",
        full_name=vi("Lê Thị Mai"),
        role="RECEPTIONIST",
        locale="vi",
    )
    doctor_user_id = _add(
        connection,
        User,
        email=f"tran.duc.minh.{tag}@phongkham.vn",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$notarealhash",
        full_name=vi("Trần Đức Minh"),
        role="DOCTOR",
        locale="vi",
    )
    doctor_id = _add(
        connection,
        Doctor,
        user_id=doctor_user_id,
        full_name=vi("ThS. BS. Trần Đức Minh"),
        email=f"bs.tran.duc.minh.{tag}@phongkham.vn",
        phone="0903123456",
        specialization=vi("Vật lý trị liệu cơ xương khớp"),
        experience_years=12,
        consultation_fee=Decimal("300000"),
        rating=Decimal("4.80"),
        bio=vi("Chuyên điều trị đau cột sống và phục hồi sau chấn thương thể thao."),
        address=vi("12 Nguyễn Thị Minh Khai, Quận 1, TP Hồ Chí Minh"),
    )
    patient_id = _add(
        connection,
        Patient,
        patient_code=f"BN{tag.upper()}",
        full_name=vi("Nguyễn Thị Thu Hà"),
        date_of_birth=date(1978, 11, 23),
        gender="FEMALE",
        phone="0912345678",
        email=f"thuha.{tag}@example.vn",
        national_id="079178001234",
        address=vi("45 Lê Lợi, Phường Bến Thành, TP Hồ Chí Minh"),
        medical_history=vi("Đau cổ vai gáy 2 năm, tăng huyết áp."),
        alerts=vi("Dị ứng penicillin"),
        emergency_contact_name=vi("Phạm Văn Đức"),
        emergency_contact_phone="0987654321",
    )
    _add(
        connection,
        InsuranceInfo,
        patient_id=patient_id,
        provider_type="BHYT",
        provider_name=vi("Bảo hiểm xã hội Việt Nam"),
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
        is_primary=True,
        bhyt_card_number="DN4791234567890",
        bhyt_prefix_code="DN",
        bhyt_benefit_level=4,
        bhyt_coverage_percent=Decimal("80"),
        bhyt_copay_rate=Decimal("20"),
        province_code="79",
        registered_facility_code="79024",
        registered_facility_name=vi("Phòng khám Vật lý trị liệu Sài Gòn"),
        five_year_continuous_from=date(2019, 1, 1),
    )

    # --- scheduling --------------------------------------------------------------------------
    _add(
        connection,
        WeeklyScheduleTemplate,
        doctor_id=doctor_id,
        weekday=1,
        start_time=time(8, 0),
        end_time=time(12, 0),
        slot_minutes=30,
        valid_from=date(2025, 1, 1),
    )
    _add(
        connection,
        ScheduleException,
        doctor_id=doctor_id,
        exception_date=date(2025, 4, 30),
        kind="HOLIDAY",
        reason=vi("Ngày Giải phóng miền Nam"),
    )
    _add(
        connection,
        DoctorAvailability,
        doctor_id=doctor_id,
        date=VISIT_DAY,
        start_time=time(8, 0),
        end_time=time(12, 0),
        source="TEMPLATE",
    )
    appointment_id = _add(
        connection,
        Appointment,
        patient_id=patient_id,
        doctor_id=doctor_id,
        appointment_date=VISIT_DAY,
        start_time=time(9, 0),
        end_time=time(9, 30),
        status="COMPLETED",
        appointment_type="INITIAL_EVALUATION",
        reason=vi("Đau cổ lan xuống vai phải"),
        medical_term_id=term_id,
        is_referred=True,
        checked_in_at=datetime(2025, 3, 10, 8, 52, tzinfo=ICT),
        completed_at=datetime(2025, 3, 10, 9, 31, tzinfo=ICT),
        created_by=receptionist_id,
    )
    template_id = _add(
        connection,
        VisitChecklistTemplate,
        name_en="First visit check-in",
        name_vi=vi("Tiếp đón lần khám đầu"),
    )
    item_id = _add(
        connection,
        VisitChecklistItem,
        template_id=template_id,
        position=1,
        label_en="BHYT card checked",
        label_vi=vi("Đã kiểm tra thẻ BHYT"),
        is_required=True,
    )
    _add(
        connection,
        VisitChecklistResponse,
        appointment_id=appointment_id,
        item_id=item_id,
        is_checked=True,
        note=vi("Thẻ còn hạn đến 31/12/2025"),
        responded_by=receptionist_id,
    )

    # --- clinical ----------------------------------------------------------------------------
    plan_id = _add(
        connection,
        TreatmentPlan,
        patient_id=patient_id,
        doctor_id=doctor_id,
        diagnosis=vi("Thoái hóa cột sống cổ, đau vai gáy"),
        diagnosis_icd10="M47.8",
        goals=vi("Giảm đau VAS từ 7 xuống 3 trong 6 tuần"),
        sessions_per_week=2,
        start_date=VISIT_DAY,
        planned_end_date=date(2025, 4, 21),
    )
    _add(
        connection,
        TreatmentSession,
        treatment_plan_id=plan_id,
        appointment_id=appointment_id,
        therapist_id=doctor_id,
        session_date=VISIT_DAY,
        notes=vi("Kéo giãn cổ, siêu âm trị liệu 10 phút"),
        pain_level=6,
        exercises_done=[{"name_vi": vi("Gập cằm"), "sets": 3, "reps": 10}],
        minutes=30,
    )
    _add(
        connection,
        OutcomeMeasure,
        measured_on=VISIT_DAY,
        patient_id=patient_id,
        library_id=library_id,
        treatment_plan_id=plan_id,
        score=Decimal("7"),
        notes=vi("Đánh giá ban đầu"),
        recorded_by=doctor_user_id,
    )
    _add(
        connection,
        PatientProtocol,
        patient_id=patient_id,
        protocol_id=protocol_id,
        treatment_plan_id=plan_id,
        assigned_by=doctor_user_id,
        start_date=VISIT_DAY,
        current_phase="initial",
        progress_status="IN_PROGRESS",
        progress_notes=[{"date": "2025-03-10", "note_vi": vi("Bắt đầu giai đoạn 1")}],
    )
    discharge_plan_id = _add(
        connection,
        DischargePlan,
        patient_id=patient_id,
        treatment_plan_id=plan_id,
        planned_date=date(2025, 4, 21),
        baseline_comparison=[{"measure": "VAS", "baseline": 7, "latest": 2}],
        home_exercise_program=[{"name_vi": vi("Kéo giãn cơ thang"), "per_day": 2}],
        status="FINAL",
        created_by=doctor_user_id,
    )
    _add(
        connection,
        DischargeSummary,
        discharge_plan_id=discharge_plan_id,
        patient_id=patient_id,
        discharged_on=date(2025, 4, 21),
        summary_en="Pain reduced from VAS 7 to 2; full neck range of motion.",
        summary_vi=vi("Giảm đau từ VAS 7 xuống 2; tầm vận động cổ bình thường."),
        recommendations_vi=vi("Tập bài tập tại nhà mỗi ngày, tái khám sau 1 tháng."),
        outcome_summary=[{"measure": "VAS", "change": -5}],
        created_by=doctor_user_id,
    )

    # --- billing -----------------------------------------------------------------------------
    counter = connection.execute(
        pg_insert(InvoiceCounter.__table__)
        .values(year=INVOICE_YEAR, last_number=1)
        .on_conflict_do_update(
            index_elements=["year"],
            set_={"last_number": InvoiceCounter.__table__.c.last_number + 1},
        )
        .returning(InvoiceCounter.__table__.c.last_number)
    ).scalar_one()
    # Line: 250,000 charged, insured up to the BHYT price 200,000 at 80 % = 160,000.
    invoice_id = _add(
        connection,
        Invoice,
        invoice_number=f"HD{INVOICE_YEAR}-{counter:06d}-{tag[:4]}",
        patient_id=patient_id,
        appointment_id=appointment_id,
        doctor_id=doctor_id,
        service_date=VISIT_DAY,
        status="PAID",
        is_referred=True,
        bhyt_card_number="DN4791234567890",
        coverage_percent=Decimal("80"),
        coverage_rule="LEVEL_4",
        total_amount=Decimal("250000"),
        insurance_amount=Decimal("160000"),
        patient_amount=Decimal("90000"),
        issued_at=datetime(2025, 3, 10, 9, 35, tzinfo=ICT),
        issued_by=receptionist_id,
    )
    _add(
        connection,
        InvoiceLineItem,
        invoice_id=invoice_id,
        service_code_id=service_code_id,
        position=1,
        description=vi("Châm kim khô"),
        quantity=1,
        unit_price=Decimal("250000"),
        bhyt_price=Decimal("200000"),
        line_total=Decimal("250000"),
        insured_base=Decimal("200000"),
        insurance_amount=Decimal("160000"),
        patient_amount=Decimal("90000"),
    )
    _add(
        connection,
        Payment,
        invoice_id=invoice_id,
        appointment_id=appointment_id,
        patient_id=patient_id,
        amount=Decimal("90000"),
        method="cash",
        status="COMPLETED",
        receipt_number=f"PT{INVOICE_YEAR}-{tag}",
        cash_tendered=Decimal("100000"),
        change_given=Decimal("10000"),
        received_by=receptionist_id,
        paid_at=datetime(2025, 3, 10, 9, 36, tzinfo=ICT),
    )

    # --- telehealth --------------------------------------------------------------------------
    room_name = f"visit-{tag}"
    video_session_id = _add(
        connection,
        VideoCallSession,
        appointment_id=appointment_id,
        room_name=room_name,
        room_sid=f"RM{uuid.uuid4().hex}",
        status="COMPLETED",
        started_at=datetime(2025, 3, 10, 9, 0, tzinfo=ICT),
        ended_at=datetime(2025, 3, 10, 9, 25, tzinfo=ICT),
        duration_seconds=1500,
        created_by=doctor_user_id,
    )
    _add(
        connection,
        VideoCallEvent,
        session_id=video_session_id,
        event_type="participant-connected",
        participant_identity=f"patient-{tag}",
        occurred_at=datetime(2025, 3, 10, 9, 0, 5, tzinfo=ICT),
        payload={"ParticipantStatus": "connected"},
    )
    _add(
        connection,
        TwilioWebhookEvent,
        event_type="room-ended",
        room_sid=f"RM{uuid.uuid4().hex}",
        room_name=room_name,
        payload={"StatusCallbackEvent": "room-ended", "RoomDuration": "1500"},
        signature_valid=True,
        received_at=datetime(2025, 3, 10, 9, 25, 2, tzinfo=ICT),
        processed_at=datetime(2025, 3, 10, 9, 25, 3, tzinfo=ICT),
    )

    # --- audit (ids and actions, never patient details) -------------------------------------
    connection.execute(
        insert(AuditEntry.__table__).values(
            user_id=receptionist_id,
            action="invoice.issue",
            entity="invoices",
            entity_id=str(invoice_id),
            details={"status": "PAID"},
        )
    )

    # --- clinic settings: one extra plain value and one dated value ---------------------------
    _add_unless_present(connection, ClinicSetting, key=f"test_{tag}", value={"note": "tests"})
    _add(
        connection,
        DatedSetting,
        key=f"test_{tag}",
        effective_from=date(2027, 1, 1),
        value=Decimal("2700000"),
        source="tests/db/populate.py",
    )

    return table_counts(connection)
