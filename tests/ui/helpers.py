"""Helpers for the window tests: seed keys, wait for work, find and answer dialogs, keep secrets out of output."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TypeVar

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox, QPushButton, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.paging import Pager
from desktop.core.store import KeyStore
from desktop.ui.control.controller import Controller
from desktop.ui.control.notifications import Level
from desktop.ui.widgets.action_cell import ActionCell
from desktop.ui.widgets.key_table_view import KeyTableView
from desktop.ui.window.main_window import MainWindow
from tests.helpers import Secret
from tests.helpers import seed as seed  # shared with the core tests; the window tests import it from here

KEY_PATTERN = re.compile(r"ak_[0-9A-Za-z]{38}")

W = TypeVar("W", bound=QWidget)


#: How long a test lets `launcher.run()`'s event loop run (event_loop_limit): a limit for a hang, not for speed.
EVENT_LOOP_LIMIT_MS = 90_000


@contextlib.contextmanager
def event_loop_limit(limit_ms: int = EVENT_LOOP_LIMIT_MS) -> Iterator[None]:
    """For a test that runs `launcher.run()` (QApplication.exec()) until its window closes: windows another test left
    shown are hidden first, and the event loops still running `limit_ms` after the block started are stopped, the
    test then failing with the windows still open.

    The application quits when its last shown window closes: a window left shown by an earlier test on the same
    worker kept it running. And pytest-timeout cannot stop a Qt event loop: its alarm only runs once Python code
    does, and the exception it then raises inside a slot is printed and swallowed. Together they hung `make test`'s
    worker for good, with no test failed and nothing said.
    """
    for widget in QApplication.topLevelWidgets():
        widget.hide()  # not closed: another test's widget, whose close handlers are not this test's business
    still_open: list[str] = []

    def stop() -> None:
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible():
                still_open.append(f"{type(widget).__name__} {widget.objectName()!r} {widget.windowTitle()!r}")
                widget.close()
        QApplication.exit(1)  # every event loop of the GUI thread returns, a dialog's too

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(stop)
    timer.start(limit_ms)
    try:
        yield
    finally:
        timer.stop()
    assert not still_open, f"the event loop was still running after {limit_ms / 1000:g} s; windows open: {still_open}"


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    """Until no database work is pending and the count is known."""
    qtbot.waitUntil(lambda: window.runner.pending() == 0 and window.total is not None, timeout=5000)


def find_visible(cls: type[W], name: str) -> W | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, cls) and widget.objectName() == name and widget.isVisible():
            return widget
    return None


def wait_for(qtbot: QtBot, cls: type[W], name: str, timeout: int = 5000) -> W:
    """The visible top-level widget (dialog) of that class and objectName, once it appears."""
    found: list[W] = []

    def check() -> bool:
        widget = find_visible(cls, name)
        if widget is not None:
            found.append(widget)
            return True
        return False

    qtbot.waitUntil(check, timeout=timeout)
    return found[-1]


def widget_texts() -> list[str]:
    """Every text any live widget shows or holds, to prove a secret is gone."""
    from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit, QTextEdit

    texts: list[str] = []
    for widget in QApplication.allWidgets():
        if isinstance(widget, QLineEdit | QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QPlainTextEdit | QTextEdit):
            texts.append(widget.toPlainText())
        texts.append(widget.toolTip())
        texts.append(widget.accessibleName())
        texts.append(widget.accessibleDescription())
        texts.append(widget.windowTitle())
    return texts


def secret(text: str) -> Secret:
    return Secret(text)


def is_key(text: str) -> bool:
    return KEY_PATTERN.fullmatch(text) is not None


def same_secret(first: str, second: str) -> bool:
    return str(first) == str(second)


def shown_anywhere(key: str) -> bool:
    """Whether any live widget still shows or holds the key."""
    return any(str(key) in text for text in widget_texts())


def click(qtbot: QtBot, widget: QWidget | None) -> None:
    assert widget is not None, "no such widget to click"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def row_button(window: MainWindow, row: int, name: str) -> QPushButton:
    """The row's button. It asserts (not child()'s LookupError): inside qtbot.waitUntil a row not there yet waits."""
    cell = window.table.cell(row)
    assert cell is not None
    button = cell.findChild(QPushButton, name)
    assert button is not None
    return button


# The window's parts that are None only in a state a test names (no database open, a row not on the page): these
# return them typed, and fail the test at once, saying which, when they are missing (LookupError, as child() does).


def open_store(window: MainWindow | Controller) -> KeyStore:
    """The store of the window's (or controller's) open database."""
    store = window.store
    if store is None:
        raise LookupError("no database is open")
    return store


def open_pager(window: MainWindow | Controller) -> Pager:
    """The pager of the window's (or controller's) open database."""
    pager = window.pager
    if pager is None:
        raise LookupError("no database is open, so no pager")
    return pager


def row_of(window: MainWindow, key_id: int) -> int:
    """The row that shows the key on the window's page."""
    row = window.model.row_of(key_id)
    if row is None:
        raise LookupError(f"key {key_id} is not on the window's page")
    return row


def cell_of(window: MainWindow | KeyTableView, row: int) -> ActionCell:
    """The row's Actions cell (its buttons), in the window's table or in a table alone."""
    cell = (window.table if isinstance(window, MainWindow) else window).cell(row)
    if cell is None:
        raise LookupError(f"row {row} has no Actions cell")
    return cell


def item_text(table: QTableWidget, row: int, column: int) -> str:
    """The text of a QTableWidget's cell, which must hold an item."""
    item = table.item(row, column)
    if item is None:
        raise LookupError(f"{table.objectName() or 'the table'} has no item at row {row}, column {column}")
    return item.text()


def shown_ids(window: MainWindow) -> list[int]:
    return [record.id for record in window.model.records()]


def status(window: MainWindow) -> str:
    return window.notification_area.text()


def status_level(window: MainWindow) -> Level | None:
    notice = window.notification_area.notice()
    return None if notice is None else notice.level


def generate(qtbot: QtBot, window: MainWindow, description: str, preset: str | None = None) -> QDialog:
    click(qtbot, window.findChild(QPushButton, "generateButton"))
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), description)
    if preset is not None:
        click(qtbot, dialog.findChild(QPushButton, preset))
    click(qtbot, dialog.findChild(QPushButton, "generateConfirmButton"))
    return wait_for(qtbot, QDialog, "keyCreatedDialog")


def answer(qtbot: QtBot, name: str, button: str) -> QMessageBox:
    box = wait_for(qtbot, QMessageBox, name)
    assert box.isModal() or box.windowModality() != Qt.WindowModality.NonModal
    click(qtbot, box.findChild(QPushButton, button))
    qtbot.waitUntil(lambda: not box.isVisible())
    return box


def deleted(widget: QWidget) -> bool:
    """Whether Qt has deleted the widget under its Python wrapper."""
    try:
        widget.objectName()
    except RuntimeError:
        return True
    return False


def top_levels() -> list[QWidget]:
    """The top-level widgets that exist now, their Python wrappers held.

    Holding the wrappers matters: a wrapper made just for this list (for a widget Qt created, such as a
    combo box's popup) would otherwise be freed at once, and a wrapper made later could reuse its
    memory and so its id(), hiding a new widget from `leaked_widgets`.
    """
    return list(QApplication.topLevelWidgets())


def leaked_widgets(before: list[QWidget]) -> list[str]:
    """Top-level widgets made since `before` that still exist once deferred deletions have run."""
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    known = {id(widget) for widget in before}  # `before` holds the wrappers, so no id is reused meanwhile
    return [
        f"{type(widget).__name__} {widget.objectName()!r}"
        for widget in QApplication.topLevelWidgets()
        if id(widget) not in known and type(widget).__name__ not in QT_OWN_TOP_LEVELS
    ]


#: Top-level widgets Qt itself keeps for the whole process (one tool tip label, reused).
QT_OWN_TOP_LEVELS = {"QTipLabel"}


def select_keys(window: MainWindow, *key_ids: int) -> None:
    """Select exactly these keys' rows (as Ctrl+clicks would), each of which must be on the page."""
    window.table.clearSelection()
    for key_id in key_ids:
        row = window.model.row_of(key_id)
        assert row is not None
        window.table.selectionModel().select(
            window.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
