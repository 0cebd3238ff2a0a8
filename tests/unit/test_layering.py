"""`ui/` is the only package that imports textual (DESIGN §3)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import clinic_tui


def _non_ui_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(clinic_tui.__path__, prefix="clinic_tui."):
        if info.name.startswith("clinic_tui.ui") or info.name == "clinic_tui.__main__":
            continue
        names.append(info.name)
    return names


def test_there_are_modules_to_check() -> None:
    modules = _non_ui_modules()
    assert "clinic_tui.cli" in modules
    assert "clinic_tui.db.engine" in modules


def test_no_module_below_ui_imports_textual() -> None:
    modules = _non_ui_modules()
    script = (
        "import importlib, sys\n"
        f"bad = []\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    if any(m == 'textual' or m.startswith('textual.') for m in sys.modules):\n"
        "        bad.append(name)\n"
        "        break\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"imports textual: {result.stdout.strip()}"


def test_cli_start_path_does_not_import_alembic() -> None:
    script = (
        "import sys\nimport clinic_tui.cli, clinic_tui.ui.app\n"
        "print(any(m == 'alembic' or m.startswith('alembic.') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
