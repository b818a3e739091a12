"""The search box, the status filter and the sortable headers, through the real window on a real SQLite file."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from desktop.ui.window.main_window import MainWindow
from desktop.ui.window.query_actions import CLEAR_ACTION, NOTHING_MATCHED
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, shown_anywhere, wait_idle
from tests.ui.widgets import child

TOOLTIP = Qt.ItemDataRole.ToolTipRole
STATUS_ITEMS = ["All keys", "Active", "Inactive", "Expired", "Expiring soon", "Never used"]


def shown_ids(window: MainWindow) -> list[int]:
    return [record.id for record in window.model.records()]


def page_label(window: MainWindow) -> str:
    return child(window, QLabel, "pageLabel").text()


def search(qtbot: QtBot, window: MainWindow, text: str) -> None:
    edit = child(window, QLineEdit, "searchEdit")
    edit.clear()
    qtbot.keyClicks(edit, text)


def choose_status(qtbot: QtBot, window: MainWindow, text: str) -> None:
    combo = child(window, QComboBox, "statusFilter")
    combo.setCurrentIndex(combo.findText(text))
    combo.activated.emit(combo.currentIndex())


def test_the_status_filter_holds_exactly_the_contract_items(make_window: WindowFactory) -> None:
    window = make_window()
    combo = child(window, QComboBox, "statusFilter")
    assert [combo.itemText(i) for i in range(combo.count())] == STATUS_ITEMS
    assert combo.currentText() == "All keys"


def test_typing_a_term_shows_only_the_matching_keys_and_counts_them(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 40)
    billing = [store.create("Billing — production").record.id, store.create("billing staging").record.id]
    window = make_window()
    assert page_label(window) == "1–25 of 42"
    search(qtbot, window, "BILLING")
    qtbot.waitUntil(lambda: sorted(shown_ids(window)) == sorted(billing))
    wait_idle(qtbot, window)
    assert page_label(window) == "1–2 of 2 matching"
    assert not child(window, QPushButton, "nextPageButton").isEnabled()
    # A term matching many pages them by keyset, counting what matches.
    search(qtbot, window, "key 0")
    qtbot.waitUntil(lambda: page_label(window) == "1–25 of 40 matching")


def test_each_status_filter_lists_exactly_its_keys(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    now = datetime.now(UTC)
    active = store.create("plain active").record.id
    inactive = store.set_active(store.create("switched off").record.id, False).id
    expiring_key = store.create("expires in three days", date.today() + timedelta(days=3))
    expiring = expiring_key.record.id
    store.verify(expiring_key.key)  # used: not in Never used
    store.insert_many([NewKey("expired but active", now - timedelta(days=40), now - timedelta(days=2))])
    expired = max(r.id for r in store.all())
    window = make_window()
    expected = {
        "All keys": {active, inactive, expiring, expired},
        "Active": {active, expiring},
        "Inactive": {inactive},
        "Expired": {expired},
        "Expiring soon": {expiring},
        "Never used": {active, inactive, expired},
    }
    for item in STATUS_ITEMS[1:] + STATUS_ITEMS[:1]:
        choose_status(qtbot, window, item)

        def shown(item: str = item) -> bool:
            return set(shown_ids(window)) == expected[item]

        qtbot.waitUntil(shown)
    # The expired key still marked active reads Expired in the Status column.
    choose_status(qtbot, window, "Expired")
    qtbot.waitUntil(lambda: shown_ids(window) == [expired])
    headers = [window.model.headerData(c, Qt.Orientation.Horizontal) for c in range(window.model.columnCount())]
    assert window.model.index(0, headers.index("Status")).data() == "Expired"


def test_a_whole_key_pasted_into_search_finds_exactly_that_key_and_is_never_shown(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, settings: QSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed(store, 30)
    created = store.create("the leaked one")
    store.create("the leaked one, too")  # same description: only the digest tells them apart
    window = make_window()
    edit = child(window, QLineEdit, "searchEdit")
    edit.setFocus()
    edit.insert(created.key)  # as a paste does
    edit.textEdited.emit(edit.text())
    qtbot.waitUntil(lambda: shown_ids(window) == [created.record.id])
    wait_idle(qtbot, window)
    assert edit.text() == created.record.masked
    assert not shown_anywhere(created.key)
    assert created.key not in caplog.text
    assert page_label(window) == "1–1 of 1 matching"
    settings.sync()
    assert created.key not in Path(settings.fileName()).read_text(encoding="utf-8")
    # Changing the filter keeps searching for that key.
    choose_status(qtbot, window, "Active")
    wait_idle(qtbot, window)
    assert shown_ids(window) == [created.record.id]


def test_nothing_matched_says_so_and_one_click_clears_search_and_filter(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 12)
    window = make_window()
    choose_status(qtbot, window, "Inactive")
    search(qtbot, window, "no such description")
    qtbot.waitUntil(lambda: window.model.rowCount() == 0 and window.controller.query.search != "")
    wait_idle(qtbot, window)
    empty = child(window, QLabel, "emptyLabel")
    button = child(window, QPushButton, "emptyActionButton")
    assert empty.isVisible() and empty.text() == NOTHING_MATCHED
    assert button.isVisible() and button.text() == CLEAR_ACTION
    assert page_label(window) == "No matching keys"
    button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 12)
    wait_idle(qtbot, window)
    assert child(window, QLineEdit, "searchEdit").text() == ""
    assert child(window, QComboBox, "statusFilter").currentText() == "All keys"
    assert not button.isVisible()
    assert page_label(window) == "1–12 of 12"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 10_000, "characters long"),
        ("abc\x00def", "control character"),
        ("\u202eabc", "control character"),
        ("مفتاح الفوترة", None),
        ("🔑🔥", None),
        ("%_\\'\"; DROP TABLE api_keys; --", None),
    ],
    ids=["10kB", "NUL", "RTL override", "Arabic", "emoji", "SQL and LIKE wildcards"],
)
def test_any_search_text_gives_a_message_or_no_match_never_a_crash(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, text: str, message: str | None
) -> None:
    seed(store, 5)
    window = make_window()
    edit = child(window, QLineEdit, "searchEdit")
    edit.setText(text)
    error = child(window, QLabel, "searchError")
    if message is None:
        qtbot.waitUntil(lambda: window.controller.query.search == text.strip())
        wait_idle(qtbot, window)
        assert window.model.rowCount() == 0 and not error.isVisible()
    else:
        qtbot.waitUntil(error.isVisible)
        assert message in error.text() and text not in error.text()
        assert len(shown_ids(window)) == 5  # the list stays as it was
        edit.clear()
        qtbot.waitUntil(lambda: not error.isVisible())
    assert len(store.all()) == 5


def test_live_refresh_keeps_the_search(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    seed(store, 10)
    window = make_window()
    search(qtbot, window, "billing")
    qtbot.waitUntil(lambda: window.controller.query.search == "billing")
    wait_idle(qtbot, window)
    assert window.model.rowCount() == 0
    other = store.create("Billing from another process").record.id  # another connection commits
    store.create("unrelated")
    qtbot.waitUntil(lambda: shown_ids(window) == [other], timeout=5000)
    wait_idle(qtbot, window)
    assert page_label(window) == "1–1 of 1 matching"


def test_ctrl_f_focuses_the_search_and_escape_clears_it(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 3)
    window = make_window()
    edit = child(window, QLineEdit, "searchEdit")
    window.activateWindow()
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClicks(edit, "key 001")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert edit.text() == ""
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)


# -- Last used, and sorting by a header click --


def _header_column(window: MainWindow, name: str) -> int:
    model = window.model
    return [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index(name)


def click_header(qtbot: QtBot, window: MainWindow, name: str) -> None:
    header = window.table.horizontalHeader()
    column = _header_column(window, name)
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def test_last_used_says_never_or_how_long_ago_with_the_exact_time_in_its_tooltip(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    used = store.create("used a moment ago")
    store.create("never used")
    store.verify(used.key)
    window = make_window()
    column = _header_column(window, "Last used")
    assert [window.model.headerData(c, Qt.Orientation.Horizontal) for c in range(column - 1, column + 2)] == [
        "Expires",
        "Last used",
        "Status",
    ]
    cells = {record.description: window.model.index(row, column) for row, record in enumerate(window.model.records())}
    assert cells["never used"].data() == "Never"
    assert cells["used a moment ago"].data() == "just now"
    moment = store.get(used.record.id).last_used_at
    assert moment is not None
    exact = moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert exact in cells["used a moment ago"].data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1, seconds=3), "1 minute ago"),
        (timedelta(minutes=3, seconds=59), "3 minutes ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(days=2, hours=23), "2 days ago"),
        (timedelta(days=95), "3 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_how_long_ago_reads_in_the_largest_whole_unit(ago: timedelta, text: str) -> None:
    from desktop.ui.control.key_table_model import ago_text

    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert ago_text(now - ago, now) == text


def _varied_keys(store: KeyStore) -> None:
    """Keys with ties and gaps in every order: shared descriptions, shared and missing expiry, used and not."""
    today = date.today()
    for index in range(23):
        expires = None if index % 4 == 0 else today + timedelta(days=10 + index % 3)
        created = store.create(["alpha", "Bravo", "charlie", "alpha"][index % 4] + f" {index % 5}", expires)
        if index % 3:
            store.verify(created.key)


@pytest.mark.parametrize("header", ["Created", "Expires", "Last used", "Description"])
def test_a_header_click_sorts_and_paging_shows_every_key_once_in_that_order_both_ways(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, header: str
) -> None:
    from desktop.core.query import Query
    from desktop.ui.control.query_settings import SORT_COLUMNS

    _varied_keys(store)
    window = make_window()
    choose_size = window.pagination.size_combo
    choose_size.setCurrentIndex(choose_size.findData(10))
    choose_size.activated.emit(choose_size.currentIndex())
    wait_idle(qtbot, window)
    column = _header_column(window, header)
    sort, order = SORT_COLUMNS[column]
    indicator = window.table.horizontalHeader()
    clicks = 1 if sort.value != "created" else 0  # Created is the order already: one click reverses it
    for reverse in (False, True):
        for _ in range(clicks):
            click_header(qtbot, window, header)
        clicks = 1

        def sorted_so(reverse: bool = reverse) -> bool:
            return window.controller.query == Query(sort=sort, reverse=reverse)

        qtbot.waitUntil(sorted_so)
        wait_idle(qtbot, window)
        assert indicator.sortIndicatorSection() == column
        assert (indicator.sortIndicatorOrder() == order) is not reverse
        expected = [record.id for record in store.find(Query(sort=sort, reverse=reverse))]
        forward = list(shown_ids(window))
        while window.pagination.next_button.isEnabled():
            window.pagination.next_button.click()
            forward.extend(shown_ids(window))
        assert forward == expected
        assert page_label(window) == "21–23 of 23"
        backward = list(reversed(shown_ids(window)))
        while window.pagination.prev_button.isEnabled():
            window.pagination.prev_button.click()
            backward.extend(reversed(shown_ids(window)))
        assert backward == list(reversed(expected))
        assert page_label(window) == "1–10 of 23"


def test_other_headers_do_not_sort(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    from desktop.core.query import Query

    seed(store, 3)
    window = make_window()
    header = window.table.horizontalHeader()
    for name in ("API Key", "Status", "Actions"):
        click_header(qtbot, window, name)
        wait_idle(qtbot, window)
        assert window.controller.query == Query()
        assert header.sortIndicatorSection() == _header_column(window, "Created")
        assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        assert window.model.headerData(_header_column(window, name), Qt.Orientation.Horizontal, TOOLTIP) is None
    for name in ("Created", "Expires", "Last used", "Description"):
        tip = window.model.headerData(_header_column(window, name), Qt.Orientation.Horizontal, TOOLTIP)
        assert tip.startswith("Sort by") and "click again to reverse" in tip
