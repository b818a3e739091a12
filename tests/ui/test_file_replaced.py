"""The database file deleted or replaced while the window is open (issue 9.5, the window's side).

Replaced: the window shows the new file's keys within about a second, with a notice. Deleted: a red
notice, every change refused with a clear message, and no key shown unless a database committed it.
When the file comes back, the window recovers by itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import CreatedKey
from desktop.ui.control.notifications import Level
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import cell_of, find_visible, seed, wait_for, wait_idle
from tests.ui.widgets import child


def _ids(window: MainWindow) -> list[int]:
    return [record.id for record in window.model.records()]


def _descriptions(window: MainWindow) -> list[str]:
    return [record.description for record in window.model.records()]


def _level(window: MainWindow) -> Level | None:
    notice = window.notification_area.notice()
    return None if notice is None else notice.level


def _replacement(tmp_path: Path, descriptions: list[str]) -> Path:
    path = tmp_path / "incoming" / "keys.db"
    path.parent.mkdir(mode=0o700)
    with KeyStore.open(str(path), create=True) as other:
        for text in descriptions:
            other.create(text)
    return path


def test_a_replaced_file_is_reopened_and_its_keys_shown(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, db_path: Path, tmp_path: Path
) -> None:
    seed(store, 3)
    store.close()
    window = make_window(poll_interval_ms=100)
    assert len(_ids(window)) == 3
    new = _replacement(tmp_path, ["restored one", "restored two"])
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    os.replace(new, db_path)  # `mv new.db keys.db`, as a restore or a sync does
    qtbot.waitUntil(lambda: _descriptions(window) == ["restored two", "restored one"], timeout=3000)
    assert "replaced" in window.notification_area.text() and _level(window) is Level.INFO
    wait_idle(qtbot, window)
    assert child(window, QLabel, "pageLabel").text() == "1–2 of 2"
    # Writes go to the new file.
    cell_of(window, 0).delete_button.click()
    box = wait_for(qtbot, QMessageBox, "confirmDeleteDialog")
    child(box, QPushButton, "confirmButton").click()
    qtbot.waitUntil(lambda: _descriptions(window) == ["restored one"], timeout=3000)
    with KeyStore.open(str(db_path)) as check:
        assert [r.description for r in check.all()] == ["restored one"]


def test_a_deleted_file_refuses_every_change_and_never_shows_a_key(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, db_path: Path, tmp_path: Path
) -> None:
    seed(store, 3)
    store.close()
    window = make_window(poll_interval_ms=100)
    away = tmp_path / "moved-away"
    away.mkdir()
    moved = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    for path in moved:
        path.rename(away / path.name)
    qtbot.waitUntil(lambda: _level(window) is Level.ERROR, timeout=3000)
    assert "deleted or moved away" in window.notification_area.text()
    assert len(_ids(window)) == 3  # the last page read stays on screen

    # Generate: refused with a message, no dialog, nothing written anywhere.
    window.generate_button.click()
    assert find_visible(QDialog, "generateDialog") is None
    assert "Cannot generate a key" in window.notification_area.text() and _level(window) is Level.ERROR
    # Deactivate, activate, delete: refused before any question is asked.
    for name in ("toggleButton", "deleteButton"):
        window.notification_area.clear()
        child(cell_of(window, 0), QPushButton, name).click()
        assert find_visible(QMessageBox, "confirmDeactivateDialog") is None
        assert find_visible(QMessageBox, "confirmDeleteDialog") is None
        assert "deleted or moved away" in window.notification_area.text() and _level(window) is Level.ERROR
    assert not db_path.exists()

    # The notice stays while the file is gone: a passing message times out, and it comes back.
    expiry = child(window.notification_area, QTimer, "noticeExpiryTimer")
    assert expiry.isActive()  # the passing "could not" message
    expiry.timeout.emit()
    assert "was deleted or moved away. Nothing can be changed" in window.notification_area.text()
    assert _level(window) is Level.ERROR and not expiry.isActive()

    # Back again: the window recovers by itself, and changes work.
    for path in moved:
        (away / path.name).rename(path)
    qtbot.waitUntil(lambda: "is back; its keys are shown again" in window.notification_area.text(), timeout=3000)
    assert _level(window) is Level.INFO
    cell_of(window, 0).delete_button.click()
    box = wait_for(qtbot, QMessageBox, "confirmDeleteDialog")
    child(box, QPushButton, "confirmButton").click()
    qtbot.waitUntil(lambda: len(_ids(window)) == 2, timeout=3000)


def test_a_file_deleted_while_the_generate_dialog_is_open_shows_no_key(
    qtbot: QtBot, make_window: WindowFactory, db_path: Path
) -> None:
    window = make_window(poll_interval_ms=3_600_000)  # the tick has not noticed: the check before the write must
    window.generate_button.click()
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    for path in list(db_path.parent.glob(db_path.name + "*")):
        path.unlink()
    child(dialog, QPushButton, "generateConfirmButton").click()
    label = child(dialog, QLabel, "errorLabel")
    qtbot.waitUntil(lambda: "not created" in label.text(), timeout=5000)
    assert "deleted or moved away" in label.text() and label.isVisible()
    assert find_visible(QDialog, "keyCreatedDialog") is None
    assert not db_path.exists() and window.runner.pending() == 0
    dialog.reject()


def test_a_key_is_never_shown_when_the_file_goes_during_the_write(
    qtbot: QtBot, make_window: WindowFactory, db_path: Path
) -> None:
    """The window checked just before; the file went between that check and the COMMIT (the core refuses)."""
    window = make_window(poll_interval_ms=3_600_000)
    store = window.store
    assert store is not None
    real_create = store.create

    def create_after_the_file_went(*args: Any, **kwargs: Any) -> CreatedKey:
        for path in list(db_path.parent.glob(db_path.name + "*")):
            path.unlink()
        return real_create(*args, **kwargs)

    store.create = create_after_the_file_went  # type: ignore[method-assign]  # a spy around the real write, not a fake database
    window.generate_button.click()
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "Billing")
    child(dialog, QPushButton, "generateConfirmButton").click()
    label = child(dialog, QLabel, "errorLabel")
    qtbot.waitUntil(lambda: "not created" in label.text(), timeout=5000)
    assert "deleted or moved" in label.text()
    assert find_visible(QDialog, "keyCreatedDialog") is None
    assert "Could not generate" in window.notification_area.text() and _level(window) is Level.ERROR
    dialog.reject()
