"""A busy-database session shared by the window test (correctness) and `make bench` (the stall figure).

Four verifier processes and one writer (from tests/core/test_concurrency.py) run for some seconds (`make bench`:
DURATION_S; the window's test: CONCURRENT_S, as test_concurrency's own run) while a driver pages and toggles in
the window; a 5 ms timer measures the longest gap in the event loop. The test asserts what must be right; the
bench reports how long the loop stalled, against its target.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QMessageBox, QPushButton

from desktop.ui.control.notifications import Notice
from desktop.ui.window.main_window import MainWindow
from tests.core.test_concurrency import CAP_S, DURATION_S, VERIFIER, WRITER, _result, _spawn
from tests.ui.helpers import find_visible

#: The target `make bench` reports the stall against (the suite asserts no time at all).
MAX_STALL_S = 0.100
#: A driven session pages and toggles at least this much (tests/ui/test_busy_database.py asserts it).
MIN_PAGES, MIN_TOGGLES = 10, 3


class StallMeter:
    """A fast timer: the longest gap between its ticks is the longest the event loop was busy."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.longest = 0.0
        self.longest_cpu = 0.0
        self._last = time.monotonic()
        self._last_cpu = time.thread_time()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now, cpu = time.monotonic(), time.thread_time()
        if now - self._last > self.longest:
            # The GUI thread's own CPU time in the gap: near the gap, our code was busy; far below, it waited.
            self.longest, self.longest_cpu = now - self._last, cpu - self._last_cpu
        self._last, self._last_cpu = now, cpu


@dataclass
class BusySession:
    notices: list[Notice] = field(default_factory=list)
    pages: int = 0
    toggles: int = 0
    longest_stall_s: float = 0.0
    longest_stall_cpu_s: float = 0.0
    slowest_action_s: float = 0.0
    verifiers: list[dict[str, int]] = field(default_factory=list)
    writer: dict[str, int] = field(default_factory=dict)


def _act(window: MainWindow, session: BusySession, step: int) -> None:
    box = find_visible(QMessageBox, "confirmDeactivateDialog")
    if box is not None:
        confirm = box.findChild(QPushButton, "confirmButton")
        assert confirm is not None
        confirm.click()
        return
    # Three pages forward, three back to the first page, then toggle a key there.
    step %= 7
    if step < 3:
        window.next_action.trigger()
        session.pages += 1
    elif step < 6:
        window.previous_action.trigger()
        session.pages += 1
    else:
        # Only keys the verifiers accept either way (valid or inactive).
        for row in range(window.model.rowCount()):
            if window.model.record(row).description.startswith("toggled"):
                cell = window.table.cell(row)
                toggle = cell.findChild(QPushButton, "toggleButton") if cell is not None else None
                assert toggle is not None
                toggle.click()
                session.toggles += 1
                return


def run_busy_session(
    window: MainWindow,
    db_path: Path,
    plan_file: Path,
    toggled: list[int],
    *,
    drive: bool = True,
    duration_s: float = DURATION_S,
) -> BusySession:
    """Run the other processes for `duration_s` with the window driven (or, for a floor, left idle); a driven
    session goes on until it paged and toggled enough, however short `duration_s` and however busy the machine.

    Five busy processes on a two-core machine would starve any process of CPU; lowering their priority keeps
    this a measure of whether the window's own code blocks (on locks, I/O or long work), not of the scheduler.
    """
    session = BusySession()
    window.notifier.posted.connect(session.notices.append)
    seconds = str(duration_s)
    verifiers = [_spawn(VERIFIER, str(db_path), str(plan_file), seconds, nice=10) for _ in range(4)]
    writer = _spawn(WRITER, str(db_path), json.dumps(toggled), seconds, nice=10)
    steps = iter(range(1_000_000))

    def timed_act() -> None:
        begun = time.monotonic()
        _act(window, session, next(steps))
        session.slowest_action_s = max(session.slowest_action_s, time.monotonic() - begun)

    driver = QTimer()
    driver.setInterval(40)
    driver.timeout.connect(timed_act)
    meter = StallMeter()
    if drive:
        driver.start()
    # The session is the workload itself: the window runs its event loop for as long as the others work, and
    # (driven) on until it paged and toggled enough however busy the machine is; CAP_S keeps a hang finite.
    loop = QEventLoop()
    begun = time.monotonic()

    def done() -> bool:
        enough = not drive or (session.pages > MIN_PAGES and session.toggles > MIN_TOGGLES)
        elapsed = time.monotonic() - begun
        return (elapsed >= duration_s and enough) or elapsed >= CAP_S

    ender = QTimer()
    ender.setInterval(50)
    ender.timeout.connect(lambda: loop.quit() if done() else None)
    ender.start()
    try:
        loop.exec()
    finally:
        ender.stop()
        driver.stop()
        meter.timer.stop()
        window.notifier.posted.disconnect(session.notices.append)
    session.longest_stall_s, session.longest_stall_cpu_s = meter.longest, meter.longest_cpu
    session.verifiers = [_result(p) for p in verifiers]
    session.writer = _result(writer)
    return session
