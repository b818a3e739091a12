"""A canary key through every window path (generate, copy, an error, the crash hook) leaves no trace on disk."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.app import configure_logging, log_path
from desktop.core import keys
from desktop.ui import launcher
from tests.helpers import files_holding
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import cell_of, open_store, secret, wait_for, wait_idle
from tests.ui.widgets import child


def test_canary_leaves_no_trace(
    qtbot: QtBot, make_window: WindowFactory, db_path: Path, settings: QSettings, isolated_home: Path
) -> None:
    configure_logging()  # the real log file, in the isolated home
    root = logging.getLogger()
    handlers = [h for h in root.handlers if getattr(h, "_apikeys", False)]
    try:
        window = make_window()
        # Generate through the dialogs, as a person does.
        qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
        dialog = wait_for(qtbot, QDialog, "generateDialog")
        qtbot.keyClicks(dialog.findChild(QLineEdit, "descriptionEdit"), "canary")
        child(dialog, QPushButton, "generateConfirmButton").click()
        shown = wait_for(qtbot, QDialog, "keyCreatedDialog")
        canary = secret(child(shown, QLineEdit, "keyField").text())
        assert keys.is_well_formed(canary)
        child(shown, QPushButton, "copyKeyButton").click()  # the clipboard path
        shown.accept()
        wait_idle(qtbot, window)

        # An error whose text carries the key, through the crash hook the launcher installs.
        restore = launcher._install_excepthook(window)
        try:
            error = RuntimeError(f"something failed near {canary}")
            sys.excepthook(RuntimeError, error, error.__traceback__)
        finally:
            restore()
        # And a domain error path: a vanished key.
        open_store(window).delete(window.model.record(0).id)
        child(cell_of(window, 0), QPushButton, "toggleButton").click()
        wait_idle(qtbot, window)

        window.shutdown()  # as on quit: settings saved, clipboard cleared, store closed
        settings.sync()
        for handler in handlers:
            handler.flush()

        logs = log_path()
        assert logs.exists() and "unexpected error" in logs.read_text()
        settings_file = Path(settings.fileName())
        assert settings_file.exists()
        needles = [str(canary).encode(), str(canary)[3:35].encode()]
        assert files_holding(needles, db_path.parent, isolated_home, logs.parent, settings_file.parent) == []
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
