"""The window's fixes from a new user's tryout (issue 9, items 9–11): titles, columns, messages, keys, menus."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton, QWidget

from desktop.core.store import KeyStore
from desktop.ui import launcher
from desktop.ui.main_window import MainWindow
from desktop.ui.names import APP_NAME
from tests.ui.helpers import seed, wait_for, wait_idle


def shown_title(widget: QWidget) -> str:
    """The title a window manager shows: Qt appends " — <display name>" unless the title is that name."""
    title = widget.windowTitle()
    return title if title == APP_NAME else f"{title} — {APP_NAME}"


# -- 9.9: titles ---------------------------------------------------------------------


def test_no_title_repeats_the_app_name(qtbot, make_window, store: KeyStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(store, 2)
    window = make_window()
    titles = {"main window": shown_title(window)}
    window.about_action.trigger()
    about = wait_for(qtbot, QMessageBox, "aboutDialog")
    titles["about"] = shown_title(about)
    about.close()
    window.generate_button.click()
    generate = wait_for(qtbot, QDialog, "generateDialog")
    titles["generate"] = shown_title(generate)
    generate.reject()
    window.table.cell(0).delete_button.click()
    confirm = wait_for(qtbot, QMessageBox, "confirmDeleteDialog")
    titles["confirm"] = shown_title(confirm)
    confirm.reject()

    bad = tmp_path / "bad.db"
    bad.write_text("not a database")

    def quit_bad_database_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "badDatabaseDialog":
            titles["bad database"] = shown_title(box)
            box.findChild(QPushButton, "quitButton").click()
        else:
            timer.start()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.setInterval(20)
    timer.timeout.connect(quit_bad_database_box)
    timer.start()
    assert launcher.open_store_interactively(str(bad), None) is None
    assert str(window.store.location) in titles["main window"]
    repeated = {name: title for name, title in titles.items() if title.count(APP_NAME) != 1}
    assert repeated == {}
    assert isinstance(window, MainWindow)
    wait_idle(qtbot, window)
