"""The distinct descriptions, each with how many keys have it: description order steps through these.

A common search term in description order (desktop.core.db.query_skip) walks from one distinct description to
the next, testing each once. Stepped as seeks in the million-row description index, each step cost a B-tree
descent: past the last "Billing …", proving that no later description matches took a few hundred of them.
`key_descriptions(description, keys)` holds each distinct lower(description) once (WITHOUT ROWID, keyed by it),
so the same walk is one range scan of a small table; `keys` says how many rows each will bring.

SQLite only, kept in step with `api_keys.description` by triggers in the writing transaction and filled here in
batches with progress for a big database. `lower()` is SQLite's (ASCII letters), the same expression as the
description order's index. PostgreSQL's planner answers the same search from its pg_trgm index: nothing here.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import logging

from alembic import op

from desktop.core.db.migrate import fill_by_id

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def _add(row: str) -> str:
    return (
        f"INSERT INTO key_descriptions (description, keys) VALUES (lower({row}.description), 1) "
        "ON CONFLICT (description) DO UPDATE SET keys = keys + 1"
    )


def _remove(row: str) -> str:
    return (
        f"UPDATE key_descriptions SET keys = keys - 1 WHERE description = lower({row}.description); "
        f"DELETE FROM key_descriptions WHERE description = lower({row}.description) AND keys <= 0"
    )


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE TABLE key_descriptions (description TEXT NOT NULL PRIMARY KEY, keys INTEGER NOT NULL) WITHOUT ROWID"
    )
    op.execute(f"CREATE TRIGGER key_descriptions_insert AFTER INSERT ON api_keys BEGIN {_add('new')}; END")
    op.execute(f"CREATE TRIGGER key_descriptions_delete AFTER DELETE ON api_keys BEGIN {_remove('old')}; END")
    # WHEN: a rename that changes only the case of ASCII letters keeps its key here.
    op.execute(
        "CREATE TRIGGER key_descriptions_update AFTER UPDATE OF description ON api_keys "
        f"WHEN lower(new.description) IS NOT lower(old.description) BEGIN {_remove('old')}; {_add('new')}; END"
    )
    fill_by_id(
        op.get_bind(),
        "INSERT INTO key_descriptions (description, keys) SELECT lower(description), count(*) FROM api_keys "
        "WHERE id > ? AND id <= ? GROUP BY lower(description) "
        "ON CONFLICT (description) DO UPDATE SET keys = keys + excluded.keys",
        "description index",
        log,
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER key_descriptions_{trigger}")
        op.execute("DROP TABLE key_descriptions")
