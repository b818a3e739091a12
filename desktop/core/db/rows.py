"""A key's row, as the raw-SQL paths read it, into a KeyRecord: SQLite's plain pages, queries.py, PostgreSQL's.

Columns in the order of `KEY_COLUMNS`, which is `core/key_fields.py`'s. SQLite hands times back as text, psycopg as
naive datetimes, SQLAlchemy as aware ones (`statements.record` is this too); all are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from desktop.core import keys
from desktop.core.key_fields import STORED_COLUMNS
from desktop.core.values import KeyRecord

#: The columns a `KeyRecord` is read from, in its order, for the raw-SQL paths.
KEY_COLUMNS = ", ".join(STORED_COLUMNS)


def utc_time(value: str | datetime | None) -> datetime | None:
    """A stored time (SQLite's UTC text without an offset, psycopg's naive UTC datetime) as an aware datetime.

    Text is parsed with the offset appended: `replace(tzinfo=UTC)` after parsing cost six times the parse, and
    verify reads two times on every call.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # a text that carries its own offset (never written here): read as before
            value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def key_record(row: Any) -> KeyRecord:
    """A row of `KEY_COLUMNS` as a record. Unpacked by hand, field by field as `KEY_FIELDS` lists them: a loop over
    the spec costs 70% more per row, and every page and export reads its rows here (`tests/core/test_key_fields.py`
    reads a row of every kind through it)."""
    key_id, hint, description, created_at, expires_at, active, last_used_at, scopes = row
    created = utc_time(created_at)
    assert created is not None  # NOT NULL in the schema
    return KeyRecord(
        key_id, keys.mask_hint(hint), description, created, utc_time(expires_at), bool(active),
        utc_time(last_used_at), tuple(scopes.split()) if scopes else (),
    )  # fmt: skip


#: Stored times already parsed, by their text: verify reads a key's expiry and last use on every call, and a
#: busy key's are the same texts for a minute. Emptied when full (a dict's get and set are atomic). The lookups
#: read it inline (`PARSED_TIMES.get(text) or cached_utc_time(text)`): a call each costs more than the get.
PARSED_TIMES: dict[str, datetime] = {}
_PARSED_MAX = 4096


def cached_utc_time(value: str | datetime | None) -> datetime | None:
    """utc_time() of verify's hot path: a text seen recently costs a dictionary lookup instead of a parse."""
    if value is None:
        return None
    if isinstance(value, str):
        moment = PARSED_TIMES.get(value)
        if moment is None:
            moment = utc_time(value)
            if len(PARSED_TIMES) >= _PARSED_MAX:
                PARSED_TIMES.clear()
            PARSED_TIMES[value] = moment  # type: ignore[assignment]  # never None for a text
        return moment
    return utc_time(value)


#: A SQLite lookup's times (and scopes), read as one text column (`coalesce(expires_at, '') || '|' ||
#: coalesce(last_used_at, '')`, then `|` and the scopes for check()), parsed once per distinct text: sqlite3 builds
#: each column's description anew on every execute, and a busy key's text is the same for a minute.
LOOKED_UP: dict[str, tuple[datetime | None, datetime | None, str]] = {}


def cached_lookup_times(text: str) -> tuple[datetime | None, datetime | None, str]:
    """That column's expiry and last use as aware datetimes (None for ''), and the scopes ('' when not read)."""
    expires_at, last_used_at, *scopes = text.split("|", 2)
    found = (cached_utc_time(expires_at or None), cached_utc_time(last_used_at or None), scopes[0] if scopes else "")
    if len(LOOKED_UP) >= _PARSED_MAX:
        LOOKED_UP.clear()
    LOOKED_UP[text] = found
    return found
