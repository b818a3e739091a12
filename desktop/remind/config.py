"""Whether expiry reminders are on, and for which database: a small JSON file, 0600 in a 0700 folder.

`$XDG_CONFIG_HOME/apikeys/reminders.json` (platformdirs' user config folder). Missing or unreadable means the
default: on, for the default database ($APIKEYS_DATABASE, else keys.db in the user data folder). A database
that names a password is never written (the reminder then relies on ~/.pgpass or a service file, as the CLI).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from desktop import APP_ID
from desktop.core.errors import InvalidInput

log = logging.getLogger(__name__)

FILE_NAME = "reminders.json"
# The same spellings the window's settings gate refuses (desktop/ui/platform/private_settings.py; the UI's copy
# needs Qt, and this module must not).
_PASSWORD_WORD = re.compile(r"password\s*=", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"://[^/@]*:[^@]*@")


def holds_password(text: str) -> bool:
    return any(_PASSWORD_WORD.search(form) or _URL_PASSWORD.search(form) for form in (text, unquote(text)))


def config_path() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_ID, appauthor=False) / FILE_NAME


@dataclass(frozen=True, slots=True)
class ReminderConfig:
    enabled: bool = True
    #: The database reminded about; None: the default one.
    database: str | None = None


def load(path: Path | None = None) -> ReminderConfig:
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ReminderConfig()
    except (OSError, ValueError) as err:
        log.warning("cannot read the reminder settings %s (%s); reminders stay on", path, err)
        return ReminderConfig()
    if not isinstance(data, dict):
        return ReminderConfig()
    database = data.get("database")
    return ReminderConfig(
        enabled=data.get("enabled") is not False,
        database=database if isinstance(database, str) and database.strip() else None,
    )


def save(config: ReminderConfig, path: Path | None = None) -> Path:
    """Write `config` privately (0600, folder 0700), atomically; InvalidInput for a database with a password."""
    if config.database is not None and holds_password(config.database):
        raise InvalidInput(
            "Reminders cannot remember a database URL that holds a password; give it without the password "
            "(put the password in ~/.pgpass) and try again."
        )
    path = path or config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"enabled": config.enabled, "database": config.database}, indent=2) + "\n"
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, body.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
    return path
