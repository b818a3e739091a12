"""Floor for the start rows: a bare QMainWindow with a QTableView (and, with --orm, sqlalchemy.orm imported).

Prints `visible <rss_kib>` at its first paint and quits, like the app under APIKEYS_BENCH_EXIT_ON_PAINT.
"""

from __future__ import annotations

import resource
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView


class _FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            sys.stdout.write(f"painted {rss}\n")
            sys.stdout.flush()
            QTimer.singleShot(0, QApplication.quit)
        return False


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    if "--orm" in sys.argv:
        import sqlalchemy.orm  # noqa: F401  # the unavoidable cost of the chosen stack

        table = QTableView(window)
        table.setModel(QStandardItemModel(25, 4, table))
        window.setCentralWidget(table)
        watched = table.viewport()
    else:
        watched = window
    spy = _FirstPaint()
    watched.installEventFilter(spy)
    window.resize(1040, 680)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
