"""Which database to open: `--database`, else $APIKEYS_DATABASE, else the default file.

Kept free of SQLAlchemy so that the window can appear before the database layer is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from desktop.core.errors import DatabaseUnavailable

APP_NAME = "apikeys"
ENV_VAR = "APIKEYS_DATABASE"


def default_database_path() -> Path:
    import platformdirs

    folder = platformdirs.user_data_path(APP_NAME, appauthor=False)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        raise DatabaseUnavailable(
            f"Cannot create the data folder {folder} ({err.strerror}). Make your home folder writable, "
            f"or choose a database with --database or ${ENV_VAR}."
        ) from None
    return folder / "keys.db"


def resolve_target(database: str | None = None) -> str:
    """`--database`, else $APIKEYS_DATABASE, else keys.db in the user data folder."""
    if database:
        return database
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return str(default_database_path())
