"""Scopes drawn as small chips at the right of the Description cell (no column of their own)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from desktop.ui.control.key_table_model import SCOPES_ROLE
from desktop.ui.widgets.text_cells import TextCellDelegate

CHIP_PAD = 6
CHIP_GAP = 4
#: Chips never take more than this share of the cell: the description stays readable.
CHIPS_SHARE = 0.5


def chip_texts(scopes: tuple[str, ...], metrics: QFontMetrics, room: int) -> list[str]:
    """The chips that fit in `room` pixels, the rest summed up as "+N"."""
    shown: list[str] = []
    used = 0
    for number, scope in enumerate(scopes):
        rest = len(scopes) - number - 1
        width = metrics.horizontalAdvance(scope) + 2 * CHIP_PAD + CHIP_GAP
        more = metrics.horizontalAdvance(f"+{rest}") + 2 * CHIP_PAD + CHIP_GAP if rest else 0
        if used + width + more > room:
            shown.append(f"+{len(scopes) - number}")
            return shown
        shown.append(scope)
        used += width
    return shown


class ScopeChipsDelegate(TextCellDelegate):
    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        column = index.column()
        cell = self._model.answers(index.row(), column)
        scopes = cell.get(SCOPES_ROLE) if cell is not None else None
        if cell is None or not scopes:
            super().paint(painter, option, index)
            return
        font = QFont(option.font)  # a copy: the option's own font draws the description
        font.setPointSizeF(font.pointSizeF() * 0.85)
        metrics = QFontMetrics(font)
        texts = chip_texts(tuple(scopes), metrics, int(option.rect.width() * CHIPS_SHARE))
        widths = [metrics.horizontalAdvance(t) + 2 * CHIP_PAD for t in texts]
        chips_width = sum(widths) + CHIP_GAP * len(widths) + CHIP_GAP
        # The chips' room gets the same background and selection as the rest of the row; the item (icon,
        # text) goes in the cell less the chips' room.
        self.paint_background(painter, option, option.rect)
        self.paint_cell(painter, option, cell, column, option.rect.adjusted(0, 0, -chips_width, 0))

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        # On a selected row the highlight is the background: the chip is a lighter patch of it instead.
        fill = QColor(palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight))
        fill.setAlpha(70 if selected else 60)
        height = metrics.height() + 4
        x = option.rect.right() - chips_width + CHIP_GAP + 1
        y = option.rect.top() + (option.rect.height() - height) // 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        for text, width in zip(texts, widths, strict=True):
            chip = QRect(x, y, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(chip, height / 2, height / 2)
            painter.setPen(text_colour)
            painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), text)
            x += width + CHIP_GAP
        painter.restore()
