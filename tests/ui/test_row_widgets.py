"""The row buttons are reused from page to page: after every turn each acts on, and names, the key in its row."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.core.paging import Pager
from desktop.core.store import KeyStore
from desktop.ui import theme
from desktop.ui.control.key_table_model import COL_ACTIONS, KeyTableModel
from desktop.ui.widgets.action_cell import ActionCell
from desktop.ui.widgets.key_table_view import KeyTableView
from tests.ui.helpers import cell_of, seed


def _first_of_60(qtbot: QtBot, store: KeyStore) -> tuple[KeyTableModel, KeyTableView, Pager]:
    """60 keys, a shown view, and the first page of 25 in it."""
    seed(store, 60)
    model = KeyTableModel()
    view = KeyTableView(model)
    qtbot.addWidget(view)
    view.resize(1000, 1200)
    view.show()
    qtbot.waitExposed(view)
    pager = Pager(store, 25)
    pager.first()
    model.reload(pager.items)
    return model, view, pager


def test_row_buttons_follow_their_rows_across_page_turns(qtbot: QtBot, store: KeyStore) -> None:
    model, view, pager = _first_of_60(qtbot, store)
    for record in store.all()[25:30]:  # some inactive keys on the second page (read once Next is pressed)
        store.set_active(record.id, False)
    first_cells = [cell_of(view, row) for row in range(25)]
    while pager.next():
        model.reload(pager.items)
        rows = model.rowCount()
        for row in range(rows):
            record, cell = model.record(row), view.cell(row)
            assert cell is not None and cell.isVisibleTo(view)
            assert cell.key_id == record.id and cell.active == record.active
            toggle = cell.toggle_button
            assert toggle.text() == ("Deactivate" if record.active else "Activate")
            assert toggle.accessibleName().endswith(record.masked)
            assert cell.delete_button.accessibleName() == f"Delete {record.masked}"
            with qtbot.waitSignal(view.toggleRequested) as toggled:
                qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
            assert toggled.args == [record.id]
            with qtbot.waitSignal(view.deleteRequested) as deleted:
                qtbot.mouseClick(cell.delete_button, Qt.MouseButton.LeftButton)
            assert deleted.args == [record.id]
    # The last page is short: the widgets it does not need are hidden, none was made anew.
    assert model.rowCount() == 10
    cells = view.viewport().findChildren(ActionCell)
    assert len(cells) == 25 and set(cells) == set(first_cells)
    assert sum(cell.isVisibleTo(view) for cell in cells) == 10
    pager.previous()
    model.reload(pager.items)
    assert [cell_of(view, row).key_id for row in range(25)] == [r.id for r in model.records()]
    assert all(cell.isVisibleTo(view) for cell in cells)


def test_a_page_as_long_as_the_last_replaces_it_in_place(qtbot: QtBot, store: KeyStore) -> None:
    # A reset would hide and re-show every row's buttons and lay the header out again: a page turn needs a repaint.
    model, view, pager = _first_of_60(qtbot, store)
    cells = [cell_of(view, row) for row in range(25)]
    widths = [view.columnWidth(column) for column in range(model.columnCount())]
    assert pager.next()
    with qtbot.assertNotEmitted(model.modelReset), qtbot.waitSignal(model.dataChanged) as changed:
        model.reload(pager.items)
    top, bottom = changed.args[:2]
    assert (top.row(), top.column()) == (0, 0)
    assert (bottom.row(), bottom.column()) == (24, model.columnCount() - 1)
    assert [view.cell(row) for row in range(25)] == cells
    assert [cell.key_id for cell in cells] == [record.id for record in model.records()]
    assert [view.columnWidth(column) for column in range(model.columnCount())] == widths


def test_a_page_of_another_length_replaces_it_in_place_too(
    qtbot: QtBot, qtmodeltester: ModelTester, store: KeyStore
) -> None:
    """The last page is shorter: rows removed at the end, the rest replaced; back, rows inserted. No reset."""
    model, view, pager = _first_of_60(qtbot, store)
    qtmodeltester.check(model)  # Qt's tester stays on the model: it checks every insertion and removal below
    cells = [cell_of(view, row) for row in range(25)]
    widths = [view.columnWidth(column) for column in range(model.columnCount())]
    assert pager.next() and pager.next()  # keys 51 to 60
    with (
        qtbot.assertNotEmitted(model.modelReset),
        qtbot.waitSignal(model.rowsRemoved) as removed,
        qtbot.waitSignal(model.dataChanged) as changed,
    ):
        model.reload(pager.items)
    assert removed.args[1:] == [10, 24]
    assert (changed.args[0].row(), changed.args[1].row()) == (0, 9)
    assert [view.cell(row) for row in range(10)] == cells[:10]
    assert [cell_of(view, row).key_id for row in range(10)] == [record.id for record in model.records()]
    assert not any(cell.isVisibleTo(view) for cell in cells[10:])  # parked for a longer page
    assert [view.columnWidth(column) for column in range(model.columnCount())] == widths
    assert pager.previous()
    with qtbot.assertNotEmitted(model.modelReset), qtbot.waitSignal(model.rowsInserted) as inserted:
        model.reload(pager.items)
    assert inserted.args[1:] == [10, 24]
    # The parked widgets came back, in their rows' order: none was made anew.
    assert [view.cell(row) for row in range(25)] == cells
    assert [cell.key_id for cell in cells] == [record.id for record in model.records()]
    assert all(cell.isVisibleTo(view) for cell in cells)
    assert len(view.viewport().findChildren(ActionCell)) == 25


def test_a_page_replaced_in_place_keeps_only_the_selected_keys_still_on_it(qtbot: QtBot, store: KeyStore) -> None:
    model, view, pager = _first_of_60(qtbot, store)
    first = model.records()
    view.select_key(first[3].id)
    assert view.selected_key_ids() == [first[3].id]
    # The same keys one row down (as a live refresh after a new key shows them): the selection follows the key.
    model.reload([first[0], *first[:24]])
    assert view.selected_key_ids() == [first[3].id]
    assert view.selectionModel().selectedRows()[0].row() == 4
    # The next page has none of them: nothing is selected, and no row is current, as after a reset.
    assert pager.next()
    with qtbot.waitSignal(model.pageReplaced):
        model.reload(pager.items)
    assert view.selected_key_ids() == []
    assert not view.currentIndex().isValid()


def _where_qt_puts(view: KeyTableView, model: KeyTableModel, row: int) -> QRect:
    """Where Qt's own delegate places a widget in the row's Actions cell."""
    index = model.index(row, COL_ACTIONS)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualRect(index)
    probe = QWidget(view.viewport())
    delegate = view.itemDelegate()
    assert isinstance(delegate, QStyledItemDelegate)
    QStyledItemDelegate.updateEditorGeometry(delegate, probe, option, index)
    probe.deleteLater()
    return probe.geometry()


def test_row_widgets_sit_where_qts_delegate_puts_them_without_asking_the_model(qtbot: QtBot, store: KeyStore) -> None:
    """Qt's delegate asks the model every role of a cell to place a row widget, for each of them on every
    layout; ours works the place out once per cell size, and it is the same place."""
    model, view, pager = _first_of_60(qtbot, store)
    asked: list[int] = []  # roles asked
    real_data = model.data

    def counting(index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        asked.append(role)
        return real_data(index, role)

    model.data = counting  # type: ignore[method-assign]  # a spy around the real data()
    view.updateEditorGeometries()  # the first layout: Qt's delegate asks, once for the cell size
    first = len(asked)
    view.updateEditorGeometries()
    assert 0 < first <= 7 and len(asked) == first
    model.data = real_data  # type: ignore[method-assign]  # the spy removed

    def placed_as_qt_places() -> None:
        rows = model.rowCount()
        assert [cell_of(view, row).geometry() for row in range(rows)] == [
            _where_qt_puts(view, model, row) for row in range(rows)
        ]

    placed_as_qt_places()
    assert pager.next() and pager.next()  # 10 keys: rows removed
    model.reload(pager.items)
    placed_as_qt_places()
    assert pager.previous()  # 25 again: rows inserted
    model.reload(pager.items)
    view.scrollToBottom()
    placed_as_qt_places()
    font = QFont(view.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)  # taller rows, a wider Actions column
    view.setFont(font)
    qtbot.waitUntil(lambda: cell_of(view, 0).geometry() == _where_qt_puts(view, model, 0))
    placed_as_qt_places()


def test_a_page_turn_works_out_what_its_rows_share_once(
    qtbot: QtBot, store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key column's font and the expired text's colour are the same for every row: made once per page, not
    once per row (25 fonts and colours a turn, each a few calls into Qt)."""
    model, view, pager = _first_of_60(qtbot, store)
    asked: Counter[str] = Counter()
    for name in ("monospace_font", "expired_text"):
        real = getattr(theme, name)
        monkeypatch.setattr(theme, name, lambda *args, _real=real, _name=name: asked.update([_name]) or _real(*args))
    turns = 0
    while pager.next():
        model.reload(pager.items)
        view.viewport().repaint()  # every visible cell asked for its answers
        assert all(model.answers(row, COL_ACTIONS) is not None for row in range(model.rowCount()))
        turns += 1
    assert turns == 2
    assert asked == {"monospace_font": turns, "expired_text": turns}
