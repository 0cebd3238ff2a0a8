"""Where the migration chain, translations and seeds are.

In an installed wheel they sit inside the package (`clinic_tui/alembic`, …); in a source
checkout (editable install, tests) they sit at the repository root.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent.parent


@cache
def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _SOURCE_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ is missing from this installation of clinic-tui")


def alembic_dir() -> Path:
    return resource_dir("alembic")


def locales_dir() -> Path:
    return resource_dir("locales")


def seeds_dir() -> Path:
    return resource_dir("seeds")
