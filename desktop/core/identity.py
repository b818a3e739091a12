"""Who this process is, as the audit log names it: `user@host`.

Below the store and the database seam, so both can name the actor: the store in the events it writes on
SQLite, the PostgreSQL connection in `apikeys.actor`, which the server's audit triggers write.
"""

from __future__ import annotations

import functools


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
