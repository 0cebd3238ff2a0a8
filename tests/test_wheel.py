"""An installed (non-editable) wheel works from outside the source tree: the migration chain,
translations and seeds travel inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_tree(tmp_path: Path, pg_server) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheel = next(dist.glob("clinic_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "clinic_tui/alembic/env.py" in names
    assert "clinic_tui/locales/vi/LC_MESSAGES/clinic_tui.po" in names
    assert any(name.startswith("clinic_tui/seeds/") for name in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "CLINIC_DATABASE_URL": pg_server.sqlalchemy_url(), "PYTHONPATH": ""}
    version = subprocess.run(
        [str(venv / "bin" / "clinic-tui"), "--version"],
        cwd=outside,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert version.returncode == 0 and version.stdout.startswith("clinic-tui "), version.stderr
    current = subprocess.run(
        [str(venv / "bin" / "clinic-tui"), "db", "current"],
        cwd=outside,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip()
    history = subprocess.run(
        [str(venv / "bin" / "clinic-tui"), "db", "history"],
        cwd=outside,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert history.returncode == 0, history.stderr
