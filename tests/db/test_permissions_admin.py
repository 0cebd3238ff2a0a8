"""Role-matrix rows for administration: staff accounts, reference data and settings, the
database's health (monitoring, the verify checklist), maintenance, migrations and backups.

The session-based rows join the matrix in tests/db/test_permissions.py. Operations that open
their own connections (a `Database` or a URL) run here, each on a fresh throwaway database:
every role is refused, and an administrator makes only harmless calls — destructive ones
(VACUUM, the retention clean-up, a migration run, a restore) are checked for their refusal and
given nothing to destroy when allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.db import migrations
from clinic_tui.db.engine import Database
from clinic_tui.models import AuditEntry, BhytValidationRule, User
from clinic_tui.services import (
    auth,
    backups,
    maintenance,
    monitoring,
    reference,
    schema_admin,
    settings,
    staff,
    verify,
)
from clinic_tui.services.access import (
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    PermissionDenied,
    Role,
)
from tests.db.test_permissions_clinic import Need, Operation, add, setup_admin

PASSWORD = "long enough pw"


# --- staff ----------------------------------------------------------------------------------


def colleague(session: Session, role: Role = Role.RECEPTIONIST, **values: Any) -> uuid.UUID:
    """The account an administrator acts on."""
    return add(
        session,
        User,
        email=f"dong.nghiep.{uuid.uuid4().hex[:10]}@clinic.vn",
        password_hash="x",
        full_name="Hoàng Văn Nam",
        role=role.value,
        **values,
    )


def _create_user(session: Session, actor: Actor) -> object:
    return auth.create_user(
        session,
        actor,
        full_name="Đỗ Thu Hà",
        email=f"{uuid.uuid4().hex[:10]}@c.vn",
        password=PASSWORD,
        role=Role.RECEPTIONIST,
    )


def _create_staff(session: Session, actor: Actor) -> object:
    return staff.create_staff(
        session,
        actor,
        full_name="Đỗ Thu Hà",
        email=f"{uuid.uuid4().hex[:10]}@c.vn",
        role=Role.DOCTOR,
        password=PASSWORD,
        password_again=PASSWORD,
    )


def _list_staff(session: Session, actor: Actor) -> object:
    return staff.list_staff(session, actor)


def _get_staff(session: Session, actor: Actor) -> object:
    return staff.get_staff(session, actor, colleague(session))


def _deactivate(session: Session, actor: Actor) -> object:
    return staff.deactivate(session, actor, colleague(session))


def _reactivate(session: Session, actor: Actor) -> object:
    return staff.reactivate(session, actor, colleague(session, is_active=False))


def _change_role(session: Session, actor: Actor) -> object:
    return staff.change_role(session, actor, colleague(session), Role.DOCTOR)


def _reset_password(session: Session, actor: Actor) -> object:
    return staff.reset_password(session, actor, colleague(session), "a new long password")


def _unlock(session: Session, actor: Actor) -> object:
    locked = colleague(
        session, failed_login_count=5, locked_until=datetime.now(UTC) + timedelta(minutes=15)
    )
    return staff.unlock(session, actor, locked)


# --- reference data and settings ------------------------------------------------------------


def _code() -> str:
    return f"RT{uuid.uuid4().hex[:6].upper()}"


def _service_code(session: Session, actor: Actor) -> Any:
    return reference.create_service_code(
        session,
        actor,
        code=_code(),
        name_en="Shockwave",
        name_vi="Sóng xung kích",
        category="modality",
        price=300_000,
        bhyt_price=250_000,
    )


def _update_service_code(session: Session, actor: Actor) -> object:
    row = _service_code(session, setup_admin(session))
    return reference.update_service_code(
        session,
        actor,
        row.id,
        name_en=row.name_en,
        name_vi=row.name_vi,
        category=row.category,
        price=320_000,
        bhyt_price=row.bhyt_price,
        covered=row.covered,
        duration_minutes=45,
        active=True,
        expected_version=row.version,
    )


def _free_object_code(session: Session) -> str:
    taken = set(session.scalars(select(BhytValidationRule.object_code)))
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return next(a + b for a in reversed(letters) for b in letters if a + b not in taken)


def _add_bhyt_rule(session: Session, actor: Actor) -> object:
    return reference.add_bhyt_rule(
        session,
        actor,
        object_code=_free_object_code(session),
        usual_level=4,
        meaning_vi="Mã thử nghiệm",
        meaning_en="Test code",
    )


def _set_bhyt_rule_active(session: Session, actor: Actor) -> object:
    rule_id = session.scalar(select(BhytValidationRule.id).where(BhytValidationRule.is_active))
    return reference.set_bhyt_rule_active(session, actor, rule_id, False)


def _update_clinic_settings(session: Session, actor: Actor) -> object:
    return reference.update_clinic_settings(
        session,
        actor,
        name="Phòng khám Vật lý trị liệu An Bình",
        address="12 Lê Lợi, Quận 1",
        phone="0283 822 1234",
        slot_minutes=30,
        opening_from=time(7, 0),
        opening_to=time(19, 0),
    )


def _add_dated_setting(session: Session, actor: Actor) -> object:
    return reference.add_dated_setting(
        session,
        actor,
        settings.BASE_SALARY,
        effective_from=date(2031, 7, 1),
        value=3_000_000,
        source="Nghị định thử",
    )


def _set_value(session: Session, actor: Actor) -> object:
    return settings.set_value(session, actor, f"test_{uuid.uuid4().hex[:8]}", {"on": True})


def _update_values(session: Session, actor: Actor) -> object:
    return settings.update_values(session, actor, {"clinic_phone": "0283 999 0000"})


def _add_dated_value(session: Session, actor: Actor) -> object:
    return settings.add_dated_value(
        session, actor, settings.BASE_SALARY, date(2032, 1, 1), Decimal(3_100_000)
    )


def _change_dated_value(session: Session, actor: Actor) -> object:
    return settings.change_dated_value(
        session, actor, settings.SELF_REFERRAL_FACTOR, date(2032, 1, 1), Decimal(50)
    )


OPERATIONS: list[tuple[str, Operation, Need]] = [
    ("auth.create_user", _create_user, Permission.USER_ADMIN),
    ("staff.list_staff", _list_staff, Permission.USER_ADMIN),
    ("staff.get_staff", _get_staff, Permission.USER_ADMIN),
    ("staff.create_staff", _create_staff, Permission.USER_ADMIN),
    ("staff.deactivate", _deactivate, Permission.USER_ADMIN),
    ("staff.reactivate", _reactivate, Permission.USER_ADMIN),
    ("staff.change_role", _change_role, Permission.USER_ADMIN),
    ("staff.reset_password", _reset_password, Permission.USER_ADMIN),
    ("staff.unlock", _unlock, Permission.USER_ADMIN),
    (
        "reference.list_service_codes",
        lambda s, a: reference.list_service_codes(s, a, "PT"),
        Permission.REFERENCE_ADMIN,
    ),
    ("reference.create_service_code", _service_code, Permission.REFERENCE_ADMIN),
    ("reference.update_service_code", _update_service_code, Permission.REFERENCE_ADMIN),
    ("reference.list_bhyt_rules", reference.list_bhyt_rules, Permission.REFERENCE_ADMIN),
    ("reference.add_bhyt_rule", _add_bhyt_rule, Permission.REFERENCE_ADMIN),
    ("reference.set_bhyt_rule_active", _set_bhyt_rule_active, Permission.REFERENCE_ADMIN),
    ("reference.get_clinic_settings", reference.get_clinic_settings, Permission.REFERENCE_ADMIN),
    ("reference.update_clinic_settings", _update_clinic_settings, Permission.REFERENCE_ADMIN),
    (
        "reference.therapists_off_the_rows",
        lambda s, a: reference.therapists_off_the_rows(s, a, today=date(2026, 1, 5)),
        Permission.REFERENCE_ADMIN,
    ),
    (
        "reference.dated_history",
        lambda s, a: reference.dated_history(s, a, settings.BASE_SALARY),
        Permission.REFERENCE_ADMIN,
    ),
    ("reference.add_dated_setting", _add_dated_setting, Permission.REFERENCE_ADMIN),
    ("settings.set_value", _set_value, Permission.REFERENCE_ADMIN),
    ("settings.update_values", _update_values, Permission.REFERENCE_ADMIN),
    ("settings.add_dated_value", _add_dated_value, Permission.REFERENCE_ADMIN),
    ("settings.change_dated_value", _change_dated_value, Permission.REFERENCE_ADMIN),
    ("monitoring.table_sizes", monitoring.table_sizes, Permission.DATABASE_ADMIN),
    ("monitoring.index_usage", monitoring.index_usage, Permission.DATABASE_ADMIN),
    ("monitoring.busiest_tables", monitoring.busiest_tables, Permission.DATABASE_ADMIN),
    ("monitoring.database_overview", monitoring.database_overview, Permission.DATABASE_ADMIN),
    ("monitoring.snapshot", monitoring.snapshot, Permission.DATABASE_ADMIN),
    (
        "verify.checklist",
        lambda s, a: verify.checklist(s.connection(), a),
        Permission.DATABASE_ADMIN,
    ),
]


# --- operations on a database of their own -------------------------------------------------


class Target:
    """A fresh database for one call: its URL, a `Database` over it, a private folder."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.database = Database(url)


Call = Callable[[Target, Actor], object]


def _downgrade_one(target: Target, actor: Actor) -> object:
    ids = [revision.id for revision in migrations.chain()]
    plan = schema_admin.plan(ids[-1], ids[-2])
    return schema_admin.run(target.url, actor, plan, backup_dir=None)


def _upgrade_nothing(target: Target, actor: Actor) -> object:
    # Already at head: the runner has no step to take; the permission gate, the lock probe and
    # the audit entry still run.
    head = migrations.chain()[-1].id
    plan = schema_admin.MigrationPlan(schema_admin.Direction.UPGRADE, head, head, ())
    outcome = schema_admin.run(target.url, actor, plan, backup_dir=None)
    assert outcome.succeeded and outcome.reached == head, outcome
    return outcome


def _not_a_backup(target: Target) -> Path:
    path = target.folder / "clinic-not-a-backup.dump"
    path.write_bytes(b"this is not a pg_dump archive\n")
    return path


def _restore_refused_file(target: Target, actor: Actor) -> object:
    # Allowed, it stops at the file (no dump in it) before touching the database.
    with pytest.raises(backups.BackupError):
        backups.restore(target.url, actor, _not_a_backup(target))
    return None


def _backup(target: Target, actor: Actor) -> object:
    made = backups.backup_now(target.url, actor, backup_dir=target.folder / "backups", keep=2)
    assert made.path.is_file() and made.size > 0, made
    return made


# (name, the call a refused role makes, a harmless call for an allowed role, permission).
# None: refusal only, since the allowed call destroys (VACUUM, the retention clean-up);
# tests/db/test_maintenance.py runs those as an administrator. A migration run and a restore
# are allowed here only with nothing to do: no step to take, a file that is not a backup.
OUTSIDE_SESSION: list[tuple[str, Call, Call | None, Permission]] = [
    (
        "maintenance.analyze",
        lambda t, a: maintenance.analyze(t.database, a),
        lambda t, a: maintenance.analyze(t.database, a),
        Permission.DATABASE_ADMIN,
    ),
    (
        "maintenance.vacuum_analyze",
        lambda t, a: maintenance.vacuum_analyze(t.database, a),
        None,
        Permission.DATABASE_ADMIN,
    ),
    (
        "maintenance.retention_preview",
        lambda t, a: maintenance.retention_preview(t.database, a),
        lambda t, a: maintenance.retention_preview(t.database, a),
        Permission.DATABASE_ADMIN,
    ),
    (
        "maintenance.retention_cleanup",
        lambda t, a: maintenance.retention_cleanup(t.database, a),
        None,
        Permission.DATABASE_ADMIN,
    ),
    (
        "schema_admin.overview",
        lambda t, a: schema_admin.overview(t.url, a),
        lambda t, a: schema_admin.overview(t.url, a),
        Permission.DATABASE_ADMIN,
    ),
    ("schema_admin.run", _downgrade_one, _upgrade_nothing, Permission.DATABASE_ADMIN),
    ("backups.backup_now", _backup, _backup, Permission.DATABASE_ADMIN),
    (
        "backups.restore",
        lambda t, a: backups.restore(t.url, a, _not_a_backup(t)),
        _restore_refused_file,
        Permission.DATABASE_ADMIN,
    ),
]


@pytest.fixture
def target(db_url: str, tmp_path: Path) -> Iterator[Target]:
    made = Target(db_url, tmp_path)
    yield made
    made.database.close()


def _committed_actor(url: str, role: Role) -> Actor:
    """A real account in that database: the audit entries these calls commit name it."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            email = f"{role.lower()}.{uuid.uuid4().hex[:8]}@clinic.vn"
            user_id = conn.execute(
                insert(User.__table__)
                .values(email=email, password_hash="x", full_name="Trương Mỹ Linh", role=role.value)
                .returning(User.__table__.c.id)
            ).scalar_one()
    finally:
        engine.dispose()
    return Actor(user_id, email, "Trương Mỹ Linh", role)


def _entries_by(url: str, actor: Actor) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = select(AuditEntry.id).where(AuditEntry.user_id == actor.user_id)
            return len(conn.execute(query).all())
    finally:
        engine.dispose()


def _cases(*, allowed: bool) -> list[Any]:
    return [
        pytest.param(role, row, id=f"{row[0]}-{role}")
        for row in OUTSIDE_SESSION
        for role in Role
        if (row[3] in ROLE_PERMISSIONS[role]) is allowed and (row[2] is not None or not allowed)
    ]


@pytest.mark.parametrize(("role", "row"), _cases(allowed=False))
def test_refused_outside_a_session(target: Target, role: Role, row: tuple) -> None:
    name, refused, _allowed, permission = row
    actor = _committed_actor(target.url, role)
    revision = migrations.current(target.url)
    with pytest.raises(PermissionDenied) as denied:
        refused(target, actor)
    assert denied.value.permission is permission
    # Refused before anything happened: no audit entry, no migration, no backup written.
    assert _entries_by(target.url, actor) == 0
    assert migrations.current(target.url) == revision
    assert not (target.folder / "backups").exists(), name


@pytest.mark.parametrize(("role", "row"), _cases(allowed=True))
def test_allowed_outside_a_session(target: Target, role: Role, row: tuple) -> None:
    name, _refused, allowed, _permission = row
    actor = _committed_actor(target.url, role)
    revision = migrations.current(target.url)
    allowed(target, actor)
    assert migrations.current(target.url) == revision, name


def test_nobody_signed_in_is_refused_everything(target: Target) -> None:
    before = _audit_count(target.url)
    for name, refused, _allowed, permission in OUTSIDE_SESSION:
        with pytest.raises(PermissionDenied) as denied:
            refused(target, None)  # type: ignore[arg-type]
        assert denied.value.permission is permission, name
    assert _audit_count(target.url) == before
    assert not (target.folder / "backups").exists()


def _audit_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    finally:
        engine.dispose()
