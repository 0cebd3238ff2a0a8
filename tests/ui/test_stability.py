"""Long-running stability (issue 11 item 7): an administrator goes through every screen and
every admin tab, round after round, with a search, a day change and a term typed on the way.
Memory settles after the first rounds (at most 20 MB more at the end than after the warm-up),
no worker is left running, and none ended in an error."""

from __future__ import annotations

import gc
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.widgets import Input
from textual.worker import Worker, WorkerCancelled, WorkerState
from textual.worker_manager import WorkerManager

from clinic_tui.ui.screens.admin import TABS, AdminScreen
from tests.conftest import report_figure
from tests.ui.conftest import type_text
from tests.ui.test_schedule import build_clinic, sign_in

ROUNDS = 200
QUICK_ROUNDS = 3
WARM_UP_ROUNDS = 2  # imports, caches and the first screens' CSS are paid for here
MAX_GROWTH_MB = 20.0
FREEING_SECONDS = 5.0


def rss_mb() -> float:
    """Resident memory now (not the peak), after a full collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Ended:
    """How the app's workers ended: errors (the screens catch and show them; here they
    count) and workers cancelled by a newer one of their exclusive group."""

    errors: list[str] = field(default_factory=list)
    cancelled: Counter[str] = field(default_factory=Counter)
    started: list[str] = field(default_factory=list)


@pytest.fixture
def ended(monkeypatch) -> Ended:
    seen = Ended()
    add, remove = WorkerManager.add_worker, WorkerManager._remove_worker

    def added(self: WorkerManager, worker: Worker, start=True, exclusive=True) -> None:
        seen.started.append(worker.group)
        add(self, worker, start, exclusive)

    def removed(self: WorkerManager, worker: Worker) -> None:
        if worker.state is WorkerState.ERROR:
            seen.errors.append(f"{worker.name} ({worker.group}): {worker.error!r}")
        elif worker.state is WorkerState.CANCELLED:
            seen.cancelled[worker.group] += 1
        remove(self, worker)

    monkeypatch.setattr(WorkerManager, "add_worker", added)
    monkeypatch.setattr(WorkerManager, "_remove_worker", removed)
    return seen


async def settle(app, pilot) -> None:
    """tests.ui.conftest.settle, except that a worker cancelled by a newer one of its group
    is not a failure here (it is counted by `ended`)."""
    calm = 0
    for _ in range(50):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            calm = 0
        else:
            calm += 1
        await pilot.pause()
        if calm == 3:
            return
    raise AssertionError(f"the workers never settled: {running(app)}")


async def visit(app, pilot, key: str, screen_id: str) -> None:
    await pilot.press(key)
    await settle(app, pilot)
    assert app.screen.id == screen_id, f"{key} led to {app.screen.id}, not {screen_id}"


async def one_round(app, pilot, tabs: list[str]) -> None:
    await visit(app, pilot, "f1", "today")
    await visit(app, pilot, "f3", "patients")
    box = app.screen.query_one("#patient-query", Input)
    box.value = ""
    box.focus()
    await type_text(pilot, "nguyen")
    await pilot.pause(0.3)  # the search waits for typing to pause
    await settle(app, pilot)
    await visit(app, pilot, "f4", "schedule")
    await pilot.press("pagedown")
    await settle(app, pilot)
    await visit(app, pilot, "f5", "invoicing")
    await visit(app, pilot, "f6", "terms")
    box = app.screen.query_one("#term-query", Input)
    box.value = ""
    box.focus()
    await type_text(pilot, "lung")
    await settle(app, pilot)
    await visit(app, pilot, "f7", "protocols")
    await visit(app, pilot, "f9", "admin")
    screen = app.screen
    assert isinstance(screen, AdminScreen)
    for tab in tabs:
        screen.action_show_tab(tab)
        await settle(app, pilot)
        assert screen.active_tab() is not None and screen.active_tab().id == tab


def running(app) -> list[str]:
    return [
        f"{worker.name} ({worker.group})"
        for worker in app.workers
        if worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
    ]


async def drive(app_factory, db_url, rounds: int, ended: Ended) -> dict[str, float]:
    build_clinic(db_url)
    tabs = [tab.id for tab in TABS if tab.built]
    assert tabs, "no admin tab is built"
    app = app_factory()
    figures: dict[str, float] = {}
    async with app.run_test(size=(140, 45)) as pilot:
        await sign_in(app, pilot, "admin@clinic.vn")
        assert app.actor is not None and app.actor.role == "ADMIN"
        started = time.monotonic()
        for number in range(1, rounds + 1):
            await one_round(app, pilot, tabs)
            if number == min(WARM_UP_ROUNDS, rounds):
                figures["warm"] = rss_mb()
        figures["end"] = rss_mb()
        figures["seconds_per_round"] = (time.monotonic() - started) / rounds
        assert running(app) == []
        await pilot.press("f1")  # leave the admin screen: its panels go, and their workers
        await settle(app, pilot)
        assert running(app) == []
        assert len(app.workers) == 0  # finished workers are not kept either
    assert ended.errors == []
    figures["tabs"] = len(tabs)
    figures["cancelled"] = sum(ended.cancelled.values())
    return figures


async def test_closed_screens_leave_no_header_behind(app_factory, db_url, ended) -> None:
    """A screen that is closed is freed: nothing outside it (the app's watchers, for one)
    keeps its widgets alive."""
    from clinic_tui.ui.widgets.header import ClinicHeader

    build_clinic(db_url)
    tabs = [tab.id for tab in TABS if tab.built][:2]
    app = app_factory()
    async with app.run_test(size=(140, 45)) as pilot:
        await sign_in(app, pilot, "admin@clinic.vn")
        for _round in range(2):
            await one_round(app, pilot, tabs)
        await visit(app, pilot, "f1", "today")
        shown = {id(header) for screen in app.screen_stack for header in screen.query(ClinicHeader)}

        def left_behind() -> int:
            gc.collect()
            alive = [obj for obj in gc.get_objects() if isinstance(obj, ClinicHeader)]
            return sum(1 for header in alive if id(header) not in shown)

        # Textual closes a removed screen's widgets in their own tasks, which a loaded machine
        # may not have run yet: a few seconds' grace. Beyond that, on a loaded machine, one
        # header is now and then still held by something inside Textual (about one run in
        # eighty here; the holder is not ours to fix), so one straggler is tolerated. A real
        # leak holds the header of every screen closed: fourteen here, as the app's watcher did.
        deadline = time.monotonic() + FREEING_SECONDS
        while left_behind() > 0 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        count = left_behind()
    assert count <= 1, f"{count} headers of closed screens are still alive"


@pytest.mark.slow
async def test_every_screen_a_few_rounds_leaves_no_worker(app_factory, db_url, ended) -> None:
    figures = await drive(app_factory, db_url, QUICK_ROUNDS, ended)
    assert figures["end"] > 0


@pytest.mark.long
async def test_every_screen_two_hundred_rounds_keeps_memory_flat(
    app_factory, db_url, ended
) -> None:
    figures = await drive(app_factory, db_url, ROUNDS, ended)
    growth = figures["end"] - figures["warm"]
    report_figure(
        f"stability: {ROUNDS} rounds of 7 screens + {figures['tabs']:.0f} admin tabs,"
        f" {figures['seconds_per_round']:.2f} s a round; RSS {figures['warm']:.0f} MB after"
        f" {WARM_UP_ROUNDS} rounds → {figures['end']:.0f} MB at the end"
        f" ({growth:+.1f} MB, limit {MAX_GROWTH_MB:.0f}), peak {peak_mb():.0f} MB;"
        f" workers left running: 0; loads cancelled by a newer one: {figures['cancelled']:.0f}"
    )
    assert growth <= MAX_GROWTH_MB


async def test_showing_a_tab_loads_it_once(app_factory, db_url, ended) -> None:
    build_clinic(db_url)
    app = app_factory()
    doubled: dict[str, list[str]] = {}
    async with app.run_test(size=(140, 45)) as pilot:
        await sign_in(app, pilot, "admin@clinic.vn")
        before = len(ended.started)
        await visit(app, pilot, "f9", "admin")
        screen = app.screen
        tabs = [tab.id for tab in screen.visible_tabs()]
        started = {"(opening)": ended.started[before:]}
        for tab in [*tabs[1:], tabs[0]]:
            before = len(ended.started)
            screen.action_show_tab(tab)
            await settle(app, pilot)
            started[tab] = ended.started[before:]
        for step, groups in started.items():
            doubled[step] = sorted(group for group, n in Counter(groups).items() if n > 1)
    assert {step: groups for step, groups in doubled.items() if groups} == {}
