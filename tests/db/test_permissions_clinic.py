"""Role-matrix rows for the front desk and the clinic: patients, search, availability,
appointments, medical terms, protocols (the matrix itself runs in tests/db/test_permissions.py).

Each operation builds the data it needs inside the test's rolled-back transaction, with a
separate administrator for the setup steps, so the call under test really runs when allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from clinic_tui.models import Doctor, DoctorAvailability, Patient, User, WeeklyScheduleTemplate
from clinic_tui.services import appointments, patient_search, patients, protocols, scheduling, terms
from clinic_tui.services.access import Actor, Permission, PermissionDenied, Role

Operation = Callable[[Session, Actor], object]
Need = Permission | frozenset[Permission]

_soon = date.today() + timedelta(days=21)
DAY = _soon - timedelta(days=_soon.weekday())  # a Monday a few weeks ahead
BEFORE_DAY = datetime.combine(DAY, time(7, 0))  # a `now` early that morning
OPEN = (time(8, 0), time(12, 0))


def add(session: Session, model: Any, **values: Any) -> uuid.UUID:
    table = model.__table__
    return session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


def add_user(session: Session, role: Role, name: str = "Phạm Thu Trang") -> Actor:
    email = f"{role.lower()}.{uuid.uuid4().hex[:10]}@clinic.vn"
    user_id = add(session, User, email=email, password_hash="x", full_name=name, role=role.value)
    return Actor(user_id, email, name, role)


def setup_admin(session: Session) -> Actor:
    """Who prepares the data an operation needs; never the actor under test."""
    return add_user(session, Role.ADMIN, "Quản Trị Dữ Liệu")


def add_patient(session: Session, name: str = "Ngô Thị Hoa") -> uuid.UUID:
    return add(
        session,
        Patient,
        patient_code=f"BN-R-{uuid.uuid4().hex[:10]}",
        full_name=name,
        date_of_birth=date(1980, 2, 3),
        gender="FEMALE",
        phone="0912345678",
    )


def add_doctor(session: Session, user_id: uuid.UUID | None = None) -> uuid.UUID:
    """A therapist with a weekly template and published availability on DAY's morning."""
    doctor_id = add(
        session,
        Doctor,
        full_name="BS. Trần Đức Minh",
        email=f"{uuid.uuid4().hex[:10]}@c.vn",
        specialization="musculoskeletal",
        user_id=user_id,
    )
    add(
        session,
        WeeklyScheduleTemplate,
        doctor_id=doctor_id,
        weekday=DAY.isoweekday(),
        start_time=OPEN[0],
        end_time=OPEN[1],
        valid_from=DAY - timedelta(days=7),
    )
    add(
        session,
        DoctorAvailability,
        doctor_id=doctor_id,
        date=DAY,
        start_time=OPEN[0],
        end_time=OPEN[1],
        source="TEMPLATE",
    )
    return doctor_id


# --- patients -------------------------------------------------------------------------------


def _patient_form() -> Any:
    from clinic_tui.forms.patient import validate_patient

    form, problems = validate_patient(
        {"full_name": "Ngô Thị Hoa", "date_of_birth": "1980-02-03", "gender": "FEMALE"},
        language="vi",
        today=date(2026, 11, 22),
        known_codes=(),
        provinces=(),
    )
    assert form is not None, problems
    return form


def _register(session: Session, actor: Actor) -> object:
    return patients.register(session, actor, _patient_form())


def _open_patient(session: Session, actor: Actor) -> object:
    return patients.get(session, actor, add_patient(session))


def _update_patient(session: Session, actor: Actor) -> object:
    return patients.update(
        session, actor, add_patient(session), _patient_form(), expected_version=1
    )


def _search(session: Session, actor: Actor) -> object:
    add_patient(session, "Nguyễn Văn Bình")
    return patient_search.search(session, actor, "nguyen binh")


def _similar(session: Session, actor: Actor) -> object:
    add_patient(session)
    return patient_search.similar_patients(
        session,
        actor,
        full_name="Ngô Thị Hoa",
        date_of_birth=date(1980, 2, 3),
        phone="0912345678",
        card_number=None,
    )


# --- availability ---------------------------------------------------------------------------


def _generate(session: Session, actor: Actor) -> object:
    return scheduling.generate_availability(
        session,
        actor,
        doctor_id=add_doctor(session),
        date_from=DAY,
        date_to=DAY + timedelta(days=6),
    )


def _leave(session: Session, actor: Actor) -> object:
    return scheduling.set_unavailable(
        session,
        actor,
        doctor_id=add_doctor(session),
        day=DAY,
        start=time(10, 0),
        end=time(11, 0),
        reason="Họp khoa",
        now=BEFORE_DAY,
    )


def _extra_hours(session: Session, actor: Actor) -> object:
    return scheduling.add_hours(
        session,
        actor,
        doctor_id=add_doctor(session),
        day=DAY,
        start=time(13, 0),
        end=time(15, 0),
        now=BEFORE_DAY,
    )


def _day_grid(session: Session, actor: Actor) -> object:
    add_doctor(session)
    return scheduling.day_grid(session, actor, DAY)


def _week_grid(session: Session, actor: Actor) -> object:
    return scheduling.week_grid(session, actor, add_doctor(session), DAY)


# --- appointments ---------------------------------------------------------------------------


def _book_as(session: Session, actor: Actor, doctor_id: uuid.UUID, start: time = time(9, 0)) -> Any:
    return appointments.book(
        session,
        actor,
        patient_id=add_patient(session),
        doctor_id=doctor_id,
        day=DAY,
        start=start,
        slots=1,
        appointment_type="FOLLOW_UP",
        now=BEFORE_DAY,
    ).appointment


def booked(session: Session, *, checked_in: bool = False, doctor: uuid.UUID | None = None) -> Any:
    """An appointment on DAY at 9:00 made by the setup administrator (checked in on request)."""
    admin = setup_admin(session)
    made = _book_as(session, admin, doctor or add_doctor(session))
    if checked_in:
        return appointments.check_in(
            session,
            admin,
            made.id,
            expected_version=made.version,
            now=datetime.combine(DAY, time(8, 55)),
        )
    return made


def _book(session: Session, actor: Actor) -> object:
    return _book_as(session, actor, add_doctor(session))


def _first_available(session: Session, actor: Actor) -> object:
    return appointments.first_available(
        session, actor, doctor_id=add_doctor(session), from_moment=BEFORE_DAY, now=BEFORE_DAY
    )


def _reschedule(session: Session, actor: Actor) -> object:
    made = booked(session)
    return appointments.reschedule(
        session,
        actor,
        made.id,
        day=DAY,
        start=time(10, 0),
        slots=1,
        expected_version=made.version,
        now=BEFORE_DAY,
    )


def _cancel(session: Session, actor: Actor) -> object:
    made = booked(session)
    return appointments.cancel(
        session, actor, made.id, reason="Bệnh nhân bận", expected_version=made.version
    )


def _no_show(session: Session, actor: Actor) -> object:
    made = booked(session)
    return appointments.mark_no_show(
        session,
        actor,
        made.id,
        expected_version=made.version,
        now=datetime.combine(DAY, time(10, 0)),
    )


def _check_in(session: Session, actor: Actor) -> object:
    made = booked(session)
    return appointments.check_in(
        session,
        actor,
        made.id,
        expected_version=made.version,
        now=datetime.combine(DAY, time(8, 55)),
    )


def _complete(session: Session, actor: Actor) -> object:
    # Another therapist's visit: only the front desk may complete it (own visits: below).
    made = booked(session, checked_in=True)
    return appointments.complete(session, actor, made.id, expected_version=made.version)


def _day_list(session: Session, actor: Actor) -> object:
    booked(session)
    return appointments.day_list(session, actor, DAY)


# --- medical terms --------------------------------------------------------------------------


def _new_term(session: Session, actor: Actor) -> Any:
    tag = uuid.uuid4().hex[:8]
    return terms.add_term(
        session,
        actor,
        term_en=f"Scapular dyskinesis {tag}",
        term_vi=f"Rối loạn vận động xương bả vai {tag}",
        category="condition",
    )


def _search_terms(session: Session, actor: Actor) -> object:
    return terms.search_terms(session, actor, "dau lung")


def _get_term(session: Session, actor: Actor) -> object:
    term_id = session.scalar(
        text("SELECT id FROM vietnamese_medical_terms WHERE is_active LIMIT 1")
    )
    return terms.get_term(session, actor, term_id)


def _update_term(session: Session, actor: Actor) -> object:
    term = _new_term(session, setup_admin(session))
    return terms.update_term(
        session,
        actor,
        term.id,
        term_en=term.term_en,
        term_vi=term.term_vi,
        category="symptom",
        expected_version=term.version,
    )


# --- protocols ------------------------------------------------------------------------------


def _a_protocol(session: Session) -> uuid.UUID:
    found: uuid.UUID = session.scalar(
        text("SELECT id FROM clinical_protocols WHERE is_active ORDER BY code LIMIT 1")
    )
    assert found is not None, "the seeded protocols are missing"
    return found


def _assigned(session: Session) -> Any:
    return protocols.assign_protocol(
        session,
        setup_admin(session),
        patient_id=add_patient(session),
        protocol_id=_a_protocol(session),
        start_date=DAY,
    )


def _list_protocols(session: Session, actor: Actor) -> object:
    return protocols.list_protocols(session, actor, diagnosis="M54")


def _get_protocol(session: Session, actor: Actor) -> object:
    return protocols.get_protocol(session, actor, _a_protocol(session))


def _patient_protocols(session: Session, actor: Actor) -> object:
    return protocols.patient_protocols(session, actor, _assigned(session).patient_id)


def _assign(session: Session, actor: Actor) -> object:
    return protocols.assign_protocol(
        session,
        actor,
        patient_id=add_patient(session),
        protocol_id=_a_protocol(session),
        start_date=DAY,
    )


def _advance(session: Session, actor: Actor) -> object:
    view = _assigned(session)
    return protocols.advance_phase(session, actor, view.id, expected_version=view.version)


def _progress(session: Session, actor: Actor) -> object:
    view = _assigned(session)
    return protocols.record_progress(
        session,
        actor,
        view.id,
        note="Đỡ đau khi cúi",
        status="IN_PROGRESS",
        expected_version=view.version,
    )


OPERATIONS: list[tuple[str, Operation, Need]] = [
    ("patients.register", _register, Permission.PATIENT_WRITE),
    ("patients.update", _update_patient, Permission.PATIENT_WRITE),
    ("patients.get", _open_patient, Permission.PATIENT_READ),
    ("patient_search.search", _search, Permission.PATIENT_READ),
    ("patient_search.similar_patients", _similar, Permission.PATIENT_READ),
    ("scheduling.generate_availability", _generate, Permission.SCHEDULE_WRITE),
    # set_unavailable and add_hours check through their shared private `_edit`.
    ("scheduling.set_unavailable", _leave, Permission.SCHEDULE_WRITE),
    ("scheduling.add_hours", _extra_hours, Permission.SCHEDULE_WRITE),
    ("scheduling.day_grid", _day_grid, Permission.SCHEDULE_READ),
    ("scheduling.week_grid", _week_grid, Permission.SCHEDULE_READ),
    ("appointments.first_available", _first_available, Permission.SCHEDULE_READ),
    ("appointments.book", _book, Permission.APPOINTMENT_WRITE),
    ("appointments.reschedule", _reschedule, Permission.APPOINTMENT_WRITE),
    # The status flow checks through `_transition` → `_may`.
    ("appointments.cancel", _cancel, Permission.APPOINTMENT_WRITE),
    ("appointments.mark_no_show", _no_show, Permission.APPOINTMENT_WRITE),
    ("appointments.check_in", _check_in, Permission.APPOINTMENT_WRITE),
    # Conditional: a therapist may also complete their own visit (test below); this row's
    # visit is another therapist's.
    ("appointments.complete", _complete, Permission.APPOINTMENT_WRITE),
    ("appointments.day_list", _day_list, Permission.SCHEDULE_READ),
    ("terms.search_terms", _search_terms, Permission.LOOKUP),
    ("terms.get_term", _get_term, Permission.LOOKUP),
    ("terms.add_term", _new_term, Permission.TERM_WRITE),
    ("terms.update_term", _update_term, Permission.TERM_WRITE),
    ("protocols.list_protocols", _list_protocols, Permission.LOOKUP),
    ("protocols.get_protocol", _get_protocol, Permission.LOOKUP),
    ("protocols.patient_protocols", _patient_protocols, Permission.PATIENT_READ),
    ("protocols.assign_protocol", _assign, Permission.PROTOCOL_ASSIGN),
    ("protocols.advance_phase", _advance, Permission.PROTOCOL_ASSIGN),
    ("protocols.record_progress", _progress, Permission.PROTOCOL_ASSIGN),
]


# --- the one conditional rule: a therapist completes their own visit ------------------------


def test_a_therapist_completes_their_own_visit_only(db_session: Session) -> None:
    therapist = add_user(db_session, Role.DOCTOR, "Nguyễn Thị Lan")
    own = booked(db_session, checked_in=True, doctor=add_doctor(db_session, therapist.user_id))
    done = appointments.complete(db_session, therapist, own.id, expected_version=own.version)
    assert done.status == "COMPLETED"
    other = booked(db_session, checked_in=True)
    with pytest.raises(PermissionDenied):
        appointments.complete(db_session, therapist, other.id, expected_version=other.version)
    # Completing is the only step of the flow a therapist takes, even on their own visit.
    mine = _book_as(
        db_session, setup_admin(db_session), own_doctor(db_session, therapist), time(10, 0)
    )
    with pytest.raises(PermissionDenied):
        appointments.check_in(
            db_session,
            therapist,
            mine.id,
            expected_version=mine.version,
            now=datetime.combine(DAY, time(8, 55)),
        )


def own_doctor(session: Session, therapist: Actor) -> uuid.UUID:
    doctor_id = scheduling.own_doctor_id(session, therapist)
    assert doctor_id is not None
    return doctor_id
