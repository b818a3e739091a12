"""The controller's watch on the database file: deleted, replaced or back while the window is open, and the poll.

A mixin of Controller (controller.py), apart so that the controller module stays about paging, live refresh
and writes. SQLite only: the file's identity is compared on every poll tick and before every write.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.core.errors import DomainError
from desktop.core.values import FileChange

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer, SignalInstance

    from desktop.core.store import KeyStore
    from desktop.core.values import KeyRecord
    from desktop.ui.notifications import Notice, Notifier

log = logging.getLogger("desktop.ui.controller")

#: The reads (report()'s action names) whose failure on a vanished file is said by the file's own notice: the
#: background count and reload, a search, the poll, and the page turns (guarded slots report their names).
READS = frozenset({"count", "reload", "search", "poll", "next", "previous", "resize", "first", "refresh"})


class FileWatching(QObject if TYPE_CHECKING else object):  # type: ignore[misc]  # a mixin typed as its host; issue 22 item 1 makes it an object
    """Needs from its controller the store, the notifier, the poll timer, refresh(), report() and the signals."""

    _store: KeyStore | None
    _total: int | None
    _polls: bool
    _seen_version: int | None
    _poll_error: str | None
    _seen_generation: int
    _file_missing: bool
    _file_notice: Notice | None
    _file_error: str | None
    #: In explained_by_missing_file (watch_file may report, which asks it again).
    _explaining: bool = False
    notifier: Notifier
    poll_timer: QTimer
    noticeReleased: SignalInstance
    unchanged: SignalInstance

    if TYPE_CHECKING:

        def refresh(self, select: int | None = None, *, top: bool = False) -> None: ...

        def report(self, err: BaseException, action: str, record: KeyRecord | None = None) -> None: ...

    # -- the database file: deleted or replaced while open --

    def watch_file(self, *, before_write: bool = False) -> bool:
        """Compare the file at the path with the one open; True when reads and writes may go on as they were.

        Replaced (restored, synced, `mv new.db keys.db`): the store has reopened onto the new file; the page
        is reloaded from it, with a notice. Gone: a red notice that stays, and False, so that nothing is
        written and no key is shown. When the file comes back, the window recovers by itself.
        """
        store = self._store
        if store is None:
            return False
        try:
            change = store.check_file()
        except DomainError as err:
            # Something unusable took the file's place (not a database, unsafe): the store keeps the old handles.
            if err.message != self._file_error:
                self._file_error = err.message
                self.report(err, "check the file")
            return not before_write
        self._file_error = None
        if change is FileChange.MISSING:
            if not self._file_missing:
                self._file_missing = True
                log.warning("the database file %s is gone", store.location)
                self._file_notice = self.notifier.error(
                    f"The database file {store.location} was deleted or moved away. Nothing can be changed "
                    "until it is back; the keys shown are the last ones read.",
                    sticky=True,
                )
            return False
        if self._file_missing or store.generation != self._seen_generation:
            came_back = self._file_missing
            self._file_missing = False
            self._seen_generation = store.generation
            self._drop_file_notice()
            self._total = None
            self.refresh(top=True)
            if came_back:
                self.notifier.info(f"The database file {store.location} is back; its keys are shown again.")
            else:
                self.notifier.info(
                    f"The database file {store.location} was replaced (restored or synced?); "
                    "now showing the keys in the new file."
                )
            return not before_write
        return True

    def explained_by_missing_file(self, err: BaseException, action: str) -> bool:
        """Whether a read's `err` comes from the database file no longer being at its path (its notice is shown).

        A read on another thread (a count, a reload, a search) may hit the vanished file before the poll looks:
        its error ("unable to open database file", "disk I/O error") would say the file cannot be read, when
        what happened is that it was deleted or moved away. Whatever noticed first, the person reads that.
        A write's failure keeps its own message (it says what was not done), beside the notice.
        """
        if action not in READS or not self._polls or self._store is None or not isinstance(err, DomainError):
            return False
        if self._explaining:
            return False
        self._explaining = True  # watch_file reports what check_file raises: through here, once
        try:
            self.watch_file()
        finally:
            self._explaining = False
        if not self._file_missing:
            return False
        # The notice that stays (watch_file's) says it; the raw error is only logged.
        log.info("%s (the database file is gone)", err.message)
        return True

    def _drop_file_notice(self) -> None:
        if self._file_notice is not None:
            self.noticeReleased.emit(self._file_notice)
            self._file_notice = None

    def refuse_when_file_changed(self, what: str) -> bool:
        """Before a write: True (and a message) when it must not go ahead because the file is gone or new."""
        if self.watch_file(before_write=True):
            return False
        location = self._store.location if self._store is not None else "the database"
        if self._file_missing:
            self.notifier.error(
                f"Could not {what}: the database file {location} was deleted or moved away. "
                "Put it back, or open another database."
            )
        elif self._file_error is not None:
            self.notifier.error(f"Could not {what}: {self._file_error}")
        else:
            self.notifier.error(
                f"Nothing was changed: the database file {location} was replaced, and the list now shows the "
                f"new file. Check it and {what} again if you still want to."
            )
        return True

    def _on_poll_timer_timeout(self) -> None:
        store = self._store
        if store is None:
            return
        if not self._polls:
            # Not a file, nothing to poll: the watch hears of changes. The tick stays for keys that expire.
            self.unchanged.emit()
            return
        try:
            if not self.watch_file() or self._file_missing:
                return  # reloaded from a replaced file, or the file is gone: nothing more to compare
            version = store.data_version()
            if version == self._seen_version:
                self.unchanged.emit()
                return
            self.refresh()
        except DomainError as err:
            # Once per distinct problem, not every second.
            if err.message != self._poll_error:
                self._poll_error = err.message
                self.report(err, "poll")
            return
        except Exception as err:
            self.poll_timer.stop()
            self.report(err, "poll")
            return
        self._poll_error = None
