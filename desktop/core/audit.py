"""The audit log: who changed which key, when and how, written in the same transaction as the change.

The actor is `user@host` of the process making the change; on PostgreSQL the event also keeps the database
role (`current_user`), which is what the server vouches for. Details never hold a key or a digest: only ids,
descriptions, dates, states and scopes.
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
    """Write one event in the caller's transaction: it commits or rolls back with the change it records."""
    from sqlalchemy import func, null

    from desktop.core.db import statements as sql

    conn.execute(
        sql.INSERT_EVENT.values(
            at=at,
            key_id=key_id,
            masked=masked,
            action=action.value,
            actor=actor(),
            # Evaluated by the server in the writing transaction: the role it authenticated, not one we claim.
            db_role=func.current_user() if conn.dialect.name == "postgresql" else null(),
            details=json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True, default=str),
        )
    )
