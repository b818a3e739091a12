"""The search, filter, order and page size come back at the next start (QSettings), never a whole key."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from desktop.core.query import Filter, Query, Sort
from desktop.core.store import KeyStore
from desktop.ui.control.key_table_model import COL_DESCRIPTION
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, wait_idle
from tests.ui.widgets import child


def test_a_window_built_with_the_same_settings_shows_the_same_query(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, settings: QSettings
) -> None:
    seed(store, 60)
    first = make_window()
    size = first.pagination.size_combo
    size.setCurrentIndex(size.findData(10))
    size.activated.emit(size.currentIndex())
    qtbot.keyClicks(first.findChild(QLineEdit, "searchEdit"), "key 0")
    combo = child(first, QComboBox, "statusFilter")
    combo.setCurrentIndex(combo.findText("Never used"))
    combo.activated.emit(combo.currentIndex())
    first.table.sortRequested.emit(COL_DESCRIPTION)
    first.table.sortRequested.emit(COL_DESCRIPTION)  # again: reversed
    wanted = Query("key 0", Filter.UNUSED, Sort.DESCRIPTION, reverse=True)
    qtbot.waitUntil(lambda: first.controller.query == wanted)
    wait_idle(qtbot, first)
    shown = [record.id for record in first.model.records()]
    first.close()

    second = make_window()
    assert second.controller.query == wanted
    assert child(second, QLineEdit, "searchEdit").text() == "key 0"
    assert child(second, QComboBox, "statusFilter").currentText() == "Never used"
    assert second.pagination.page_size() == 10
    header = second.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        COL_DESCRIPTION,
        Qt.SortOrder.DescendingOrder,
    )
    assert [record.id for record in second.model.records()] == shown
    assert child(second, QLabel, "pageLabel").text() == "1–10 of 60 matching"


def test_a_whole_key_is_remembered_as_its_masked_form_and_bad_values_fall_back(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, settings: QSettings
) -> None:
    created = store.create("remembered")
    store.create("other")
    first = make_window()
    child(first, QLineEdit, "searchEdit").setText(created.key)
    child(first, QLineEdit, "searchEdit").textEdited.emit(created.key)
    qtbot.waitUntil(lambda: [r.id for r in first.model.records()] == [created.record.id])
    wait_idle(qtbot, first)
    first.close()
    settings.sync()
    assert created.key not in Path(settings.fileName()).read_text(encoding="utf-8")
    second = make_window()
    assert child(second, QLineEdit, "searchEdit").text() == created.record.masked
    assert [r.id for r in second.model.records()] == [created.record.id]  # the masked form finds it too
    second.close()
    for key, value in (("query/status", "bogus"), ("query/sort", "sideways"), ("query/search", "x\x00y")):
        settings.setValue(key, value)
    third = make_window()
    assert third.controller.query == Query()
