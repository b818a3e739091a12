"""PostgreSQL team mode keeps its promises: the server writes the audit log, a verifier reads nothing, every
change is announced.

- The audit log is written by the server: AFTER triggers on `api_keys` running as the table's owner (SECURITY
  DEFINER, pinned search_path) write an event for every insert, update and delete by any role through any
  client, with `at` from `clock_timestamp()` and `db_role` from `session_user`. Recording a use (a change of
  `last_used_at` alone) is not an event. The app's own changes carry their details through settings the
  triggers read: `apikeys.actor` (user@host, set by the connection) and the transaction-local `apikeys.context`
  (JSON: the action when the row alone cannot say it, a roll or a seed, and details such as the new key's id).
  No role but the owner may insert, change or delete events: 0005's INSERT for managers is revoked.
- A verifier gets no privilege on any table (the schema's revision is read through `apikeys_revision()`,
  verify's lookup is `apikeys_lookup(digest)` and recording a
  use `apikeys_touch(digest, at, stale)`, SECURITY DEFINER functions with a pinned search_path that answer for
  one digest only (a key's holder learns what verify tells it) and record a use no later than the server's clock.
  The column privileges granted by `apikeys grant --verifier` before are revoked, and those roles given EXECUTE.
- 0002's change notification fires on an update of every column but `last_used_at` (it predated `scopes`).

The downgrade drops the functions and triggers, and with them the verifiers' EXECUTE: after it, the owner runs
the earlier version's `apikeys grant ROLE --verifier` again.

Nothing on SQLite, where the file's owner is its only writer.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: Every column of api_keys whose change is announced to the windows: all but last_used_at (a use).
#: tests/team_mode/test_team_security.py checks this against the model, so a new column cannot be forgotten.
ANNOUNCED_COLUMNS = ("id", "digest", "hint", "description", "created_at", "expires_at", "active", "scopes")
#: 0002's list, for the downgrade.
ANNOUNCED_BEFORE = ("active", "description", "expires_at")

#: The actor of an event: what the app's connection says (`apikeys.actor`), else the session's role and client.
ACTOR = (
    "left(coalesce(nullif(current_setting('apikeys.actor', true), ''), "
    "session_user || '@' || coalesce(host(inet_client_addr()), 'local')), 512)"
)
#: The app's context for this statement (transaction-local), '{}' when none.
CONTEXT = "coalesce(nullif(current_setting('apikeys.context', true), ''), '{}')::jsonb"
NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"


def _masked(row: str) -> str:
    return f"'ak_' || left({row}.hint, 4) || '…' || substr({row}.hint, 5)"


def _scopes(column: str) -> str:
    return f"to_jsonb(coalesce(string_to_array(nullif({column}, ''), ' '), '{{}}'::text[]))"


def _keys_table() -> tuple[str, str]:
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT quote_ident(n.nspname), c.relowner::regrole::text FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'api_keys'::regclass"
        )
        .one()
    )
    return str(row[0]), str(row[1])


def _functions(s: str) -> dict[str, str]:
    """name(signature) -> CREATE FUNCTION statement, each in schema `s`."""
    insert_event = f"INSERT INTO {s}.key_events (at, key_id, masked, action, actor, db_role, details)"
    definer = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
    return {
        "apikeys_iso(timestamp)": f"""
            CREATE FUNCTION {s}.apikeys_iso(t timestamp) RETURNS text
            LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
                SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS')
                    || CASE WHEN date_part('microseconds', t)::bigint % 1000000 <> 0 THEN to_char(t, '.US') ELSE '' END
                    || '+00:00'
            $$""",
        "apikeys_revision()": f"""
            CREATE FUNCTION {s}.apikeys_revision() RETURNS text
            LANGUAGE sql STABLE {definer} AS $$
                SELECT version_num FROM {s}.alembic_version LIMIT 1
            $$""",
        "apikeys_lookup(bytea)": f"""
            CREATE FUNCTION {s}.apikeys_lookup(key_digest bytea)
            RETURNS TABLE (id integer, digest bytea, active boolean, expires_at timestamp,
                           last_used_at timestamp, scopes text)
            LANGUAGE plpgsql STABLE {definer} AS $$
            BEGIN
                -- plpgsql, not sql: its plan is kept for the session (verify's cost, `make bench`).
                RETURN QUERY SELECT k.id, k.digest, k.active, k.expires_at, k.last_used_at, k.scopes
                  FROM {s}.api_keys k WHERE k.digest = key_digest;
            END
            $$""",
        "apikeys_touch(bytea, timestamp, timestamp)": f"""
            CREATE FUNCTION {s}.apikeys_touch(key_digest bytea, used_at timestamp, stale timestamp) RETURNS boolean
            LANGUAGE plpgsql VOLATILE {definer} SET lock_timeout = '1ms' AS $$
            DECLARE
                moment timestamp := least(used_at, {NOW});
                recorded boolean := false;
            BEGIN
                -- Never later than the server's clock, and only for a usable key whose last use is older than
                -- `stale` (at most once a minute): the holder of a key can say it was used, nothing more.
                UPDATE {s}.api_keys SET last_used_at = moment
                 WHERE id = (
                    SELECT k.id FROM {s}.api_keys k
                     WHERE k.digest = key_digest AND k.active AND (k.expires_at IS NULL OR k.expires_at > moment)
                       AND (k.last_used_at IS NULL OR k.last_used_at <= least(stale, moment - interval '1 minute'))
                       FOR UPDATE SKIP LOCKED
                 );
                recorded := FOUND;
                RETURN recorded;
            EXCEPTION WHEN lock_not_available THEN
                -- A writer holding the whole table: the use stays unrecorded, never waited for. (On a standby
                -- or in a read-only session the error reaches the caller, which warns once that uses cannot
                -- be recorded there.)
                RETURN false;
            END
            $$""",
        "apikeys_audit_insert()": f"""
            CREATE FUNCTION {s}.apikeys_audit_insert() RETURNS trigger
            LANGUAGE plpgsql {definer} AS $$
            DECLARE
                context jsonb := {CONTEXT};
            BEGIN
                IF context->>'action' = 'seeded' THEN
                    -- One summary event per seeding statement, not one per key.
                    {insert_event}
                    SELECT {NOW}, NULL, NULL, 'seeded', {ACTOR}, session_user,
                           jsonb_build_object('count', count(*))::text
                      FROM added HAVING count(*) > 0;
                ELSE
                    {insert_event}
                    SELECT {NOW}, a.id, {_masked("a")}, 'created', {ACTOR}, session_user,
                           (coalesce(context->'details', '{{}}') || jsonb_build_object(
                               'description', a.description, 'expires_at', {s}.apikeys_iso(a.expires_at),
                               'active', a.active, 'scopes', {_scopes("a.scopes")}))::text
                      FROM added a ORDER BY a.id;
                END IF;
                RETURN NULL;
            END
            $$""",
        "apikeys_audit_delete()": f"""
            CREATE FUNCTION {s}.apikeys_audit_delete() RETURNS trigger
            LANGUAGE plpgsql {definer} AS $$
            BEGIN
                {insert_event}
                SELECT {NOW}, r.id, {_masked("r")}, 'deleted', {ACTOR}, session_user,
                       jsonb_build_object('description', r.description)::text
                  FROM removed r ORDER BY r.id;
                RETURN NULL;
            END
            $$""",
        "apikeys_audit_truncate()": f"""
            CREATE FUNCTION {s}.apikeys_audit_truncate() RETURNS trigger
            LANGUAGE plpgsql {definer} AS $$
            BEGIN
                {insert_event}
                VALUES ({NOW}, NULL, NULL, 'deleted', {ACTOR}, session_user, '{{"all": true}}');
                RETURN NULL;
            END
            $$""",
        "apikeys_audit_update()": f"""
            CREATE FUNCTION {s}.apikeys_audit_update() RETURNS trigger
            LANGUAGE plpgsql {definer} AS $$
            DECLARE
                context jsonb := {CONTEXT};
                moment timestamp := {NOW};
                actor text := {ACTOR};
                masked text := {_masked("OLD")};
                rolled boolean := coalesce(context->>'action' = 'rolled', false);
                others text[];
                details jsonb;
            BEGIN
                IF NEW.description IS DISTINCT FROM OLD.description THEN
                    {insert_event} VALUES (moment, OLD.id, masked, 'renamed', actor, session_user,
                        jsonb_build_object('from', OLD.description, 'to', NEW.description)::text);
                END IF;
                IF NEW.scopes IS DISTINCT FROM OLD.scopes THEN
                    {insert_event} VALUES (moment, OLD.id, masked, 'scopes-changed', actor, session_user,
                        jsonb_build_object('from', {_scopes("OLD.scopes")}, 'to', {_scopes("NEW.scopes")})::text);
                END IF;
                IF NEW.active IS DISTINCT FROM OLD.active THEN
                    {insert_event} VALUES (moment, OLD.id, masked,
                        CASE WHEN NEW.active THEN 'activated' ELSE 'deactivated' END, actor, session_user, '{{}}');
                END IF;
                IF rolled AND NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
                    {insert_event} VALUES (moment, OLD.id, masked, 'rolled', actor, session_user,
                        (coalesce(context->'details', '{{}}')
                         || jsonb_build_object('expires_at', {s}.apikeys_iso(NEW.expires_at)))::text);
                END IF;
                -- Anything else (the expiry outside a roll, the digest, the hint, the creation time, the id, a
                -- column added later): which columns, never their values but the expiry's.
                SELECT array_agg(n.key ORDER BY n.key) INTO others
                  FROM jsonb_each(to_jsonb(NEW)) n
                 WHERE n.value IS DISTINCT FROM to_jsonb(OLD)->n.key
                   AND n.key NOT IN ('description', 'scopes', 'active', 'last_used_at')
                   AND NOT (rolled AND n.key = 'expires_at');
                IF others IS NOT NULL THEN
                    details := jsonb_build_object('columns', to_jsonb(others));
                    IF 'expires_at' = ANY (others) THEN
                        details := details || jsonb_build_object(
                            'from', {s}.apikeys_iso(OLD.expires_at), 'to', {s}.apikeys_iso(NEW.expires_at));
                    END IF;
                    {insert_event} VALUES (moment, OLD.id, masked, 'changed', actor, session_user, details::text);
                END IF;
                RETURN NULL;
            END
            $$""",
    }


TRIGGERS = {
    "apikeys_audit_insert": "AFTER INSERT ON {s}.api_keys REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION {s}.apikeys_audit_insert()",
    "apikeys_audit_delete": "AFTER DELETE ON {s}.api_keys REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION {s}.apikeys_audit_delete()",
    "apikeys_audit_truncate": "AFTER TRUNCATE ON {s}.api_keys FOR EACH STATEMENT EXECUTE FUNCTION "
    "{s}.apikeys_audit_truncate()",
    # A row trigger, only when something but the last use changed: recording a use costs no event.
    "apikeys_audit_update": "AFTER UPDATE ON {s}.api_keys FOR EACH ROW "
    "WHEN ((to_jsonb(OLD.*) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW.*) - 'last_used_at')) "
    "EXECUTE FUNCTION {s}.apikeys_audit_update()",
}

#: Roles `apikeys grant` gave something (on the revision table, the keys or their columns, or the SQL verify
#: function), but not the owner or PUBLIC: each may verify, so each gets the new functions.
_GRANTEES = """
    SELECT DISTINCT a.grantee::regrole::text FROM (
        SELECT c.relacl AS acl, c.relowner AS owner FROM pg_catalog.pg_class c
         WHERE c.oid IN ('{s}.api_keys'::regclass, '{s}.alembic_version'::regclass)
        UNION ALL
        SELECT att.attacl, c.relowner
          FROM pg_catalog.pg_attribute att JOIN pg_catalog.pg_class c ON c.oid = att.attrelid
         WHERE att.attrelid = '{s}.api_keys'::regclass AND att.attacl IS NOT NULL
        UNION ALL
        SELECT p.proacl, p.proowner FROM pg_catalog.pg_proc p WHERE p.oid = '{s}.apikeys_verify(text)'::regprocedure
    ) o CROSS JOIN LATERAL aclexplode(o.acl) a
     WHERE a.grantee <> 0 AND a.grantee <> o.owner
"""


def _announce(s: str, columns: tuple[str, ...]) -> None:
    op.execute(f"DROP TRIGGER apikeys_changed ON {s}.api_keys")
    op.execute(
        f"CREATE TRIGGER apikeys_changed AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} ON {s}.api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION apikeys_announce_change()"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    s, owner = _keys_table()
    me = bind.exec_driver_sql("SELECT current_user::regrole::text").scalar()
    for signature, statement in _functions(s).items():
        op.execute(statement)
        if owner != me:
            op.execute(f"ALTER FUNCTION {s}.{signature} OWNER TO {owner}")
        op.execute(f"REVOKE ALL ON FUNCTION {s}.{signature} FROM PUBLIC")
    for name, definition in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition.format(s=s)}")
    _announce(s, ANNOUNCED_COLUMNS)
    # Who may verify (a verifier or a manager) may look up and record a use through the functions; what
    # `apikeys grant` gave on the tables before is narrowed to what it gives now.
    for (role,) in bind.exec_driver_sql(_GRANTEES.format(s=s)).fetchall():
        for function in (
            "apikeys_revision()",
            "apikeys_verify(text)",
            "apikeys_verify(text, text[])",
            "apikeys_lookup(bytea)",
        ):
            op.execute(f"GRANT EXECUTE ON FUNCTION {s}.{function} TO {role}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {s}.apikeys_touch(bytea, timestamp, timestamp) TO {role}")
        op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE {s}.key_events FROM {role}")
        op.execute(f"REVOKE ALL ON SEQUENCE {s}.key_events_id_seq FROM {role}")
        has_table = bind.exec_driver_sql(
            f"SELECT has_table_privilege({_literal(role)}::regrole, '{s}.api_keys', 'SELECT')"
        ).scalar()
        if not has_table:  # a verifier: column privileges only, all of them revoked
            columns = ", ".join((*ANNOUNCED_COLUMNS, "last_used_at"))
            op.execute(f"REVOKE SELECT ({columns}), UPDATE ({columns}) ON TABLE {s}.api_keys FROM {role}")
            op.execute(f"REVOKE ALL ON TABLE {s}.alembic_version FROM {role}")


def _literal(role: str) -> str:
    return "'" + role.replace("'", "''") + "'"


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    s, _ = _keys_table()
    _announce(s, ANNOUNCED_BEFORE)
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {s}.api_keys")
    for signature in reversed(list(_functions(s))):
        op.execute(f"DROP FUNCTION {s}.{signature}")
