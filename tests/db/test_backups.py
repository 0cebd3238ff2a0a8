"""Backups and restores on a real server: every row comes back, files stay private, retention
keeps the newest, anything that is not a clinic backup (or is damaged, or too new) is refused
with the database untouched, and the command line does the same as the admin screen."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from clinic_tui.cli import main
from clinic_tui.db import dumps
from clinic_tui.db.engine import libpq_url
from clinic_tui.models import User
from clinic_tui.services import backups
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.auth import actor_of
from clinic_tui.services.passwords import hash_password
from tests.db.populate import populate_every_table, table_counts


@pytest.fixture
def engine(db_url: str):
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def admin(engine) -> Actor:
    with Session(engine, expire_on_commit=False) as session:
        user = User(
            email="admin@clinic.vn",
            password_hash=hash_password("long enough pw"),
            full_name="Phạm Quốc Bảo",
            role="ADMIN",
        )
        session.add(user)
        session.commit()
        return actor_of(user)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return backups.row_counts(conn)


def populated(engine) -> dict[str, int]:
    with engine.begin() as conn:
        populate_every_table(conn)
    return counts(engine)


def audit_actions(engine) -> list[tuple[str, object, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, user_id, details FROM audit_log ORDER BY id"))
        return [tuple(row) for row in rows]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_then_restore_brings_back_every_row(db_url, engine, admin, tmp_path) -> None:
    before = populated(engine)
    with engine.connect() as conn:
        model_tables = table_counts(conn)
    assert set(model_tables) <= set(before)  # every model table is counted, none is empty
    assert all(before[name] > 0 for name in model_tables)
    steps: list[tuple[int, int, str]] = []
    info = backups.backup_now(
        db_url,
        admin,
        backup_dir=tmp_path / "backups",
        keep=10,
        on_progress=lambda *a: steps.append(a),
    )
    assert info.row_counts == before
    assert info.revision == counts_revision(engine)
    assert steps[-1][0] == steps[-1][1] > 10
    assert any("patients" in what for _done, _total, what in steps)
    assert audit_actions(engine)[-1][:2] == ("database_backup", admin.user_id)

    populated(engine)  # more rows everywhere, a stray table, payments gone
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE stray (id int)"))
        conn.execute(text("DELETE FROM payments"))
    assert counts(engine) != before

    restored_steps: list[tuple[int, int, str]] = []
    result = backups.restore(
        db_url, admin, info.path, on_progress=lambda *a: restored_steps.append(a)
    )
    # Every table as it was, plus the restore's own audit entry.
    assert counts(engine) == {**before, "audit_log": before["audit_log"] + 1}
    assert result.row_counts == before and result.expected_counts == before
    assert result.differences == []
    assert result.revision == result.head == info.revision
    assert result.actor_present
    assert restored_steps[-1][0] == restored_steps[-1][1] > 100
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('public.stray')")).scalar() is None
    # The restore's own entry is written after it, so the restore does not wipe it.
    last = audit_actions(engine)[-1]
    assert last[:2] == ("database_restore", admin.user_id)
    assert last[2]["file"] == info.name


def counts_revision(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_the_json_beside_the_dump_describes_it(db_url, engine, admin, tmp_path) -> None:
    info = backups.backup_now(db_url, admin, backup_dir=tmp_path, keep=10)
    assert info.path.name.startswith("clinic-") and info.path.suffix == ".dump"
    assert info.path.name.endswith(f"-{info.revision}.dump")
    data = json.loads(info.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["revision"] == info.revision == counts_revision(engine)
    assert data["created_by"] == "admin@clinic.vn"
    assert data["size"] == info.path.stat().st_size == info.size
    now = counts(engine)  # the backup's audit entry is written after the dump
    assert data["row_counts"] == {**now, "audit_log": now["audit_log"] - 1}
    assert backups.list_backups(tmp_path) == [info]
    assert backups.backup_revision(info.path) == info.revision

    # Without its JSON, a backup is still listed from its name and file.
    info.path.with_suffix(".json").unlink()
    (listed,) = backups.list_backups(tmp_path)
    assert (listed.revision, listed.size, listed.created_by) == (info.revision, info.size, None)
    assert listed.created_at.replace(microsecond=0) == info.created_at.replace(microsecond=0)


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_files_and_folder_are_readable_by_their_owner_only(db_url, admin, tmp_path, umask) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    previous = os.umask(umask)
    try:
        fresh = backups.backup_now(db_url, admin, backup_dir=tmp_path / "a" / "backups", keep=5)
        tightened = backups.backup_now(db_url, admin, backup_dir=loose, keep=5)
    finally:
        os.umask(previous)
    for info in (fresh, tightened):
        assert mode(info.path.parent) == 0o700
        for path in (info.path, info.path.with_suffix(".json")):
            assert mode(path) == 0o600, path
            assert path.stat().st_uid == os.getuid()
    assert not list(loose.glob(".*"))  # no partial file left behind


def test_retention_keeps_the_newest(db_url, admin, tmp_path) -> None:
    made = [backups.backup_now(db_url, admin, backup_dir=tmp_path, keep=2) for _ in range(4)]
    listed = backups.list_backups(tmp_path)
    assert [info.path for info in listed] == [made[3].path, made[2].path]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        name for info in listed for name in (info.name, info.path.with_suffix(".json").name)
    )
    # The backup just made is never deleted, whatever `keep` says.
    newest = backups.backup_now(db_url, admin, backup_dir=tmp_path, keep=0)
    assert backups.list_backups(tmp_path) == [newest]
    assert backups.prune(tmp_path, 1, made=newest.path) == []


def test_a_file_that_is_not_a_clinic_backup_is_refused(
    db_url, engine, admin, tmp_path, pg_server, empty_db_url
) -> None:
    before = populated(engine)
    text_file = tmp_path / "notes.dump"
    text_file.write_text("not a dump\n")
    other = tmp_path / "other.dump"
    stranger = create_engine(empty_db_url)
    with stranger.begin() as conn:
        conn.execute(text("CREATE TABLE shopping (item text)"))
    stranger.dispose()
    subprocess.run(
        [dumps.client_program("pg_dump"), "-Fc", "-f", str(other), "-d", libpq_url(empty_db_url)],
        check=True,
    )
    for path in (text_file, other, tmp_path / "missing.dump"):
        with pytest.raises(backups.BackupError) as refused:
            backups.restore(db_url, admin, path)
        assert refused.value.values["file"] == str(path)
        assert str(path) in refused.value.describe()
    assert counts(engine) == before


def test_a_damaged_backup_leaves_the_database_as_it_was(db_url, engine, admin, tmp_path) -> None:
    populated(engine)
    info = backups.backup_now(db_url, admin, backup_dir=tmp_path / "b", keep=5)
    data = info.path.read_bytes()
    damaged = tmp_path / "damaged.dump"
    for fraction in (0.95, 0.9, 0.85, 0.8):  # cut inside the data, past the table of contents
        damaged.write_bytes(data[: int(len(data) * fraction)])
        try:
            backups.backup_revision(damaged)
            break
        except backups.BackupError:
            continue
    else:
        pytest.fail("no cut keeps the table of contents readable")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE stray (id int)"))
    before = counts(engine)
    with pytest.raises(backups.BackupError) as failed:
        backups.restore(db_url, admin, damaged)
    assert failed.value.msgid == dumps.FAILED
    assert "pg_restore" in failed.value.detail
    assert counts(engine) == before  # the stray table too: nothing was dropped


def test_a_backup_newer_than_this_program_is_refused(db_url, engine, admin, tmp_path) -> None:
    current = counts_revision(engine)
    set_revision = text("UPDATE alembic_version SET version_num = :revision")
    with engine.begin() as conn:
        conn.execute(set_revision, {"revision": "9999"})
    info = backups.backup_now(db_url, admin, backup_dir=tmp_path, keep=5)
    assert info.revision == "9999"
    with engine.begin() as conn:
        conn.execute(set_revision, {"revision": current})
        conn.execute(text("CREATE TABLE stray (id int)"))
    before = counts(engine)
    with pytest.raises(backups.BackupError) as refused:
        backups.restore(db_url, admin, info.path)
    assert refused.value.values["revision"] == "9999"
    assert refused.value.values["head"] == current
    assert "newer than this program" in refused.value.describe()
    assert counts(engine) == before


def test_a_receptionist_may_neither_back_up_nor_restore(db_url, admin, tmp_path) -> None:
    info = backups.backup_now(db_url, admin, backup_dir=tmp_path / "ok", keep=5)
    receptionist = Actor(admin.user_id, "lan@clinic.vn", "Lan", Role.RECEPTIONIST)
    with pytest.raises(PermissionDenied):
        backups.backup_now(db_url, receptionist, backup_dir=tmp_path / "no", keep=5)
    with pytest.raises(PermissionDenied):
        backups.restore(db_url, receptionist, info.path)
    with pytest.raises(PermissionDenied):
        backups.backup_now(db_url, None, backup_dir=tmp_path / "no", keep=5)
    assert not (tmp_path / "no").exists()


def test_no_restore_while_a_migration_holds_the_lock(db_url, engine, admin, tmp_path) -> None:
    from clinic_tui.db.migrations import MIGRATION_LOCK_KEY

    info = backups.backup_now(db_url, admin, backup_dir=tmp_path, keep=5)
    with engine.connect() as holder:
        holder.execute(text("SET application_name = 'clinic-tui migrate: other@clinic.vn'"))
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        with pytest.raises(backups.BackupError) as refused:
            backups.restore(db_url, admin, info.path)
        assert "other@clinic.vn" in refused.value.describe()
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})


# ---- the command line --------------------------------------------------------------------


def cli(db_url: str, data_dir: Path, *args: str) -> int:
    return main(["--database-url", db_url, "--data-dir", str(data_dir), "db", *args])


def test_cli_backup_and_restore(db_url, engine, tmp_path, capsys, monkeypatch) -> None:
    before = populated(engine)
    assert cli(db_url, tmp_path, "backup") == 0
    out = capsys.readouterr().out
    (dump,) = (tmp_path / "backups").glob("*.dump")
    assert "Backup written" in out and str(dump) in out and "100 %" in out
    assert mode(tmp_path / "backups") == 0o700 and mode(dump) == 0o600
    actions = audit_actions(engine)
    assert actions[-1][0] == "database_backup" and actions[-1][1] is None
    assert "@" in actions[-1][2]["by"]  # login@host: the command line has no clinic account

    populated(engine)
    revision = backups.backup_revision(dump)
    monkeypatch.setattr("sys.stdin", io.StringIO("not-the-revision\n"))
    assert cli(db_url, tmp_path, "restore", str(dump)) == 1
    captured = capsys.readouterr()
    assert f"That is not {revision}: nothing was restored." in captured.err
    assert counts(engine) != before

    restored = {**before, "audit_log": before["audit_log"] + 1}  # and the restore's entry
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{revision}\n"))
    assert cli(db_url, tmp_path, "restore", str(dump)) == 0
    assert counts(engine) == restored

    populated(engine)
    assert cli(db_url, tmp_path, "restore", str(dump), "--yes") == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "as many rows as when it was backed up" in out
    assert counts(engine) == restored
    assert audit_actions(engine)[-1][0] == "database_restore"


def test_cli_failures_are_one_line(db_url, tmp_path, capsys) -> None:
    junk = tmp_path / "junk.dump"
    junk.write_text("hello")
    assert cli(db_url, tmp_path, "restore", str(junk), "--yes") == 1
    err = capsys.readouterr().err.strip()
    assert err == f"{junk} is not a clinic-tui backup."
    assert cli(db_url, tmp_path, "restore", str(tmp_path / "none.dump"), "--yes") == 1
    assert capsys.readouterr().err.strip().startswith("There is no backup file")
