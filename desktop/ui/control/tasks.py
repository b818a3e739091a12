"""Run database work off the GUI thread and hand results back on it, in submission order."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

_Callbacks = tuple[Callable[[Any], None], Callable[[Exception], None]]


class _Job(QRunnable):
    """One piece of work; its outcome is handed to `finished` or `failed` (the runner's relays) with its token."""

    def __init__(
        self,
        finished: Callable[[int, object], None],
        failed: Callable[[int, object], None],
        token: int,
        work: Callable[[], Any],
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._finished = finished
        self._failed = failed
        self._token = token
        self._work = work

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as err:
            self._failed(self._token, err)
        else:
            self._finished(self._token, result)
        finally:
            self._work = None  # type: ignore[assignment]  # drop what the work held (a new key) at once


class TaskRunner(QObject):
    """One worker thread: writes stay in the order they were asked for, and never block the window.

    Work submitted `aside` (counts: 100 ms at a million keys on PostgreSQL) runs on a second worker of its
    own, so that a page read or a write never queues behind it; `pending` and `wait` cover both.
    Callbacks run on the GUI thread. They are dropped once the runner is shut
    down or destroyed, so a closing window never receives a late result. One
    long-lived QObject relays every result: no per-job objects to delete.
    """

    _finished = Signal(int, object)
    _failed = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._aside = QThreadPool(self)
        self._aside.setMaxThreadCount(1)
        self._callbacks: dict[int, _Callbacks] = {}
        self._tokens = itertools.count(1)
        self._closed = False
        # Queued explicitly: the worker emits, the GUI thread (where this object lives) runs the callback.
        self._finished.connect(self._on_self_finished, Qt.ConnectionType.QueuedConnection)
        self._failed.connect(self._on_self_failed, Qt.ConnectionType.QueuedConnection)

    def submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        *,
        aside: bool = False,
    ) -> None:
        if self._closed:
            return
        token = next(self._tokens)
        self._callbacks[token] = (on_done, on_error)
        (self._aside if aside else self._pool).start(_Job(self._finished.emit, self._failed.emit, token, work))

    def pending(self) -> int:
        return len(self._callbacks)

    def wait(self, timeout_ms: int = -1) -> bool:
        return self._pool.waitForDone(timeout_ms) and self._aside.waitForDone(timeout_ms)

    def shutdown(self) -> None:
        """Let running work finish (a write must reach COMMIT or roll back), then drop its results."""
        self._closed = True
        for pool in (self._pool, self._aside):
            pool.clear()
        for pool in (self._pool, self._aside):
            pool.waitForDone()
        self._callbacks.clear()

    def _on_self_finished(self, token: int, result: object) -> None:
        callbacks = self._callbacks.pop(token, None)
        if callbacks is not None and not self._closed:
            callbacks[0](result)

    def _on_self_failed(self, token: int, err: object) -> None:
        callbacks = self._callbacks.pop(token, None)
        if callbacks is not None and not self._closed and isinstance(err, Exception):
            callbacks[1](err)
