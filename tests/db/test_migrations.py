"""The migration chain: agrees with the models, undoes itself completely, seeds exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, text

from clinic_tui.db import migrations
from clinic_tui.models import Base
from clinic_tui.services.verify import expected_seed_counts, run_checks
from tests.conftest import report_figure
from tests.db.populate import populate_every_table, table_counts

ROOT = Path(__file__).resolve().parents[2]


def _drift(conn: Connection) -> list[object]:
    def include(obj, name, type_, reflected, compare_to):
        return not (
            type_ == "table"
            and reflected
            and name
            and name.startswith(("outcome_measures_y", "outcome_measures_default"))
        )

    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "include_object": include}
    )
    return list(compare_metadata(context, Base.metadata))


def _leftovers(conn: Connection) -> dict[str, list[str]]:
    """Everything of ours in the public schema (Alembic's own version table aside)."""
    relations = (
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname NOT IN ('alembic_version', "
                "'alembic_version_pkc') ORDER BY 1"
            )
        )
        .scalars()
        .all()
    )
    functions = (
        conn.execute(
            text(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' ORDER BY 1"
            )
        )
        .scalars()
        .all()
    )
    types = (
        conn.execute(
            text(
                "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd', 'r') "
                "AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid) ORDER BY 1"
            )
        )
        .scalars()
        .all()
    )
    extensions = (
        conn.execute(text("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"))
        .scalars()
        .all()
    )
    return {
        "relations": list(relations),
        "functions": list(functions),
        "types": list(types),
        "extensions": list(extensions),
    }


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert _drift(conn) == []
            # The comparison is real: remove an index the models declare and it is noticed.
            conn.execute(text("DROP INDEX ix_doctors_rating"))
            assert any("ix_doctors_rating" in str(change) for change in _drift(conn))
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_populated_round_trip_leaves_nothing_then_seeds_once(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            counts = populate_every_table(conn)
        assert all(count >= 1 for count in counts.values())

        migrations.downgrade(db_url, "base")
        with engine.connect() as conn:
            assert migrations.current(db_url) is None
            assert _leftovers(conn) == {
                "relations": [],
                "functions": [],
                "types": [],
                "extensions": [],
            }

        migrations.upgrade(db_url)
        with engine.connect() as conn:
            counts = table_counts(conn)
            for table, expected in expected_seed_counts().items():
                assert counts[table] == expected, table
            assert counts["patients"] == 0
            assert all(check.ok for check in run_checks(conn))
    finally:
        engine.dispose()


def test_upgrading_a_current_database_changes_nothing(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            populate_every_table(conn)
        with engine.connect() as conn:
            before = table_counts(conn)
        steps: list[str] = []
        migrations.upgrade(db_url, on_step=steps.append)
        with engine.connect() as conn:
            assert table_counts(conn) == before
        assert steps == []
        assert migrations.current(db_url) == migrations.head()
    finally:
        engine.dispose()


def test_seed_downgrade_removes_exactly_its_rows(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO pt_service_codes (code, name_en, name_vi, category, unit_price) "
                    "VALUES ('X900', 'Dry needling', 'Châm kim khô', 'therapy', 300000)"
                )
            )
        migrations.downgrade(db_url, "0011")
        with engine.connect() as conn:
            left = conn.execute(text("SELECT code FROM pt_service_codes")).scalars().all()
            terms = conn.execute(text("SELECT count(*) FROM vietnamese_medical_terms")).scalar()
        assert left == ["X900"]
        assert terms == 0
        migrations.upgrade(db_url)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM pt_service_codes")).scalar()
        assert total == expected_seed_counts()["pt_service_codes"] + 1
    finally:
        engine.dispose()


def test_full_migration_time_is_reported(empty_db_url: str) -> None:
    started = time.perf_counter()
    migrations.upgrade(empty_db_url)
    elapsed = time.perf_counter() - started
    report_figure(f"migrate empty → head: {elapsed:.2f} s (target < 3 s)")
    assert migrations.current(empty_db_url) == migrations.head()


def test_plain_alembic_and_the_cli_run_the_same_chain(empty_db_url: str) -> None:
    env = {**os.environ, "CLINIC_DATABASE_URL": empty_db_url}
    alembic = Path(sys.executable).with_name("alembic")
    result = subprocess.run(
        [str(alembic), "upgrade", "0005"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    current = subprocess.run(
        [sys.executable, "-m", "clinic_tui", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert current.stdout.strip() == "0005"
    upgrade = subprocess.run(
        [sys.executable, "-m", "clinic_tui", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    history = subprocess.run(
        [sys.executable, "-m", "clinic_tui", "db", "history"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = history.stdout.strip().splitlines()
    assert len(lines) == len(migrations.chain()) >= 17
    assert lines[-1].startswith(f"* {migrations.head()}")


def test_verify_fails_when_something_is_missing(db_url: str) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "clinic_tui", "db", "verify"],
        env={**os.environ, "CLINIC_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM clinical_protocols WHERE code = 'LBP-8W'"))
            conn.execute(
                text("ALTER TABLE appointments DROP CONSTRAINT ex_appointments_patient_overlap")
            )
    finally:
        engine.dispose()
    bad = subprocess.run(
        [sys.executable, "-m", "clinic_tui", "db", "verify"],
        env={**os.environ, "CLINIC_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "✗ Reference rows in clinical_protocols — 4 / 5" in bad.stdout
    assert "✗ No-double-booking constraint: ex_appointments_patient_overlap" in bad.stdout
