"""Least privilege on PostgreSQL: `apikeys grant ROLE --verifier|--manager`, run by the keys table's owner.

A verifier may check keys and nothing else: column privileges on what verify and check read (scopes included)
and write, and the SQL functions `apikeys_verify(text)` and `apikeys_verify(text, text[])`; it writes no audit
event. A manager may do what the window and the command line do (DML and the id sequence, and appending to and
reading the audit log: never changing or deleting its events), never change the schema. Every grant first
revokes what the role had on the keys, so granting `--verifier` to a manager narrows it, and granting twice
changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from desktop.core.db.base import Database
from desktop.core.errors import InvalidInput, PermissionDenied

#: What verify reads of a key (KeyStore.verify's lookup) and the one column it writes (its last use).
VERIFY_COLUMNS = ("id", "digest", "active", "expires_at", "last_used_at", "scopes")
TOUCH_COLUMNS = ("last_used_at",)


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
    function: str
    owner: str
    #: The audit log and its id sequence (schema 0005 on): a manager appends to it and reads it, nothing more.
    events: str | None = None
    events_sequence: str | None = None
    scoped_function: str | None = None


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
            f"verify keys only (SELECT of {', '.join(VERIFY_COLUMNS)} and UPDATE of last_used_at on api_keys, "
            "EXECUTE on apikeys_verify(text) and apikeys_verify(text, text[]))"
        )
    else:
        rights = (
            "manage keys (SELECT, INSERT, UPDATE, DELETE on api_keys and its id sequence; SELECT, INSERT on the "
            "audit log key_events and its sequence; no schema changes)"
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
        "SELECT to_regclass('key_events')::text, pg_get_serial_sequence(to_regclass('key_events')::text, 'id')"
    ).one()
    return _Schema(
        schema=schema,
        keys=str(row[1]),
        owner=str(row[2]),
        sequence=None if row[3] is None else str(row[3]),
        versions=str(row[4]),
        function=f"{schema}.apikeys_verify(text)",
        events=None if events[0] is None else str(events[0]),
        events_sequence=None if events[1] is None else str(events[1]),
        scoped_function=None if events[0] is None else f"{schema}.apikeys_verify(text, text[])",
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
    statements = [
        f"REVOKE ALL ON TABLE {names.keys}, {names.versions} FROM {grantee}",
        f"REVOKE ALL ON FUNCTION {names.function} FROM {grantee}",
        # Every role that opens the database reads the schema's revision, and needs the schema to name anything.
        f"GRANT USAGE ON SCHEMA {names.schema} TO {grantee}",
        f"GRANT SELECT ON TABLE {names.versions} TO {grantee}",
        f"GRANT EXECUTE ON FUNCTION {names.function} TO {grantee}",
    ]
    if names.sequence is not None:
        statements.append(f"REVOKE ALL ON SEQUENCE {names.sequence} FROM {grantee}")
    if names.events is not None and names.scoped_function is not None:
        # The audit log: a manager appends to it and reads it (never UPDATE or DELETE: it is append-only);
        # a verifier writes no event and gets nothing on it. Both may verify with scopes.
        statements += [
            f"REVOKE ALL ON TABLE {names.events} FROM {grantee}",
            f"REVOKE ALL ON FUNCTION {names.scoped_function} FROM {grantee}",
            f"GRANT EXECUTE ON FUNCTION {names.scoped_function} TO {grantee}",
        ]
        if names.events_sequence is not None:
            statements.append(f"REVOKE ALL ON SEQUENCE {names.events_sequence} FROM {grantee}")
        if kind is Grant.MANAGER:
            statements.append(f"GRANT SELECT, INSERT ON TABLE {names.events} TO {grantee}")
            if names.events_sequence is not None:
                statements.append(f"GRANT USAGE ON SEQUENCE {names.events_sequence} TO {grantee}")
    if kind is Grant.VERIFIER:
        statements += [
            f"GRANT SELECT ({', '.join(VERIFY_COLUMNS)}) ON TABLE {names.keys} TO {grantee}",
            f"GRANT UPDATE ({', '.join(TOUCH_COLUMNS)}) ON TABLE {names.keys} TO {grantee}",
        ]
    else:
        statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {names.keys} TO {grantee}")
        if names.sequence is not None:
            statements.append(f"GRANT USAGE, SELECT ON SEQUENCE {names.sequence} TO {grantee}")
    return statements
