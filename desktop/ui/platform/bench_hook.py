"""For the benchmark: with APIKEYS_BENCH_EXIT_ON_PAINT=1, report the first paints and peak RSS, then quit."""

from __future__ import annotations

import os
import resource
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QTableView

ENV_VAR = "APIKEYS_BENCH_EXIT_ON_PAINT"


def _peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def _report(what: str) -> None:
    sys.stdout.write(f"{what} {_peak_rss_kib()}\n")
    sys.stdout.flush()


class FirstPaints(QObject):
    """`visible <rss>` at the window's first paint, `page <rss>` at the first paint of rows; then quit.

    The launcher paints the window's frame before its table exists: the table is watched once it does.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._table: QTableView | None = None
        self._viewport: QObject | None = None
        self._visible = False
        window.installEventFilter(self)

    def watch_table(self, table: QTableView) -> None:
        self._table = table
        self._viewport = table.viewport()
        self._viewport.installEventFilter(self)

    def _report_visible(self) -> None:
        if not self._visible:
            self._visible = True
            self._window.removeEventFilter(self)
            _report("visible")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Paint:
            return False
        if watched is self._window:
            self._report_visible()
        elif watched is self._viewport and self._table is not None and self._table.model().rowCount() > 0:
            self._viewport.removeEventFilter(self)
            self._report_visible()  # the table's paint came first: the window is visible too
            _report("page")
            QTimer.singleShot(0, QApplication.quit)
        return False


def install_if_requested(window: QMainWindow) -> FirstPaints | None:
    """Does nothing unless the benchmark asked for it through the environment."""
    if os.environ.get(ENV_VAR) == "1":
        return FirstPaints(window)
    return None
