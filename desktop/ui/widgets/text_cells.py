"""The table's cells, drawn as Qt's own delegate draws them, from the model's answers and cached text.

QStyledItemDelegate asks the model seven roles per cell (seven calls from C++ into Python) and then
lays out, shapes and elides the cell's text again on every paint. On a page turn that was about half
of the frame: 17 rows × 7 cells × (7 answers + a text layout). Here a cell takes one look-up in the
model's answers (KeyTableModel.answers) and draws its text from a QStaticText, laid out once per text
and width. The geometry (icon and text rectangles) comes from the style, once per column width.

What it draws is what QCommonStyle's CE_ItemViewItem draws, pixel for pixel (tests/ui/test_text_cells.py
compares the two): the selection and focus frame through the style, the icon in its mode, and the text
elided on the right, vertically centred, in the text colour of the cell's state.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette, QStaticText, QTextLayout, QTextOption
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
# option.state as an int: a Python enum operation per test costs more than the rest of the check.
_SELECTED = QStyle.StateFlag.State_Selected.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_FOCUSED = QStyle.StateFlag.State_HasFocus.value
_ITEM = QStyle.ControlElement.CE_ItemViewItem
_ELIDE = Qt.TextElideMode.ElideRight
_ONE_LINE = QTextOption()
_ONE_LINE.setWrapMode(QTextOption.WrapMode.ManualWrap)  # as viewItemDrawText lays a cell's text out
#: Texts kept laid out: about forty pages of distinct descriptions and keys.
TEXT_CACHE_LIMIT = 4096


class CellAnswers(Protocol):
    def answers(self, row: int, column: int) -> dict[int, Any] | None: ...


class TextCellDelegate(QStyledItemDelegate):
    """Draws a cell from `model.answers(row, column)`; a cell without answers is drawn by Qt's delegate.

    Its view calls forget() after a change of font, style or palette.
    """

    def __init__(self, view: QWidget, model: CellAnswers) -> None:
        super().__init__(view)
        self._view = view
        self._model = model
        # (column, width, height, with icon) → icon and text rectangles, relative to the cell.
        self._geometry: dict[tuple[int, int, int, bool], tuple[QRect, QRect]] = {}
        # (column, text, width, height) → the laid-out text and where it starts, relative to the cell.
        self._texts: dict[tuple[int, str, int, int], tuple[QStaticText, int, int]] = {}
        # (enabled/active state bits, selected) → text colour.
        self._colours: dict[tuple[int, bool], QColor] = {}
        self._font = view.font()

    def forget(self) -> None:
        """After a change of font, style or palette: lay every text out again, and look colours up again."""
        self._geometry.clear()
        self._texts.clear()
        self._colours.clear()
        self._font = self._view.font()

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        column = index.column()
        cell = self._model.answers(index.row(), column)
        if cell is None:
            super().paint(painter, option, index)
            return
        self.paint_cell(painter, option, cell, column, option.rect)

    def paint_cell(
        self, painter: QPainter, option: QStyleOptionViewItem, cell: dict[int, Any], column: int, rect: QRect
    ) -> None:
        """The cell's selection, focus frame, icon and text, in `rect`."""
        # About 120 cells a paint, each a call from C++ into Python: every call to Qt here counts.
        state = self.paint_background(painter, option, rect)
        text = cell.get(_DISPLAY)
        icon: QIcon | None = cell.get(_DECORATION)
        if not text and icon is None:
            return
        font: QFont = cell.get(_FONT) or self._font
        # One call for four numbers; PySide6's stubs type the tuple getRect() returns as `object`.
        x, y, width, height = cast(tuple[int, int, int, int], rect.getRect())
        shape = (column, width, height, icon is not None)
        geometry = self._geometry.get(shape)
        if geometry is None:
            geometry = self._geometry[shape] = self._layout(option, font, icon, width, height)
        icon_rect, text_rect = geometry
        if icon is not None:
            if not state & _ENABLED:
                mode = QIcon.Mode.Disabled
            elif state & _SELECTED:
                mode = QIcon.Mode.Selected
            else:
                mode = QIcon.Mode.Normal
            icon.paint(painter, icon_rect.translated(x, y), Qt.AlignmentFlag.AlignCenter, mode)
        if not text:
            return
        selected = bool(state & _SELECTED)
        colour = None if selected else cell.get(_FOREGROUND)
        if colour is None:
            colour = self._colour(state, selected, option)
        key = (column, text, width, height)
        laid_out = self._texts.get(key)
        if laid_out is None:
            laid_out = self._lay_out(key, text, font, text_rect)
        static, left, top = laid_out
        painter.setPen(colour)
        painter.setFont(font)
        painter.drawStaticText(x + left, y + top, static)

    def paint_background(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect) -> int:
        """The selection and the focus frame, as the style draws them for an item without text or icon.

        An unselected cell has nothing of its own below its text: the view draws the (alternating) row.
        Returns the option's state, as an int.
        """
        state: int = option.state.value
        if state & (_SELECTED | _FOCUSED):
            blank = QStyleOptionViewItem(option)
            blank.rect = rect
            self._view.style().drawControl(_ITEM, blank, painter, self._view)
        return state

    def _colour(self, state: int, selected: bool, option: QStyleOptionViewItem) -> QColor:
        """The text colour CE_ItemViewItem picks for this state: Text, or HighlightedText when selected."""
        key = (state & (_ENABLED | _ACTIVE), selected)
        colour = self._colours.get(key)
        if colour is None:
            if not state & _ENABLED:
                group = QPalette.ColorGroup.Disabled
            elif not state & _ACTIVE:
                group = QPalette.ColorGroup.Inactive
            else:
                group = QPalette.ColorGroup.Normal
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            colour = self._colours[key] = option.palette.color(group, role)
        return colour

    def _layout(
        self, option: QStyleOptionViewItem, font: QFont, icon: QIcon | None, width: int, height: int
    ) -> tuple[QRect, QRect]:
        """Where the style puts the icon and the text in a cell of this size (as CE_ItemViewItem does)."""
        item = QStyleOptionViewItem(option)
        item.rect = QRect(0, 0, width, height)
        item.font = font
        item.text = "M"
        item.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        if icon is not None:
            item.icon = icon
            item.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
        style = self._view.style()
        icon_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, item, self._view)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, item, self._view)
        # viewItemDrawText's own margin inside the text rectangle.
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self._view) + 1
        return icon_rect, text_rect.adjusted(margin, 0, -margin, 0)

    def _lay_out(
        self, key: tuple[int, str, int, int], text: str, font: QFont, room: QRect
    ) -> tuple[QStaticText, int, int]:
        """The text elided to `room`'s width, laid out once, and where it starts (as viewItemDrawText)."""
        static = QStaticText(QFontMetrics(font).elidedText(text, _ELIDE, room.width()))
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(font=font)
        # Vertically centred as QStyle.alignedRect centres the whole text's line, before eliding: its height
        # is that of the tallest font the text needs (a fallback font for other scripts can be taller).
        layout = QTextLayout(text, font)
        layout.setTextOption(_ONE_LINE)
        layout.beginLayout()
        layout.createLine().setLineWidth(room.width())
        layout.endLayout()
        line_height = int(layout.boundingRect().height() + 0.5)  # QSizeF.toSize() rounds half up
        top = room.y() + room.height() // 2 - line_height // 2  # as alignedRect rounds, each half apart
        laid_out = (static, room.x(), top)
        if len(self._texts) >= TEXT_CACHE_LIMIT:
            del self._texts[next(iter(self._texts))]  # the oldest
        self._texts[key] = laid_out
        return laid_out
