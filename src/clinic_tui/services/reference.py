"""Reference data the admin keeps (issue 9 item 8): the service price list, the BHYT object-code
rules, and the clinic's settings with the dated values behind the invoice split (DESIGN §5.2).

Every function needs REFERENCE_ADMIN, checked before anything is read. What is typed is checked
field by field (`reference_checks`): a refusal raises `ReferenceDataError` with a msgid per
field, which the screen translates at the field, and writes nothing. Uniqueness is the
database's to decide (two admins may save the same code at once): its constraint violation,
caught in a savepoint, becomes the same field error. Every change is audited with its values
before and after; none of this is patient data. Nothing here commits: the caller's unit of
work does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from clinic_tui.forms.patient import clean_text, normalise_phone
from clinic_tui.models import BhytObjectCodeLevel, BhytValidationRule, ServiceCode
from clinic_tui.models.billing import SERVICE_CATEGORIES
from clinic_tui.services import audit
from clinic_tui.services import settings as clinic_settings
from clinic_tui.services.access import Actor, Permission, require
from clinic_tui.services.reference_checks import (
    BHYT_ABOVE_PRICE,
    CATEGORY,
    CODE_FORMAT,
    CODE_TAKEN,
    DATE_ORDER,
    DATE_TAKEN,
    DURATION,
    HOURS_ORDER,
    LEVEL,
    OBJECT_CODE,
    OBJECT_CODE_TAKEN,
    PHONE,
    REQUIRED,
    SLOT,
    Checker,
    ReferenceConflict,
    jsonable,
    refusing,
)
from clinic_tui.services.reference_checks import (
    ReferenceDataError as ReferenceDataError,  # raised through Checker and refusing
)
from clinic_tui.services.settings import BASE_SALARY, SELF_REFERRAL_FACTOR, ClinicInfo, DatedEntry

NAME_LENGTH: Final = 200
_CODE: Final = re.compile(r"[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*")
_OBJECT_CODE: Final = re.compile(r"[A-Z]{2}")


# --- service codes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceCodeRow:
    id: uuid.UUID
    code: str
    name_en: str
    name_vi: str
    category: str
    price: Decimal
    bhyt_price: Decimal | None  # the fund's price per unit; None: no cap
    covered: bool
    duration_minutes: int
    active: bool
    version: int


_SERVICES = cast(Table, ServiceCode.__table__)
_SERVICE = _SERVICES.c
_SERVICE_COLUMNS = (
    _SERVICE.id, _SERVICE.code, _SERVICE.name_en, _SERVICE.name_vi, _SERVICE.category,
    _SERVICE.unit_price, _SERVICE.bhyt_price, _SERVICE.bhyt_covered, _SERVICE.duration_minutes,
    _SERVICE.is_active, _SERVICE.version,
)  # fmt: skip
_SERVICE_FIELDS: Final = {  # row attribute → column, for the audit's before and after
    "name_en": "name_en", "name_vi": "name_vi", "category": "category", "price": "unit_price",
    "bhyt_price": "bhyt_price", "covered": "bhyt_covered", "duration_minutes": "duration_minutes",
    "active": "is_active",
}  # fmt: skip
_SERVICE_CONSTRAINTS: Final = {"uq_pt_service_codes_code": ("code", CODE_TAKEN)}
_HAYSTACK: Final = (
    "f_unaccent(lower(pt_service_codes.code || ' ' || pt_service_codes.name_en"
    " || ' ' || pt_service_codes.name_vi))"
)


def _service_row(row: Any) -> ServiceCodeRow:
    return ServiceCodeRow(
        row.id, row.code, row.name_en, row.name_vi, row.category,
        Decimal(row.unit_price).quantize(Decimal(1)),
        None if row.bhyt_price is None else Decimal(row.bhyt_price).quantize(Decimal(1)),
        row.bhyt_covered, row.duration_minutes, row.is_active, row.version,
    )  # fmt: skip


def _service(session: Session, code_id: uuid.UUID) -> ServiceCodeRow:
    row = session.execute(select(*_SERVICE_COLUMNS).where(_SERVICE.id == code_id)).one_or_none()
    if row is None:
        raise LookupError(f"no service code {code_id}")
    return _service_row(row)


def list_service_codes(session: Session, actor: Actor, text: str = "") -> list[ServiceCodeRow]:
    """Every code, retired ones too, by code; with ``text``, those whose code or either name
    holds every typed word, accents and case ignored."""
    require(actor, Permission.REFERENCE_ADMIN)
    query = select(*_SERVICE_COLUMNS).order_by(_SERVICE.code)
    for index, word in enumerate(clean_text(text).split()[:8]):
        query = query.where(sql(f"strpos({_HAYSTACK}, f_unaccent(lower(:w{index}))) > 0")
                            .bindparams(**{f"w{index}": word}))  # fmt: skip
    return [_service_row(row) for row in session.execute(query)]


def _service_values(
    check: Checker, *, name_en: str, name_vi: str, category: str, price: Decimal | int | str,
    bhyt_price: Decimal | int | str | None, covered: bool, duration_minutes: int | str,
) -> dict[str, Any]:  # fmt: skip
    values: dict[str, Any] = {
        "name_en": check.text("name_en", name_en, limit=NAME_LENGTH),
        "name_vi": check.text("name_vi", name_vi, limit=NAME_LENGTH),
        "category": clean_text(category or "").lower(),
        "unit_price": check.money("price", price),
        "bhyt_price": check.money("bhyt_price", bhyt_price, required=False),
        "bhyt_covered": bool(covered),
        "duration_minutes": check.whole("duration_minutes", duration_minutes, 5, 480, DURATION),
    }
    if values["category"] not in SERVICE_CATEGORIES:
        check.refuse("category", CATEGORY)
    price_, bhyt = values["unit_price"], values["bhyt_price"]
    # The insured base is capped at the BHYT price; one above the clinic's own price would
    # cap nothing, and is a typo more often than a tariff.
    if price_ is not None and bhyt is not None and bhyt > price_:
        check.refuse("bhyt_price", BHYT_ABOVE_PRICE)
    return values


def _service_audit(row: ServiceCodeRow, attributes: Collection[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(row, name)) for name in attributes}


def create_service_code(
    session: Session, actor: Actor, *, code: str, name_en: str, name_vi: str, category: str,
    price: Decimal | int | str, bhyt_price: Decimal | int | str | None = None,
    covered: bool = True, duration_minutes: int | str = 30,
) -> ServiceCodeRow:  # fmt: skip
    """A new code on the price list, billable at once. Prices in whole dong, as numbers or as
    typed (`parse_amount`); an empty BHYT price means no cap."""
    require(actor, Permission.REFERENCE_ADMIN)
    check = Checker()
    cleaned = "".join(clean_text(code or "").split()).upper()
    if not cleaned:
        check.refuse("code", REQUIRED)
    elif not (2 <= len(cleaned) <= 10 and _CODE.fullmatch(cleaned)):
        check.refuse("code", CODE_FORMAT)
    values = _service_values(check, name_en=name_en, name_vi=name_vi, category=category,
                             price=price, bhyt_price=bhyt_price, covered=covered,
                             duration_minutes=duration_minutes)  # fmt: skip
    check.done()
    with refusing(session, _SERVICE_CONSTRAINTS):
        code_id = session.execute(
            insert(_SERVICES).values(code=cleaned, **values).returning(_SERVICE.id)
        ).scalar_one()
    row = _service(session, code_id)
    details = {"code": row.code, "after": _service_audit(row, _SERVICE_FIELDS)}
    audit.record(session, "service_code_created", user_id=actor.user_id, entity="service_code",
                 entity_id=code_id, details=details)  # fmt: skip
    return row


def update_service_code(
    session: Session, actor: Actor, code_id: uuid.UUID, *, name_en: str, name_vi: str,
    category: str, price: Decimal | int | str, bhyt_price: Decimal | int | str | None,
    covered: bool, duration_minutes: int | str, active: bool, expected_version: int | None = None,
) -> ServiceCodeRow:  # fmt: skip
    """Save an edit of everything but the code itself (invoices show it). Issued invoices keep
    the prices they were issued with; new ones use these. Retiring (``active`` False) keeps the
    row for old invoices and hides it from new ones. With ``expected_version``, an edit of a row
    saved by someone else meanwhile raises `ReferenceConflict`."""
    require(actor, Permission.REFERENCE_ADMIN)
    check = Checker()
    values = _service_values(check, name_en=name_en, name_vi=name_vi, category=category,
                             price=price, bhyt_price=bhyt_price, covered=covered,
                             duration_minutes=duration_minutes)  # fmt: skip
    values["is_active"] = bool(active)
    check.done()
    before = _service(session, code_id)
    if expected_version is not None and before.version != expected_version:
        raise ReferenceConflict(code_id)
    changed = [name for name, column in _SERVICE_FIELDS.items()
               if getattr(before, name) != values[column]]  # fmt: skip
    if not changed:
        return before
    with refusing(session, _SERVICE_CONSTRAINTS):
        saved = session.execute(
            update(_SERVICES)
            .where(_SERVICE.id == code_id, _SERVICE.version == before.version)
            .values(**values, version=_SERVICE.version + 1)
            .returning(_SERVICE.id)
        ).scalar_one_or_none()
    if saved is None:
        raise ReferenceConflict(code_id)
    after = _service(session, code_id)
    audit.record(session, "service_code_updated", user_id=actor.user_id, entity="service_code",
                 entity_id=code_id, details={"code": after.code,
                                             "before": _service_audit(before, changed),
                                             "after": _service_audit(after, changed)})  # fmt: skip
    return after


# --- BHYT object-code rules ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BhytRuleRow:
    id: uuid.UUID
    object_code: str
    usual_level: int
    meaning_vi: str
    meaning_en: str
    confirmed: bool
    source: str | None
    active_from: date | None
    active_to: date | None
    active: bool
    version: int


_RULES = cast(Table, BhytValidationRule.__table__)
_RULE = _RULES.c
_RULE_COLUMNS = (
    _RULE.id, _RULE.object_code, _RULE.usual_level, _RULE.meaning_vi, _RULE.meaning_en,
    _RULE.is_confirmed, _RULE.source, _RULE.active_from, _RULE.active_to, _RULE.is_active,
    _RULE.version,
)  # fmt: skip
_RULE_CONSTRAINTS: Final = {
    "uq_bhyt_validation_rules_object_code": ("object_code", OBJECT_CODE_TAKEN),
}
MEANING_LENGTH: Final = 1000


def _rule(session: Session, rule_id: uuid.UUID, *, lock: bool = False) -> BhytRuleRow:
    query = select(*_RULE_COLUMNS).where(_RULE.id == rule_id)
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise LookupError(f"no BHYT rule {rule_id}")
    return BhytRuleRow(*row)


def list_bhyt_rules(session: Session, actor: Actor) -> list[BhytRuleRow]:
    """Every object code's rule, disabled ones too, by code."""
    require(actor, Permission.REFERENCE_ADMIN)
    rows = session.execute(select(*_RULE_COLUMNS).order_by(_RULE.object_code))
    return [BhytRuleRow(*row) for row in rows]


def add_bhyt_rule(
    session: Session, actor: Actor, *, object_code: str, usual_level: int | str,
    meaning_vi: str, meaning_en: str, confirmed: bool = False, source: str | None = None,
    active_from: date | None = None, active_to: date | None = None,
) -> BhytRuleRow:  # fmt: skip
    """A new object code, accepted on cards from ``active_from`` (or at once) to ``active_to``
    (or for good). Its level history starts with ``usual_level``."""
    require(actor, Permission.REFERENCE_ADMIN)
    check = Checker()
    code = "".join(clean_text(object_code or "").split()).upper()
    if not code:
        check.refuse("object_code", REQUIRED)
    elif not _OBJECT_CODE.fullmatch(code):
        check.refuse("object_code", OBJECT_CODE)
    level = check.whole("usual_level", usual_level, 1, 5, LEVEL)
    values = {
        "object_code": code, "usual_level": level, "is_confirmed": bool(confirmed),
        "meaning_vi": check.text("meaning_vi", meaning_vi, limit=MEANING_LENGTH),
        "meaning_en": check.text("meaning_en", meaning_en, limit=MEANING_LENGTH),
        "source": check.text("source", source, limit=MEANING_LENGTH, required=False) or None,
        "active_from": active_from, "active_to": active_to,
    }  # fmt: skip
    if active_from is not None and active_to is not None and active_to < active_from:
        check.refuse("active_to", DATE_ORDER)
    check.done()
    with refusing(session, _RULE_CONSTRAINTS):
        rule_id = session.execute(insert(_RULES).values(**values).returning(_RULE.id)).scalar_one()
        session.execute(
            insert(cast(Table, BhytObjectCodeLevel.__table__)).values(
                object_code=code, level=level, meaning_en=values["meaning_en"],
                meaning_vi=values["meaning_vi"], is_confirmed=values["is_confirmed"],
                is_current=True, source=values["source"], active_from=active_from,
                active_to=active_to,
            )
        )  # fmt: skip
    audit.record(session, "bhyt_rule_added", user_id=actor.user_id, entity="bhyt_rule",
                 entity_id=rule_id, details={"object_code": code, "after": {
                     key: jsonable(value) for key, value in values.items()}})  # fmt: skip
    return _rule(session, rule_id)


def set_bhyt_rule_active(
    session: Session, actor: Actor, rule_id: uuid.UUID, active: bool
) -> BhytRuleRow:
    """Disable an object code (cards with it are no longer recognised, by the app and by
    ``validate_bhyt_card``) or enable it again. The row is kept either way."""
    require(actor, Permission.REFERENCE_ADMIN)
    before = _rule(session, rule_id, lock=True)
    if before.active == active:
        return before
    session.execute(
        update(_RULES)
        .where(_RULE.id == rule_id)
        .values(is_active=active, version=_RULE.version + 1)
    )
    audit.record(session, "bhyt_rule_enabled" if active else "bhyt_rule_disabled",
                 user_id=actor.user_id, entity="bhyt_rule", entity_id=rule_id,
                 details={"object_code": before.object_code, "before": {"active": before.active},
                          "after": {"active": active}})  # fmt: skip
    return _rule(session, rule_id)


# --- clinic settings and dated values --------------------------------------------------------

ADDRESS_LENGTH: Final = 300
DATED_KEYS: Final = (BASE_SALARY, SELF_REFERRAL_FACTOR)
_DATED_CONSTRAINTS: Final = {
    "uq_dated_settings_key_effective_from": ("effective_from", DATE_TAKEN),
}


def get_clinic_settings(session: Session, actor: Actor) -> ClinicInfo:
    require(actor, Permission.REFERENCE_ADMIN)
    return clinic_settings.clinic_info(session)


def update_clinic_settings(
    session: Session, actor: Actor, *, name: str, address: str, phone: str,
    slot_minutes: int | str, opening_from: time, opening_to: time,
) -> ClinicInfo:  # fmt: skip
    """The clinic's name, address and phone (on receipts), slot length and opening hours (the
    availability grid). The phone is kept in its national form; an empty one is allowed.
    Only what changed is written, audited once with its values before and after."""
    require(actor, Permission.REFERENCE_ADMIN)
    check = Checker()
    cleaned_name = check.text("name", name, limit=NAME_LENGTH)
    cleaned_address = check.text("address", address, limit=ADDRESS_LENGTH, required=False)
    typed_phone = clean_text(phone or "")
    national = normalise_phone(typed_phone) if typed_phone else ""
    if national is None:
        check.refuse("phone", PHONE)
    slot = check.whole("slot_minutes", slot_minutes, 5, 240, SLOT)
    # Slots are aligned to the clock from midnight: a length that does not divide the day
    # would give each day different rows.
    if slot is not None and (24 * 60) % slot:
        check.refuse("slot_minutes", SLOT)
    if opening_to <= opening_from:
        check.refuse("opening_to", HOURS_ORDER)
    check.done()
    clinic_settings.update_values(session, actor, {
        "clinic_name": cleaned_name, "clinic_address": cleaned_address,
        "clinic_phone": national or "", "slot_minutes": slot,
        "opening_hours": {"from": opening_from.strftime("%H:%M"),
                          "to": opening_to.strftime("%H:%M")},
    })  # fmt: skip
    return clinic_settings.clinic_info(session)


def therapists_off_the_rows(session: Session, actor: Actor, *, today: date) -> int:
    """How many active therapists have weekly hours, in force from `today` on, that start or
    end between two rows of the clinic's slot length. The grid draws such a partly open row as
    unavailable, so the admin is told when a new slot length leaves hours like that."""
    require(actor, Permission.REFERENCE_ADMIN)
    slot = clinic_settings.clinic_info(session).slot_minutes
    return session.execute(
        sql(
            "SELECT count(DISTINCT t.doctor_id) FROM weekly_schedule_templates t"
            " JOIN doctors d ON d.id = t.doctor_id AND d.is_active"
            " WHERE (t.valid_to IS NULL OR t.valid_to >= :today)"
            " AND ((extract(epoch FROM t.start_time)::int / 60) % :slot <> 0"
            " OR (extract(epoch FROM t.end_time)::int / 60) % :slot <> 0)"
        ),
        {"today": today, "slot": slot},
    ).scalar_one()


def _known(key: str) -> None:
    if key not in DATED_KEYS:
        raise ValueError(f"not a dated setting: {key!r}")


def dated_history(session: Session, actor: Actor, key: str) -> tuple[DatedEntry, ...]:
    """One dated setting's values, oldest first, each with its source and who added it."""
    require(actor, Permission.REFERENCE_ADMIN)
    _known(key)
    return clinic_settings.entries(session, key)


def add_dated_setting(
    session: Session, actor: Actor, key: str, *, effective_from: date,
    value: Decimal | int | str, source: str | None = None,
) -> DatedEntry:  # fmt: skip
    """A value in force from ``effective_from``, past or future: invoices for service dates
    from then on use it, earlier ones keep the value before it. One value per date. The base
    salary is whole dong above zero; the self-referral factor a percent from 0 to 100 (0 is a
    real facility level, DESIGN §5.2)."""
    require(actor, Permission.REFERENCE_ADMIN)
    _known(key)
    if type(effective_from) is not date:
        raise TypeError(f"effective_from must be a date, got {effective_from!r}")
    check = Checker()
    if key == BASE_SALARY:
        amount = check.money("value", value, positive=True)
    else:
        amount = check.percent("value", value)
    cleaned_source = check.text("source", source, limit=MEANING_LENGTH, required=False) or None
    if any(entry.effective_from == effective_from
           for entry in clinic_settings.history(session, key)):  # fmt: skip
        check.refuse("effective_from", DATE_TAKEN)
    check.done()
    assert amount is not None
    with refusing(session, _DATED_CONSTRAINTS):
        clinic_settings.change_dated_value(session, actor, key, effective_from, amount,
                                           cleaned_source)  # fmt: skip
    return next(e for e in clinic_settings.entries(session, key)
                if e.effective_from == effective_from)  # fmt: skip
