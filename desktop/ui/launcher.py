"""Start the window: the application object, the window first, then the database (asking again if it is bad)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QWidget

from desktop.core.errors import DatabaseMissing, DomainError, UnsafeDatabase
from desktop.core.operations import Operation
from desktop.ui.icons import icon
from desktop.ui.names import APP_NAME, DATABASE_FILTER
from desktop.ui.text import plain_rich, plain_tooltip

if TYPE_CHECKING:
    from desktop.core.query import Filter
    from desktop.core.store import KeyStore
    from desktop.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)

ORGANIZATION = "apikeys"


def configure_application(app: QCoreApplication) -> None:
    """Names (QSettings' file is derived from them) and the window icon."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    if isinstance(app, QApplication):
        app.setApplicationDisplayName(APP_NAME)
        app.setDesktopFileName("apikeys")  # matches resources/app/apikeys.desktop (Wayland icon)
        app.setWindowIcon(icon("app"))


@dataclass(frozen=True, slots=True)
class OpenProblem:
    """Why a database could not be opened, and what the dialog can offer about it."""

    message: str
    #: What was tried (a path or URL); retried as it is after a fix or "Create".
    target: str
    #: Where "Choose Another File…" starts: the folder of the file that failed (or the nearest that exists).
    folder: str
    #: No file there: "Create" makes a new database at `target`.
    missing: bool = False
    #: The file whose mode "Fix Permissions" corrects (UnsafeDatabase with can_fix), if any.
    fixable: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """Try this target next; with `create`, a missing database there may be made."""

    target: str
    create: bool = False


Ask = Callable[[QWidget | None, OpenProblem], Retry | None]


def folder_of(target: str) -> str:
    """The folder a file dialog should start in for `target`: its own, or the nearest one that exists; for a
    server URL (or nothing) the person's documents, never the working directory."""
    from desktop.ui.platform.user_folders import documents_folder

    if "://" in target or not target.strip():
        return str(documents_folder())
    folder = Path(target).expanduser().absolute().parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return str(folder)


def choose_database_file(parent: QWidget | None, folder: str) -> str | None:
    from PySide6.QtWidgets import QFileDialog

    dialog = QFileDialog(parent, "Choose an API keys database", folder, DATABASE_FILTER)
    dialog.setObjectName("chooseDatabaseDialog")
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    accepted = dialog.exec() == QFileDialog.DialogCode.Accepted
    files = dialog.selectedFiles()
    dialog.deleteLater()
    return files[0] if accepted and files else None


def ask_for_another_database(parent: QWidget | None, problem: OpenProblem) -> Retry | None:
    """The bad-file dialog: what to try next, or None to quit. Never a traceback.

    A missing file offers Create; a file only the mode of which is wrong offers Fix Permissions.
    """
    from PySide6.QtWidgets import QMessageBox

    while True:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question if problem.missing else QMessageBox.Icon.Critical)
        if problem.missing:
            box.setObjectName("missingDatabaseDialog")
            box.setWindowTitle("Create the Database?")  # Qt appends the app name
            box.setText(plain_rich(f"No database at {problem.target}. Create it?"))
            box.setInformativeText(
                "A new, empty database will be made there. If you meant an existing one, choose it instead."
            )
        else:
            box.setObjectName("badDatabaseDialog")
            box.setWindowTitle("Cannot Open the Database")  # Qt appends the app name
            box.setText("The database cannot be used.")
            box.setInformativeText(plain_rich(problem.message))
        create = fix = None
        if problem.missing:
            create = box.addButton("Create", QMessageBox.ButtonRole.AcceptRole)
            create.setObjectName("createButton")
        if problem.fixable is not None:
            fix = box.addButton("Fix Permissions", QMessageBox.ButtonRole.AcceptRole)
            fix.setObjectName("fixPermissionsButton")
            fix.setToolTip(plain_tooltip(f"Make {problem.fixable} readable and writable by you alone (chmod 600)"))
        choose = box.addButton("Choose Another File…", QMessageBox.ButtonRole.ActionRole)
        choose.setObjectName("chooseFileButton")
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        quit_button.setObjectName("quitButton")
        box.setDefaultButton(create or fix or choose)
        box.setEscapeButton(quit_button)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is None or clicked is quit_button:
            return None
        if clicked is create:
            return Retry(problem.target, create=True)
        if clicked is fix and problem.fixable is not None:
            from desktop.core.store_admin import fix_permissions

            try:
                fix_permissions(problem.fixable)
            except DomainError as err:
                problem = replace(problem, message=err.message, fixable=None)
                continue
            except OSError as err:
                problem = replace(
                    problem, message=f"Could not change the mode of {problem.fixable} ({err.strerror}).", fixable=None
                )
                continue
            log.info("made %s private (mode 0600)", problem.fixable)
            return Retry(problem.target)
        chosen = choose_database_file(parent, problem.folder)
        if chosen is not None:
            return Retry(chosen)
        # Cancelled the file dialog: back to the choice, so the person is never left without a way out.


def may_create_default(database: str | None) -> bool:
    """Only the window's own default database is made without asking (on first start)."""
    from desktop.core.target import ENV_VAR

    return not database and not os.environ.get(ENV_VAR, "").strip()


def open_store_interactively(
    database: str | None,
    parent: QWidget | None,
    ask: Ask = ask_for_another_database,
) -> KeyStore | None:
    """Open the database; while it cannot be used, say why and offer another file, a fix, or quitting.

    `database` None means $APIKEYS_DATABASE, else the platform default. Only that default is created when
    missing; a path given by --database or $APIKEYS_DATABASE is created only once the person says so.
    """
    from desktop.core.store import open_store
    from desktop.core.target import resolve_target

    create = may_create_default(database)
    target = database
    while True:
        tried = target or ""
        try:
            tried = resolve_target(target)
            return open_store(tried, create=create)
        except DatabaseMissing as err:
            problem = OpenProblem(err.message, tried, folder_of(tried), missing=True)
        except UnsafeDatabase as err:
            fixable = err.path if err.can_fix else None
            problem = OpenProblem(err.message, tried, folder_of(err.path or tried), fixable=fixable)
        except DomainError as err:
            problem = OpenProblem(err.message, tried, folder_of(tried))
        except OSError as err:  # e.g. the default data folder cannot be created
            problem = OpenProblem(f"Cannot prepare the database folder ({err.strerror or err}).", tried, "")
        log.warning("cannot open the database: %s", problem.message)
        answer = ask(parent, problem)
        if answer is None:
            return None
        target, create = answer.target, answer.create


def _ignore(_result: object) -> None:
    pass


def _preload_failed(err: Exception) -> None:
    # The first write will load it again and report what fails.
    log.debug("could not preload the database layer: %s", err)


def _install_excepthook(window: MainWindow) -> Callable[[], None]:
    """Anything that escapes a slot is logged and shown; the window lives on."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
        if not isinstance(value, Exception):
            previous(kind, value, traceback)
            return
        window.report(value, Operation.HANDLE_EVENT)

    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous

    return restore


def run(
    database: str | None,
    argv: list[str] | None = None,
    after_first_paint: Callable[[], None] | None = None,
    status: Filter | None = None,
) -> int:
    """Show the window on `database` (None: the default) and run until it is closed; 0 on a normal quit.

    `after_first_paint` runs once the window is on screen: set-up that need not delay it (logging). `status`
    selects the status filter (`apikeys --show expiring`, which the expiry reminder's click runs).
    """
    app = QApplication.instance()
    if app is None:
        from desktop.ui.platform.display import check_display

        problem = check_display()
        if problem is not None:
            sys.stderr.write(problem + "\n")
            return 1
        app = QApplication(argv if argv is not None else sys.argv[:1])
    configure_application(app)
    from desktop.ui.window.main_window import MainWindow

    # The window's frame first (its title and size: nothing else is imported yet), then what is inside it,
    # then the database: something is on screen at once.
    window = MainWindow(build=False)
    bench = None
    if os.environ.get("APIKEYS_BENCH_EXIT_ON_PAINT"):
        from desktop.ui.platform.bench_hook import install_if_requested

        bench = install_if_requested(window)
    window.show()
    QApplication.processEvents()
    window.build()
    if bench is not None:
        bench.watch_table(window.table)
    QApplication.processEvents()  # widgets added to a shown window appear (and are laid out) on the next events
    from desktop.ui.platform.unix_signals import install_quit_on_signals

    # After the first paint (showing the window needs none of it), before anything can block (the bad-database
    # dialog): SIGTERM/SIGINT always quit cleanly.
    install_quit_on_signals(app)
    if after_first_paint is not None:
        after_first_paint()
    store = open_store_interactively(database, window)
    if store is None:
        window.shutdown()
        window.close()
        window.deleteLater()
        return 0
    window.set_store(store, count_now=False)  # the first page on screen first; the total a moment later
    if store.warning:  # e.g. a server connection whose TLS is not verified: said once
        window.notifier.error(store.warning, sticky=True)
    if status is not None:
        window.query_bar.search_bar.set_status(status)
    # The page was read through plain sqlite3: paint it now (repaint() handles no other event, so nothing can
    # close the window before exec() runs), then load SQLAlchemy (for writes) off the GUI thread.
    window.repaint()
    window.runner.submit(store.preload, _ignore, _preload_failed)
    restore_hook = _install_excepthook(window)
    app.aboutToQuit.connect(window.shutdown)
    try:
        # Closed while the database was being opened (the bad-database dialog runs events): exec() would wait
        # for a window that is gone.
        if window.isVisible():
            app.exec()
    finally:
        from desktop.ui.platform.clipboard import drop_secret_mime_data

        window.shutdown()  # takes a copied key off the clipboard, closes the store
        drop_secret_mime_data()  # whatever else of ours is there must not outlive the interpreter
        restore_hook()
        window.deleteLater()
    return 0
