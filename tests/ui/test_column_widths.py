"""Issue 21.4: fixed columns as wide as their texts (font-aware), Description the rest, down to a minimum below
which the table scrolls sideways. Measured in the real window at several widths and a larger font."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import NewKey, Rate
from desktop.ui.control.key_table_model import (
    COL_ACTIONS,
    COL_CREATED,
    COL_CREDITS,
    COL_DESCRIPTION,
    COL_EXPIRES,
    COL_KEY,
    COL_LAST_USED,
    COL_STATUS,
)
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import cell_of

FIXED = (COL_KEY, COL_CREATED, COL_EXPIRES, COL_LAST_USED, COL_STATUS)
#: A column may be this much wider than the widest text Qt measures on the page (a date's digits vary a little).
SLACK = 8


def usual_page(store: KeyStore) -> None:
    """Keys with every usual Expires and Status text: a date, Never, Expired (with its icon), Inactive."""
    now = datetime.now(UTC)
    store.insert_many(
        [
            NewKey("Staging CI runner for the payments service", now - timedelta(days=9), now + timedelta(days=40)),
            NewKey("Billing export (nightly)", now - timedelta(days=8), None),
            NewKey("Old partner integration", now - timedelta(days=7), now - timedelta(days=2)),
            NewKey("Paused: mobile app beta", now - timedelta(days=6), None, active=False),
        ]
    )


def resize(qtbot: QtBot, window: MainWindow, width: int) -> None:
    window.resize(width, 600)
    qtbot.waitUntil(lambda: window.width() == width)
    QApplication.processEvents()


def widths(window: MainWindow) -> dict[int, int]:
    header = window.table.horizontalHeader()
    return {column: header.sectionSize(column) for column in range(header.count())}


def description_minimum(window: MainWindow) -> int:
    return window.table.fontMetrics().averageCharWidth() * 40


def assert_fixed_columns_fit_their_texts(window: MainWindow) -> None:
    """Every fixed column shows its texts whole, and is not much wider than the widest of them."""
    table = window.table
    header = table.horizontalHeader()
    for column in FIXED:
        need = max(table.sizeHintForColumn(column), header.sectionSizeFromContents(column).width())
        have = widths(window)[column]
        assert need <= have, (column, need, have)
        if column != COL_LAST_USED:  # the page has every usual text of the others (not "59 minutes ago")
            assert have <= need + SLACK, f"column {column} is {have} px for {need} px of text"


@pytest.mark.parametrize("width", [1040, 1300])
def test_fixed_columns_fit_their_texts_and_description_takes_the_rest(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, width: int
) -> None:
    usual_page(store)
    window = make_window()
    resize(qtbot, window, width)
    assert_fixed_columns_fit_their_texts(window)
    table = window.table
    sizes = widths(window)
    # Description has all the room the others leave, and nothing scrolls.
    assert sum(sizes.values()) == table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0
    assert sizes[COL_DESCRIPTION] >= description_minimum(window)
    assert sizes[COL_ACTIONS] >= cell_of(window, 0).sizeHint().width()


@pytest.mark.parametrize("width", [480, 520, 560])
def test_a_narrow_window_scrolls_rather_than_squeezing_the_description(
    short_folder: Path, qtbot: QtBot, make_window: WindowFactory, width: int
) -> None:
    folder = short_folder
    store = KeyStore.open(str(folder / "keys.db"), create=True)
    usual_page(store)
    store.close()
    window = make_window(str(folder / "keys.db"))
    wide = widths(window)
    resize(qtbot, window, width)
    sizes = widths(window)
    assert sizes[COL_DESCRIPTION] >= description_minimum(window), sizes[COL_DESCRIPTION]
    assert {c: sizes[c] for c in FIXED} == {c: wide[c] for c in FIXED}  # nothing else squeezed either
    assert window.table.horizontalScrollBar().maximum() > 0


def test_a_larger_font_widens_every_column_to_its_texts(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    usual_page(store)
    window = make_window()
    before = widths(window)
    font = window.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    window.setFont(font)
    QApplication.processEvents()
    after = widths(window)
    for column in (COL_CREATED, COL_EXPIRES, COL_LAST_USED, COL_STATUS):
        assert after[column] > before[column], column
    assert_fixed_columns_fit_their_texts(window)
    assert after[COL_DESCRIPTION] >= description_minimum(window)


def test_a_retiring_key_widens_expires_only_while_its_page_shows(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, settings: QSettings
) -> None:
    usual_page(store)
    rolled = store.create("to be rolled").record.id
    store.roll(rolled, timedelta(hours=2))  # the old key reads "Retiring <date and time>" for two hours
    now = datetime.now(UTC)
    store.insert_many([NewKey(f"filler {i}", now - timedelta(days=30 + i), None) for i in range(10)])
    settings.setValue("table/pageSize", 10)
    window = make_window()
    qtbot.waitUntil(lambda: rolled in window.model.rolled())
    row = window.model.row_of(rolled)
    assert row is not None
    assert str(window.model.index(row, COL_EXPIRES).data()).startswith("Retiring")
    qtbot.waitUntil(lambda: widths(window)[COL_EXPIRES] >= window.table.sizeHintForColumn(COL_EXPIRES))
    assert_fixed_columns_fit_their_texts(window)
    retiring = widths(window)[COL_EXPIRES]
    window.pagination.next_button.click()  # fillers only: the room goes back to Description
    qtbot.waitUntil(lambda: rolled not in [r.id for r in window.model.records()])
    QApplication.processEvents()
    assert widths(window)[COL_EXPIRES] < retiring
    assert sum(widths(window).values()) == window.table.viewport().width()


def test_at_the_default_size_a_limited_key_s_page_fits_without_scrolling(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    """A key with limits adds the Credits column and may read "Active · rate limited": at the size a new window
    opens with, every column still shows whole and Description keeps its minimum (nothing scrolls sideways)."""
    usual_page(store)
    limited = store.create("Orders service", rate=Rate(1, 3600), credits=999_999)
    assert store.verify(limited.key) == "valid"
    assert store.verify(limited.key) == "rate_limited"
    window = make_window()
    row = window.model.row_of(limited.record.id)
    assert row is not None
    qtbot.waitUntil(lambda: "rate limited" in str(window.model.index(row, COL_STATUS).data()))
    QApplication.processEvents()
    assert not window.table.isColumnHidden(COL_CREDITS)
    assert_fixed_columns_fit_their_texts(window)
    sizes = widths(window)
    assert sizes[COL_DESCRIPTION] >= description_minimum(window)
    assert sizes[COL_ACTIONS] >= cell_of(window, row).sizeHint().width()
    assert window.table.horizontalScrollBar().maximum() == 0, (window.width(), sizes)
