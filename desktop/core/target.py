"""Which database to open: `--database`, else $APIKEYS_DATABASE, else the default file.

Kept free of SQLAlchemy so that the window can appear before the database layer is imported.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from pathlib import Path

from desktop import APP_ID
from desktop.core.errors import CHOOSE_ANOTHER, DatabaseUnavailable, InvalidInput, UnsafeDatabase

ENV_VAR = "APIKEYS_DATABASE"

#: The database the process opened last, as people read it (a path, or a URL with `***` for a password):
#: what the log file names on each line.
_last_opened: str | None = None

# A password in a URL's query or in a libpq keyword/value string, in any spelling libpq takes.
_SECRET_PARAMETER = re.compile(r"(?i)\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&\s;]*)")


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


def check_choice(database: str | None) -> None:
    """An empty `--database`, or $APIKEYS_DATABASE set but empty, is bad usage (InvalidInput): never the default.

    A script whose variable is unset (`--database "$DB"`) must not act on the person's real database.
    """
    if database is not None and not database.strip():
        raise InvalidInput(
            "--database is empty: give a database file path or URL (or leave --database out for the default "
            "database). Nothing was opened."
        )
    if database is None and ENV_VAR in os.environ and not os.environ[ENV_VAR].strip():
        raise InvalidInput(
            f"${ENV_VAR} is set but empty: set it to a database file path or URL, or unset it "
            f"(`unset {ENV_VAR}`) for the default database. Nothing was opened."
        )


def resolve_target(database: str | None = None) -> str:
    """`--database`, else $APIKEYS_DATABASE, else keys.db in the user data folder; empty ones: InvalidInput."""
    check_choice(database)
    if database is not None:
        return database
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return str(default_database_path())


def mask_password(text: str) -> str:
    """`text` (a URL or connection string as typed, maybe malformed) with any password replaced by `***`.

    For messages about a URL that could not be parsed: `scheme://user:secret@host` (whatever follows the
    user name up to the last `@`), and `password=`/`sslpassword=` anywhere.
    """
    scheme, sep, rest = text.partition("://")
    if sep:
        userinfo, at, after = rest.rpartition("@")
        if at and ":" in userinfo:
            rest = userinfo.split(":", 1)[0] + ":***@" + after
        text = scheme + sep + rest
    return _SECRET_PARAMETER.sub(lambda m: m.group(1) + "***", text)


def note_opened(location: str) -> None:
    """Remember the database this process opened last (its masked location), for the log."""
    global _last_opened  # one per process, as the log file is
    _last_opened = location


def last_opened() -> str | None:
    """The database this process opened last (masked), or None before the first."""
    return _last_opened
