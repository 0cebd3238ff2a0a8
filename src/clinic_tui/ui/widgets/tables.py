"""Filling a DataTable whose columns fit their contents from the first frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable


def _width(cell: str | Text) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def fill_measured(
    table: DataTable[Any],
    headers: Sequence[str],
    rows: Sequence[tuple[str | None, Sequence[str | Text]]],
    *,
    fixed: dict[int, int] | None = None,
) -> None:
    """Replace a table's columns and rows (key, cells), each column as wide as its widest
    cell. DataTable measures auto-width columns only when it is next idle, and lines drawn
    before that stay cached at the headers' widths; measuring here leaves nothing to chance.
    `fixed` gives some columns (by index) a set width."""
    table.clear(columns=True)
    for index, header in enumerate(headers):
        width = (fixed or {}).get(index)
        if width is None:
            width = max([cell_len(header), *(_width(cells[index]) for _key, cells in rows)])
        table.add_column(header, width=width)
    for key, cells in rows:
        table.add_row(*cells, key=key)
