"""Folders and files holding patient data or secrets are the owner's only, whatever the umask;
the program writes its log there."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from clinic_tui.config import Settings
from clinic_tui.private_files import private_append_file, private_folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_parents_are_created_owner_only_even_under_umask_0(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        made = private_folder(tmp_path / "data" / "receipts" / "2026")
        log = private_append_file(made / "x.log")
    finally:
        os.umask(old)
    for folder in (tmp_path / "data", tmp_path / "data" / "receipts", made):
        assert _mode(folder) == 0o700, folder
    assert _mode(log) == 0o600


def test_the_program_logs_to_an_owner_only_file(tmp_path: Path) -> None:
    from clinic_tui.cli import configure_logging

    settings = Settings(data_dir=tmp_path / "data", database_url="postgresql://x@localhost/x")
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = configure_logging(settings)
        assert path == settings.log_dir / "clinic-tui.log"
        logging.getLogger("clinic_tui.test").warning("schedule listener lost its connection")
        for handler in root.handlers:
            handler.flush()
        assert "schedule listener lost its connection" in path.read_text(encoding="utf-8")
        assert _mode(path) == 0o600 and _mode(settings.log_dir) == 0o700
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
