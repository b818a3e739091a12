"""The schema's revision: checked on every open, brought to the head with Alembic only when it is behind."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core.db.base import Database
from desktop.core.errors import PermissionDenied, SchemaTooNew

if TYPE_CHECKING:
    import logging

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: Every revision this program knows, oldest first; a test checks it against Alembic's scripts.
KNOWN_REVISIONS = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0013",
    "0014",
    "0015",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]


def migrate(db: Database) -> None:
    """Bring `db` to the head revision; SchemaTooNew (nothing changed) when a newer program wrote it."""
    revision = db.revision(KNOWN_REVISIONS)
    if revision == HEAD_REVISION:
        return
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise SchemaTooNew(
            f"{db.location} was written by a newer version of API Key Manager (schema {revision}). "
            "Update the program; the database was not changed."
        )
    from desktop.core.db.generic import revision_of

    try:
        with db.write() as conn:
            db.lock_schema(conn)
            # Re-read under the write lock: another process may have migrated meanwhile.
            if revision_of(conn, db.location, KNOWN_REVISIONS) != HEAD_REVISION:
                _upgrade(conn)
    except PermissionDenied:
        # A server role that may use the keys but not change the schema (`apikeys grant`): asking the owner
        # for more rights would be the wrong advice.
        raise PermissionDenied(
            f"Permission denied on {db.location}: its schema must be "
            f"{'created' if revision is None else 'upgraded'} first, which only its owner may do. The database's "
            "owner must open it once with this version of API Key Manager (e.g. `apikeys list`); nothing was changed."
        ) from None


def _upgrade(conn: object) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


#: Above this many keys, a migration that fills a table from them says how far it got.
PROGRESS_ABOVE = 100_000
#: Keys per batch of such a fill: a short range of ids each.
BATCH = 50_000


def fill_by_id(bind: Any, fill: str, what: str, log: logging.Logger) -> None:
    """For a migration: run `fill` (a statement over `api_keys WHERE id > ? AND id <= ?`) over every key, in
    batches by id, each a short range seek, so that on a million keys it can say how far it got: to `log`, and
    on a terminal as "Building the <what>: N of M keys"."""
    total = int(bind.exec_driver_sql("SELECT count(*) FROM api_keys").scalar_one())
    last_id, done = 0, 0
    while done < total:
        row = bind.exec_driver_sql(
            "SELECT max(id), count(*) FROM (SELECT id FROM api_keys WHERE id > ? ORDER BY id LIMIT ?)",
            (last_id, BATCH),
        ).one()
        if not row[1]:
            break
        bind.exec_driver_sql(fill, (last_id, row[0]))
        last_id, done = int(row[0]), done + int(row[1])
        if total > PROGRESS_ABOVE:
            message = f"Building the {what}: {done:,} of {total:,} keys"
            log.info(message)
            if sys.stderr is not None and sys.stderr.isatty():
                sys.stderr.write(f"\r{message}" + ("\n" if done >= total else ""))
                sys.stderr.flush()
