"""Slot arithmetic (domain/slots.py): examples a receptionist would recognise, then
properties over random blocks, checked minute by minute against a plain set of minutes."""

from __future__ import annotations

from datetime import time
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_tui.domain.slots import (
    Adjustment,
    Block,
    Change,
    apply_adjustments,
    cover,
    day_grid,
    end_of,
    first_free,
    fits,
    intersect,
    merge,
    overlaps,
    slots_of,
    subtract,
    to_minutes,
    to_time,
)

MORNING = Block(time(7, 30), time(11, 30))
AFTERNOON = Block(time(13, 30), time(17, 0))


def t(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def test_slots_of_a_morning() -> None:
    starts = slots_of(MORNING.start, MORNING.end, 30)
    assert starts[0] == t("7:30") and starts[-1] == t("11:00") and len(starts) == 8
    assert slots_of(t("8:00"), t("8:50"), 30) == [t("8:00")]  # only whole slots
    with pytest.raises(ValueError):
        slots_of(t("8:00"), t("9:00"), 0)


def test_day_grid_is_clock_aligned() -> None:
    assert day_grid(t("7:15"), t("8:10"), 30) == [t("7:00"), t("7:30"), t("8:00")]
    assert len(day_grid(t("0:00"), t("23:59"), 30)) == 48
    assert day_grid(t("7:00"), t("19:00"), 15)[-1] == t("18:45")


def test_merge_joins_touching_and_overlapping_blocks() -> None:
    assert merge([AFTERNOON, (t("11:30"), t("12:00")), MORNING]) == [
        Block(t("7:30"), t("12:00")),
        AFTERNOON,
    ]
    assert merge([(t("9:00"), t("9:00"))]) == []


def test_subtract_and_intersect() -> None:
    assert subtract([MORNING], [(t("9:00"), t("10:00"))]) == [
        Block(t("7:30"), t("9:00")),
        Block(t("10:00"), t("11:30")),
    ]
    assert subtract([MORNING], [(t("6:00"), t("12:00"))]) == []
    assert intersect([MORNING, AFTERNOON], [(t("11:00"), t("14:00"))]) == [
        Block(t("11:00"), t("11:30")),
        Block(t("13:30"), t("14:00")),
    ]


def test_half_open_spans_do_not_overlap_end_to_start() -> None:
    assert not overlaps((t("8:00"), t("8:30")), (t("8:30"), t("9:00")))
    assert overlaps((t("8:00"), t("8:31")), (t("8:30"), t("9:00")))


def test_fits_needs_one_block_to_hold_it_all() -> None:
    assert fits([MORNING], t("7:30"), t("8:30"))
    assert fits([MORNING, (t("11:30"), t("12:00"))], t("11:00"), t("12:00"))  # joined blocks
    assert not fits([MORNING, AFTERNOON], t("11:00"), t("14:00"))  # lunch in between
    assert not fits([MORNING], t("11:00"), t("12:00"))
    assert not fits([MORNING], t("9:00"), t("9:00"))


def test_adjustments_apply_in_the_order_made() -> None:
    leave = Adjustment(Change.CLOSE, Block(t("9:00"), t("10:00")))
    extra = Adjustment(Change.OPEN, Block(t("9:30"), t("12:30")))
    assert apply_adjustments([MORNING], [leave, extra]) == [
        Block(t("7:30"), t("9:00")),
        Block(t("9:30"), t("12:30")),
    ]
    assert apply_adjustments([MORNING], [extra, leave]) == [
        Block(t("7:30"), t("9:00")),
        Block(t("10:00"), t("12:30")),
    ]
    whole_day = Adjustment(Change.CLOSE)
    assert apply_adjustments([MORNING, AFTERNOON], [whole_day]) == []
    assert apply_adjustments([], [whole_day, extra]) == [Block(t("9:30"), t("12:30"))]
    assert apply_adjustments([MORNING], [Adjustment(Change.OPEN)]) == [MORNING]


def test_first_free_finds_the_first_aligned_gap() -> None:
    busy = [(t("7:30"), t("8:30")), (t("9:00"), t("9:45"))]
    assert first_free([MORNING], busy, earliest=t("7:00"), length=30, step=30) == t("8:30")
    # 9:45 is free but off the grid: the next row is 10:00.
    assert first_free([MORNING], busy, earliest=t("8:31"), length=30, step=30) == t("10:00")
    assert first_free([MORNING], busy, earliest=t("7:00"), length=60, step=30) == t("10:00")
    assert first_free([MORNING], busy, earliest=t("11:01"), length=30, step=30) is None
    assert first_free([MORNING, AFTERNOON], [], earliest=t("11:01"), length=30, step=30) == t(
        "13:30"
    )
    assert first_free([MORNING], [], earliest=time(8, 0, 1), length=30, step=30) == t("8:30")


def test_cover_lays_out_a_column() -> None:
    rows = day_grid(t("7:00"), t("9:30"), 30)  # 7:00 … 9:00
    booked = [(t("8:00"), t("9:00"))]
    column = cover(rows, 30, [MORNING], booked)
    assert [c.available for c in column] == [False, True, True, True, True]
    assert [c.busy_index for c in column] == [None, None, 0, 0, None]
    assert [c.starts_here for c in column] == [False, False, True, False, False]


def test_end_of_refuses_to_pass_midnight() -> None:
    assert end_of(t("23:00"), 30) == t("23:30")
    assert end_of(t("23:30"), 30) is None
    with pytest.raises(ValueError):
        to_time(24 * 60)


# --- properties, against sets of minutes --------------------------------------------------

minute = st.integers(min_value=0, max_value=24 * 60 - 1)
span = st.tuples(minute, minute).map(sorted).map(lambda p: (to_time(p[0]), to_time(p[1])))
spans = st.lists(span, max_size=6)


def minutes_of(blocks) -> set[int]:
    return {m for start, end in blocks for m in range(to_minutes(start), to_minutes(end))}


@given(spans)
def test_merge_keeps_the_minutes_and_makes_disjoint_sorted_blocks(blocks) -> None:
    merged = merge(blocks)
    assert minutes_of(merged) == minutes_of(blocks)
    assert all(a.end < b.start for a, b in pairwise(merged))
    assert merge(merged) == merged


@given(spans, spans)
def test_subtract_and_intersect_are_set_operations(blocks, cuts) -> None:
    assert minutes_of(subtract(blocks, cuts)) == minutes_of(blocks) - minutes_of(cuts)
    assert minutes_of(intersect(blocks, cuts)) == minutes_of(blocks) & minutes_of(cuts)


@given(spans, spans, minute, st.sampled_from([15, 30, 60]), st.integers(1, 4))
def test_first_free_is_free_aligned_and_first(blocks, busy, earliest, step, count) -> None:
    length = step * count
    found = first_free(blocks, busy, earliest=to_time(earliest), length=length, step=step)
    free = minutes_of(blocks) - minutes_of(busy)

    def works(start: int) -> bool:
        return all(m in free for m in range(start, start + length))

    candidates = [s for s in range(0, 24 * 60, step) if s >= earliest and works(s)]
    assert (to_minutes(found) if found else None) == (candidates[0] if candidates else None)
