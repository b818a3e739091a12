"""What the window and the command line ask of a database besides its keys, so that neither imports the database
seam (desktop.core.db): make a database file private, name a target as people read it, say whether it is a server,
grant a server role its rights. Given a path, a target or an open store; the seam is imported only when one runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.core.errors import InvalidInput

if TYPE_CHECKING:
    from desktop.core.store import KeyStore


def fix_permissions(path: str) -> None:
    """`chmod 600` the database file at `path` (a path or SQLite URL) and its companions the user owns: the window's
    bad-database dialog offers it when UnsafeDatabase.can_fix says only the mode is wrong. DomainError or OSError
    when it cannot."""
    from desktop.core import db

    db.fix_permissions(path)


def location(target: str) -> str:
    """`target` (a resolved path or URL) as people read it: the path, or the URL without its password."""
    from desktop.core.db import db_location, to_url

    return db_location(to_url(target))


def require_server(target: str) -> None:
    """InvalidInput unless `target` (a resolved path or URL) is a PostgreSQL database: `apikeys grant` checks this
    before opening anything, so a SQLite file is neither created nor read."""
    from desktop.core.db import db_location, to_url
    from desktop.core.db.pg_roles import grant_needs_postgresql

    url = to_url(target)
    if url.get_backend_name() != "postgresql":
        raise InvalidInput(grant_needs_postgresql(db_location(url)))


def grant(store: KeyStore, role: str, *, manager: bool) -> str:
    """`apikeys grant`: give `role` what a manager needs on the store's database (else a verifier); one line
    saying what was done. InvalidInput for a role that does not exist, PermissionDenied for a caller not the owner."""
    from desktop.core.db.pg_roles import Grant
    from desktop.core.db.pg_roles import grant as grant_role

    return grant_role(store.database, role, Grant.MANAGER if manager else Grant.VERIFIER)
