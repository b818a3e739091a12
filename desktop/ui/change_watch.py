"""Hear of changes anyone commits (PostgreSQL's LISTEN) without polling, and get the server back when it goes.

The listener's connection is made on a worker thread (connecting blocks); its socket is then watched on the
GUI thread with a QSocketNotifier and drained when readable. A drain that finds the connection broken, or
a caller that saw the server go (`server_lost`), closes it and retries with backoff until the server answers
again; notifications sent meanwhile are lost, which is why `restored` asks for a reload in full.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.core.db.base import ChangeListener, Database

#: The first retry after the server went, doubling up to the last: back within 2 s of the server being back,
#: without a tight loop of connects while it is down.
FIRST_RETRY_MS = 250
MAX_RETRY_MS = 2000


class ChangeWatch(QObject):
    """Watches one database at a time for changes committed by anyone (nothing at all on SQLite)."""

    #: Someone committed a change (everything that arrived in one drain is one signal).
    changed = Signal()
    #: Listening on this database for the first time: changes since the page was read were not heard.
    started = Signal()
    #: The server cannot be reached (once per loss, not per attempt): the error, a DomainError.
    lost = Signal(object)
    #: Listening again after a loss: notifications sent meanwhile were lost, so reload in full.
    restored = Signal()

    def __init__(
        self, parent: QObject | None = None, *, first_retry_ms: int = FIRST_RETRY_MS, max_retry_ms: int = MAX_RETRY_MS
    ) -> None:
        super().__init__(parent)
        self._first_retry_ms = first_retry_ms
        self._max_retry_ms = max_retry_ms
        self._delay_ms = first_retry_ms
        # Its own worker: a connect that hangs on a silent network never holds up the window's writes.
        self._runner = TaskRunner(self)
        self._retry = QTimer(self)
        self._retry.setObjectName("reconnectTimer")
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._on_retry_timeout)
        self._database: Database | None = None
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
    def active(self) -> bool:
        """A database is being watched (listening, connecting or reconnecting)."""
        return self._database is not None

    # -- control --

    def watch(self, database: Database) -> None:
        """Listen on `database` from now on (connecting in the background); stop listening on the one before."""
        self._reset(database)
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
        self._stop_listening()
        self._database = None
        self._runner.shutdown()
        with self._lock:
            handed, self._handed = list(self._handed.values()), {}
        for listener in handed:
            listener.close()

    # -- connecting, on the worker --

    def _reset(self, database: Database | None) -> None:
        with self._lock:
            self._epoch += 1
        self._retry.stop()
        self._stop_listening()
        self._database = database
        self._away = False
        self._delay_ms = self._first_retry_ms

    def _connect(self) -> None:
        database, epoch = self._database, self._epoch
        if database is None or self._closed or self._connecting == epoch:
            return
        self._connecting = epoch

        def work() -> None:
            listener = database.listen()  # blocks: connect, LISTEN
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
            self.changed.emit()

    def _lose(self, err: BaseException) -> None:
        self._stop_listening()
        if not self._away:
            self._away = True
            self.lost.emit(err)
        if self._database is not None and not self._closed:
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
