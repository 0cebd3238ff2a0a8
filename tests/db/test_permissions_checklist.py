"""Role-matrix rows for the check-in checklist: the admin keeps the templates, the front desk
answers the checklist when checking a patient in, every staff member who reads the schedule may
read a visit's checklist (the matrix itself runs in tests/db/test_permissions.py).

Each operation builds what it needs inside the test's rolled-back transaction, with a separate
administrator for the setup steps, so the call under test really runs when allowed.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from clinic_tui.services import checklists
from clinic_tui.services.access import Actor, Permission
from tests.db.test_permissions_clinic import DAY, Need, Operation, booked, setup_admin


def _template(session: Session, *, active: bool = True) -> Any:
    """A template with one required item, in use unless ``active`` is False (the seeded
    default checklist is removed first: this one is the only one)."""
    from tests.db.test_checklists import without_the_seeded_checklist

    without_the_seeded_checklist(session)
    admin = setup_admin(session)
    made = checklists.create_template(session, admin, name_en="Check-in", name_vi="Tiếp đón")
    checklists.add_item(
        session,
        admin,
        made.id,
        label_en="Consent signed",
        label_vi="Đã ký giấy đồng ý",
        required=True,
    )
    made = checklists.list_templates(session, admin)[0]
    if active:
        made = checklists.activate_template(session, admin, made.id, expected_version=made.version)
    return made


def _list(session: Session, actor: Actor) -> object:
    _template(session)
    return checklists.list_templates(session, actor)


def _create(session: Session, actor: Actor) -> object:
    return checklists.create_template(session, actor, name_en="Walk-in", name_vi="Vãng lai")


def _rename(session: Session, actor: Actor) -> object:
    made = _template(session)
    return checklists.rename_template(
        session,
        actor,
        made.id,
        name_en="Front desk",
        name_vi="Quầy lễ tân",
        expected_version=made.version,
    )


def _activate(session: Session, actor: Actor) -> object:
    made = _template(session, active=False)
    return checklists.activate_template(session, actor, made.id, expected_version=made.version)


def _deactivate(session: Session, actor: Actor) -> object:
    made = _template(session)
    return checklists.deactivate_template(session, actor, made.id, expected_version=made.version)


def _add_item(session: Session, actor: Actor) -> object:
    made = _template(session)
    return checklists.add_item(
        session,
        actor,
        made.id,
        label_en="Photo ID checked",
        label_vi="Đã kiểm tra giấy tờ tùy thân",
        required=True,
    )


def _update_item(session: Session, actor: Actor) -> object:
    item = _template(session).items[0]
    return checklists.update_item(
        session,
        actor,
        item.id,
        label_en="Consent form signed",
        label_vi="Đã ký phiếu đồng ý",
        required=True,
        expected_version=item.version,
    )


def _retire_item(session: Session, actor: Actor) -> object:
    item = _template(session).items[0]
    return checklists.set_item_active(
        session, actor, item.id, active=False, expected_version=item.version
    )


def _reorder(session: Session, actor: Actor) -> object:
    made = _template(session)
    second = checklists.add_item(
        session,
        setup_admin(session),
        made.id,
        label_en="BHYT card seen",
        label_vi="Đã xem thẻ BHYT",
    )
    return checklists.reorder_items(session, actor, made.id, [second.id, made.items[0].id])


def _checklist_for(session: Session, actor: Actor) -> object:
    _template(session)
    return checklists.checklist_for(session, actor, booked(session).id)


def _check_in(session: Session, actor: Actor) -> object:
    item = _template(session).items[0]
    visit = booked(session)
    return checklists.check_in_with_answers(
        session,
        actor,
        visit.id,
        {item.id: True},
        expected_version=visit.version,
        now=datetime.combine(DAY, time(8, 55)),
    )


OPERATIONS: list[tuple[str, Operation, Need]] = [
    ("checklists.list_templates", _list, Permission.REFERENCE_ADMIN),
    ("checklists.create_template", _create, Permission.REFERENCE_ADMIN),
    ("checklists.rename_template", _rename, Permission.REFERENCE_ADMIN),
    ("checklists.activate_template", _activate, Permission.REFERENCE_ADMIN),
    ("checklists.deactivate_template", _deactivate, Permission.REFERENCE_ADMIN),
    ("checklists.add_item", _add_item, Permission.REFERENCE_ADMIN),
    # update_item and set_item_active write through their shared private `_change_item`.
    ("checklists.update_item", _update_item, Permission.REFERENCE_ADMIN),
    ("checklists.set_item_active", _retire_item, Permission.REFERENCE_ADMIN),
    ("checklists.reorder_items", _reorder, Permission.REFERENCE_ADMIN),
    # Receptionists and therapists read the checklist; checking in is the front desk's.
    ("checklists.checklist_for", _checklist_for, Permission.SCHEDULE_READ),
    ("checklists.check_in_with_answers", _check_in, Permission.APPOINTMENT_WRITE),
]
