"""The table's own cell painter draws what Qt's delegate draws, from the model's answers, without asking data()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QApplication, QStyledItemDelegate
from pytestqt.qtbot import QtBot

from desktop.core.values import KeyRecord
from desktop.ui.control.key_table_model import COL_ACTIONS, COL_DESCRIPTION, KeyTableModel
from desktop.ui.widgets.key_table_view import KeyTableView
from desktop.ui.widgets.text_cells import TextCellDelegate
from tests.ui.screenshot import dark_palette

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
#: Glyph edges of light text on the selection may blend a little differently through QStaticText.
TOLERANCE = 40

DESCRIPTIONS = (
    "Billing service",
    "A description far too long for its column, so that the cell must elide it at the right edge " * 2,
    "Расчёты — Zahlungsverkehr — 請求サービス",
    "Webhooks ✓ prod",
    "",
    "Nightly export (EU)",
)


def records() -> list[KeyRecord]:
    rows = []
    for number, description in enumerate(DESCRIPTIONS * 2):
        rows.append(
            KeyRecord(
                id=number + 1,
                masked=f"ak_{number:04d}…{number * 7 % 10000:04d}",
                description=description,
                created_at=NOW - timedelta(days=number * 40),
                expires_at=(
                    None if number % 3 == 0 else NOW + timedelta(days=number * 9 - 50)  # some have expired
                ),
                active=number % 4 != 1,
                last_used_at=None if number % 2 else NOW - timedelta(hours=number * 5),
            )
        )
    return rows


def grab(view: KeyTableView) -> QImage:
    QApplication.processEvents()
    return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def largest_difference(ours: QImage, qts: QImage) -> int:
    assert ours.size() == qts.size()
    worst = 0
    for y in range(ours.height()):
        for x in range(ours.width()):
            a, b = ours.pixelColor(x, y), qts.pixelColor(x, y)
            worst = max(worst, abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue()))
    return worst


def the_view(qtbot: QtBot) -> tuple[KeyTableView, KeyTableModel]:
    model = KeyTableModel(clock=lambda: NOW)
    view = KeyTableView(model)
    qtbot.addWidget(view)
    model.reload(records())
    view.resize(900, 420)
    view.show()
    qtbot.waitExposed(view)
    return view, model


@pytest.mark.parametrize("change", ["none", "font", "palette"])
def test_cells_look_as_qts_own_delegate_draws_them(qtbot: QtBot, change: str) -> None:
    view, model = the_view(qtbot)
    assert isinstance(view.itemDelegate(), TextCellDelegate)
    if change != "none":
        ours_before = grab(view)  # lays the texts out and looks the colours up, before the change
        if change == "font":
            font = QFont(view.font())
            font.setPointSizeF(font.pointSizeF() * 1.4)
            view.setFont(font)
        else:
            view.setPalette(dark_palette())
        assert grab(view) != ours_before
    # A selected row, a current cell, an elided description, the expired rows' red text and warning icon.
    view.selectionModel().select(
        model.index(1, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    view.selectionModel().setCurrentIndex(model.index(1, COL_DESCRIPTION), QItemSelectionModel.SelectionFlag.NoUpdate)
    ours = grab(view)

    qts = QStyledItemDelegate(view)
    for column in range(model.columnCount()):
        view.setItemDelegateForColumn(column, qts)
    theirs = grab(view)

    assert largest_difference(ours, theirs) <= TOLERANCE


def test_a_paint_asks_the_model_nothing(qtbot: QtBot) -> None:
    view, model = the_view(qtbot)
    view.viewport().repaint()  # the first paint works each row's answers out
    asked: list[int] = []
    real_data = model.data

    def counting(index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        asked.append(index.column())
        return real_data(index, role)

    model.data = counting  # type: ignore[method-assign]  # a spy around the real data()
    view.viewport().repaint()
    # Only the Actions cells' widgets ask (their accessible text); the text cells draw from model.answers().
    assert [column for column in asked if column != COL_ACTIONS] == []


def test_answers_outside_the_page_are_none(qtbot: QtBot) -> None:
    _view, model = the_view(qtbot)
    rows = model.rowCount()
    assert model.answers(0, 0) is not None
    assert model.answers(rows, 0) is None
    assert model.answers(-1, 0) is None
    assert model.answers(0, model.columnCount()) is None
    assert model.answers(0, -1) is None
