"""Hear of changes anyone commits (PostgreSQL's LISTEN) without polling, and get the server back when it goes.

The listener's connection is made on a worker thread (connecting blocks); its socket is then watched on the
GUI thread with a QSocketNotifier and drained when readable. A drain that finds the connection broken, or
a caller that saw the server go (`server_lost`), closes it and retries with backoff until the server answers
again; notifications sent meanwhile are lost, which is why `restored` asks for a reload in full.

Anyone who can connect may send `NOTIFY apikeys_changes` (PUBLIC may, by default): `changed` is therefore
throttled. The first notification after a quiet spell is passed on at once; whatever arrives within the next
COALESCE_MS is one more `changed` when that interval ends, however many there were. A flood costs a window
at most one reload per interval, and a real change still shows within the contract's 1 s.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QObject, QSocketNotifier, QTimer, Signal

from desktop.ui.control.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.core.values import ChangeListener

#: The first retry after the server went, doubling up to the last: back within 2 s of the server being back,
#: without a tight loop of connects while it is down.
FIRST_RETRY_MS = 250
MAX_RETRY_MS = 2000
#: At most one `changed` (one reload) per this many ms, however many notifications arrive; 500 ms plus a
#: reload (~130 ms at a million keys) keeps a change within 1 s of its commit.
COALESCE_MS = 500


class ChangeWatch(QObject):
    """Watches one database at a time for changes committed by anyone (nothing at all on SQLite)."""

    #: Someone committed a change: at most once per coalescing interval, whatever the number of notifications.
    changed = Signal()
    #: Listening on this database for the first time: changes since the page was read were not heard.
    started = Signal()
    #: The server cannot be reached (once per loss, not per attempt): the error, a DomainError.
    lost = Signal(object)
    #: Listening again after a loss: notifications sent meanwhile were lost, so reload in full.
    restored = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        first_retry_ms: int = FIRST_RETRY_MS,
        max_retry_ms: int = MAX_RETRY_MS,
        coalesce_ms: int = COALESCE_MS,
    ) -> None:
        super().__init__(parent)
        self._coalesce_ms = coalesce_ms
        #: Since the last `changed` (invalid before the first).
        self._since_changed = QElapsedTimer()
        #: Notifications heard within the interval: one `changed` when it ends.
        self._due = QTimer(self)
        self._due.setObjectName("coalesceTimer")
        self._due.setSingleShot(True)
        self._due.timeout.connect(self._on_due_timeout)
        self._heard = 0
        self._first_retry_ms = first_retry_ms
        self._max_retry_ms = max_retry_ms
        self._delay_ms = first_retry_ms
        # Its own worker: a connect that hangs on a silent network never holds up the window's writes.
        self._runner = TaskRunner(self)
        self._retry = QTimer(self)
        self._retry.setObjectName("reconnectTimer")
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._on_retry_timeout)
        self._store: KeyStore | None = None
        self._listener: ChangeListener | None = None
        self._socket: QSocketNotifier | None = None
        self._away = False
        self._connecting: int | None = None
        # The worker hands a new listener over under this lock, so that close() can never miss one in transit.
        self._lock = threading.Lock()
        self._epoch = 0
        self._closed = False
        self._handed: dict[int, ChangeListener] = {}

    # -- state --

    @property
    def listening(self) -> bool:
        return self._listener is not None

    @property
    def away(self) -> bool:
        """The server was lost and is being reconnected to."""
        return self._away

    @property
    def heard(self) -> int:
        """How many drains brought notifications since this watch was made (each is not a reload: see changed)."""
        return self._heard

    @property
    def change_due(self) -> bool:
        """Notifications were heard within the interval: a `changed` is due when it ends."""
        return self._due.isActive()

    def set_coalesce_interval(self, ms: int) -> None:
        """At most one `changed` per `ms` from now on; one already due comes when the new interval ends."""
        self._coalesce_ms = max(0, ms)
        if self._due.isActive():
            self._due.start(self._remaining_ms())

    @property
    def active(self) -> bool:
        """A database is being watched (listening, connecting or reconnecting)."""
        return self._store is not None

    # -- control --

    def watch(self, store: KeyStore) -> None:
        """Listen on `store`'s database from now on (connecting in the background); stop listening on the one before."""
        self._reset(store)
        self._connect()

    def stop(self) -> None:
        """Watch nothing (SQLite, which is polled instead)."""
        self._reset(None)

    def server_lost(self, err: BaseException) -> None:
        """Someone else saw the server go (a reload or a write): stop listening and reconnect, once."""
        if self._listener is not None:
            self._lose(err)

    def close(self) -> None:
        """For good: nothing is emitted after this; an attempt under way is waited for (bounded by its timeout)."""
        with self._lock:
            self._closed = True
            self._epoch += 1
        self._retry.stop()
        self._due.stop()
        self._stop_listening()
        self._store = None
        self._runner.shutdown()
        with self._lock:
            handed, self._handed = list(self._handed.values()), {}
        for listener in handed:
            listener.close()

    # -- connecting, on the worker --

    def _reset(self, store: KeyStore | None) -> None:
        with self._lock:
            self._epoch += 1
        self._retry.stop()
        self._due.stop()  # the database it was due for is no longer watched (or a fresh read follows)
        self._stop_listening()
        self._store = store
        self._away = False
        self._delay_ms = self._first_retry_ms

    def _connect(self) -> None:
        store, epoch = self._store, self._epoch
        if store is None or self._closed or self._connecting == epoch:
            return
        self._connecting = epoch

        def work() -> None:
            listener = store.listen()  # blocks: connect, LISTEN
            if listener is None:
                return
            with self._lock:
                current = not self._closed and epoch == self._epoch
                if current:
                    self._handed[epoch] = listener
            if not current:
                listener.close()

        self._runner.submit(work, lambda _none: self._on_connected(epoch), lambda err: self._on_failed(epoch, err))

    def _on_connected(self, epoch: int) -> None:
        if self._connecting == epoch:
            self._connecting = None
        with self._lock:
            listener = self._handed.pop(epoch, None)
        if listener is None:
            return  # this backend has no notifications, or the attempt was for a database no longer watched
        if epoch != self._epoch or self._closed:
            listener.close()
            return
        self._listener = listener
        self._socket = QSocketNotifier(listener.fileno(), QSocketNotifier.Type.Read, self)
        self._socket.activated.connect(self._on_socket_activated)
        self._delay_ms = self._first_retry_ms
        if self._away:
            self._away = False
            self.restored.emit()
        else:
            self.started.emit()

    def _on_failed(self, epoch: int, err: Exception) -> None:
        if self._connecting == epoch:
            self._connecting = None
        if epoch == self._epoch and not self._closed:
            self._lose(err)

    def _on_retry_timeout(self) -> None:
        self._connect()

    # -- listening, on the GUI thread --

    def _on_socket_activated(self) -> None:
        listener = self._listener
        if listener is None:
            return
        try:
            heard = listener.drain()
        except Exception as err:  # ServerUnreachable: the connection broke
            self._lose(err)
            return
        if heard:
            self._heard += 1
            self._announce()

    def _announce(self) -> None:
        if self._due.isActive():
            return  # one is due already: this notification is in it
        remaining = self._remaining_ms()
        if remaining <= 0:
            self._emit_changed()
        else:
            self._due.start(remaining)

    def _remaining_ms(self) -> int:
        if not self._since_changed.isValid():
            return 0
        return max(0, self._coalesce_ms - int(self._since_changed.elapsed()))

    def _on_due_timeout(self) -> None:
        if self._store is not None and not self._closed:
            self._emit_changed()

    def _emit_changed(self) -> None:
        self._since_changed.start()
        self.changed.emit()

    def _lose(self, err: BaseException) -> None:
        self._stop_listening()
        if not self._away:
            self._away = True
            self.lost.emit(err)
        if self._store is not None and not self._closed:
            self._retry.start(self._delay_ms)
            self._delay_ms = min(self._delay_ms * 2, self._max_retry_ms)

    def _stop_listening(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            # Before the connection (and its socket) closes: a notifier on a closed descriptor warns, or fires
            # on a number the system has already given to another file.
            socket.setEnabled(False)
            socket.activated.disconnect(self._on_socket_activated)
            socket.deleteLater()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
