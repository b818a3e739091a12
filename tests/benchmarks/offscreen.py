"""The QApplication the window benchmarks run in, offscreen, with Qt's size-hint chatter filtered out."""

from __future__ import annotations

import sys

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication


def _quiet_offscreen(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform cannot resize to size hints and says so on every page turn; the rest is shown.
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def offscreen_application() -> QApplication:
    qInstallMessageHandler(_quiet_offscreen)
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else QApplication([sys.argv[0]])
