"""Make SIGTERM and SIGINT quit the Qt event loop cleanly (exit 0) instead of killing the process."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any

from PySide6.QtCore import QCoreApplication, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

QUIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_Handler = Callable[[int, FrameType | None], Any] | int | None

#: The one installation in force: what must stay referenced, and how to undo it.
_installed: tuple[QSocketNotifier, Callable[[], None]] | None = None


def install_quit_on_signals(app: QCoreApplication) -> None:
    """On SIGTERM or SIGINT, quit `app` the way closing its windows does (aboutToQuit runs, exit 0).

    Call it right after the application object exists, before any window is
    shown: until then the signals keep their default action (terminate).

    Python runs a signal handler only between bytecodes, and a Qt event loop
    sits in C++ until an event arrives, so a handler alone would wait for the
    next mouse move. `signal.set_wakeup_fd` makes the C-level handler write a
    byte to a socket that a QSocketNotifier watches: the event loop wakes, a
    Python slot runs, and with it the pending Python handler.

    A second signal while the first quit is still pending (a window refused
    to close) forces `exit(0)`. Everything is undone on aboutToQuit, so the
    process can create another application or exit with default handling.
    """
    global _installed
    if _installed is not None:
        return
    receiver, sender = socket.socketpair()
    receiver.setblocking(False)
    sender.setblocking(False)
    try:
        previous_fd = signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread: signals cannot be routed here
        receiver.close()
        sender.close()
        return

    notifier = QSocketNotifier(receiver.fileno(), QSocketNotifier.Type.Read, app)
    pending = False

    def _drain() -> None:
        # Reaching Python is the point: the interpreter runs the handler now.
        with contextlib.suppress(OSError):
            while receiver.recv(64):
                pass

    def _handler(_signum: int, _frame: FrameType | None) -> None:
        nonlocal pending
        if pending:
            app.exit(0)
            return
        pending = True
        # Deferred to the event loop, never run at whatever bytecode the signal
        # interrupted; a zero timer also fires in a loop that starts later.
        QTimer.singleShot(0, _quit)

    def _quit() -> None:
        # Closing the windows is the person's own way out, so closeEvent and a
        # modal dialog's reject path run as usual; a modal dialog shown before
        # app.exec() (where quit() alone does nothing) closes too.
        if isinstance(app, QApplication):
            app.closeAllWindows()
        app.quit()

    notifier.activated.connect(_drain)
    previous: dict[int, _Handler] = {sig: signal.signal(sig, _handler) for sig in QUIT_SIGNALS}

    def _uninstall() -> None:
        global _installed
        notifier.setEnabled(False)
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(previous_fd)
        receiver.close()
        sender.close()
        _installed = None

    _installed = (notifier, _uninstall)
    app.aboutToQuit.connect(_uninstall)
