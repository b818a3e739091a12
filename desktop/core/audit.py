"""The audit log: who changed which key, when and how, written in the same transaction as the change.

On SQLite the app writes each event (the file's owner is its only writer). On PostgreSQL the server does
(migration 0009): triggers running as the keys' owner write an event for every change by any role through any
client, with the server's time and `session_user` as its database role, the one thing the server vouches for.
The app tells those triggers what the rows alone cannot say through settings they read: its actor (`user@host`,
set on each connection) and, before a roll or a seed, `context()`. Details never hold a key or a digest: only
ids, descriptions, dates, states and scopes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from desktop.core.values import Action

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@functools.cache
def actor() -> str:
    """`user@host` of this process (the user's id when it has no name, as in some containers)."""
    import getpass
    import os
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname() or 'localhost'}"


def record(
    conn: Connection,
    action: Action,
    at: datetime,
    *,
    key_id: int | None,
    masked: str | None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Write one event in the caller's transaction: it commits or rolls back with the change it records.

    Nothing on PostgreSQL, whose triggers wrote it with the change (say what they cannot know with context()).
    """
    from sqlalchemy import null

    from desktop.core.db import statements as sql

    if conn.dialect.name == "postgresql":
        return
    conn.execute(
        sql.INSERT_EVENT.values(
            at=at,
            key_id=key_id,
            masked=masked,
            action=action.value,
            actor=actor(),
            db_role=null(),
            details=json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True, default=str),
        )
    )


def context(conn: Connection, action: Action | None = None, details: Mapping[str, object] | None = None) -> None:
    """On PostgreSQL, what the audit triggers cannot tell from the rows of the next statement in the caller's
    transaction: that an expiry change is a roll, that an insert is a seed (one summary event), and details to
    add (e.g. the new key's id). Transaction-local: it ends with the transaction. Nothing on SQLite."""
    if conn.dialect.name != "postgresql":
        return
    value: dict[str, object] = {"details": dict(details or {})}
    if action is not None:
        value["action"] = action.value
    conn.exec_driver_sql(
        "SELECT set_config('apikeys.context', %(value)s, true)",
        {"value": json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)},
    )
