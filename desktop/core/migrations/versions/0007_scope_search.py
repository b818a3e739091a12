"""Scopes are searchable: a search term also finds the keys that have a scope containing it.

SQLite: a side table `key_scopes(scope, key_id)`, one row per scope of a key (WITHOUT ROWID, keyed by scope
then key), kept in step with `api_keys.scopes` by triggers in the writing transaction and filled here in
batches with progress for a big database. Its key serves both questions a search asks of it: which distinct
scopes contain the term (stepped from one scope to the next, one seek each: there are few) and which keys have
those (a range each). A trigram index over the space-separated column would match across two scopes and could
not say which keys have a common scope without reading them all.

PostgreSQL: a pg_trgm GIN index on `scopes` beside 0004's on descriptions, so the planner can answer
`description LIKE … OR scopes LIKE …` from both (a BitmapOr); without pg_trgm, search scans as before.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import logging

from alembic import op

from desktop.core.db.migrate import fill_by_id

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def split(column: str) -> str:
    """The space-separated scopes of `column` as a JSON array for json_each (SQLite has no split, and a trigger
    may not use a recursive CTE). A scope the program wrote holds none of `\\ "` or a control character; a value
    written otherwise that is not valid JSON this way is left out of the index rather than refused."""
    escaped = f"replace(replace({column}, '\\', '\\\\'), '\"', '\\\"')"
    array = f"""'["' || replace({escaped}, ' ', '","') || '"]'"""
    return f"json_each(CASE WHEN json_valid({array}) THEN {array} ELSE '[]' END)"


def _insert(row: str) -> str:
    scopes = split(f"{row}.scopes")
    return f"INSERT OR IGNORE INTO key_scopes (scope, key_id) SELECT value, {row}.id FROM {scopes} WHERE value <> ''"


def _delete(row: str) -> str:
    return f"DELETE FROM key_scopes WHERE key_id = {row}.id AND scope IN (SELECT value FROM {split(f'{row}.scopes')})"


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE TABLE key_scopes (scope TEXT NOT NULL, key_id INTEGER NOT NULL, PRIMARY KEY (scope, key_id)) "
        "WITHOUT ROWID"
    )
    # WHEN: a key without scopes (nearly every seeded key) costs its insert nothing more.
    op.execute(
        f"CREATE TRIGGER key_scopes_insert AFTER INSERT ON api_keys WHEN new.scopes <> '' BEGIN {_insert('new')}; END"
    )
    op.execute(
        f"CREATE TRIGGER key_scopes_delete AFTER DELETE ON api_keys WHEN old.scopes <> '' BEGIN {_delete('old')}; END"
    )
    op.execute(
        "CREATE TRIGGER key_scopes_update AFTER UPDATE OF scopes ON api_keys "
        f"BEGIN {_delete('old')}; {_insert('new')}; END"
    )
    fill_by_id(
        op.get_bind(),
        "INSERT OR IGNORE INTO key_scopes (scope, key_id) SELECT j.value, k.id "
        f"FROM api_keys AS k, {split('k.scopes')} AS j "
        "WHERE k.id > ? AND k.id <= ? AND k.scopes <> '' AND j.value <> ''",
        "scope index",
        log,
    )


def _postgresql_upgrade() -> None:
    bind = op.get_bind()
    # As 0004: a savepoint, so a database without pg_trgm (0004 could not create it) still migrates.
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE INDEX ix_api_keys_scopes_trgm ON api_keys USING gin (scopes gin_trgm_ops)")
    except Exception as err:  # any refusal: search scans instead
        savepoint.rollback()
        log.warning("no trigram index for searching scopes (pg_trgm: %s); search will scan", type(err).__name__)
    else:
        savepoint.commit()


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgresql_upgrade()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER key_scopes_{trigger}")
        op.execute("DROP TABLE key_scopes")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_api_keys_scopes_trgm")
