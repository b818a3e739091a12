"""Least privilege on PostgreSQL: `apikeys grant ROLE --verifier|--manager`, run by the keys table's owner.

A verifier may check keys and nothing else: no privilege on any table, only EXECUTE on the SECURITY DEFINER
functions verify needs (`apikeys_verify(text)`, `apikeys_verify(text, text[])`, and the app's
`apikeys_revision()`, `apikeys_lookup(bytea)` and `apikeys_touch(…)`, the last two answering for one presented
digest). A manager may
do what the window and the command line do (DML and the id sequence, and reading the audit log, which only the
server's triggers write), never change the schema. Every grant first revokes what the role had on the keys, so
granting `--verifier` to a manager narrows it, and granting twice changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from desktop.core.db.base import Database
from desktop.core.errors import InvalidInput, PermissionDenied

#: The functions every role that may verify gets EXECUTE on (migrations 0003, 0005, 0009, 0010 and 0013), by signature.
VERIFY_FUNCTIONS = (
    "apikeys_revision()",
    "apikeys_verify(text)",
    "apikeys_verify(text, text[])",
    "apikeys_verify(text, text[], integer)",
    "apikeys_lookup(bytea)",
    "apikeys_touch(bytea, timestamp, timestamp)",
    "apikeys_consume(bytea, integer)",
    "apikeys_count_usage(integer[], timestamp[], text[], bigint[])",
    "apikeys_roll_up_usage(timestamp, timestamp)",
    "apikeys_roll_up_tail()",
)
#: The limits' tables (migration 0010): a manager sets limits; verifiers reach them only through the functions.
LIMIT_TABLES = ("key_limits", "key_rate_hits")
#: The usage counts and their roll-ups (migrations 0010 and 0012), and the SQL verify's counts not rolled up yet
#: (0013).
USAGE_TABLES = ("key_usage", "usage_hours", "key_usage_days", "key_usage_tail")


class Grant(enum.Enum):
    VERIFIER = "verifier"
    MANAGER = "manager"


@dataclass(frozen=True)
class _Schema:
    """The objects to grant on, as SQL identifiers (quoted where needed)."""

    schema: str
    keys: str
    versions: str
    sequence: str | None
    owner: str
    #: The audit log and its id sequence: a manager reads it, nothing more.
    events: str
    events_sequence: str | None


def grant(db: Database, role: str, kind: Grant) -> str:
    """Give `role` exactly what `kind` needs on `db` (a PostgreSQL database at the current schema).

    InvalidInput when `role` does not exist or owns the keys; PermissionDenied when the connected role is not
    the keys table's owner (PostgreSQL would only warn and grant nothing). Returns one line saying what was done.
    """
    if db.engine.dialect.name != "postgresql":
        raise InvalidInput(grant_needs_postgresql(db.location))
    with db.write() as conn:
        names = _names(conn)
        _check_caller(conn, names, db.location)
        grantee = _grantee(conn, role, names, db.location)
        for statement in _statements(names, grantee, kind):
            conn.exec_driver_sql(statement)
    if kind is Grant.VERIFIER:
        rights = (
            "verify keys only (EXECUTE on apikeys_verify, apikeys_lookup, apikeys_touch and apikeys_revision; no "
            "privilege on any table)"
        )
    else:
        rights = (
            "manage keys (SELECT, INSERT, UPDATE, DELETE on api_keys and its id sequence; SELECT on the audit log "
            "key_events, which the server writes; no schema changes)"
        )
    return f"Granted {role} the {kind.value} role on {db.location}: {rights}."


def grant_needs_postgresql(location: str) -> str:
    return (
        f"{location} is not a PostgreSQL database: `apikeys grant` gives server roles their rights in team mode; "
        "a SQLite file's access is its file permissions."
    )


def _names(conn: Connection) -> _Schema:
    row = conn.exec_driver_sql(
        "SELECT quote_ident(n.nspname), c.oid::regclass::text, c.relowner::regrole::text, "
        "pg_get_serial_sequence(c.oid::regclass::text, 'id'), 'alembic_version'::regclass::text "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = 'api_keys'::regclass"
    ).one()
    schema = str(row[0])
    events = conn.exec_driver_sql(
        "SELECT 'key_events'::regclass::text, pg_get_serial_sequence('key_events'::regclass::text, 'id')"
    ).one()
    return _Schema(
        schema=schema,
        keys=str(row[1]),
        owner=str(row[2]),
        sequence=None if row[3] is None else str(row[3]),
        versions=str(row[4]),
        events=str(events[0]),
        events_sequence=None if events[1] is None else str(events[1]),
    )


def _check_caller(conn: Connection, names: _Schema, location: str) -> None:
    """Only the owner (or a superuser) may grant: anyone else's GRANT would succeed with a warning, granting nothing."""
    allowed = conn.exec_driver_sql(
        "SELECT pg_has_role(current_user, %(owner)s::regrole, 'USAGE'), current_user::text",
        {"owner": names.owner},
    ).one()
    if not allowed[0]:
        raise PermissionDenied(
            f"Permission denied on {location}: only the owner of its keys table ({names.owner}) may grant rights, "
            f"not {allowed[1]}. Run `apikeys grant` connected as {names.owner}."
        )


def _grantee(conn: Connection, role: str, names: _Schema, location: str) -> str:
    """`role` as an SQL identifier; InvalidInput when there is no such role, or it needs no rights from us."""
    found = conn.exec_driver_sql(
        "SELECT quote_ident(rolname), rolsuper, pg_has_role(oid, %(owner)s::regrole, 'USAGE') "
        "FROM pg_catalog.pg_roles WHERE rolname = %(role)s",
        {"role": role, "owner": names.owner},
    ).first()
    if found is None:
        folded = conn.exec_driver_sql(
            "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = lower(%(role)s)", {"role": role}
        ).scalar()
        hint = f" (role names are case-sensitive: did you mean {folded}?)" if folded else ""
        raise InvalidInput(
            f"There is no role {role!r} on the server of {location}{hint}. Create it first (`createuser {role}` "
            "or CREATE ROLE), then grant again."
        )
    identifier, superuser, owns = str(found[0]), bool(found[1]), bool(found[2])
    if superuser or owns:
        # Revoking would take rights from the owner itself; a superuser ignores privileges anyway.
        what = "is a superuser" if superuser else f"owns the keys table (or is a member of its owner, {names.owner})"
        raise InvalidInput(f"{role} {what} and may do everything already; grant roles other than the owner.")
    return identifier


def _statements(names: _Schema, grantee: str, kind: Grant) -> list[str]:
    # Start from nothing on the keys, so that a narrower grant takes away what the wider one gave (revoking
    # table privileges also revokes the column privileges), in the same transaction as the new grant.
    functions = [f"{names.schema}.{signature}" for signature in VERIFY_FUNCTIONS]
    statements = [
        f"REVOKE ALL ON TABLE {names.keys}, {names.versions}, {names.events} FROM {grantee}",
        *(f"REVOKE ALL ON TABLE {names.schema}.{table} FROM {grantee}" for table in (*LIMIT_TABLES, *USAGE_TABLES)),
        *(f"REVOKE ALL ON FUNCTION {function} FROM {grantee}" for function in functions),
        # Every role that opens the database needs the schema to name anything, and reads its revision (a
        # verifier through apikeys_revision(): it holds no privilege on any table).
        f"GRANT USAGE ON SCHEMA {names.schema} TO {grantee}",
        *(f"GRANT EXECUTE ON FUNCTION {function} TO {grantee}" for function in functions),
    ]
    for sequence in (names.sequence, names.events_sequence):
        if sequence is not None:
            statements.append(f"REVOKE ALL ON SEQUENCE {sequence} FROM {grantee}")
    if kind is Grant.MANAGER:
        # The audit log is read, never written: the server's triggers write it, as the owner.
        statements += [
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {names.keys} TO {grantee}",
            f"GRANT SELECT ON TABLE {names.events} TO {grantee}",
            f"GRANT SELECT ON TABLE {names.versions} TO {grantee}",
            *(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {names.schema}.{t} TO {grantee}" for t in LIMIT_TABLES),
            f"GRANT SELECT, DELETE ON TABLE {names.schema}.key_usage, {names.schema}.key_usage_tail TO {grantee}",
            # The charts read the roll-ups; the server's triggers keep them (migration 0012).
            *(f"GRANT SELECT ON TABLE {names.schema}.{t} TO {grantee}" for t in USAGE_TABLES[1:3]),
        ]
        if names.sequence is not None:
            statements.append(f"GRANT USAGE, SELECT ON SEQUENCE {names.sequence} TO {grantee}")
    return statements
