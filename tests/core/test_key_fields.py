"""One spec of a key's fields (core/key_fields.py): every place that spells them out agrees with it, so a field
added to one place and not the others fails here (issue 22 item 4). ARCHITECTURE.md "Adding a field to a key"."""

from __future__ import annotations

import dataclasses
import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop.core import export
from desktop.core.db import pg_page, rows, statements
from desktop.core.key_fields import (
    EXPORTED_FIELDS,
    KEY_FIELDS,
    STORED_COLUMNS,
    STORED_FIELDS,
    TABLE_FIELDS,
    UNSHOWN_COLUMNS,
    Kind,
)
from desktop.core.models import ApiKey
from desktop.core.values import KeyRecord

AT = datetime(2030, 6, 1, 12, 30, tzinfo=UTC)
#: For each kind: a value as a raw-SQL path reads it (SQLite's text time) and as the record holds it.
SAMPLES: dict[Kind, tuple[Any, Any]] = {
    Kind.INT: (7, 7),
    Kind.TEXT: ("Billing", "Billing"),
    Kind.MASKED: ("7Gq2x9Lp", "ak_7Gq2…x9Lp"),
    Kind.TIME: ("2030-06-01 12:30:00.000000", AT),
    Kind.BOOL: (1, True),
    Kind.SCOPES: ("read write", ("read", "write")),
}
#: For each kind: a record's value as `list --json` writes it.
JSON = {Kind.INT: 7, Kind.TEXT: "Billing", Kind.MASKED: "ak_7Gq2…x9Lp", Kind.BOOL: True}


def test_the_record_holds_the_stored_fields_in_the_specs_order() -> None:
    assert [f.name for f in dataclasses.fields(KeyRecord)] == [f.name for f in STORED_FIELDS]
    assert len({f.name for f in KEY_FIELDS}) == len(KEY_FIELDS)


def test_every_column_of_the_model_is_read_into_the_record_or_said_why_not() -> None:
    model = [column.name for column in ApiKey.__table__.columns]
    assert sorted(model) == sorted((*STORED_COLUMNS, *UNSHOWN_COLUMNS))
    assert not set(STORED_COLUMNS) & set(UNSHOWN_COLUMNS)


def test_the_sql_paths_select_the_specs_columns_in_its_order() -> None:
    assert [column.name for column in statements.COLUMNS] == list(STORED_COLUMNS)
    assert [name.strip() for name in rows.KEY_COLUMNS.split(",")] == list(STORED_COLUMNS)
    assert pg_page._NULLS.split(", ") == ["NULL"] * len(STORED_COLUMNS)


def test_a_row_of_every_kind_reads_into_the_record_field_by_field() -> None:
    row = tuple(SAMPLES[f.kind][0] for f in STORED_FIELDS)
    for read in (rows.key_record, statements.record):
        record = read(row)
        assert {f.name: getattr(record, f.name) for f in STORED_FIELDS} == {
            f.name: SAMPLES[f.kind][1] for f in STORED_FIELDS
        }
    assert rows.key_record((*row[:4], None, *row[5:])).expires_at is None  # a time may be NULL


def test_the_export_writes_the_exported_fields_in_the_specs_order_each_by_its_kind() -> None:
    record = rows.key_record(tuple(SAMPLES[f.kind][0] for f in STORED_FIELDS))
    written = export.record_fields(record, AT)
    assert export.FIELDS == tuple(written) == tuple(f.name for f in EXPORTED_FIELDS)
    expected = {**JSON, Kind.TIME: "2030-06-01T12:30:00+00:00", Kind.SCOPES: ["read", "write"], Kind.STATUS: "expired"}
    assert written == {f.name: expected[f.kind] for f in EXPORTED_FIELDS}


def test_what_people_read_stays_as_it_was() -> None:
    """The spec's order is the contract's: `list --json` keys, the CSV header, the window's headers."""
    assert export.FIELDS == (
        "id", "masked", "description", "created_at", "expires_at", "active", "last_used_at", "scopes", "status",
    )  # fmt: skip
    headers = ("API Key", "Description", "Created", "Expires", "Last used", "Status")
    assert tuple(f.header for f in TABLE_FIELDS) == headers


def test_the_newest_change_trigger_announces_every_column_but_a_use() -> None:
    """Migrations never import the spec (their SQL stays as written): a new column needs a migration whose trigger
    names it. On a live server: tests/team_mode/test_team_security.py."""
    folder = Path(str(importlib.import_module("desktop.core.migrations").__file__)).parent / "versions"
    versions = sorted(folder.glob("0*.py"))
    announcing = [
        module
        for module in (importlib.import_module(f"desktop.core.migrations.versions.{path.stem}") for path in versions)
        if hasattr(module, "ANNOUNCED_COLUMNS")
    ]
    model = {column.name for column in ApiKey.__table__.columns}
    assert set(announcing[-1].ANNOUNCED_COLUMNS) == model - {"last_used_at"}
