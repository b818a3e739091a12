"""The window's fixes from a new user's tryout (issue 9, items 9–11): titles, columns, messages, keys, menus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox, QPushButton, QToolTip, QWidget

from desktop.core.store import KeyStore, NewKey
from desktop.ui import launcher
from desktop.ui.key_table_model import COL_CREATED, COL_DESCRIPTION, COL_EXPIRES, COL_KEY, COL_STATUS
from desktop.ui.main_window import MainWindow
from desktop.ui.names import APP_NAME
from tests.ui.conftest import OFFSCREEN_NOISE
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


# -- 9.10: the Description column in a narrow window -----------------------------------------


def test_description_keeps_a_minimum_width_and_the_table_scrolls(qtbot, make_window, store: KeyStore) -> None:  # type: ignore[no-untyped-def]
    seed(store, 30)
    window = make_window()
    window.resize(640, 420)
    header = window.table.horizontalHeader()
    qtbot.waitUntil(lambda: window.width() == 640)
    QApplication.processEvents()
    description = header.sectionSize(COL_DESCRIPTION)
    assert description >= header.sectionSizeFromContents(COL_DESCRIPTION).width()  # not "Descr"
    assert description >= window.table.fontMetrics().averageCharWidth() * 20
    scroll = window.table.horizontalScrollBar()
    assert scroll.maximum() > 0 and window.table.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    # Wide again: the description takes the room, and nothing scrolls.
    window.resize(1300, 700)
    qtbot.waitUntil(lambda: window.width() == 1300)
    QApplication.processEvents()
    assert header.sectionSize(COL_DESCRIPTION) > description and scroll.maximum() == 0


# -- 9.11: columns that do not jump, the empty state, tool tips ------------------------------


def test_column_widths_do_not_jump_with_inactive_or_expired_rows(  # type: ignore[no-untyped-def]
    qtbot, make_window, store: KeyStore, settings
) -> None:
    now = datetime.now(UTC)
    older = [
        NewKey(f"older {i}", now - timedelta(days=60 - i), expires_at=now - timedelta(days=1), active=i % 2 == 0)
        for i in range(10)
    ]
    newer = [NewKey(f"newer {i}", now - timedelta(days=20 - i)) for i in range(10)]
    store.insert_many(older + newer)
    settings.setValue("table/pageSize", 10)
    window = make_window()
    header = window.table.horizontalHeader()
    assert all(not window.model.record(r).is_expired() and window.model.record(r).active for r in range(10))
    before = [header.sectionSize(c) for c in range(header.count())]
    window.pagination.next_button.click()  # Inactive and Expired rows
    QApplication.processEvents()
    assert any(not window.model.record(r).active for r in range(10))
    after = [header.sectionSize(c) for c in range(header.count())]
    assert after == before
    # Whatever the page, each cell's text fits its column (nothing elided but a long description).
    for row in range(window.model.rowCount()):
        for column in (COL_KEY, COL_CREATED, COL_EXPIRES, COL_STATUS):
            assert window.table.sizeHintForColumn(column) <= header.sectionSize(column), (row, column)


def test_the_empty_state_is_inside_the_table(qtbot, make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    label = window.findChild(QLabel, "emptyLabel")
    assert label is not None and label.isVisible() and "No API keys" in label.text()
    assert window.table.viewport().isAncestorOf(label)
    viewport = window.table.viewport().rect()
    assert viewport.contains(label.geometry())
    assert label.geometry().center().y() > viewport.height() // 4  # in the middle, not under the header


def test_the_empty_state_goes_when_a_key_arrives(qtbot, make_window, store: KeyStore) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    label = window.findChild(QLabel, "emptyLabel")
    assert label.isVisible()
    store.create("From the command line")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=3000)
    assert not label.isVisible()


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, r"This plugin does not support raise\(\)")  # offscreen, on a tool tip
def test_a_description_tooltip_is_hidden_when_a_live_refresh_moves_the_rows(  # type: ignore[no-untyped-def]
    qtbot, make_window, store: KeyStore
) -> None:
    seed(store, 5)
    window = make_window()
    table = window.table
    index = window.model.index(2, COL_DESCRIPTION)
    where = table.viewport().mapToGlobal(table.visualRect(index).center())
    QToolTip.showText(where, str(index.data(Qt.ItemDataRole.ToolTipRole)), table.viewport())
    qtbot.waitUntil(QToolTip.isVisible)
    store.create("Another program's key")  # the rows move down one
    qtbot.waitUntil(lambda: window.model.rowCount() == 6, timeout=3000)
    assert not QToolTip.isVisible()
