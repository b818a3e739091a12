"""The key list as JSON or CSV, metadata only (never a key or a digest): `apikeys list --json/--csv` and,
later, the window's File ▸ Export Keys…, both from `KeyStore.find` (keyset batches, never the whole list).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

from desktop.core.key_fields import EXPORTED_FIELDS, Kind
from desktop.core.presentation import inert_json, shown
from desktop.core.values import KeyRecord

#: The fields of each key, in order: `list --json`'s objects and `list --csv`'s header row (`core/key_fields.py`).
FIELDS = tuple(f.name for f in EXPORTED_FIELDS)


def iso(value: datetime | None) -> str | None:
    """A time as `list --json` and `log --json` write it: ISO 8601 with its UTC offset; None stays None."""
    return None if value is None else value.isoformat()


def _as_stored(name: str) -> Callable[[KeyRecord, datetime], Any]:
    return lambda record, _now: getattr(record, name)


def _as_time(name: str) -> Callable[[KeyRecord, datetime], Any]:
    return lambda record, _now: iso(getattr(record, name))


def _as_list(name: str) -> Callable[[KeyRecord, datetime], Any]:
    return lambda record, _now: list(getattr(record, name))


def _as_status(_name: str) -> Callable[[KeyRecord, datetime], Any]:
    return lambda record, now: record.status(now).value


#: How each kind of field is written as JSON (a CSV cell is made from that: `_cell`).
_WRITERS: dict[Kind, Callable[[str], Callable[[KeyRecord, datetime], Any]]] = {
    Kind.INT: _as_stored,
    Kind.TEXT: _as_stored,
    Kind.MASKED: _as_stored,
    Kind.BOOL: _as_stored,
    Kind.TIME: _as_time,
    Kind.SCOPES: _as_list,
    Kind.STATUS: _as_status,
}
_FIELD_WRITERS = tuple((f.name, _WRITERS[f.kind](f.name)) for f in EXPORTED_FIELDS)


def record_fields(record: KeyRecord, now: datetime) -> dict[str, Any]:
    """One key as `list --json` shows it; `status` by the one rule (Status.of) at `now`."""
    return {name: write(record, now) for name, write in _FIELD_WRITERS}


Fields = Callable[[KeyRecord], dict[str, Any]]


def write_json(records: Iterable[KeyRecord], out: TextIO, fields: Fields) -> int:
    """A JSON array, written as the records arrive (the same text `json.dump(..., indent=2)` gives); the count."""
    written = 0
    for record in records:
        # Controls and bidi overrides that another program wrote into a description: \u escapes, never raw.
        item = inert_json(json.dumps(fields(record), ensure_ascii=False, indent=2)).replace("\n", "\n  ")
        out.write(("[\n  " if not written else ",\n  ") + item)
        written += 1
    out.write("\n]\n" if written else "[]\n")
    return written


#: A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = " ".join(str(item) for item in value)
    # Controls and bidi overrides (another program may have written them, in any text column) are shown
    # escaped, as in the table.
    text = shown(str(value))
    # A description like `=HYPERLINK(...)` opened in a spreadsheet must stay text: a leading ' says so.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


#: UTF-8's byte order mark, as text: a spreadsheet (Excel on Windows) reads a CSV that starts with it as UTF-8, and
#: the `…` of a masked key as itself rather than as `â€¦`.
BOM = "\ufeff"


def write_csv(
    records: Iterable[KeyRecord], out: TextIO, fields: Fields, *, bom: bool = False, header: Sequence[str] = FIELDS
) -> int:
    """A header row, then one row per key (RFC 4180 quoting): true/false, empty for null, lists space-joined.
    With `bom`, the text starts with a byte order mark (`out` must encode it as UTF-8): the form spreadsheets read.
    The header is the first row's fields; `header` when there is no key."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\n")
    names: list[str] | None = None
    written = 0
    for record in records:
        row = fields(record)
        if names is None:
            names = list(row)
            writer.writerow(names)
        writer.writerow([_cell(row[name]) for name in names])
        written += 1
    if names is None:
        writer.writerow(header)
    return written
