"""Bad database files given to the window: the real dialog says why and offers another file or quitting.

The file is never changed; no traceback ever reaches the person.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.db import sqlite_conn
from desktop.ui import launcher
from tests.helpers import BAD_FILES, fingerprint, make_database, make_not_a_database
from tests.ui.widgets import child


def _answer_bad_database_dialog(messages: list[str], *buttons: str) -> QTimer:
    """Polls for the modal bad-database box (run with exec()) and presses the next of `buttons` each time.

    After the given answers it presses Quit, so a test can never hang on the dialog.
    """
    timer = QTimer()
    timer.setInterval(20)
    answers = list(buttons)

    def tick() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.objectName() == "badDatabaseDialog" and widget.isVisible():
                messages.append(widget.informativeText())
                child(widget, QPushButton, answers.pop(0) if answers else "quitButton").click()
                return

    timer.timeout.connect(tick)
    timer.start()
    return timer


def _open_and_quit(path: Path) -> list[str]:
    """Open `path` as the launcher does, answering every bad-database box with Quit; the reasons shown."""
    messages: list[str] = []
    timer = _answer_bad_database_dialog(messages, "quitButton")
    try:
        assert launcher.open_store_interactively(str(path), None) is None
    finally:
        timer.stop()
    return messages


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gets_the_dialog_and_stays_byte_identical(qtbot: QtBot, tmp_path: Path, case: str) -> None:
    bad = BAD_FILES[case]
    path = bad.make(tmp_path)
    before = fingerprint(path)
    messages = _open_and_quit(path)
    assert len(messages) == 1, messages
    assert bad.reason in messages[0] and "Traceback" not in messages[0]
    assert fingerprint(path) == before
    if case == "missing folder":
        assert not (tmp_path / "no").exists()


def test_database_locked_beyond_the_timeout_gets_the_dialog(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rollback-journal database held by another writer cannot even be read: say so, change nothing."""
    path = make_database(tmp_path / "locked.db")
    before = fingerprint(path)
    monkeypatch.setattr(sqlite_conn, "BUSY_TIMEOUT_S", 0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        messages = _open_and_quit(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(messages) == 1 and "busy" in messages[0]
    assert fingerprint(path) == before


def test_choose_another_file_from_the_real_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    bad = make_not_a_database(tmp_path / "notes.db")
    good = make_database(tmp_path / "good.db", keys=0)
    messages: list[str] = []
    box_timer = _answer_bad_database_dialog(messages, "chooseFileButton")  # then Quit, should it come again

    file_timer = QTimer()
    file_timer.setInterval(20)

    def pick() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QFileDialog) and widget.objectName() == "chooseDatabaseDialog" and widget.isVisible():
                # As a person does: type the path into the file name field, then accept.
                child(widget, QLineEdit, "fileNameEdit").setText(str(good))
                widget.accept()
                file_timer.stop()
                return

    file_timer.timeout.connect(pick)
    file_timer.start()
    try:
        store = launcher.open_store_interactively(str(bad), None)
    finally:
        box_timer.stop()
        file_timer.stop()
    assert store is not None, messages
    try:
        assert store.location == str(good) and store.count() == 0
    finally:
        store.close()
    assert len(messages) == 1 and "not a database file" in messages[0]
    assert bad.read_text() == "shopping list\n"
