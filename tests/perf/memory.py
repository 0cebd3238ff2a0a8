"""Peak memory of a real `clinic-tui` process on the benchmark database, after every screen.

The app runs in a pseudo-terminal (120×40) against the benchmark database, as an
administrator, and is driven as a person would: the day's list and the next day's, a
patient search and a record, the availability grid, a week and an appointment, an invoice
draft with a line, the medical terms with the dropdown open, the protocols, every admin
tab, the help screen, and the language switched both ways. Nothing is saved. Then its
resident-set high-water mark (``VmHWM`` in ``/proc/<pid>/status``) is read; the mark at
the login screen and just after signing in, and the resident size after signing in and at
the end, are noted beside it (they tell a moment's peak from a steady size).

Run alone: ``.venv/bin/python -m tests.perf.memory``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from tests.perf import benchdb
from tests.perf.report import Row
from tests.perf.terminal import Terminal

TARGET_MB = 150.0
SIZE = (120, 40)
KEYS = {
    "f1": "\x1bOP", "f2": "\x1bOQ", "f3": "\x1bOR", "f4": "\x1bOS", "f5": "\x1b[15~",
    "f6": "\x1b[17~", "f7": "\x1b[18~", "f9": "\x1b[20~", "f12": "\x1b[24~", "enter": "\r",
    "tab": "\t", "pgdn": "\x1b[6~", "esc": "\x1b", "down": "\x1b[B", "right": "\x1b[C",
    "palette": "\x10",
}  # fmt: skip
ADMIN_TABS = ("verify", "backups", "maintenance", "monitoring", "staff", "reference data")
# (what to send: "key:NAME" or text, what to wait for on screen, or None to let it settle)
Step = tuple[list[str], str | None]
TOUR: list[Step] = [
    (["key:pgdn"], None),  # the next day's list
    (["key:f3"], "Name (with or without accents)"),
    (["nguyen van an"], "20 patients"),
    (["key:enter", "key:enter"], "Identity"),  # the first one's record
    (["key:esc"], None),
    (["key:f4"], "Availability ·"),
    (["key:pgdn"], None),
    (["w"], "Week of"),
    (["key:esc"], "Availability ·"),
    (["key:right", "key:enter"], None),  # an appointment's actions, or the booking dialog
    (["key:esc"], None),
    (["key:f5"], "No patient chosen"),
    (["tran thi mai"], None),
    (["key:enter", "key:enter"], None),
    (["PT001", "key:enter"], None),
    (["key:f6"], None),
    (["dau lung"], "Low back pain"),
    (["key:f7"], "protocols"),
    (["key:down"], None),
    (["key:f9"], "Migrations"),
    *[(["key:palette", tab, "key:enter"], None) for tab in ADMIN_TABS],
    (["key:f12"], None),
    (["key:esc"], None),
    (["key:f2"], None),
    (["key:f2"], None),
]


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _settle(terminal: Terminal, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        terminal.pump(0.05)


def _send(terminal: Terminal, what: str) -> None:
    if what.startswith("key:"):
        terminal.type(KEYS[what[4:]])
    else:
        terminal.type(what)
    _settle(terminal, 0.4)


def tour(url: str) -> dict[str, Any]:
    env = {**os.environ, "CLINIC_DATABASE_URL": url, "CLINIC_LANG": "en"}
    env.pop("CLINIC_DATA_DIR", None)
    terminal = Terminal([sys.executable, "-m", "clinic_tui"], env=env, size=SIZE)
    pid = terminal.process.pid
    try:
        terminal.wait_for("Connected", 60)
        _settle(terminal, 1.0)
        at_login = _status_kb(pid, "VmHWM")
        for what in (benchdb.ADMIN, "key:tab", benchdb.PASSWORD, "key:enter"):
            _send(terminal, what)
        terminal.wait_for("Today ·", 60)
        _settle(terminal, 1.5)
        signed_in = _status_kb(pid, "VmHWM")
        after_login = _status_kb(pid, "VmRSS")
        for sends, needle in TOUR:
            for what in sends:
                _send(terminal, what)
            if needle:
                terminal.wait_for(needle, 60)
            _settle(terminal, 1.5)
        return {
            "peak_kb": _status_kb(pid, "VmHWM"),
            "login_screen_peak_kb": at_login,
            "signed_in_peak_kb": signed_in,
            "after_login_kb": after_login,
            "end_kb": _status_kb(pid, "VmRSS"),
        }
    finally:
        terminal.close()


def run(url: str) -> list[Row]:
    figures = tour(url)
    mb = 1024 / 1_000_000  # kB → MB
    return [
        Row(
            "peak memory (VmHWM) of the app after every screen, 1M-patient database",
            figures["peak_kb"] * mb,
            unit="MB",
            target=TARGET_MB,
            note=(
                f"high-water mark at the login screen {figures['login_screen_peak_kb'] * mb:.0f}"
                f" MB, just after signing in {figures['signed_in_peak_kb'] * mb:.0f} MB;"
                f" resident after signing in {figures['after_login_kb'] * mb:.0f} MB, after"
                f" the tour {figures['end_kb'] * mb:.0f} MB"
            ),
        )
    ]


def main(argv: list[str] | None = None) -> int:
    from tests.perf.pilot import isolate_user_dirs
    from tests.perf.report import text_table

    isolate_user_dirs()
    database = benchdb.ensure()
    try:
        rows = run(database.url)
    finally:
        database.close()
    print(text_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
