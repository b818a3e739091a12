"""Paging after a change of page size, and where keyboard focus goes when a pager button turns off."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import open_pager, seed, wait_idle
from tests.ui.widgets import child


def _shown_ids(window: MainWindow) -> list[int]:
    return [record.id for record in window.model.records()]


def _choose_page_size(window: MainWindow, size: int) -> None:
    combo = window.pagination.size_combo
    combo.setCurrentIndex(combo.findData(size))
    combo.activated.emit(combo.currentIndex())


def test_changing_the_page_size_mid_list_then_paging_back_shows_every_key_once(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    """The tryout: on `126–140 of 140`, 100 a page, then Previous, Previous showed keys 26–100 twice."""
    seed(store, 140, ties=3)
    expected = [record.id for record in store.all()]
    window = make_window()
    label = child(window, QLabel, "pageLabel")
    while window.pagination.next_button.isEnabled():
        window.pagination.next_button.click()
    wait_idle(qtbot, window)
    assert label.text() == "126–140 of 140"
    _choose_page_size(window, 100)
    wait_idle(qtbot, window)
    pages = [_shown_ids(window)]
    labels = [label.text()]
    while window.pagination.prev_button.isEnabled():
        window.pagination.prev_button.click()
        wait_idle(qtbot, window)
        pages.insert(0, _shown_ids(window))
        labels.insert(0, label.text())
    seen = [key_id for page in pages for key_id in page]
    assert seen == expected, labels  # every key exactly once, in order
    # And forwards again, from the top, in pages of the new size.
    forward = list(_shown_ids(window))
    while window.pagination.next_button.isEnabled():
        window.pagination.next_button.click()
        forward.extend(_shown_ids(window))
    assert forward == expected
    assert label.text().endswith("–140 of 140")


def test_the_top_key_stays_in_view_when_the_page_size_changes(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 140)
    window = make_window()
    for _ in range(3):
        window.pagination.next_button.click()
    wait_idle(qtbot, window)
    for size in (10, 50, 100, 25):
        top = _shown_ids(window)[0]
        _choose_page_size(window, size)
        wait_idle(qtbot, window)
        assert top in _shown_ids(window), size
        assert len(_shown_ids(window)) == min(size, 140 - open_pager(window).offset)


def _activate(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_a_page_turn_shows_the_new_page_from_its_top(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    """Read to the end of a page, then Next (or Previous): the new page's first row is in view, not its end."""
    seed(store, 60)
    window = make_window()
    window.resize(900, 400)  # 25 rows do not fit: the table scrolls
    wait_idle(qtbot, window)
    bar = window.table.verticalScrollBar()
    for turn in (window.pagination.next_button.click, window.pagination.prev_button.click):
        bar.setValue(bar.maximum())
        assert bar.value() > 0
        turn()
        wait_idle(qtbot, window)
        assert bar.value() == 0
        top = window.table.visualRect(window.model.index(0, 0))
        assert window.table.viewport().rect().contains(top)


def test_focus_stays_on_the_pager_when_next_turns_off(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    """Space on Next at the last page used to land on a row's button, and the next Space deleted a key."""
    seed(store, 30)
    window = make_window()
    _activate(qtbot, window)
    window.pagination.next_button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.pagination.next_button)
    qtbot.keyClick(window.pagination.next_button, Qt.Key.Key_Space)
    assert not window.pagination.next_button.isEnabled()
    focused = QApplication.focusWidget()
    assert focused is not None
    assert focused.objectName() not in ("toggleButton", "deleteButton")
    assert window.pagination.isAncestorOf(focused) or focused is window.table
    # Space where the focus now is asks nothing and changes nothing.
    qtbot.keyClick(focused, Qt.Key.Key_Space)
    assert QApplication.activeModalWidget() is None
    assert store.count() == 30


def test_focus_stays_on_the_pager_when_previous_turns_off(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 30)
    window = make_window()
    _activate(qtbot, window)
    window.pagination.next_button.click()
    window.pagination.prev_button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.pagination.prev_button)
    qtbot.keyClick(window.pagination.prev_button, Qt.Key.Key_Space)
    assert not window.pagination.prev_button.isEnabled()
    focused = QApplication.focusWidget()
    assert focused is not None and window.pagination.isAncestorOf(focused), focused
    assert focused.objectName() in ("nextPageButton", "pageSizeCombo")


def test_a_focused_row_button_that_goes_away_leaves_the_focus_on_the_table(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 30)
    window = make_window()
    _activate(qtbot, window)
    window.pagination.next_button.click()  # 5 rows: the page after has buttons for 5 keys only
    assert len(_shown_ids(window)) == 5
    window.pagination.prev_button.click()
    last = window.table.cell(24)
    assert last is not None
    last.delete_button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is last.delete_button)
    window.pagination.next_button.click()  # row 24's buttons are hidden for the short page
    focused = QApplication.focusWidget()
    assert focused is window.table, focused


class _LayoutRequests(QObject):
    """Counts the requests to lay a widget of `window` out again, by the widget's class and name."""

    def __init__(self, window: QWidget) -> None:
        super().__init__()
        self.window = window
        self.seen: Counter[str] = Counter()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.LayoutRequest
            and isinstance(watched, QWidget)
            and watched.window() is self.window
        ):
            self.seen[f"{type(watched).__name__} {watched.objectName()}".strip()] += 1
        return False


def test_a_page_turn_lays_no_row_out_again(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    """A turn onto a page of other keys relabels the position ("26–50 of 120") and the toggle buttons of rows
    whose keys differ in being active; neither changes any widget's size, so no row is laid out again (every
    relabelled row laid its buttons out again, and the position's label the whole window)."""
    seed(store, 120)
    for record in store.all()[::3]:
        store.set_active(record.id, False)  # rows turn from Deactivate to Activate and back from page to page
    window = make_window()
    wait_idle(qtbot, window)
    pager = window.pagination
    for button in (pager.next_button,) * 3 + (pager.prev_button,) * 2:  # the label as wide as it gets, then 26–50
        button.click()
        wait_idle(qtbot, window)
    moves = (pager.next_button, pager.next_button, pager.prev_button, pager.prev_button)
    labels = []
    requests = _LayoutRequests(window)
    app = QCoreApplication.instance()
    assert app is not None
    app.installEventFilter(requests)
    try:
        for button in moves:
            button.click()
            QCoreApplication.sendPostedEvents()
            labels.append(child(window, QLabel, "pageLabel").text())
            toggles = [window.table.cell(row) for row in range(window.model.rowCount())]
            assert [cell.toggle_button.text() if cell else None for cell in toggles] == [
                "Deactivate" if record.active else "Activate" for record in window.model.records()
            ]
    finally:
        app.removeEventFilter(requests)
    assert labels == ["51–75 of 120", "76–100 of 120", "51–75 of 120", "26–50 of 120"]
    # Before: 75 rows' buttons laid out again in these four turns (and the whole window four times; the window's
    # own layout is not counted here: the expiry banner and key health, read on a worker, may land meanwhile).
    assert not [name for name in requests.seen if name.startswith(("ActionCell", "QWidget qt_scrollarea"))]
