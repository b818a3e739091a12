"""The search box and the status filter above the table; says "changed" once typing pauses."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.core import keys
from desktop.core.query import Filter

#: Typing pauses this long before the list is searched.
DEBOUNCE_MS = 250
#: The status filter's items (the contract's words) and the filters they stand for.
STATUS_ITEMS: tuple[tuple[str, Filter | None], ...] = (
    ("All keys", None),
    ("Active", Filter.ACTIVE),
    ("Inactive", Filter.INACTIVE),
    ("Expired", Filter.EXPIRED),
    ("Expiring soon", Filter.EXPIRING),
    ("Never used", Filter.UNUSED),
)
#: Filters only the key-health summary sets: the combo shows them as its placeholder, with no item of their own.
OTHER_FILTERS = {
    Filter.NEVER_EXPIRES: "Never expire",
    Filter.STALE: "Not used for 90 days",
    Filter.NOT_USED_24H: "Not used in 24 hours",
    Filter.NOT_USED_7D: "Not used in 7 days",
    Filter.NOT_USED_30D: "Not used in 30 days",
}


class SearchBar(QWidget):
    """`searchEdit` and `statusFilter`, and an inline line for a search that cannot run."""

    #: The search text or the filter changed (typing: after a pause).
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchBar")
        # A whole key pasted into the box: searched for by its digest, shown as its masked form only.
        self._full_key: str | None = None
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setPlaceholderText("Search descriptions or keys (Ctrl+F)")
        self.search_edit.setAccessibleName("Search keys")
        self.search_edit.setToolTip(
            "Part of a description, a masked key (ak_7Gq2…x9Lp) or its start, or a whole key (never shown)"
        )
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.installEventFilter(self)
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName("Show keys")
        for text, value in STATUS_ITEMS:
            self.status_filter.addItem(text, value.value if value is not None else "")
        self.status_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("searchError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        row = QWidget(self)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.search_edit, 1)
        row_layout.addWidget(self.status_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(row)
        layout.addWidget(self.error_label)
        self.search_edit.textEdited.connect(self._on_search_edit_text_edited)
        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        self.status_filter.activated.connect(self._on_status_filter_activated)

    # -- what it says --

    def search_text(self) -> str:
        """The text to search for: a pasted whole key while its masked form is what the box shows."""
        text = self.search_edit.text()
        if self._full_key is not None and text == keys.mask(self._full_key):
            return self._full_key
        return text

    def shown_text(self) -> str:
        """The text the box shows (never a whole key): what may be remembered."""
        return self.search_edit.text()

    def status(self) -> Filter | None:
        if self.status_filter.currentIndex() < 0:
            text = self.status_filter.placeholderText()
            return next((f for f, name in OTHER_FILTERS.items() if name == text), None)
        data = self.status_filter.currentData()
        return Filter(data) if data else None

    def set_state(self, search: str, status: Filter | None) -> None:
        """Show a query's search text and filter, without saying "changed"."""
        if search != self.search_text():
            self._full_key = None
            self.search_edit.blockSignals(True)
            self.search_edit.setText(keys.mask(search) if keys.is_well_formed(search) else search)
            self.search_edit.blockSignals(False)
        self.set_status(status, notify=False)

    def set_status(self, status: Filter | None, *, notify: bool = True) -> None:
        index = self.status_filter.findData(status.value if status is not None else "")
        if index < 0 and status is not None:
            self.status_filter.setPlaceholderText(OTHER_FILTERS.get(status, status.value))
        self.status_filter.setCurrentIndex(index)
        if notify:
            self._timer.stop()
            self.changed.emit()

    def clear(self) -> None:
        """Every key again: no search text, `All keys`."""
        self._full_key = None
        self.search_edit.clear()
        self.set_status(None)

    def show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    # -- events --

    def _on_search_edit_text_edited(self, text: str) -> None:
        candidate = text.strip()
        if keys.is_well_formed(candidate):
            # The key stays in memory only for the search; the box (and its undo history) shows the mask.
            self._full_key = candidate
            self.search_edit.setText(keys.mask(candidate))

    def _on_search_edit_text_changed(self, _text: str) -> None:
        self._timer.start()

    def _on_status_filter_activated(self, _index: int) -> None:
        self._timer.stop()
        self.changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.search_edit.text()
        ):
            self._full_key = None
            self.search_edit.clear()
            return True
        return super().eventFilter(watched, event)
