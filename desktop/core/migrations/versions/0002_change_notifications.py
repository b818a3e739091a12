"""PostgreSQL: announce every committed change to the keys on the `apikeys_changes` channel.

A statement-level trigger with a constant payload, so PostgreSQL sends one notification per transaction
however many rows changed. Recording last use (`last_used_at`) does not announce: a busy service must not
wake every window. Nothing on SQLite, whose windows watch `PRAGMA data_version`.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION apikeys_announce_change() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog AS $$
        BEGIN
            PERFORM pg_notify('apikeys_changes', 'changed');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER apikeys_changed
        AFTER INSERT OR DELETE OR UPDATE OF active, description, expires_at ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION apikeys_announce_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER apikeys_truncated
        AFTER TRUNCATE ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION apikeys_announce_change()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER apikeys_truncated ON api_keys")
    op.execute("DROP TRIGGER apikeys_changed ON api_keys")
    op.execute("DROP FUNCTION apikeys_announce_change()")
