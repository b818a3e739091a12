"""What the command line prints about keys: the streaming table, JSON and CSV rows (a verdict: cli_limits.py).

Every text another program may have written (a description, scopes) is shown inert (core/presentation.shown).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

from desktop import APP_ID
from desktop.core.presentation import expiry_cell, shorten, shown
from desktop.core.values import KeyRecord


def record_json(record: KeyRecord, now: datetime) -> dict[str, Any]:
    from desktop.core.export import record_fields

    return record_fields(record, now)


def local_text(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "-" if value is None else value.astimezone().strftime(fmt)


#: The table's column widths come from its first rows (as many as one read batch), so that it streams: a
#: million keys are printed without holding them. A later description wider than its column is cut to fit.
TABLE_FIRST_ROWS = 1000
TABLE_HEADER = ("ID", "KEY", "DESCRIPTION", "CREATED", "EXPIRES", "STATUS", "LAST USED")
DESCRIPTION_COLUMN = TABLE_HEADER.index("DESCRIPTION")


def table_row(r: KeyRecord, now: datetime) -> tuple[str, ...]:
    """One key's cells, each shown inert (another program may have written controls into any text column)."""
    cells = (
        str(r.id),
        r.masked,
        shorten(r.description),
        local_text(r.created_at),
        expiry_cell(r.expires_at, now),
        r.status(now).value,
        local_text(r.last_used_at),
    )
    return tuple(shown(cell) for cell in cells)


def print_table(records: Iterable[KeyRecord], out: TextIO, now: datetime, empty: str | None = None) -> None:
    """The keys as a table aligned by display width (an emoji or a CJK character takes two columns), written
    as the records arrive."""
    from itertools import islice

    from rich.cells import cell_len, set_cell_size

    rows = iter(records)
    first = [table_row(r, now) for r in islice(rows, TABLE_FIRST_ROWS)]
    widths = [max(cell_len(cell) for cell in column) for column in zip(TABLE_HEADER, *first, strict=True)]

    def line(cells: Sequence[str]) -> str:
        fitted = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            size = cell_len(cell)
            if size > width and i == DESCRIPTION_COLUMN:
                cell, size = set_cell_size(cell, width - 1) + "…", width
            fitted.append(cell + " " * (width - size))
        return "  ".join(fitted).rstrip() + "\n"

    out.write(line(TABLE_HEADER))
    for cells in first:
        out.write(line(cells))
    for record in rows:
        out.write(line(table_row(record, now)))
    if not first:
        out.write(empty or f"No keys yet. Create one with: {APP_ID} create --description TEXT\n")


def list_records(
    records: Iterable[KeyRecord],
    args: argparse.Namespace,
    out: TextIO,
    now: datetime,
    extra: Callable[[KeyRecord | None], dict[str, Any]] | None = None,
) -> None:
    """`--json` or `--csv` (with a byte order mark for `--bom`): each key's fields, then `extra`'s (whose names
    `extra(None)` gives, for the header of an empty CSV)."""
    from desktop.core.export import FIELDS, write_csv, write_json

    more: Callable[[KeyRecord | None], dict[str, Any]] = extra or (lambda _r: {})

    def fields(record: KeyRecord) -> dict[str, Any]:
        return {**record_json(record, now), **more(record)}

    if args.json:
        write_json(records, out, fields)
        return
    bom = getattr(args, "bom", False)
    if bom and hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8")  # the mark says UTF-8: so must every byte after it
    write_csv(records, out, fields, bom=bom, header=(*FIELDS, *more(None)))
