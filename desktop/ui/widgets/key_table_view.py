"""The keys table: real Activate/Deactivate and Delete buttons in each row, and keyboard actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyledItemDelegate,
    QTableView,
    QWidget,
)

from desktop.ui import theme
from desktop.ui.key_table_model import (
    COL_ACTIONS,
    COL_CREATED,
    COL_DESCRIPTION,
    COL_EXPIRES,
    COL_KEY,
    COL_STATUS,
    KeyTableModel,
)

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
        self.toggle_button = QPushButton(self)
        self.toggle_button.setObjectName("toggleButton")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("deleteButton")
        for button in (self.toggle_button, self.delete_button):
            button.setAutoDefault(False)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        # Both labels fit either way, so the column does not jump when a key is toggled.
        width = max(self.toggle_button.fontMetrics().horizontalAdvance(text) for text in ("Activate", "Deactivate"))
        self.toggle_button.setMinimumWidth(width + 30)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(6)
        layout.addWidget(self.toggle_button)
        layout.addWidget(self.delete_button)
        layout.addStretch(1)
        self._styled: tuple[bool, bool] | None = None  # (active, dark) the toggle button is styled for
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

    def apply_palette(self, palette: QPalette) -> None:
        styled = (self.active, theme.is_dark(palette))
        if styled != self._styled:  # a style sheet costs a re-polish: set it only when it changes
            self._styled = styled
            theme.style_button(self.toggle_button, "deactivate" if self.active else "activate", palette)

    def _on_toggle_button_clicked(self) -> None:
        self.toggleClicked.emit(self.key_id)

    def _on_delete_button_clicked(self) -> None:
        self.deleteClicked.emit(self.key_id)


class _KeepCellsDelegate(QStyledItemDelegate):
    """A model reset hands the row widgets here to destroy; the view keeps them for the next page instead.

    Building 25 rows of styled buttons anew on every page turn cost most of a frame.
    """

    def __init__(self, view: KeyTableView) -> None:
        super().__init__(view)
        self._view = view

    def destroyEditor(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, ActionCell):
            self._view._park(editor)
        else:
            super().destroyEditor(editor, index)


class KeyTableView(QTableView):
    """Shows a KeyTableModel; asks its owner to toggle or delete a key by ID."""

    toggleRequested = Signal(int)
    deleteRequested = Signal(int)

    def __init__(self, model: KeyTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keysTable")
        self.setAccessibleName("API keys")
        self.setModel(model)
        self._model = model
        self._dark: bool | None = None
        self._parked: list[ActionCell] = []  # hidden row widgets, in row order, for the next page
        self.setItemDelegate(_KeepCellsDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        # Tab leaves the table (to the row buttons and the pager) instead of walking its cells.
        self.setTabKeyNavigation(False)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column in (COL_KEY, COL_CREATED, COL_EXPIRES, COL_STATUS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_ACTIONS, QHeaderView.ResizeMode.Fixed)
        self._apply_palette()
        model.modelReset.connect(self._on_model_model_reset)
        self._on_model_model_reset()

    # -- rows --

    def cell(self, row: int) -> ActionCell | None:
        widget = self.indexWidget(self._model.index(row, COL_ACTIONS))
        return widget if isinstance(widget, ActionCell) else None

    def selected_key_id(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self._model.record(rows[0].row()).id

    def select_key(self, key_id: int | None) -> None:
        row = None if key_id is None else self._model.row_of(key_id)
        if row is None:
            self.clearSelection()
            return
        self.selectRow(row)

    def _park(self, cell: ActionCell) -> None:
        cell.hide()
        self._parked.append(cell)

    def _on_model_model_reset(self) -> None:
        width = 0
        height = 0
        # The widgets of the page before, in the order they were made: the focus chain stays in row order.
        parked = sorted(self._parked, key=self.viewport().children().index)
        self._parked = []
        palette = self.palette()
        for row, record in enumerate(self._model.records()):
            if row < len(parked):
                cell = parked[row]
                cell.show_record(record, palette)
            else:
                cell = ActionCell(record, palette, self.viewport())
                cell.toggleClicked.connect(self.toggleRequested)
                cell.deleteClicked.connect(self.deleteRequested)
            self.setIndexWidget(self._model.index(row, COL_ACTIONS), cell)
            hint = cell.sizeHint()
            width, height = max(width, hint.width()), max(height, hint.height())
        self._parked = parked[len(self._model.records()) :]  # rows a shorter page does not need, kept hidden
        if width:
            self.horizontalHeader().resizeSection(COL_ACTIONS, width + 8)
            self.verticalHeader().setDefaultSectionSize(max(height + 4, self.fontMetrics().height() + 12))

    # -- keyboard --

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key_id = self.selected_key_id()
        if key_id is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if event.key() == Qt.Key.Key_Space:
                self.toggleRequested.emit(key_id)
                event.accept()
                return
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.deleteRequested.emit(key_id)
                event.accept()
                return
        super().keyPressEvent(event)

    def focusInEvent(self, event: Any) -> None:
        super().focusInEvent(event)
        # Space and Delete act on "the selected row": give keyboard users one to start from.
        if not self.selectionModel().hasSelection() and self._model.rowCount():
            self.selectRow(0)

    # -- palette --

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        dark = theme.is_dark(self.palette())
        self._model.set_palette(self.palette())
        if dark != self._dark:
            self._dark = dark
            for row in range(self._model.rowCount()):
                cell = self.cell(row)
                if cell is not None:
                    cell.apply_palette(self.palette())
