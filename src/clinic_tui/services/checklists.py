"""The check-in checklist (issue 12 item 3): templates of bilingual items the admin keeps, and
the answers the front desk gives when a patient checks in.

One template is in use at check-in at a time (activating one retires the other). Items are
retired, never deleted: answers given keep pointing at them. Checking in with answers refuses,
writing nothing, unless every required item is ticked; otherwise the answers are stored and
`appointments.check_in` (status flow, version check, its audit entry) moves the visit to
CHECKED_IN in the same savepoint. Checklist edits take an advisory lock that check-ins share,
so a check-in never validates against a checklist being changed at that moment.

Template edits are reference data (REFERENCE_ADMIN): typed text is checked field by field
(`ReferenceDataError`), a stale edit raises `ReferenceConflict`, and every item change bumps
its template's version too (the version of the checklist as shown). Audit entries hold ids and
actions only. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from clinic_tui.i18n import N_
from clinic_tui.models import VisitChecklistItem, VisitChecklistResponse, VisitChecklistTemplate
from clinic_tui.services import appointments, audit
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.appointments import AppointmentInfo
from clinic_tui.services.reference_checks import Checker, ReferenceConflict
from clinic_tui.services.scheduling import NotFound

NAME_LENGTH: Final = 200
LABEL_LENGTH: Final = 300
# Shared by check-ins, exclusive for checklist edits (see the module's doc).
_LOCK_KEY: Final = 0x636B6C7374  # "cklst"

_TEMPLATES = cast(Table, VisitChecklistTemplate.__table__)
_ITEMS = cast(Table, VisitChecklistItem.__table__)
_RESPONSES = cast(Table, VisitChecklistResponse.__table__)
_T, _I, _R = _TEMPLATES.c, _ITEMS.c, _RESPONSES.c


# --- refusals -------------------------------------------------------------------------------


class ChecklistError(Exception):
    """A check-in the checklist refuses; ``msgid`` says why, for the screen to translate."""

    msgid: str = ""


class ChecklistIncomplete(ChecklistError):
    """Required items are not ticked (``missing``, in the checklist's order). Nothing written."""

    msgid = N_("Tick every required item before checking in: {items}.")

    def __init__(self, missing: Sequence[ItemRow]) -> None:
        super().__init__(", ".join(item.label_en for item in missing))
        self.missing = tuple(missing)


class ChecklistChanged(ChecklistError):
    """The answers name items no longer on the checklist in use: an admin changed it."""

    msgid = N_("The checklist was changed meanwhile and has been reloaded. Look at it again.")


# --- what the services return ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: uuid.UUID
    template_id: uuid.UUID
    position: int
    label_en: str
    label_vi: str
    required: bool
    active: bool
    version: int

    def label(self, language: str) -> str:
        return self.label_vi if language == "vi" else self.label_en


@dataclass(frozen=True, slots=True)
class TemplateRow:
    id: uuid.UUID
    name_en: str
    name_vi: str
    active: bool  # the one in use at check-in
    version: int
    items: tuple[ItemRow, ...]  # by position, retired ones too

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    """One line of a visit's checklist: ``checked`` None when not answered yet; ``current``
    False for an answer kept from a checklist no longer in use."""

    item: ItemRow
    checked: bool | None
    current: bool = True


@dataclass(frozen=True, slots=True)
class VisitChecklist:
    appointment_id: uuid.UUID
    status: str
    version: int  # the appointment's, to check in with
    template_id: uuid.UUID | None  # None: no checklist is in use
    entries: tuple[ChecklistEntry, ...]

    @property
    def answered(self) -> bool:
        return any(entry.checked is not None for entry in self.entries)


# --- reading --------------------------------------------------------------------------------

_ITEM_COLUMNS = (_I.id, _I.template_id, _I.position, _I.label_en, _I.label_vi, _I.is_required,
                 _I.is_active, _I.version)  # fmt: skip


def _item(row: Any) -> ItemRow:
    return ItemRow(row.id, row.template_id, row.position, row.label_en, row.label_vi,
                   row.is_required, row.is_active, row.version)  # fmt: skip


def _items(
    session: Session, template_ids: Sequence[uuid.UUID], *, active_only: bool = False
) -> list[ItemRow]:
    query = (select(*_ITEM_COLUMNS).where(_I.template_id.in_(template_ids))
             .order_by(_I.position, _I.created_at, _I.id))  # fmt: skip
    if active_only:
        query = query.where(_I.is_active)
    return [_item(row) for row in session.execute(query)]


def _templates(session: Session, template_id: uuid.UUID | None = None) -> list[TemplateRow]:
    query = select(_T.id, _T.name_en, _T.name_vi, _T.is_active, _T.version).order_by(
        _T.is_active.desc(), _T.name_en, _T.id
    )
    if template_id is not None:
        query = query.where(_T.id == template_id)
    rows = session.execute(query).all()
    items = _items(session, [row.id for row in rows])
    return [TemplateRow(row.id, row.name_en, row.name_vi, row.is_active, row.version,
                        tuple(i for i in items if i.template_id == row.id))
            for row in rows]  # fmt: skip


def _template(session: Session, template_id: uuid.UUID) -> TemplateRow:
    found = _templates(session, template_id)
    if not found:
        raise NotFound("checklist template", template_id)
    return found[0]


def _in_use(session: Session) -> uuid.UUID | None:
    # One is active by construction; should a hand edit leave several, the latest change wins.
    return session.scalar(
        select(_T.id).where(_T.is_active).order_by(_T.updated_at.desc(), _T.id).limit(1)
    )


def list_templates(session: Session, actor: Actor) -> list[TemplateRow]:
    """Every template with all its items, the one in use first, then by English name."""
    require(actor, Permission.REFERENCE_ADMIN)
    return _templates(session)


def checklist_for(session: Session, actor: Actor, appointment_id: uuid.UUID) -> VisitChecklist:
    """The visit's checklist: the active items of the template in use, with any answers kept
    for this visit, then answers kept for items no longer in use (``current`` False)."""
    require(actor, Permission.SCHEDULE_READ)
    visit = session.execute(
        sql("SELECT status, version FROM appointments WHERE id = :id"), {"id": appointment_id}
    ).one_or_none()
    if visit is None:
        raise NotFound("appointment", appointment_id)
    template_id = _in_use(session)
    items = _items(session, [template_id], active_only=True) if template_id else []
    answers = {
        row.item_id: row.is_checked
        for row in session.execute(
            select(_R.item_id, _R.is_checked).where(_R.appointment_id == appointment_id)
        )
    }
    entries = [ChecklistEntry(item, answers.get(item.id)) for item in items]
    shown = {item.id for item in items}
    earlier = [i for i in _answered_items(session, appointment_id) if i.id not in shown]
    entries += [ChecklistEntry(item, answers[item.id], current=False) for item in earlier]
    return VisitChecklist(appointment_id, visit.status, visit.version, template_id,
                          tuple(entries))  # fmt: skip


def _answered_items(session: Session, appointment_id: uuid.UUID) -> list[ItemRow]:
    query = (select(*_ITEM_COLUMNS).join(_RESPONSES, _R.item_id == _I.id)
             .where(_R.appointment_id == appointment_id)
             .order_by(_I.template_id, _I.position, _I.id))  # fmt: skip
    return [_item(row) for row in session.execute(query)]


# --- checking in ----------------------------------------------------------------------------


def check_in_with_answers(
    session: Session, actor: Actor, appointment_id: uuid.UUID, answers: Mapping[uuid.UUID, bool],
    *, expected_version: int, now: datetime | None = None,
) -> AppointmentInfo:  # fmt: skip
    """SCHEDULED → CHECKED_IN with the checklist's answers (item id → ticked; an item left out
    is not ticked). Refuses, writing nothing: the appointment's own refusals first (changed
    since ``expected_version``, wrong status, too early), then `ChecklistChanged` for an item
    not on the checklist in use, then `ChecklistIncomplete`."""
    require(actor, Permission.APPOINTMENT_WRITE)
    session.execute(sql("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": _LOCK_KEY})
    template_id = _in_use(session)
    items = _items(session, [template_id], active_only=True) if template_id else []
    with session.begin_nested():  # a refusal below undoes the status change too
        info = appointments.check_in(session, actor, appointment_id,
                                     expected_version=expected_version, now=now)  # fmt: skip
        if set(answers) - {item.id for item in items}:
            raise ChecklistChanged()
        missing = [item for item in items if item.required and not answers.get(item.id)]
        if missing:
            raise ChecklistIncomplete(missing)
        if items:
            session.execute(insert(_RESPONSES), [
                {"appointment_id": appointment_id, "item_id": item.id,
                 "is_checked": bool(answers.get(item.id)), "responded_by": actor.user_id}
                for item in items
            ])  # fmt: skip
            checked = [str(item.id) for item in items if answers.get(item.id)]
            unchecked = [str(item.id) for item in items if not answers.get(item.id)]
            _record(session, actor, "checklist_answered", appointment_id, "appointment",
                    template_id=template_id, checked=checked, unchecked=unchecked)  # fmt: skip
    return info


# --- editing templates ----------------------------------------------------------------------


def _lock(session: Session) -> None:
    session.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _typed(limit: int, **fields: str) -> dict[str, Any]:
    check = Checker()
    values: dict[str, Any] = {name: check.text(name, value, limit=limit)
                              for name, value in fields.items()}  # fmt: skip
    check.done()
    return values


def _bump(session: Session, template_id: uuid.UUID, expected_version: int | None,
          **values: Any) -> None:  # fmt: skip
    """Save the template's new version (and ``values``); a stale ``expected_version`` refuses."""
    query = update(_TEMPLATES).where(_T.id == template_id)
    if expected_version is not None:
        query = query.where(_T.version == expected_version)
    saved = session.execute(
        query.values(version=_T.version + 1, **values).returning(_T.id)
    ).scalar_one_or_none()
    if saved is None:
        _template(session, template_id)  # NotFound when it is gone
        raise ReferenceConflict(template_id)


def _record(session: Session, actor: Actor, action: str, entity_id: uuid.UUID,
            entity: str = "checklist_template", **details: Any) -> None:  # fmt: skip
    audit.record(session, action, user_id=actor.user_id, entity=entity, entity_id=entity_id,
                 details={k: str(v) if isinstance(v, uuid.UUID) else v
                          for k, v in details.items()})  # fmt: skip


def create_template(session: Session, actor: Actor, *, name_en: str, name_vi: str) -> TemplateRow:
    """A new, empty template, not in use until activated (add its items first)."""
    require(actor, Permission.REFERENCE_ADMIN)
    values = _typed(NAME_LENGTH, name_en=name_en, name_vi=name_vi)
    _lock(session)
    template_id = session.execute(
        insert(_TEMPLATES).values(**values, is_active=False).returning(_T.id)
    ).scalar_one()
    _record(session, actor, "checklist_template_created", template_id)
    return _template(session, template_id)


def rename_template(
    session: Session, actor: Actor, template_id: uuid.UUID, *, name_en: str, name_vi: str,
    expected_version: int,
) -> TemplateRow:  # fmt: skip
    require(actor, Permission.REFERENCE_ADMIN)
    values = _typed(NAME_LENGTH, name_en=name_en, name_vi=name_vi)
    _lock(session)
    _bump(session, template_id, expected_version, **values)
    _record(session, actor, "checklist_template_renamed", template_id)
    return _template(session, template_id)


def activate_template(
    session: Session, actor: Actor, template_id: uuid.UUID, *, expected_version: int
) -> TemplateRow:
    """Put the template in use at check-in; the one in use before is retired (its own audit
    entry). Visits already checked in keep their answers."""
    require(actor, Permission.REFERENCE_ADMIN)
    _lock(session)
    _bump(session, template_id, expected_version, is_active=True)
    retired = session.execute(
        update(_TEMPLATES).where(_T.is_active, _T.id != template_id)
        .values(is_active=False, version=_T.version + 1)
        .returning(_T.id)
    ).scalars().all()  # fmt: skip
    for other in retired:
        _record(session, actor, "checklist_template_deactivated", other)
    _record(session, actor, "checklist_template_activated", template_id)
    return _template(session, template_id)


def deactivate_template(
    session: Session, actor: Actor, template_id: uuid.UUID, *, expected_version: int
) -> TemplateRow:
    """Stop using the template: with none in use, check-in asks nothing."""
    require(actor, Permission.REFERENCE_ADMIN)
    _lock(session)
    _bump(session, template_id, expected_version, is_active=False)
    _record(session, actor, "checklist_template_deactivated", template_id)
    return _template(session, template_id)


def add_item(
    session: Session, actor: Actor, template_id: uuid.UUID, *, label_en: str, label_vi: str,
    required: bool = False, expected_version: int | None = None,
) -> ItemRow:  # fmt: skip
    """A new item at the end of the template (``expected_version``: the template's)."""
    require(actor, Permission.REFERENCE_ADMIN)
    values = _typed(LABEL_LENGTH, label_en=label_en, label_vi=label_vi)
    values["is_required"] = bool(required)
    _lock(session)
    _bump(session, template_id, expected_version)
    position = session.scalar(
        select(func.coalesce(func.max(_I.position) + 1, 0)).where(_I.template_id == template_id)
    )
    row = session.execute(
        insert(_ITEMS).values(template_id=template_id, position=position, **values)
        .returning(*_ITEM_COLUMNS)
    ).one()  # fmt: skip
    _record(session, actor, "checklist_item_added", row.id, "checklist_item",
            template_id=template_id, required=values["is_required"])  # fmt: skip
    return _item(row)


def _change_item(session: Session, actor: Actor, item_id: uuid.UUID, expected_version: int,
                 action: str, values: dict[str, Any]) -> ItemRow:  # fmt: skip
    _lock(session)
    before = session.execute(select(*_ITEM_COLUMNS).where(_I.id == item_id)).one_or_none()
    if before is None:
        raise NotFound("checklist item", item_id)
    changed = sorted(k for k, v in values.items() if getattr(before, k) != v)
    if not changed:
        return _item(before)
    saved = session.execute(
        update(_ITEMS).where(_I.id == item_id, _I.version == expected_version)
        .values(**values, version=_I.version + 1)
        .returning(*_ITEM_COLUMNS)
    ).one_or_none()  # fmt: skip
    if saved is None:
        raise ReferenceConflict(item_id)
    _bump(session, before.template_id, None)
    _record(session, actor, action, item_id, "checklist_item", template_id=before.template_id,
            fields=changed)  # fmt: skip
    return _item(saved)


def update_item(
    session: Session, actor: Actor, item_id: uuid.UUID, *, label_en: str, label_vi: str,
    required: bool, expected_version: int,
) -> ItemRow:  # fmt: skip
    """New wording or required flag. Answers already given keep pointing at the item."""
    require(actor, Permission.REFERENCE_ADMIN)
    values = _typed(LABEL_LENGTH, label_en=label_en, label_vi=label_vi)
    values["is_required"] = bool(required)
    return _change_item(session, actor, item_id, expected_version, "checklist_item_updated",
                        values)  # fmt: skip


def set_item_active(
    session: Session, actor: Actor, item_id: uuid.UUID, *, active: bool, expected_version: int
) -> ItemRow:
    """Retire an item (new check-ins no longer ask it; answers given stay) or restore it."""
    require(actor, Permission.REFERENCE_ADMIN)
    action = "checklist_item_restored" if active else "checklist_item_retired"
    return _change_item(session, actor, item_id, expected_version, action,
                        {"is_active": bool(active)})  # fmt: skip


def reorder_items(
    session: Session, actor: Actor, template_id: uuid.UUID, item_ids: Sequence[uuid.UUID],
    *, expected_version: int | None = None,
) -> TemplateRow:  # fmt: skip
    """Put the template's items in this order; ``item_ids`` must name each of them once (an
    item added or removed meanwhile refuses with `ReferenceConflict`)."""
    require(actor, Permission.REFERENCE_ADMIN)
    _lock(session)
    before = _template(session, template_id)
    if sorted(item_ids) != sorted(item.id for item in before.items):
        raise ReferenceConflict(template_id)
    _bump(session, template_id, expected_version)
    positions = {item.id: item.position for item in before.items}
    for position, item_id in enumerate(item_ids):
        if positions[item_id] != position:
            session.execute(update(_ITEMS).where(_I.id == item_id).values(
                position=position, version=_I.version + 1))  # fmt: skip
    _record(session, actor, "checklist_items_reordered", template_id,
            order=[str(item_id) for item_id in item_ids])  # fmt: skip
    return _template(session, template_id)
