"""Run database work off the GUI thread and hand results back on it, in submission order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal


class _Relay(QObject):
    """Lives on the GUI thread; its signals, emitted by a worker, arrive there queued."""

    finished = Signal(object)
    failed = Signal(object)

    def __init__(
        self, runner: TaskRunner, on_done: Callable[[Any], None], on_error: Callable[[Exception], None]
    ) -> None:
        super().__init__(runner)
        self._runner = runner
        self._on_done = on_done
        self._on_error = on_error
        # Queued explicitly: the worker emits, the GUI thread runs the callback.
        self.finished.connect(self._on_self_finished, Qt.ConnectionType.QueuedConnection)
        self.failed.connect(self._on_self_failed, Qt.ConnectionType.QueuedConnection)

    def _on_self_finished(self, result: object) -> None:
        self._runner._deliver(self, self._on_done, result)

    def _on_self_failed(self, err: object) -> None:
        self._runner._deliver(self, self._on_error, err)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._work = work
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as err:
            self._relay.failed.emit(err)
        else:
            self._relay.finished.emit(result)


class TaskRunner(QObject):
    """One worker thread: writes stay in the order they were asked for, and never block the window.

    Callbacks run on the GUI thread. They are dropped once the runner is
    shut down or destroyed, so a closing window never receives a late result.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relays: set[_Relay] = set()
        self._closed = False

    def submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        if self._closed:
            return
        relay = _Relay(self, on_done, on_error)
        self._relays.add(relay)
        self._pool.start(_Job(work, relay))

    def _deliver(self, relay: _Relay, callback: Callable[[Any], None], value: Any) -> None:
        self._relays.discard(relay)
        relay.deleteLater()
        if not self._closed:
            callback(value)

    def pending(self) -> int:
        return len(self._relays)

    def wait(self, timeout_ms: int = -1) -> bool:
        return self._pool.waitForDone(timeout_ms)

    def shutdown(self) -> None:
        """Let running work finish (a write must reach COMMIT or roll back), then drop its results."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone()
