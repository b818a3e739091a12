"""Start the window: the application object, the window first, then the database (asking again if it is bad)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from desktop.core.errors import DomainError
from desktop.ui import theme
from desktop.ui.names import APP_NAME, DATABASE_FILTER

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

ORGANIZATION = "apikeys"


def configure_application(app: QCoreApplication) -> None:
    """Names (QSettings' file is derived from them) and the window icon."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    if isinstance(app, QApplication):
        app.setApplicationDisplayName(APP_NAME)
        app.setDesktopFileName("apikeys")  # matches resources/app/apikeys.desktop (Wayland icon)
        app.setWindowIcon(theme.icon("app"))


def ask_for_another_database(parent: QWidget | None, message: str) -> str | None:
    """The bad-file dialog: a path to try next, or None to quit. Never a traceback."""
    while True:
        box = QMessageBox(parent)
        box.setObjectName("badDatabaseDialog")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Cannot Open the Database")  # Qt appends the app name
        box.setText("The database cannot be used.")
        box.setInformativeText(message)
        choose = box.addButton("Choose Another File…", QMessageBox.ButtonRole.AcceptRole)
        choose.setObjectName("chooseFileButton")
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        quit_button.setObjectName("quitButton")
        box.setDefaultButton(choose)
        box.setEscapeButton(quit_button)
        box.exec()
        chosen = box.clickedButton() is choose
        box.deleteLater()
        if not chosen:
            return None
        dialog = QFileDialog(parent, "Choose an API keys database", "", DATABASE_FILTER)
        dialog.setObjectName("chooseDatabaseDialog")
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        accepted = dialog.exec() == QFileDialog.DialogCode.Accepted
        files = dialog.selectedFiles()
        dialog.deleteLater()
        if accepted and files:
            return files[0]
        # Cancelled the file dialog: back to the choice, so the person is never left without a way out.


def open_store_interactively(
    database: str | None,
    parent: QWidget | None,
    ask: Callable[[QWidget | None, str], str | None] = ask_for_another_database,
) -> KeyStore | None:
    """Open the database; while it cannot be used, say why and offer another file or quitting."""
    from desktop.core.store import open_store

    while True:
        try:
            return open_store(database, create=True)
        except DomainError as err:
            message = err.message
        except OSError as err:  # e.g. the default data folder cannot be created
            message = f"Cannot prepare the database folder ({err.strerror or err})."
        log.warning("cannot open the database: %s", message)
        database = ask(parent, message)
        if database is None:
            return None


def _install_excepthook(window: MainWindow) -> Callable[[], None]:
    """Anything that escapes a slot is logged and shown; the window lives on."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
        if not isinstance(value, Exception):
            previous(kind, value, traceback)
            return
        window.report_exception(value, "event handler")

    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous

    return restore


def run(
    database: str | None,
    argv: list[str] | None = None,
    after_first_paint: Callable[[], None] | None = None,
) -> int:
    """Show the window on `database` (None: the default) and run until it is closed; 0 on a normal quit.

    `after_first_paint` runs once the window is on screen: set-up that need not delay it (logging).
    """
    app = QApplication.instance()
    if app is None:
        from desktop.ui.display import check_display

        problem = check_display()
        if problem is not None:
            sys.stderr.write(problem + "\n")
            return 1
        app = QApplication(argv if argv is not None else sys.argv[:1])
    configure_application(app)
    from desktop.ui.unix_signals import install_quit_on_signals

    # Before anything can block (the bad-database dialog): SIGTERM/SIGINT always quit cleanly.
    install_quit_on_signals(app)

    from desktop.ui.main_window import MainWindow

    # The window first, the database layer after: something is on screen at once.
    window = MainWindow()
    if os.environ.get("APIKEYS_BENCH_EXIT_ON_PAINT"):
        from desktop.ui.bench_hook import install_if_requested

        install_if_requested(window, window.table)
    window.show()
    QApplication.processEvents()
    if after_first_paint is not None:
        after_first_paint()
    store = open_store_interactively(database, window)
    if store is None:
        window.shutdown()
        window.close()
        window.deleteLater()
        return 0
    window.set_store(store, count_now=False)  # the first page on screen first; the total a moment later
    restore_hook = _install_excepthook(window)
    app.aboutToQuit.connect(window.shutdown)
    try:
        app.exec()
    finally:
        from desktop.ui.clipboard import drop_secret_mime_data

        window.shutdown()  # takes a copied key off the clipboard, closes the store
        drop_secret_mime_data()  # whatever else of ours is there must not outlive the interpreter
        restore_hook()
        window.deleteLater()
    return 0
