"""One spec of a key's fields: what `KeyRecord` holds, the `api_keys` column each is read from, what
`list --json/--csv` and File ▸ Export write, and the window table's header. The other spellings derive from it:

- `core/db/rows.py`: `KEY_COLUMNS` (the raw-SQL paths' column list, also `pg_page.py`'s row of NULLs) and
  `key_record()`, which `core/db/statements.py` (`COLUMNS`, `record()`) uses too;
- `core/export.py`: `FIELDS` and `record_fields()`;
- `ui/control/key_table_model.py`: `HEADERS` and the `COL_*` places.

Each layer converts by the field's `Kind` (reading a row, writing JSON), so this module stays plain data, free of
SQLAlchemy and Qt. `tests/core/test_key_fields.py` fails when a field is added to one place and not the others
(the model, `KeyRecord`, the readers, the export, the table, the latest migration's change trigger).
ARCHITECTURE.md, "Adding a field to a key", is the checklist.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    """How a field's value is read from a row and written out."""

    #: An integer, as stored.
    INT = "int"
    #: Text, as stored.
    TEXT = "text"
    #: The masked key (`ak_7Gq2…x9Lp`), made from the stored hint.
    MASKED = "masked"
    #: A UTC time (aware); None stays None. ISO 8601 with its offset in JSON.
    TIME = "time"
    #: A flag (SQLite stores 0/1).
    BOOL = "bool"
    #: Scopes, stored space-separated ('' for none), held as a sorted tuple, a list in JSON.
    SCOPES = "scopes"
    #: Not stored: the key's status by the one rule (`Status.of`) at the moment of the export.
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class KeyField:
    #: `KeyRecord`'s attribute, and the field's name in `list --json` objects and the CSV header.
    name: str
    #: The `api_keys` column it is read from; None for a field worked out from the others (status).
    column: str | None
    kind: Kind
    #: Written by `list --json/--csv` and File ▸ Export.
    exported: bool = True
    #: The window table's column header; None when the table has no column for it.
    header: str | None = None


#: A key's fields in order: `KeyRecord`'s fields (the stored ones), the export's fields and the table's columns
#: (those with a header) all keep this order.
KEY_FIELDS = (
    KeyField("id", "id", Kind.INT),
    KeyField("masked", "hint", Kind.MASKED, header="API Key"),
    KeyField("description", "description", Kind.TEXT, header="Description"),
    KeyField("created_at", "created_at", Kind.TIME, header="Created"),
    KeyField("expires_at", "expires_at", Kind.TIME, header="Expires"),
    KeyField("active", "active", Kind.BOOL),
    KeyField("last_used_at", "last_used_at", Kind.TIME, header="Last used"),
    KeyField("scopes", "scopes", Kind.SCOPES),
    KeyField("status", None, Kind.STATUS, header="Status"),
)

#: The fields read from `api_keys`, in `KeyRecord`'s order: a row of `STORED_COLUMNS` is a `KeyRecord`.
STORED_FIELDS = tuple(f for f in KEY_FIELDS if f.column is not None)
STORED_COLUMNS = tuple(f.column for f in STORED_FIELDS if f.column is not None)
#: What `list --json/--csv` and File ▸ Export write of each key, in order.
EXPORTED_FIELDS = tuple(f for f in KEY_FIELDS if f.exported)
#: The window table's columns before its Actions column, in order.
TABLE_FIELDS = tuple(f for f in KEY_FIELDS if f.header is not None)

#: Columns of `api_keys` that no `KeyRecord` field holds, and why; every other column is in `KEY_FIELDS`.
UNSHOWN_COLUMNS = {
    "digest": "the key's SHA-256: read by verify only, never handed out",
    "limited": "whether the key has limits: read by verify's lookup, the limits themselves by `KeyStore.limits`",
}
