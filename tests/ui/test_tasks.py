"""Background work: results and errors come back on the GUI thread, in order; none after shutdown."""

from __future__ import annotations

import functools
import threading

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from desktop.core.errors import KeyNotFound
from desktop.ui.control.tasks import TaskRunner


def test_results_arrive_on_the_gui_thread_in_order(qtbot: QtBot) -> None:
    runner = TaskRunner()
    gui = threading.get_ident()
    workers: list[int] = []
    results: list[tuple[int, int]] = []

    def work(value: int) -> int:
        workers.append(threading.get_ident())
        return value

    for value in range(5):
        runner.submit(functools.partial(work, value), lambda r: results.append((r, threading.get_ident())), print)
    qtbot.waitUntil(lambda: len(results) == 5)
    assert [r for r, _ in results] == list(range(5))
    assert all(thread == gui for _, thread in results)
    assert all(thread != gui for thread in workers)
    assert runner.pending() == 0
    runner.shutdown()


def test_errors_arrive_as_exceptions(qtbot: QtBot) -> None:
    runner = TaskRunner()
    errors: list[Exception] = []

    def fail() -> None:
        raise KeyNotFound(5)

    runner.submit(fail, lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], KeyNotFound)
    runner.shutdown()


def test_no_callbacks_after_shutdown(qtbot: QtBot) -> None:
    owner = QObject()
    runner = TaskRunner(owner)
    results: list[int] = []
    runner.submit(lambda: 1, results.append, print)
    runner.shutdown()
    runner.submit(lambda: 2, results.append, print)
    qtbot.wait(50)
    assert results == []
