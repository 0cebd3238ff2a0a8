"""Slot arithmetic for the availability grid and booking (DESIGN §5.3). Pure: no I/O.

Times of day are `datetime.time` at the edges and whole minutes since midnight inside, so
a day's arithmetic never wraps. A span is half-open, ``[start, end)``, like the appointments'
``tsrange(..., '[)')``: an appointment ending at 09:00 and one starting at 09:00 do not overlap.

Slot starts are aligned to the clock (multiples of the slot length from midnight), so every
grid of a day, and every day of a week, shows the same rows, and a start offered by the
first-free search is always a row of the grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time
from enum import Enum
from typing import NamedTuple

DAY_MINUTES = 24 * 60


def to_minutes(value: time) -> int:
    """Whole minutes since midnight; seconds are dropped (no booking is finer than a minute)."""
    return value.hour * 60 + value.minute


def to_time(minutes: int) -> time:
    if not 0 <= minutes < DAY_MINUTES:
        raise ValueError(f"{minutes} minutes is not a time of day")
    return time(minutes // 60, minutes % 60)


def end_of(start: time, minutes: int) -> time | None:
    """``start`` plus ``minutes``, or None when that passes midnight (no booking does)."""
    end = to_minutes(start) + minutes
    return to_time(end) if end < DAY_MINUTES else None


class Block(NamedTuple):
    """A half-open span of a day, ``[start, end)``."""

    start: time
    end: time

    @property
    def minutes(self) -> int:
        return to_minutes(self.end) - to_minutes(self.start)


_Span = tuple[int, int]  # the same span in minutes


def _spans(blocks: Iterable[tuple[time, time]]) -> list[_Span]:
    return [(to_minutes(s), to_minutes(e)) for s, e in blocks if to_minutes(e) > to_minutes(s)]


def _blocks(spans: Iterable[_Span]) -> list[Block]:
    return [Block(to_time(s), to_time(e)) for s, e in spans]


def _merged(spans: Iterable[_Span]) -> list[_Span]:
    out: list[_Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:  # touching blocks join: 07:30–11:30 + 11:30–12:00
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _minus(spans: Iterable[_Span], cuts: Iterable[_Span]) -> list[_Span]:
    pieces = _merged(spans)
    for cut_start, cut_end in _merged(cuts):
        kept: list[_Span] = []
        for start, end in pieces:
            if cut_end <= start or end <= cut_start:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        pieces = kept
    return pieces


def merge(blocks: Iterable[tuple[time, time]]) -> list[Block]:
    """Sorted, disjoint blocks covering the same time; empty blocks vanish."""
    return _blocks(_merged(_spans(blocks)))


def subtract(blocks: Iterable[tuple[time, time]], cuts: Iterable[tuple[time, time]]) -> list[Block]:
    """What of ``blocks`` lies outside every cut, merged."""
    return _blocks(_minus(_spans(blocks), _spans(cuts)))


def intersect(
    blocks: Iterable[tuple[time, time]], others: Iterable[tuple[time, time]]
) -> list[Block]:
    """What of ``blocks`` lies inside some of ``others``, merged."""
    mine, theirs = _merged(_spans(blocks)), _merged(_spans(others))
    out = [(max(a, c), min(b, d)) for a, b in mine for c, d in theirs if max(a, c) < min(b, d)]
    return _blocks(_merged(out))


def overlaps(a: tuple[time, time], b: tuple[time, time]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class Change(Enum):
    OPEN = "open"  # extra hours
    CLOSE = "close"  # holiday, leave


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One exception applied to a day's blocks; ``block`` None means the whole day."""

    change: Change
    block: Block | None = None


def apply_adjustments(
    base: Iterable[tuple[time, time]], changes: Sequence[Adjustment]
) -> list[Block]:
    """The day's available blocks: the template's, then each exception in the order given.

    Order matters, and the caller passes the order the exceptions were made in: extra hours
    added on top of a day's leave reopen it, and leave taken later closes extra hours again.
    Extra hours "for the whole day" mean nothing, so they are ignored.
    """
    spans = _merged(_spans(base))
    for adjustment in changes:
        if adjustment.block is None:
            if adjustment.change is Change.CLOSE:
                spans = []
            continue
        span = (to_minutes(adjustment.block.start), to_minutes(adjustment.block.end))
        if adjustment.change is Change.CLOSE:
            spans = _minus(spans, [span])
        else:
            spans = _merged([*spans, span])
    return _blocks(spans)


def slots_of(start: time, end: time, minutes: int) -> list[time]:
    """The starts of the whole slots of ``minutes`` in ``[start, end)``, from ``start``."""
    if minutes <= 0:
        raise ValueError("a slot lasts at least a minute")
    first, last = to_minutes(start), to_minutes(end)
    return [to_time(m) for m in range(first, last - minutes + 1, minutes)]


def day_grid(open_from: time, open_to: time, minutes: int) -> list[time]:
    """The rows of a day's grid: clock-aligned slot starts covering ``[open_from, open_to)``.

    ``open_from`` is rounded down and ``open_to`` up to the slot length, so a block that
    starts at 07:15 on a 30-minute grid still shows (in the 07:00 row, partly available).
    """
    if minutes <= 0:
        raise ValueError("a slot lasts at least a minute")
    first = to_minutes(open_from) // minutes * minutes
    last = min(-(-to_minutes(open_to) // minutes) * minutes, DAY_MINUTES)
    return [to_time(m) for m in range(first, last - minutes + 1, minutes)]


def fits(blocks: Iterable[tuple[time, time]], start: time, end: time) -> bool:
    """Whether ``[start, end)`` lies wholly inside the (merged) blocks."""
    first, last = to_minutes(start), to_minutes(end)
    if last <= first:
        return False
    return any(s <= first and last <= e for s, e in _merged(_spans(blocks)))


def first_free(
    blocks: Iterable[tuple[time, time]],
    busy: Iterable[tuple[time, time]],
    *,
    earliest: time,
    length: int,
    step: int,
) -> time | None:
    """The earliest clock-aligned start (a multiple of ``step`` minutes) at or after
    ``earliest`` where ``length`` minutes fit inside the blocks and touch nothing busy."""
    if length <= 0 or step <= 0:
        raise ValueError("length and step are positive minutes")
    free = _minus(_spans(blocks), _spans(busy))
    from_minute = to_minutes(earliest) + (1 if earliest.second or earliest.microsecond else 0)
    for start, end in free:
        candidate = max(start, from_minute)
        candidate = -(-candidate // step) * step  # round up onto the grid
        if candidate + length <= end:
            return to_time(candidate)
    return None


class SlotCover(NamedTuple):
    """What a grid row of one column holds: whether it is wholly available, the index of
    the first busy span touching it (None: nothing), and whether that span starts here."""

    available: bool
    busy_index: int | None
    starts_here: bool


def cover(
    rows: Sequence[time],
    minutes: int,
    blocks: Iterable[tuple[time, time]],
    busy: Sequence[tuple[time, time]],
) -> list[SlotCover]:
    """Lay blocks and busy spans onto grid rows (the day grid's cells, one column).

    A busy span "starts" in the first row it touches, so the screen can write the patient's
    name once and mark the following rows as its continuation.
    """
    free = _merged(_spans(blocks))
    spans = [(to_minutes(s), to_minutes(e), index) for index, (s, e) in enumerate(busy)]
    spans.sort()
    seen: set[int] = set()
    out: list[SlotCover] = []
    for row in rows:
        first = to_minutes(row)
        last = first + minutes
        available = any(s <= first and last <= e for s, e in free)
        hit = next((index for s, e, index in spans if s < last and first < e), None)
        starts_here = hit is not None and hit not in seen
        if hit is not None:
            seen.add(hit)
        out.append(SlotCover(available, hit, starts_here))
    return out
