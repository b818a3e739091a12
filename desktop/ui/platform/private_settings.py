"""The window's settings (QSettings) behind one gate: private to the user, and never a secret.

Every value the window remembers (Open Recent, the search, the order, the page size, its place on screen) is
written through `PrivateSettings.setValue`, which passes it through `cleaned`:

- a text holding something that matches the key regex anywhere (`Bearer ak_…`, `API_KEY=ak_…`, a key with a
  zero-width space after it) keeps it only masked (`ak_7Gq2…x9Lp`, the form shown everywhere);
- a text holding a password in any spelling libpq accepts (`user:pw@` in a URL, `password=` or
  `sslpassword=` as a query parameter or a `key=value` word, percent-encoded or not) is not written at all
  (a list loses that item; a single value is removed, so its default comes back).

The file is created 0600 and its own folder 0700 before the first write, whatever the umask (Qt replaces the
file atomically and keeps its mode); a file left by an older version is cleaned when it is opened.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings

from desktop.core import keys

log = logging.getLogger(__name__)

#: `password=`, `sslpassword=`, `PGPASSWORD=`, `password = 'x y'`: a libpq keyword (conninfo word or URL
#: query parameter) that carries a password; matched loosely on purpose (case, spaces).
_PASSWORD_WORD = re.compile(r"password\s*=", re.IGNORECASE)
#: `scheme://user:password@host`. libpq ends the user part at the first "@" or "/" after "://"; SQLAlchemy,
#: which reads the app's URLs first, lets the password hold "/" (up to the "@"): either is caught.
_URL_PASSWORD = re.compile(r"://[^/@]*:[^@]*@")

_SCALARS = (bool, int, float, QByteArray, bytes)


def holds_password(text: str) -> bool:
    """Whether `text` (as typed, or percent-decoded as libpq reads a URL) names a password."""
    return any(_PASSWORD_WORD.search(form) or _URL_PASSWORD.search(form) for form in (text, unquote(text)))


def _cleaned_text(text: str) -> str | None:
    masked = keys.KEY_PATTERN.sub(lambda match: keys.mask(match.group(0)), text)
    if holds_password(masked) or keys.KEY_PATTERN.search(unquote(masked)):
        return None  # a password, or a key spelt so that only decoding shows it
    return masked


def cleaned(value: object) -> object | None:
    """What may be written for `value`: keys masked; None when nothing of it may be (a password, an unknown type)."""
    if isinstance(value, str):
        return _cleaned_text(value)
    if isinstance(value, (list, tuple)):
        items = [cleaned(item) for item in value]
        return [item for item in items if item is not None]
    if isinstance(value, _SCALARS):
        return value
    return None


class PrivateSettings:
    """Wraps the window's QSettings: reads as it does; every write goes through `cleaned`."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._qsettings = settings if settings is not None else QSettings()
        self.make_private()
        self._clean_what_is_there()

    @property
    def qsettings(self) -> QSettings:
        return self._qsettings

    def fileName(self) -> str:
        return self._qsettings.fileName()

    def value(self, key: str, default: object = None) -> object:
        return self._qsettings.value(key, default)

    def setValue(self, key: str, value: object) -> None:
        """The gate: nothing reaches the settings file but through here."""
        safe = cleaned(value)
        if safe is None:
            log.debug("not remembering %s: it holds a secret", key)
            self._qsettings.remove(key)
        else:
            self._qsettings.setValue(key, safe)

    def remove(self, key: str) -> None:
        self._qsettings.remove(key)

    def sync(self) -> None:
        self.make_private()
        self._qsettings.sync()

    def make_private(self) -> None:
        """The file 0600 and its folder 0700 (created so, or corrected), before Qt writes it."""
        if os.name != "posix":  # elsewhere the registry or a per-user folder the system keeps private
            return
        name = self._qsettings.fileName()
        if not name:
            return
        path = Path(name)
        try:
            _private_folder(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
            try:
                if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
                    os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
        except OSError as err:
            log.warning("cannot make the settings file %s private: %s", path, err.strerror or err)

    def _clean_what_is_there(self) -> None:
        """A file written before the gate existed may hold a password or a key: write it again through the gate."""
        dirty = False
        for key in self._qsettings.allKeys():
            value = self._qsettings.value(key)
            if isinstance(value, (str, list)) and cleaned(value) != value:
                self.setValue(key, value)
                dirty = True
        if dirty:
            self.sync()


def _private_folder(folder: Path) -> None:
    """Make `folder` (and any missing parent) 0700; an existing one is narrowed only if it is the app's own."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
        return
    info = folder.stat()
    ours = folder.name == QCoreApplication.organizationName()
    if ours and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, stat.S_IMODE(info.st_mode) & 0o700)
