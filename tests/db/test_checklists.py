"""The check-in checklist (issue 12 item 3): templates the admin edits, required items enforced
at check-in with nothing written on a refusal, the answers kept with the visit, a second
check-in of the same visit refused by its version, and the audit of every change."""

from __future__ import annotations

import threading
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry
from clinic_tui.services import checklists
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.appointments import InvalidTransition, ScheduleConflict
from clinic_tui.services.checklists import (
    ChecklistChanged,
    ChecklistIncomplete,
    TemplateRow,
)
from clinic_tui.services.reference_checks import (
    REQUIRED,
    TOO_LONG,
    ReferenceConflict,
    ReferenceDataError,
)
from tests.db.test_permissions_clinic import DAY, add_user, booked, setup_admin

AT_THE_DESK = datetime.combine(DAY, time(8, 55))
ITEMS = (  # English, Vietnamese, required
    ("Consent to treatment signed", "Đã ký giấy đồng ý điều trị", True),
    ("BHYT card seen", "Đã xem thẻ BHYT", False),
    ("Photo ID checked", "Đã kiểm tra giấy tờ tùy thân có ảnh", True),
)


SEEDED_TEMPLATE = "6c1f2d0e-7a4b-4f1e-9c2d-000000000001"  # revision 0020's default checklist


def without_the_seeded_checklist(connection: Any) -> None:
    """These tests build their own checklists: the default one would be a second."""
    connection.execute(text("DELETE FROM visit_checklist_items WHERE template_id = :t"),
                       {"t": SEEDED_TEMPLATE})  # fmt: skip
    connection.execute(text("DELETE FROM visit_checklist_templates WHERE id = :t"),
                       {"t": SEEDED_TEMPLATE})  # fmt: skip


@pytest.fixture(autouse=True)
def _own_checklists_only(request: pytest.FixtureRequest) -> None:
    if "db_session" in request.fixturenames:
        without_the_seeded_checklist(request.getfixturevalue("db_session"))
    elif "engine" in request.fixturenames:
        with request.getfixturevalue("engine").begin() as conn:
            without_the_seeded_checklist(conn)


def test_the_default_checklist_is_seeded_in_use(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT i.label_vi, i.is_required FROM visit_checklist_items i"
                 " JOIN visit_checklist_templates t ON t.id = i.template_id"
                 " WHERE t.is_active ORDER BY i.position")
        ).all()  # fmt: skip
    engine.dispose()
    assert [label for label, required in rows if required] == [
        "Đã ký giấy đồng ý điều trị",
        "Đã kiểm tra giấy tờ tùy thân có ảnh (CCCD / hộ chiếu)",
    ]
    assert len(rows) == 5


def make_checklist(session: Session, admin: Actor, *, active: bool = True) -> TemplateRow:
    """The clinic's usual check-in checklist, in use unless ``active`` is False."""
    template = checklists.create_template(session, admin, name_en="Check-in", name_vi="Tiếp đón")
    for label_en, label_vi, required in ITEMS:
        checklists.add_item(
            session, admin, template.id, label_en=label_en, label_vi=label_vi, required=required
        )
    template = checklists.list_templates(session, admin)[0]
    if active:
        template = checklists.activate_template(
            session, admin, template.id, expected_version=template.version
        )
    return template


def ticks(template: TemplateRow, *labels: str) -> dict[uuid.UUID, bool]:
    """Every active item answered: ticked when its English label is named."""
    return {item.id: item.label_en in labels for item in template.items if item.active}


def check_in(
    session: Session, actor: Actor, visit: Any, answers: dict[uuid.UUID, bool], **kwargs: Any
) -> Any:
    """Check ``visit`` in at the desk, with the version it was read at unless told otherwise."""
    kwargs = {"expected_version": visit.version, "now": AT_THE_DESK, **kwargs}
    return checklists.check_in_with_answers(session, actor, visit.id, answers, **kwargs)


def actions(session: Session, actor: Actor) -> list[str]:
    query = (
        select(AuditEntry.action).where(AuditEntry.user_id == actor.user_id).order_by(AuditEntry.id)
    )
    return list(session.scalars(query))


def responses(session: Session, appointment_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    rows = session.execute(
        text("SELECT item_id, is_checked FROM visit_checklist_responses WHERE appointment_id = :a"),
        {"a": appointment_id},
    )
    return {row.item_id: row.is_checked for row in rows}


def status(session: Session, appointment_id: uuid.UUID) -> tuple[str, int]:
    row = session.execute(
        text("SELECT status, version FROM appointments WHERE id = :id"), {"id": appointment_id}
    ).one()
    return row.status, row.version


# --- templates ------------------------------------------------------------------------------


def test_admin_builds_edits_reorders_and_retires_items(db_session: Session) -> None:
    admin = add_user(db_session, Role.ADMIN)
    template = make_checklist(db_session, admin, active=False)
    assert not template.active
    assert [(i.position, i.label_en, i.label_vi, i.required) for i in template.items] == [
        (index, *item) for index, item in enumerate(ITEMS)
    ]
    consent, card, photo = template.items

    renamed = checklists.rename_template(
        db_session,
        admin,
        template.id,
        name_en="Front desk",
        name_vi="Quầy lễ tân",
        expected_version=template.version,
    )
    assert (renamed.name("en"), renamed.name("vi")) == ("Front desk", "Quầy lễ tân")
    edited = checklists.update_item(
        db_session,
        admin,
        card.id,
        label_en="BHYT card or VssID seen",
        label_vi="Đã xem thẻ BHYT hoặc VssID",
        required=True,
        expected_version=card.version,
    )
    assert (edited.label("vi"), edited.required, edited.version) == (
        "Đã xem thẻ BHYT hoặc VssID",
        True,
        card.version + 1,
    )
    order = [photo.id, consent.id, card.id]
    reordered = checklists.reorder_items(db_session, admin, template.id, order)
    assert [i.id for i in reordered.items] == order
    assert [i.position for i in reordered.items] == [0, 1, 2]
    consent = reordered.items[1]  # moved: its version moved too
    retired = checklists.set_item_active(
        db_session, admin, consent.id, active=False, expected_version=consent.version
    )
    assert not retired.active
    listed = checklists.list_templates(db_session, admin)
    assert [i.active for i in listed[0].items] == [True, False, True]  # retired ones stay listed
    assert actions(db_session, admin) == [
        "checklist_template_created",
        *["checklist_item_added"] * 3,
        "checklist_template_renamed",
        "checklist_item_updated",
        "checklist_items_reordered",
        "checklist_item_retired",
    ]
    # Ids and actions only: no wording of the checklist in the log.
    details = db_session.scalars(
        select(AuditEntry.details).where(AuditEntry.user_id == admin.user_id)
    )
    assert not any("BHYT" in str(detail) for detail in details)


def test_one_template_is_in_use_at_a_time(db_session: Session) -> None:
    admin = add_user(db_session, Role.ADMIN)
    first = make_checklist(db_session, admin)
    second = checklists.create_template(db_session, admin, name_en="Walk-in", name_vi="Vãng lai")
    checklists.activate_template(db_session, admin, second.id, expected_version=second.version)
    listed = {t.id: t.active for t in checklists.list_templates(db_session, admin)}
    assert listed == {first.id: False, second.id: True}
    assert actions(db_session, admin)[-2:] == [
        "checklist_template_deactivated",
        "checklist_template_activated",
    ]
    second = checklists.list_templates(db_session, admin)[0]
    checklists.deactivate_template(db_session, admin, second.id, expected_version=second.version)
    assert not any(t.active for t in checklists.list_templates(db_session, admin))


def test_typed_text_is_checked_field_by_field_and_stored_nfc(db_session: Session) -> None:
    admin = add_user(db_session, Role.ADMIN)
    template = checklists.create_template(db_session, admin, name_en="A", name_vi="B")
    with pytest.raises(ReferenceDataError) as refused:
        checklists.add_item(db_session, admin, template.id, label_en="  ", label_vi="x" * 301)
    assert refused.value.problems == {"label_en": REQUIRED, "label_vi": TOO_LONG}
    with pytest.raises(ReferenceDataError) as refused:
        checklists.create_template(db_session, admin, name_en="Check-in", name_vi="")
    assert refused.value.problems == {"name_vi": REQUIRED}
    decomposed = unicodedata.normalize("NFD", "Đã ký  giấy đồng ý\x00")
    item = checklists.add_item(
        db_session, admin, template.id, label_en="Consent", label_vi=decomposed
    )
    assert item.label_vi == "Đã ký giấy đồng ý"
    assert len(checklists.list_templates(db_session, admin)) == 1
    assert actions(db_session, admin) == ["checklist_template_created", "checklist_item_added"]


def test_an_edit_of_a_changed_row_is_refused(db_session: Session) -> None:
    admin = add_user(db_session, Role.ADMIN)
    template = make_checklist(db_session, admin)
    consent = template.items[0]
    checklists.update_item(
        db_session,
        admin,
        consent.id,
        label_en="Consent signed",
        label_vi="Đã ký đồng ý",
        required=True,
        expected_version=consent.version,
    )
    with pytest.raises(ReferenceConflict):  # the version shown before that edit
        checklists.set_item_active(
            db_session, admin, consent.id, active=False, expected_version=consent.version
        )
    with pytest.raises(ReferenceConflict):  # an item was edited: the checklist's version moved
        checklists.rename_template(
            db_session,
            admin,
            template.id,
            name_en="X",
            name_vi="Y",
            expected_version=template.version,
        )
    with pytest.raises(ReferenceConflict):  # an item left out of the new order
        checklists.reorder_items(db_session, admin, template.id, [i.id for i in template.items[:2]])


# --- checking in ----------------------------------------------------------------------------


def test_check_in_refused_until_every_required_item_is_ticked(db_session: Session) -> None:
    template = make_checklist(db_session, setup_admin(db_session))
    visit = booked(db_session)
    desk = add_user(db_session, Role.RECEPTIONIST)
    with pytest.raises(ChecklistIncomplete) as refused:
        check_in(db_session, desk, visit, ticks(template, "Consent to treatment signed"))
    assert [item.label_en for item in refused.value.missing] == ["Photo ID checked"]
    # Nothing written: not checked in, no answers, no audit entry.
    assert status(db_session, visit.id) == ("SCHEDULED", visit.version)
    assert responses(db_session, visit.id) == {}
    assert actions(db_session, desk) == []

    answers = ticks(template, "Consent to treatment signed", "Photo ID checked")
    done = check_in(db_session, desk, visit, answers)
    assert done.status == "CHECKED_IN"
    assert status(db_session, visit.id) == ("CHECKED_IN", visit.version + 1)
    assert responses(db_session, visit.id) == answers  # the unticked optional item too
    assert actions(db_session, desk) == ["appointment_checked_in", "checklist_answered"]
    responded_by = db_session.scalars(
        text(
            "SELECT DISTINCT responded_by FROM visit_checklist_responses WHERE appointment_id = :a"
        ),
        {"a": visit.id},
    ).all()
    assert responded_by == [desk.user_id]


def test_answers_stay_with_the_visit_after_the_checklist_changes(db_session: Session) -> None:
    admin = setup_admin(db_session)
    template = make_checklist(db_session, admin)
    visit = booked(db_session)
    desk = add_user(db_session, Role.RECEPTIONIST)
    before = checklists.checklist_for(db_session, desk, visit.id)
    assert (before.status, before.template_id, before.answered) == ("SCHEDULED", template.id, False)
    assert [(e.item.label_en, e.checked) for e in before.entries] == [
        (label, None) for label, _vi, _required in ITEMS
    ]
    answers = ticks(template, *(label for label, _vi, _required in ITEMS))
    check_in(db_session, desk, visit, answers, expected_version=before.version)

    card = template.items[1]
    checklists.set_item_active(
        db_session, admin, card.id, active=False, expected_version=card.version
    )
    added = checklists.add_item(
        db_session, admin, template.id, label_en="Pain score asked", label_vi="Đã hỏi mức đau"
    )
    after = checklists.checklist_for(db_session, desk, visit.id)
    assert after.status == "CHECKED_IN" and after.answered
    assert [(e.item.label_en, e.checked, e.current) for e in after.entries] == [
        ("Consent to treatment signed", True, True),
        ("Photo ID checked", True, True),
        (added.label_en, None, True),  # asked of later visits, not this one
        ("BHYT card seen", True, False),  # answered then, retired since
    ]


def test_an_item_retired_while_the_dialog_was_open_is_refused(db_session: Session) -> None:
    admin = setup_admin(db_session)
    template = make_checklist(db_session, admin)
    visit = booked(db_session)
    desk = add_user(db_session, Role.RECEPTIONIST)
    answers = ticks(template, *(label for label, _vi, _required in ITEMS))
    card = template.items[1]
    checklists.set_item_active(
        db_session, admin, card.id, active=False, expected_version=card.version
    )
    with pytest.raises(ChecklistChanged):
        check_in(db_session, desk, visit, answers)
    assert status(db_session, visit.id) == ("SCHEDULED", visit.version)
    assert actions(db_session, desk) == []


def test_without_a_checklist_in_use_check_in_asks_nothing(db_session: Session) -> None:
    make_checklist(db_session, setup_admin(db_session), active=False)
    visit = booked(db_session)
    desk = add_user(db_session, Role.RECEPTIONIST)
    shown = checklists.checklist_for(db_session, desk, visit.id)
    assert (shown.template_id, shown.entries) == (None, ())
    check_in(db_session, desk, visit, {})
    assert status(db_session, visit.id)[0] == "CHECKED_IN"
    assert actions(db_session, desk) == ["appointment_checked_in"]


def test_the_appointments_own_refusals_come_first(db_session: Session) -> None:
    template = make_checklist(db_session, setup_admin(db_session))
    desk = add_user(db_session, Role.RECEPTIONIST)
    visit = booked(db_session)
    with pytest.raises(ScheduleConflict):  # a stale version, even with nothing ticked
        check_in(db_session, desk, visit, {}, expected_version=visit.version - 1)
    with pytest.raises(InvalidTransition) as early:
        check_in(db_session, desk, visit, ticks(template), now=AT_THE_DESK - timedelta(days=1))
    assert early.value.reason == "not_yet"
    checked_in = booked(db_session, checked_in=True)
    with pytest.raises(InvalidTransition) as twice:
        check_in(db_session, desk, checked_in, {})
    assert twice.value.status == "CHECKED_IN"
    assert actions(db_session, desk) == []


def test_permissions_are_checked_before_anything_is_written(db_session: Session) -> None:
    admin = setup_admin(db_session)
    template = make_checklist(db_session, admin)
    visit = booked(db_session)
    desk = add_user(db_session, Role.RECEPTIONIST)
    therapist = add_user(db_session, Role.DOCTOR)
    with pytest.raises(PermissionDenied):
        checklists.add_item(db_session, desk, template.id, label_en="x", label_vi="y")
    with pytest.raises(PermissionDenied):
        checklists.list_templates(db_session, therapist)
    assert checklists.checklist_for(db_session, therapist, visit.id).entries  # may read it
    with pytest.raises(PermissionDenied):
        check_in(db_session, therapist, visit, ticks(template))
    assert status(db_session, visit.id) == ("SCHEDULED", visit.version)
    count = select(func.count()).select_from(AuditEntry)
    assert (
        db_session.scalar(count.where(AuditEntry.user_id.in_([desk.user_id, therapist.user_id])))
        == 0
    )


# --- two terminals --------------------------------------------------------------------------


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, pool_size=4)
    yield engine
    engine.dispose()


def _prepared(engine: Engine) -> tuple[TemplateRow, Any, Actor, Actor]:
    with Session(engine) as session:
        template = make_checklist(session, setup_admin(session))
        visit = booked(session)
        desks = add_user(session, Role.RECEPTIONIST), add_user(session, Role.RECEPTIONIST)
        session.commit()
    return template, visit, *desks


def test_a_second_check_in_of_the_same_visit_is_refused_by_version(engine: Engine) -> None:
    template, visit, first, second = _prepared(engine)
    answers = ticks(template, "Consent to treatment signed", "Photo ID checked")
    outcome: list[object] = []
    with Session(engine) as one:
        check_in(one, first, visit, answers)

        def other_terminal() -> None:  # saw the same version; waits on the first one's row
            with Session(engine) as two:
                try:
                    check_in(two, second, visit, answers)
                    two.commit()
                    outcome.append("checked in twice")
                except Exception as error:
                    outcome.append(error)

        thread = threading.Thread(target=other_terminal)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second check-in should wait for the first"
        one.commit()
        thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], ScheduleConflict)
    assert outcome[0].current_version == visit.version + 1
    with Session(engine) as session:
        assert status(session, visit.id) == ("CHECKED_IN", visit.version + 1)
        assert len(responses(session, visit.id)) == len(ITEMS)
        assert actions(session, second) == []


def test_a_checklist_edit_waits_for_a_check_in_under_way(engine: Engine) -> None:
    template, visit, desk, _other = _prepared(engine)
    answers = ticks(template, "Consent to treatment signed", "Photo ID checked")
    with Session(engine) as one, Session(engine) as two:
        check_in(one, desk, visit, answers)
        two.execute(text("SET lock_timeout = '300ms'"))
        admin = setup_admin(two)
        with pytest.raises(OperationalError, match="lock timeout"):
            checklists.add_item(
                two, admin, template.id, label_en="New", label_vi="Mới", required=True
            )
        two.rollback()
        one.commit()
