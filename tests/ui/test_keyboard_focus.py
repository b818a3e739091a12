"""Issue 21.5: Tab in reading order with no stop per row button, a focus ring seen on every control (light and
dark, a selected row too), and the rows' actions from the table's keys (Space, Delete, the context-menu key)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from desktop.ui import theme
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import OFFSCREEN_NOISE, WindowFactory
from tests.ui.helpers import answer, find_visible, select_keys, wait_for
from tests.ui.screenshot import dark_palette
from tests.ui.test_theme import light_palette

PALETTES = {"light": light_palette, "dark": dark_palette}


def busy_store(store: KeyStore) -> list[int]:
    """30 keys (two pages of 25), one of them expiring in 3 days (the banner shows); their ids, newest first."""
    now = datetime.now(UTC)
    rows = [NewKey(f"key {i:02d}", now - timedelta(days=40 - i)) for i in range(29)]
    rows.append(NewKey("expires soon", now - timedelta(days=1), now + timedelta(days=3)))
    store.insert_many(rows)
    return [record.id for record in store.all()]


def tab_chain(qtbot: QtBot, window: MainWindow, key: Qt.Key = Qt.Key.Key_Tab) -> list[QWidget]:
    """Every widget Tab (or Backtab) stops at, from the Generate button round to it again."""
    window.generate_button.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(window.generate_button.hasFocus)
    stops: list[QWidget] = []
    for _ in range(40):
        focused = QApplication.focusWidget()
        assert focused is not None
        stops.append(focused)
        qtbot.keyClick(focused, key)
        if QApplication.focusWidget() is window.generate_button:
            return stops
    raise AssertionError(f"Tab never came back: {[w.objectName() for w in stops]}")


def names(widgets: list[QWidget]) -> list[str]:
    return [w.objectName() for w in widgets]


def test_tab_follows_the_reading_order_without_a_stop_per_row(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = busy_store(store)
    window = make_window()
    qtbot.waitUntil(window.query_bar.expiry_banner.isVisible)
    assert window.model.rowCount() == 25
    select_keys(window, ids[1], ids[2])  # the selection bar shows, under the table
    expected = [
        "generateButton",  # the header, on the right
        "expiryShowButton",  # the banner
        "searchEdit",
        "statusFilter",
        "keysTable",
        "selectionDeactivateButton",  # the bar under the table (nothing to activate: both are active)
        "selectionDeleteButton",
        "selectionClearButton",
        "pageSizeCombo",  # the pager, at the bottom (Previous is off on the first page)
        "nextPageButton",
    ]
    assert names(tab_chain(qtbot, window)) == expected
    backwards = tab_chain(qtbot, window, Qt.Key.Key_Backtab)
    assert names(backwards) == ["generateButton", *reversed(expected[1:])]
    # The rows' 50 buttons are no stops; the widgets Tab reaches sit top to bottom as a person reads them.
    for cell in window.table.viewport().findChildren(QPushButton):
        if cell.objectName() in ("toggleButton", "deleteButton"):
            assert cell.focusPolicy() == Qt.FocusPolicy.NoFocus


def near(color: QColor, want: QColor) -> bool:
    return abs(color.red() - want.red()) + abs(color.green() - want.green()) + abs(color.blue() - want.blue()) < 60


def focus_in(dialog: QWidget) -> bool:
    """Whether the focus is on the dialog or one of its widgets."""
    focused = QApplication.focusWidget()
    return focused is not None and dialog.isAncestorOf(focused)


def ring_sides(image: QImage, window: QWidget, widget: QWidget, ring: QColor) -> list[str]:
    """The sides of `widget` along which the window's picture shows the focus ring, 2 px outside its edge."""
    corner = widget.mapTo(window, QPoint(0, 0))
    left, top = corner.x(), corner.y()
    right, bottom = left + widget.width() - 1, top + widget.height() - 1
    middle_x, middle_y = (left + right) // 2, (top + bottom) // 2
    points = {"top": (middle_x, top - 2), "bottom": (middle_x, bottom + 2)}
    points |= {"left": (left - 2, middle_y), "right": (right + 2, middle_y)}
    return [side for side, (x, y) in points.items() if near(image.pixelColor(x, y), ring)]


@pytest.mark.parametrize("name", PALETTES)
def test_every_tab_stop_shows_a_focus_ring(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, name: str
) -> None:
    ids = busy_store(store)
    window = make_window()
    window.setPalette(PALETTES[name]())
    qtbot.waitUntil(window.query_bar.expiry_banner.isVisible)
    select_keys(window, ids[1], ids[2])  # selected rows, and the selection bar
    dark = name == "dark"
    ring = QColor(theme.focus_ring(dark))
    background = window.palette().color(window.backgroundRole())
    # The ring stands out from the window around it (WCAG 2.2 asks 3:1 for a focus indicator).
    assert theme.contrast_ratio(ring, background) >= 3.0
    stops = tab_chain(qtbot, window)
    assert len(stops) == 10
    for stop in stops:
        stop.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(stop.hasFocus)
        QApplication.processEvents()
        image = window.grab().toImage()
        sides = ring_sides(image, window, stop, ring)
        assert sides == ["top", "bottom", "left", "right"], (stop.objectName(), sides)
        # Only the focused control has it: the one before does not keep a ring.
        others = [w for w in stops if w is not stop]
        assert all(len(ring_sides(image, window, w, ring)) < 4 for w in others), stop.objectName()


def test_the_ring_follows_a_focused_control_and_goes_with_the_focus(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    busy_store(store)
    window = make_window()
    ring = QColor(theme.focus_ring(theme.is_dark(window.palette())))
    window.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.table.hasFocus)
    window.resize(window.width() - 200, window.height() - 100)  # the table shrinks: the ring with it
    qtbot.waitUntil(lambda: window.focus_ring.geometry().width() == window.table.width() + 6)
    assert len(ring_sides(window.grab().toImage(), window, window.table, ring)) == 4
    window.generate_action.trigger()  # a dialog takes the focus: no ring left in the window
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    dialog.activateWindow()
    qtbot.waitUntil(lambda: focus_in(dialog))
    qtbot.waitUntil(lambda: not window.focus_ring.isVisible())
    dialog.reject()
    window.activateWindow()  # back in the window, the focus is where it was, and so is the ring
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.waitUntil(lambda: window.focus_ring.target() is window.table)


# A menu popping up on the offscreen platform: the test platform speaking, not the app.
@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, r"This plugin does not support (raise\(\)|grabbing the keyboard)")
def test_row_actions_from_the_keyboard_act_on_the_selected_row(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    ids = busy_store(store)
    window = make_window()
    table = window.table
    table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(table.hasFocus)
    table.selectRow(0)
    for _ in range(2):
        qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.selected_key_ids() == [ids[2]]
    # The context-menu key opens the key's menu for that row (not the row under the mouse).
    qtbot.keyClick(table, Qt.Key.Key_Menu)
    menu = find_visible(QMenu, "keyContextMenu")
    assert menu is not None
    menu.close()
    assert table.selected_key_ids() == [ids[2]] and window.key_actions.rename_action.isEnabled()
    qtbot.keyClick(table, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    menu = find_visible(QMenu, "keyContextMenu")
    assert menu is not None
    menu.close()
    # Space asks to deactivate it, Delete to delete it; a row's button, clicked, leaves the focus on the table.
    qtbot.keyClick(table, Qt.Key.Key_Space)
    answer(qtbot, "confirmDeactivateDialog", "cancelButton")
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    answer(qtbot, "confirmDeleteDialog", "cancelButton")
    table.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(table.hasFocus)
    cell = table.cell(2)
    assert cell is not None
    qtbot.mouseClick(cell.delete_button, Qt.MouseButton.LeftButton)
    answer(qtbot, "confirmDeleteDialog", "cancelButton")
    qtbot.waitUntil(table.hasFocus)
    assert all(store.get(i).active for i in ids)


def test_when_nothing_matches_tab_reaches_the_clear_button_after_the_table(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    busy_store(store)
    window = make_window()
    window.query_bar.search_edit.setFocus()
    qtbot.keyClicks(window.query_bar.search_edit, "no such description")
    qtbot.waitUntil(lambda: window.model.rowCount() == 0 and window.table.empty_button.isVisible())
    chain = names(tab_chain(qtbot, window))
    assert chain[chain.index("keysTable") + 1] == "emptyActionButton", chain
    window.table.empty_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.table.empty_button.hasFocus)
    ring = QColor(theme.focus_ring(theme.is_dark(window.palette())))
    assert len(ring_sides(window.grab().toImage(), window, window.table.empty_button, ring)) == 4


@pytest.mark.parametrize("name", PALETTES)
def test_dialogs_show_the_focus_ring_too(qtbot: QtBot, make_window: WindowFactory, name: str) -> None:
    window = make_window()
    before = QApplication.palette()
    QApplication.setPalette(PALETTES[name]())
    try:
        window.generate_action.trigger()
        dialog = wait_for(qtbot, QDialog, "generateDialog")
        dialog.activateWindow()
        qtbot.waitUntil(lambda: focus_in(dialog))
        ring = QColor(theme.focus_ring(name == "dark"))
        seen = []
        for _ in range(6):  # description, expiry box, presets…: each wears the ring in turn
            focused = QApplication.focusWidget()
            assert focused is not None and dialog.isAncestorOf(focused)
            QApplication.processEvents()
            sides = ring_sides(dialog.grab().toImage(), dialog, focused, ring)
            assert sides == ["top", "bottom", "left", "right"], (
                focused.objectName() or focused.accessibleName(),
                sides,
            )
            seen.append(focused)
            qtbot.keyClick(focused, Qt.Key.Key_Tab)
        assert len(set(seen)) == 6
        dialog.reject()
    finally:
        QApplication.setPalette(before)
