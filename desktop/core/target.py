"""Which database to open: `--database`, else $APIKEYS_DATABASE, else the default file.

Kept free of SQLAlchemy so that the window can appear before the database layer is imported.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

from desktop import APP_ID
from desktop.core.errors import CHOOSE_ANOTHER, DatabaseUnavailable, UnsafeDatabase

ENV_VAR = "APIKEYS_DATABASE"


def default_database_path() -> Path:
    import platformdirs

    folder = platformdirs.user_data_path(APP_ID, appauthor=False)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        status = folder.stat()
    except OSError as err:
        raise DatabaseUnavailable(
            f"Cannot create the data folder {folder} ({err.strerror}). Make your home folder writable, "
            f"or {CHOOSE_ANOTHER}."
        ) from None
    _check_data_folder(folder, status)
    return folder / "keys.db"


def _check_data_folder(folder: Path, status: os.stat_result) -> None:
    """The app's own folder is private: one that others may write to was not made by us (we make it 0700)."""
    if status.st_uid != os.geteuid():
        raise UnsafeDatabase(
            f"The data folder {folder} belongs to another user; move it away, or {CHOOSE_ANOTHER}.",
            str(folder),
        )
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeDatabase(
            f"The data folder {folder} can be written by other users (mode {stat.S_IMODE(status.st_mode):04o}); "
            f"run `chmod 700 {shlex.quote(str(folder))}` and try again.",
            str(folder),
        )


def resolve_target(database: str | None = None) -> str:
    """`--database`, else $APIKEYS_DATABASE, else keys.db in the user data folder."""
    if database:
        return database
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return str(default_database_path())
