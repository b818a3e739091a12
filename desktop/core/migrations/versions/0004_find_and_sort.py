"""Finding keys: an index for each order (and each with `active` first, for the status filters), and search.

The indexed expressions are exactly the sort keys of desktop.core.db.queries (SORT_KEYS): an expression
index serves only a query that spells the same expression. Every index ends in id, so keyset pages seek.

Search: on SQLite an FTS5 table with the trigram tokenizer over the descriptions (external content: the text
stays in api_keys only), kept in step by triggers in the writing transaction, filled here in batches with
progress for a big database. On PostgreSQL a pg_trgm GIN index on lower(description); where the extension
cannot be created (not installed, or not allowed) search still works, by scanning.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import logging

from alembic import op

from desktop.core.db.migrate import fill_by_id

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


_SQLITE_KEYS = {
    "expires": "coalesce(expires_at, '9999-12-31 23:59:59.999999')",
    "last_used": "coalesce(last_used_at, '0001-01-01 00:00:00.000000')",
    "description": "lower(description)",
}
_POSTGRESQL_KEYS = {
    "expires": "coalesce(expires_at, CAST('9999-12-31 23:59:59.999999' AS timestamp))",
    "last_used": "coalesce(last_used_at, CAST('0001-01-01 00:00:00' AS timestamp))",
    "description": "lower(description)",
}
# (name, key, id direction): `expires` and `description` go up while their ties go to the higher id first.
_ORDERS = (("expires", "DESC"), ("last_used", "ASC"), ("description", "DESC"))


def _indexes(sort_keys: dict[str, str]) -> list[str]:
    statements = ["CREATE INDEX ix_api_keys_active_created_at_id ON api_keys (active, created_at, id)"]
    for name, id_direction in _ORDERS:
        key = sort_keys[name]
        statements.append(f"CREATE INDEX ix_api_keys_{name}_key ON api_keys ({key}, id {id_direction})")
        statements.append(f"CREATE INDEX ix_api_keys_active_{name}_key ON api_keys (active, {key}, id {id_direction})")
    return statements


def _sqlite_search() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE api_keys_fts USING fts5("
        "description, content='api_keys', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER api_keys_fts_insert AFTER INSERT ON api_keys BEGIN "
        "INSERT INTO api_keys_fts (rowid, description) VALUES (new.id, new.description); END"
    )
    op.execute(
        "CREATE TRIGGER api_keys_fts_delete AFTER DELETE ON api_keys BEGIN "
        "INSERT INTO api_keys_fts (api_keys_fts, rowid, description) VALUES ('delete', old.id, old.description); END"
    )
    op.execute(
        "CREATE TRIGGER api_keys_fts_update AFTER UPDATE OF description ON api_keys BEGIN "
        "INSERT INTO api_keys_fts (api_keys_fts, rowid, description) VALUES ('delete', old.id, old.description); "
        "INSERT INTO api_keys_fts (rowid, description) VALUES (new.id, new.description); END"
    )
    fill_by_id(
        op.get_bind(),
        "INSERT INTO api_keys_fts (rowid, description) SELECT id, description FROM api_keys WHERE id > ? AND id <= ?",
        "search index",
        log,
    )


def _postgresql_search() -> None:
    bind = op.get_bind()
    # A savepoint: without pg_trgm (not installed, or a role that may not create it) the rest still migrates.
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        bind.exec_driver_sql(
            "CREATE INDEX ix_api_keys_description_trgm ON api_keys USING gin (lower(description) gin_trgm_ops)"
        )
    except Exception as err:  # any refusal: search scans instead
        savepoint.rollback()
        log.warning("no trigram index for searching descriptions (pg_trgm: %s); search will scan", type(err).__name__)
    else:
        savepoint.commit()


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _indexes(_SQLITE_KEYS if dialect == "sqlite" else _POSTGRESQL_KEYS):
        op.execute(statement)
    if dialect == "sqlite":
        _sqlite_search()
    elif dialect == "postgresql":
        _postgresql_search()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER api_keys_fts_{trigger}")
        op.execute("DROP TABLE api_keys_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_api_keys_description_trgm")
    op.execute("DROP INDEX ix_api_keys_active_created_at_id")
    for name, _ in _ORDERS:
        op.execute(f"DROP INDEX ix_api_keys_{name}_key")
        op.execute(f"DROP INDEX ix_api_keys_active_{name}_key")
