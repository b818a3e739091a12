"""The watch on an SQLite database file: changed by someone (PRAGMA data_version), deleted, replaced or back.

A QObject of its own that the controller (controller.py) owns and listens to: it polls on its timer, compares
the file's identity on every tick and before every write, and says what it found through signals. It keeps its
state to itself; nothing else reads it but through the properties and calls below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.errors import DomainError
from desktop.core.operations import Operation
from desktop.core.presentation import refused_text
from desktop.core.values import FileChange

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.ui.control.notifications import Notice, Notifier

log = logging.getLogger("desktop.ui.control.controller")

#: The reads whose failure on a vanished file is said by the file's own notice: the background count and reload,
#: a search, the poll, and the page turns.
READS = frozenset({Operation.COUNT, Operation.RELOAD, Operation.SEARCH, Operation.POLL, Operation.TURN_PAGE})


class FileWatch(QObject):
    """Watches the file of one store at a time (`attach`); on a server database it only ticks (`unchanged`)."""

    #: A tick found nothing changed (a key on screen may have expired meanwhile).
    unchanged = Signal()
    #: Something failed (the error, the Operation): the owner reports it by its error policy.
    failed = Signal(object, object)
    #: A sticky notice of the watch's may go now.
    noticeReleased = Signal(object)

    def __init__(
        self, notifier: Notifier, reread: Callable[[bool], None], parent: QObject | None = None, *, interval_ms: int
    ) -> None:
        """`reread(replaced)`: the owner reads the page again, at the same place or (the file replaced) from the
        top with the count unknown. A call, not a signal: what it raises is the poll's failure, said once."""
        super().__init__(parent)
        self._notifier = notifier
        self._reread = reread
        self._store: KeyStore | None = None
        #: SQLite: data_version() is polled. Otherwise a listener hears of changes; the timer only ticks for expiry.
        self._polls = True
        self._seen_version: int | None = None
        self._poll_error: str | None = None
        self._seen_generation = 0
        #: The database file was deleted or moved away: reads show the last page, writes are refused.
        self._missing = False
        self._notice: Notice | None = None
        self._error: str | None = None
        #: In explains() (check() may report, which asks it again).
        self._explaining = False
        self.timer = QTimer(self)
        self.timer.setObjectName("pollTimer")
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._on_timer_timeout)

    @property
    def missing(self) -> bool:
        """The database file was deleted or moved away (and is not back yet)."""
        return self._missing

    @property
    def polls(self) -> bool:
        return self._polls

    def attach(self, store: KeyStore) -> None:
        """Watch `store` from now on, as it is now: its file present, its data as read just now."""
        self._store = store
        self._poll_error = None
        self._error = None
        self._missing = False
        self._seen_generation = store.generation
        self._drop_notice()
        self._seen_version = store.data_version()
        self._polls = self._seen_version is not None

    def mark_read(self) -> None:
        """The page is about to be read again: a change after this is caught by the next tick."""
        if self._store is not None:
            self._seen_version = self._store.data_version()

    # -- the database file: deleted or replaced while open --

    def check(self, *, before_write: bool = False) -> bool:
        """Compare the file at the path with the one open; True when reads and writes may go on as they were.

        Replaced (restored, synced, `mv new.db keys.db`): the store has reopened onto the new file; the page
        is read from it, with a notice. Gone: a red notice that stays, and False, so that nothing is
        written and no key is shown. When the file comes back, the window recovers by itself.
        """
        store = self._store
        if store is None:
            return False
        try:
            change = store.check_file()
        except DomainError as err:
            # Something unusable took the file's place (not a database, unsafe): the store keeps the old handles.
            if err.message != self._error:
                self._error = err.message
                self.failed.emit(err, Operation.CHECK_FILE)
            return not before_write
        self._error = None
        if change is FileChange.MISSING:
            if not self._missing:
                self._missing = True
                log.warning("the database file %s is gone", store.location)
                self._notice = self._notifier.error(
                    f"The database file {store.location} was deleted or moved away. Nothing can be changed "
                    "until it is back; the keys shown are the last ones read.",
                    sticky=True,
                )
            return False
        if self._missing or store.generation != self._seen_generation:
            came_back = self._missing
            self._missing = False
            self._seen_generation = store.generation
            self._drop_notice()
            self._reread(True)
            if came_back:
                self._notifier.info(f"The database file {store.location} is back; its keys are shown again.")
            else:
                self._notifier.info(
                    f"The database file {store.location} was replaced (restored or synced?); "
                    "now showing the keys in the new file."
                )
            return not before_write
        return True

    def explains(self, err: BaseException, operation: Operation) -> bool:
        """Whether a read's `err` comes from the database file no longer being at its path (its notice is shown).

        A read on another thread (a count, a reload, a search) may hit the vanished file before the poll looks:
        its error ("unable to open database file", "disk I/O error") would say the file cannot be read, when
        what happened is that it was deleted or moved away. Whatever noticed first, the person reads that.
        A write's failure keeps its own message (it says what was not done), beside the notice.
        """
        if operation not in READS or not self._polls or self._store is None or not isinstance(err, DomainError):
            return False
        if self._explaining:
            return False
        self._explaining = True  # check() reports what check_file raises: through here, once
        try:
            self.check()
        finally:
            self._explaining = False
        if not self._missing:
            return False
        # The notice that stays (check's) says it; the raw error is only logged.
        log.info("%s (the database file is gone)", err.message)
        return True

    def _drop_notice(self) -> None:
        if self._notice is not None:
            self.noticeReleased.emit(self._notice)
            self._notice = None

    def refuse(self, operation: Operation, *, many: bool = False) -> bool:
        """Before a write: True (and a message) when it must not go ahead because the file is gone or new."""
        if self.check(before_write=True):
            return False
        what = refused_text(operation, many=many)
        location = self._store.location if self._store is not None else "the database"
        if self._missing:
            self._notifier.error(
                f"Could not {what}: the database file {location} was deleted or moved away. "
                "Put it back, or open another database."
            )
        elif self._error is not None:
            self._notifier.error(f"Could not {what}: {self._error}")
        else:
            self._notifier.error(
                f"Nothing was changed: the database file {location} was replaced, and the list now shows the "
                f"new file. Check it and {what} again if you still want to."
            )
        return True

    def _on_timer_timeout(self) -> None:
        store = self._store
        if store is None:
            return
        if not self._polls:
            # Not a file, nothing to poll: the listener hears of changes. The tick stays for keys that expire.
            self.unchanged.emit()
            return
        try:
            if not self.check() or self._missing:
                return  # reloaded from a replaced file, or the file is gone: nothing more to compare
            version = store.data_version()
            if version == self._seen_version:
                self.unchanged.emit()
                return
            self._reread(False)
        except DomainError as err:
            # Once per distinct problem, not every second.
            if err.message != self._poll_error:
                self._poll_error = err.message
                self.failed.emit(err, Operation.POLL)
            return
        except Exception as err:
            self.timer.stop()
            self.failed.emit(err, Operation.POLL)
            return
        self._poll_error = None
