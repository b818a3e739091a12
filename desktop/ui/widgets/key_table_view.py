"""The keys table: real Activate/Deactivate and Delete buttons in each row, and keyboard actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QWidget,
)

from desktop.ui import theme
from desktop.ui.control.key_table_model import (
    COL_ACTIONS,
    COL_CREATED,
    COL_DESCRIPTION,
    COL_EXPIRES,
    COL_LAST_USED,
    KeyTableModel,
)
from desktop.ui.widgets.action_cell import ActionCell
from desktop.ui.widgets.column_fit import ColumnFit
from desktop.ui.widgets.scope_chips import ScopeChipsDelegate
from desktop.ui.widgets.text_cells import TextCellDelegate

if TYPE_CHECKING:
    pass


class _KeepCellsDelegate(TextCellDelegate):
    """A model reset hands the row widgets here to destroy; the view keeps them for the next page instead.

    Building 25 rows of styled buttons anew on every page turn cost most of a frame.
    """

    _view: KeyTableView

    def __init__(self, view: KeyTableView, model: KeyTableModel) -> None:
        super().__init__(view, model)
        self._view = view
        # (column, cell width, cell height) → a row widget's rectangle, relative to its cell.
        self._places: dict[tuple[int, int, int], QRect] = {}

    def forget(self) -> None:
        super().forget()
        self._places.clear()

    def destroyEditor(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, ActionCell):
            self._view.park(editor)
        else:
            super().destroyEditor(editor, index)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Where Qt's delegate puts a row widget, worked out once per cell size: Qt's own asks the model every
        role of the cell (seven calls into Python) for each of the 25 widgets on every layout of the view (a
        reset, rows inserted or removed, a resize), to find the same rectangle each time."""
        if not isinstance(editor, ActionCell):
            super().updateEditorGeometry(editor, option, index)
            return
        cell = option.rect
        key = (index.column(), cell.width(), cell.height())
        place = self._places.get(key)
        if place is None:
            super().updateEditorGeometry(editor, option, index)
            place = self._places[key] = editor.geometry().translated(-cell.x(), -cell.y())
        editor.setGeometry(place.translated(cell.x(), cell.y()))


#: The headers a click sorts by (the window maps each to its order).
SORTABLE_COLUMNS = frozenset((COL_DESCRIPTION, COL_CREATED, COL_EXPIRES, COL_LAST_USED))


class KeyTableView(QTableView):
    """Shows a KeyTableModel; asks its owner to toggle or delete a key by ID."""

    toggleRequested = Signal(int)
    deleteRequested = Signal(int)
    #: Enter or a double-click on a row: open that key's details (rename is F2).
    detailsRequested = Signal(int)
    #: Delete with several rows selected: all of them (one confirmation), not just the first.
    deleteSelectedRequested = Signal()
    #: A sortable header was clicked (its column).
    sortRequested = Signal(int)
    #: The empty state's button was clicked ("Clear search and filter").
    emptyActionClicked = Signal()

    def __init__(self, model: KeyTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keysTable")
        self.setAccessibleName("API keys")
        self.setModel(model)
        self._model = model
        self._dark: bool | None = None
        self._parked: list[ActionCell] = []  # hidden row widgets, in row order, for the next page
        self._cells_delegate = _KeepCellsDelegate(self, model)
        self._chips_delegate = ScopeChipsDelegate(self, model)
        self.setItemDelegate(self._cells_delegate)
        self.setItemDelegateForColumn(COL_DESCRIPTION, self._chips_delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows for the bulk actions; a page reload keeps them selected by key id (_kept_ids).
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._kept_ids: list[int] = []
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
        # Every width comes from the font, never from the page's contents: a page with an Inactive or
        # Expired row must not make columns jump. Description takes the rest, down to a minimum; below
        # that the table scrolls sideways instead of squeezing it to "Descr".
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.columns = ColumnFit(self, model)
        # The empty state sits inside the table, where the keys would be.
        self.empty_label = QLabel(self.viewport())
        self.empty_label.setObjectName("emptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty_label.hide()
        self.empty_button = QPushButton(self.viewport())
        self.empty_button.setObjectName("emptyActionButton")
        self.empty_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.empty_button.setAutoDefault(False)
        self.empty_button.hide()
        self.empty_button.clicked.connect(self.emptyActionClicked)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        self._sort_indicator: tuple[int, Qt.SortOrder] = (COL_CREATED, Qt.SortOrder.DescendingOrder)
        header.setSortIndicator(*self._sort_indicator)
        header.sectionClicked.connect(self._on_header_section_clicked)
        self._apply_palette()
        model.modelAboutToBeReset.connect(self._on_model_model_about_to_be_reset)
        model.modelReset.connect(self._on_model_model_reset)
        model.pageAboutToBeReplaced.connect(self._on_model_model_about_to_be_reset)
        model.pageReplaced.connect(self._on_model_page_replaced)
        model.dataChanged.connect(self._on_model_data_changed)
        self.doubleClicked.connect(self._on_self_double_clicked)
        self._on_model_model_reset()
        self.columns.measure()

    # -- empty state --

    def set_empty_text(self, text: str, action: str | None = None) -> None:
        """What the table says, inside itself, when it has no rows; `action` labels a button under it."""
        self.empty_label.setText(text)
        self.empty_button.setText(action or "")
        self._update_empty_label()

    def _update_empty_label(self) -> None:
        empty = self._model.rowCount() == 0 and bool(self.empty_label.text())
        button = empty and bool(self.empty_button.text())
        if empty:
            area = self.viewport().rect().adjusted(12, 12, -12, -12)
            if button:
                # The text and the button as one block in the middle of the table.
                hint = self.empty_button.sizeHint()
                text_height = min(self.empty_label.heightForWidth(area.width()), area.height() - hint.height() - 8)
                top = area.top() + max(0, (area.height() - text_height - hint.height() - 8) // 2)
                self.empty_label.setGeometry(area.left(), top, area.width(), max(text_height, 0))
                self.empty_button.setGeometry(
                    area.left() + (area.width() - hint.width()) // 2, top + text_height + 8, hint.width(), hint.height()
                )
            else:
                self.empty_label.setGeometry(area)
        self.empty_label.setVisible(empty)
        self.empty_button.setVisible(button)

    # -- sorting --

    def set_sort_indicator(self, column: int, order: Qt.SortOrder) -> None:
        """Show the order the list is in on its header (the window sets it from the query)."""
        self._sort_indicator = (column, order)
        self.horizontalHeader().setSortIndicator(column, order)

    def _on_header_section_clicked(self, column: int) -> None:
        # The header flips its indicator on any click by itself: the query decides, so put it back.
        self.horizontalHeader().setSortIndicator(*self._sort_indicator)
        if column in SORTABLE_COLUMNS:
            self.sortRequested.emit(column)

    # -- columns --

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Called for the viewport's size too (a vertical scroll bar appearing narrows it).
        super().resizeEvent(event)
        self.columns.fit()
        self._update_empty_label()

    # -- rows --

    def cell(self, row: int) -> ActionCell | None:
        widget = self.indexWidget(self._model.index(row, COL_ACTIONS))
        return widget if isinstance(widget, ActionCell) else None

    def selected_key_id(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self._model.record(rows[0].row()).id

    def selected_key_ids(self) -> list[int]:
        """The selected keys' ids, in row order."""
        return [self._model.record(index.row()).id for index in sorted(self.selectionModel().selectedRows())]

    def select_key(self, key_id: int | None) -> None:
        """Select that key alone; one already among several selected keeps them all (a reload's choice)."""
        row = None if key_id is None else self._model.row_of(key_id)
        if row is None:
            self.clearSelection()
            return
        if key_id in self.selected_key_ids():
            return
        index = self._model.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.selectionModel().setCurrentIndex(index, flags)

    def _on_self_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.detailsRequested.emit(self._model.record(index.row()).id)

    def park(self, cell: ActionCell) -> None:
        """Keep a row widget the model reset let go of, hidden, for the next page."""
        cell.hide()
        self._parked.append(cell)

    def _on_model_data_changed(self, first: QModelIndex, last: QModelIndex, roles: list[int] | None = None) -> None:
        self.columns.data_changed(first.column(), last.column(), roles)

    def _on_model_model_about_to_be_reset(self) -> None:
        self.columns.replacing = True
        self._kept_ids = self.selected_key_ids()
        # A description's tool tip would stay over whatever row moved under it.
        if QToolTip.isVisible():
            QToolTip.hideText()
        focused = QApplication.focusWidget()
        if focused is not None and self.viewport().isAncestorOf(focused):
            # The reset hides every row's buttons, and a hidden focus widget passes the focus down the
            # tab chain (onto another row's Delete button, or out of the table): keep it on the table.
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_model_model_reset(self) -> None:
        self.columns.replacing = False
        width, height = self._place_cells(0)
        if width:
            self.horizontalHeader().resizeSection(COL_ACTIONS, width + 8)
            self.verticalHeader().setDefaultSectionSize(max(height + 4, self.fontMetrics().height() + 12))
        self.columns.measure_page()
        self._update_empty_label()
        self._restore_selection()

    def _on_model_page_replaced(self) -> None:
        self.columns.replacing = False
        # The same rows' widgets, shown where they are, now act on the new page's keys; rows a longer page
        # added at the end take parked ones (a shorter page's removed rows were parked).
        palette = self.palette()
        rows = self._model.rowCount()
        for row, record in enumerate(self._model.records()):
            cell = self.indexWidget(self._model.index(row, COL_ACTIONS))
            if not isinstance(cell, ActionCell):
                rows = row
                break
            cell.show_record(record, palette)
        self._place_cells(rows)
        self.columns.measure_page()
        # As after a reset: no current row, and only the kept keys still on this page selected.
        self.selectionModel().reset()
        self._restore_selection()  # dataChanged over every cell repaints the whole viewport, selection included

    def _place_cells(self, first: int) -> tuple[int, int]:
        """Row widgets for the rows from `first` on: parked ones, then new ones. Their widest and tallest size."""
        width = height = 0
        records = self._model.records()[first:]
        if not records:  # every row has its widget (a turn onto a page as long): nothing to sort or place
            return width, height
        # The parked widgets in the order they were made: the focus chain stays in row order.
        parked = sorted(self._parked, key=self.viewport().children().index)
        palette = self.palette()
        for offset, record in enumerate(records):
            if offset < len(parked):
                cell = parked[offset]
                cell.show_record(record, palette)
            else:
                cell = ActionCell(record, palette, self.viewport())
                cell.toggleClicked.connect(self.toggleRequested)
                cell.deleteClicked.connect(self.deleteRequested)
            self.setIndexWidget(self._model.index(first + offset, COL_ACTIONS), cell)
            hint = cell.sizeHint()
            width, height = max(width, hint.width()), max(height, hint.height())
        self._parked = parked[len(records) :]  # rows a shorter page does not need, kept hidden
        return width, height

    def _restore_selection(self) -> None:
        """The rows selected before the reload, found again by key id (a live refresh may have moved them)."""
        kept, self._kept_ids = self._kept_ids, []
        selection = QItemSelection()
        for key_id in kept:
            row = self._model.row_of(key_id)
            if row is not None:
                selection.select(self._model.index(row, 0), self._model.index(row, self._model.columnCount() - 1))
        if not selection.isEmpty():
            self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    # -- keyboard --

    def event(self, event: QEvent) -> bool:
        # Page Up/Down are also the window's page-turn shortcuts; in the table they scroll the table,
        # as in any list (Alt+Left/Right still turn pages from here).
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        modifiers = event.modifiers()
        if event.key() == Qt.Key.Key_Menu or (
            event.key() == Qt.Key.Key_F10 and modifiers == Qt.KeyboardModifier.ShiftModifier
        ):
            # The context menu for the row the keyboard is on, opened beside it (not wherever the mouse is).
            self.customContextMenuRequested.emit(self._keyboard_menu_point())
            event.accept()
            return
        key_id = self.selected_key_id()
        if key_id is not None and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if event.key() == Qt.Key.Key_Space:
                self.toggleRequested.emit(key_id)
                event.accept()
                return
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.detailsRequested.emit(key_id)
                event.accept()
                return
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                if len(self.selectionModel().selectedRows()) > 1:
                    self.deleteSelectedRequested.emit()
                else:
                    self.deleteRequested.emit(key_id)
                event.accept()
                return
        super().keyPressEvent(event)

    def _keyboard_menu_point(self) -> QPoint:
        """In the viewport: the current row's description (else the first selected row's), or the top left."""
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isRowSelected(index.row()):
            rows = sorted(self.selectionModel().selectedRows())
            index = rows[0] if rows else index
        if not index.isValid():
            return QPoint(0, 0)
        self.scrollTo(index)
        rect = self.visualRect(index.siblingAtColumn(COL_DESCRIPTION))
        return QPoint(rect.left() + min(rect.width() // 2, 40), rect.center().y())

    def focusInEvent(self, event: Any) -> None:
        super().focusInEvent(event)
        # Space and Delete act on "the selected row": give keyboard users one to start from.
        if not self.selectionModel().hasSelection() and self._model.rowCount():
            self.selectRow(0)

    # -- palette --

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        kind = event.type()
        if kind in (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._cells_delegate.forget()
            self._chips_delegate.forget()
        if kind == QEvent.Type.PaletteChange:
            self._apply_palette()
        elif kind in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.columns.measure()

    def _apply_palette(self) -> None:
        dark = theme.is_dark(self.palette())
        self._model.set_palette(self.palette())
        if dark != self._dark:
            self._dark = dark
            for row in range(self._model.rowCount()):
                cell = self.cell(row)
                if cell is not None:
                    cell.apply_palette(self.palette())
