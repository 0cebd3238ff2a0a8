"""Clinic settings: read by every screen that needs them, changed by admins (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from clinic_tui.domain.dated import DatedValue
from clinic_tui.models import ClinicSetting, DatedSetting
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


def set_value(session: Session, actor: Actor, key: str, value: Any) -> None:
    require(actor, Permission.REFERENCE_ADMIN)
    session.execute(
        insert(ClinicSetting)
        .values(key=key, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )
    audit.record(session, "setting_changed", user_id=actor.user_id, entity="setting", entity_id=key)


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
    audit.record(
        session,
        "dated_setting_added",
        user_id=actor.user_id,
        entity="setting",
        entity_id=key,
        details={"effective_from": effective_from.isoformat()},
    )
