"""Folders and files that hold patient data or secrets (receipts, reports, backups, logs):
readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path


def private_folder(folder: Path | str) -> Path:
    """`folder`, created with every missing parent as 0700 (mkdir's `parents` would make the
    parents 0777 minus the umask: world-writable under umask 0); the folder itself is 0700."""
    path = Path(folder).expanduser().absolute()
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        candidate.mkdir(mode=0o700, exist_ok=True)
        candidate.chmod(0o700)
    path.chmod(0o700)
    return path


def private_append_file(path: Path) -> Path:
    """A file to append to, created 0600 (an existing one is narrowed to 0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    return path
