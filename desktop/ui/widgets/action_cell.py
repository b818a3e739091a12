"""One row's Actions cell: its Activate/Deactivate and Delete buttons, reused from page to page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QStyle,
    QWidget,
)

from desktop.ui.widgets.filled_button import FilledButton

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord


class ActionCell(QWidget):
    """The two buttons of one row; they say which key they act on. Reused from page to page."""

    toggleClicked = Signal(int)
    deleteClicked = Signal(int)

    def __init__(self, record: KeyRecord, palette: QPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actionCell")
        self.key_id = record.id
        self.active = record.active
        self.toggle_button = FilledButton("", self)
        self.toggle_button.setObjectName("toggleButton")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("deleteButton")
        for button in (self.toggle_button, self.delete_button):
            # Not a Tab stop each (200 of them at 100 a page): the table's keys act on its row (Space, Delete, the
            # context-menu key), and a click leaves the focus where it was.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoDefault(False)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._fix_toggle_size()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(6)
        layout.addWidget(self.toggle_button)
        layout.addWidget(self.delete_button)
        layout.addStretch(1)
        self.show_record(record, palette)
        self.toggle_button.clicked.connect(self._on_toggle_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)

    def show_record(self, record: KeyRecord, palette: QPalette) -> None:
        """Act on `record` from now on: labels, names and tool tips follow it."""
        self.key_id = record.id
        self.active = record.active
        self.toggle_button.setText("Deactivate" if record.active else "Activate")
        self.toggle_button.setAccessibleName(f"{self.toggle_button.text()} {record.masked}")
        self.toggle_button.setToolTip(
            f"Deactivate {record.masked}: clients using it will be rejected"
            if record.active
            else f"Activate {record.masked}: clients using it will be accepted again"
        )
        self.delete_button.setAccessibleName(f"Delete {record.masked}")
        self.delete_button.setToolTip(f"Delete {record.masked} for good")
        self.apply_palette(palette)

    def _fix_toggle_size(self) -> None:
        """Both labels fit either way, so the column does not jump when a key is toggled; and of a fixed size, the
        button takes a new label without asking its row to lay itself out again (each turn onto a page of other
        keys relabels several rows)."""
        button = self.toggle_button
        width = max(button.fontMetrics().horizontalAdvance(text) for text in ("Activate", "Deactivate"))
        hint = button.sizeHint()  # from the label, font and style alone: the size fixed before does not enter it
        button.setFixedSize(max(hint.width(), width + 30), hint.height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fix_toggle_size()

    def apply_palette(self, palette: QPalette) -> None:
        self.toggle_button.set_kind("deactivate" if self.active else "activate", palette)

    def _on_toggle_button_clicked(self) -> None:
        self.toggleClicked.emit(self.key_id)

    def _on_delete_button_clicked(self) -> None:
        self.deleteClicked.emit(self.key_id)


def small_icon(widget: QWidget) -> QSize:
    extent = widget.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, widget)
    return QSize(extent, extent)
