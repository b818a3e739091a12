"""The key lifecycle: scopes on each key, an append-only events table (the audit log), and on PostgreSQL
`apikeys_verify(key text, scopes text[])`, which answers `forbidden` for a valid key lacking a required scope.

Scopes are one text column of space-separated, sorted scopes ('' for none): verify reads them in the same
lookup by digest, and a text search can match them. Events keep `key_id` without a foreign key, so a deleted
key's events stay; `masked` is kept with them so the log still names a deleted key.

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "key_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("masked", sa.String(16), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(512), nullable=False),
        sa.Column("db_role", sa.String(128), nullable=True),
        sa.Column("details", sa.Text(), nullable=False, server_default="{}"),
        sqlite_autoincrement=True,
    )
    # `apikeys log` pages newest first by (at, id); a key's history by (key_id, at, id).
    op.create_index("ix_key_events_at_id", "key_events", ["at", "id"])
    op.create_index("ix_key_events_key_id_at_id", "key_events", ["key_id", "at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        _create_scoped_verify()


def _create_scoped_verify() -> None:
    bind = op.get_bind()
    row = bind.exec_driver_sql(
        "SELECT quote_ident(n.nspname), c.relowner::regrole::text FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'api_keys'::regclass"
    ).one()
    schema, owner = str(row[0]), str(row[1])
    # A new overload beside apikeys_verify(text), which stays as it was (and keeps its grants): the one-argument
    # function gives the verdict and records the use; only a valid key's scopes are then compared. The key is
    # trimmed the same way by asking the one-argument function's own rule: a valid verdict means the trimmed
    # key's digest is in the table, found here again by the trimmed text.
    op.execute(
        f"""
        CREATE FUNCTION {schema}.apikeys_verify(key text, scopes text[]) RETURNS text
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $apikeys$
        DECLARE
            verdict text;
            have text;
        BEGIN
            verdict := {schema}.apikeys_verify(key);
            IF verdict <> 'valid' OR scopes IS NULL OR cardinality(scopes) = 0 THEN
                RETURN verdict;
            END IF;
            SELECT k.scopes INTO have FROM {schema}.api_keys k
                WHERE k.digest = sha256(convert_to(substring(key FROM 'ak_[0-9A-Za-z]{{38}}'), 'UTF8'));
            IF NOT FOUND OR NOT (scopes <@ string_to_array(have, ' ')) THEN
                RETURN 'forbidden';
            END IF;
            RETURN 'valid';
        END
        $apikeys$
        """
    )
    if owner != bind.exec_driver_sql("SELECT current_user::regrole::text").scalar():
        op.execute(f"ALTER FUNCTION {schema}.apikeys_verify(text, text[]) OWNER TO {owner}")
    op.execute(f"REVOKE ALL ON FUNCTION {schema}.apikeys_verify(text, text[]) FROM PUBLIC")
    # Roles that may verify already (`apikeys grant --verifier/--manager`) may verify with scopes too.
    op.execute(
        f"""
        DO $grant$
        DECLARE r record;
        BEGIN
            FOR r IN SELECT DISTINCT a.grantee::regrole::text AS role
                       FROM pg_catalog.pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
                      WHERE p.oid = '{schema}.apikeys_verify(text)'::regprocedure
                        AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> p.proowner
            LOOP
                EXECUTE format('GRANT EXECUTE ON FUNCTION {schema}.apikeys_verify(text, text[]) TO %s', r.role);
            END LOOP;
        END
        $grant$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION apikeys_verify(text, text[])")
    op.drop_index("ix_key_events_key_id_at_id", table_name="key_events")
    op.drop_index("ix_key_events_at_id", table_name="key_events")
    op.drop_table("key_events")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: copying the table would lose 0004's
    # expression indexes (SQLAlchemy cannot reflect them) and its search triggers.
    op.drop_column("api_keys", "scopes")
