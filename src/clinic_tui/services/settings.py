"""Clinic settings: read by every screen that needs them, changed by admins (audited)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from clinic_tui.domain.dated import DatedValue, NoValueOnDate, value_on
from clinic_tui.models import ClinicSetting, DatedSetting, User
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require

BASE_SALARY = "base_salary"
SELF_REFERRAL_FACTOR = "self_referral_factor"


@dataclass(frozen=True)
class ClinicInfo:
    name: str
    address: str
    phone: str
    slot_minutes: int
    opening_from: str
    opening_to: str
    receipt_printer: str


def clinic_info(session: Session) -> ClinicInfo:
    values: dict[str, Any] = dict(
        session.execute(select(ClinicSetting.key, ClinicSetting.value)).all()
    )
    hours = values.get("opening_hours") or {}
    return ClinicInfo(
        name=str(values.get("clinic_name") or ""),
        address=str(values.get("clinic_address") or ""),
        phone=str(values.get("clinic_phone") or ""),
        slot_minutes=int(values.get("slot_minutes") or 30),
        opening_from=str(hours.get("from", "07:30")),
        opening_to=str(hours.get("to", "17:30")),
        receipt_printer=str(values.get("receipt_printer") or ""),
    )


def history(session: Session, key: str) -> tuple[DatedValue, ...]:
    rows = session.execute(
        select(DatedSetting.effective_from, DatedSetting.value)
        .where(DatedSetting.key == key)
        .order_by(DatedSetting.effective_from)
    ).all()
    return tuple(DatedValue(day, Decimal(value)) for day, value in rows)


def _upsert(session: Session, key: str, value: Any) -> None:
    session.execute(
        insert(ClinicSetting)
        .values(key=key, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


def set_value(session: Session, actor: Actor, key: str, value: Any) -> None:
    require(actor, Permission.REFERENCE_ADMIN)
    _upsert(session, key, value)
    audit.record(session, "setting_changed", user_id=actor.user_id, entity="setting", entity_id=key)


def update_values(
    session: Session, actor: Actor, values: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Several settings as one change: only the keys whose value differs are written, and one
    audit entry keeps each one's value before and after. Returns those (before, after) pairs.
    Values must be JSON (they are stored as JSONB and copied into the audit entry)."""
    require(actor, Permission.REFERENCE_ADMIN)
    current: dict[str, Any] = dict(
        session.execute(
            select(ClinicSetting.key, ClinicSetting.value)
            .where(ClinicSetting.key.in_(list(values)))
            .with_for_update()
        ).all()
    )
    changes = {key: (current.get(key), value) for key, value in values.items()
               if current.get(key) != value}  # fmt: skip
    for key, (_before, after) in changes.items():
        _upsert(session, key, after)
    if changes:
        details = {key: {"before": before, "after": after}
                   for key, (before, after) in changes.items()}  # fmt: skip
        audit.record(session, "settings_changed", user_id=actor.user_id, entity="setting",
                     entity_id="clinic", details={"changes": details})  # fmt: skip
    return changes


def add_dated_value(
    session: Session,
    actor: Actor,
    key: str,
    effective_from: date,
    value: Decimal,
    source: str | None = None,
) -> None:
    """Next year's base salary is a new row, not a code change."""
    require(actor, Permission.REFERENCE_ADMIN)
    _insert_dated(session, actor, key, effective_from, value, source)
    audit.record(
        session,
        "dated_setting_added",
        user_id=actor.user_id,
        entity="setting",
        entity_id=key,
        details={"effective_from": effective_from.isoformat()},
    )


def _insert_dated(
    session: Session,
    actor: Actor,
    key: str,
    effective_from: date,
    value: Decimal,
    source: str | None,
) -> None:
    session.add(
        DatedSetting(
            key=key,
            effective_from=effective_from,
            value=value,
            source=source,
            created_by=actor.user_id,
        )
    )
    session.flush()


def change_dated_value(
    session: Session,
    actor: Actor,
    key: str,
    effective_from: date,
    value: Decimal,
    source: str | None = None,
) -> Decimal | None:
    """`add_dated_value`, audited with the value it replaces from that date (None when none was
    in force) and the new one. Returns the replaced value."""
    require(actor, Permission.REFERENCE_ADMIN)
    try:
        before: Decimal | None = value_on(history(session, key), effective_from)
    except NoValueOnDate:
        before = None
    _insert_dated(session, actor, key, effective_from, value, source)
    audit.record(
        session,
        "dated_setting_added",
        user_id=actor.user_id,
        entity="setting",
        entity_id=key,
        details={
            "effective_from": effective_from.isoformat(),
            "before": None if before is None else str(before),
            "after": str(value),
        },
    )
    return before


@dataclass(frozen=True, slots=True)
class DatedEntry:
    """One row of a dated setting's history, with where the value came from."""

    effective_from: date
    value: Decimal
    source: str | None
    created_at: datetime
    created_by: str | None  # the admin's name; None for seeded values


def entries(session: Session, key: str) -> tuple[DatedEntry, ...]:
    """The history of ``key``, oldest first, with each value's source and who added it."""
    rows = session.execute(
        select(
            DatedSetting.effective_from,
            DatedSetting.value,
            DatedSetting.source,
            DatedSetting.created_at,
            User.full_name,
        )
        .outerjoin(User, User.id == DatedSetting.created_by)
        .where(DatedSetting.key == key)
        .order_by(DatedSetting.effective_from)
    ).all()
    return tuple(DatedEntry(row[0], Decimal(row[1]), row[2], row[3], row[4]) for row in rows)
