"""Previous / Next, where the page is, and how many keys a page holds."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget


class PaginationBar(QWidget):
    previousClicked = Signal()
    nextClicked = Signal()
    pageSizeChanged = Signal(int)

    def __init__(self, sizes: Sequence[int], size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paginationBar")
        self._sizes = tuple(sizes)
        self.size_label = QLabel("Keys per page:", self)
        self.size_combo = QComboBox(self)
        self.size_combo.setObjectName("pageSizeCombo")
        self.size_combo.setAccessibleName("Keys per page")
        for value in self._sizes:
            self.size_combo.addItem(str(value), value)
        self.size_label.setBuddy(self.size_combo)
        self.page_label = QLabel(self)
        self.page_label.setObjectName("pageLabel")
        self.page_label.setAccessibleName("Position in the list")
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        #: The label's fixed width: it only grows (see _fit_label).
        self._label_width = 0
        self.prev_button = QPushButton("Previous", self)
        self.prev_button.setObjectName("prevPageButton")
        self.prev_button.setAccessibleName("Previous page")
        self.prev_button.setToolTip("Newer keys (Alt+Left; Page Up outside the table)")
        self.next_button = QPushButton("Next", self)
        self.next_button.setObjectName("nextPageButton")
        self.next_button.setAccessibleName("Next page")
        self.next_button.setToolTip("Older keys (Alt+Right; Page Down outside the table)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.size_label)
        layout.addWidget(self.size_combo)
        layout.addStretch(1)
        layout.addWidget(self.page_label)
        layout.addSpacing(12)
        layout.addWidget(self.prev_button)
        layout.addWidget(self.next_button)
        self.set_page_size(size)
        self._fix_button_sizes()
        self.set_state("", can_go_back=False, can_go_forward=False)
        self.prev_button.clicked.connect(self.previousClicked)
        self.next_button.clicked.connect(self.nextClicked)
        self.size_combo.activated.connect(self._on_size_combo_activated)

    def set_state(self, label: str, *, can_go_back: bool, can_go_forward: bool) -> None:
        self._fit_label(label)
        self.page_label.setText(label)
        # A focused button that turns off hands the focus to the next widget in the tab chain, which
        # was a row's Delete button: move it somewhere harmless first, inside the pager.
        # (A disabled widget cannot take the focus: turn buttons on before moving it, off after.)
        if can_go_back:
            self.prev_button.setEnabled(True)
        if can_go_forward:
            self.next_button.setEnabled(True)
        for button, enabled, other, other_enabled in (
            (self.prev_button, can_go_back, self.next_button, can_go_forward),
            (self.next_button, can_go_forward, self.prev_button, can_go_back),
        ):
            if button.hasFocus() and not enabled:
                target = other if other_enabled else self.size_combo
                target.setFocus(Qt.FocusReason.OtherFocusReason)
        self.prev_button.setEnabled(can_go_back)
        self.next_button.setEnabled(can_go_forward)

    def _fit_label(self, text: str) -> None:
        """Give the label a fixed width that only grows: a label of fixed size changes its text without asking
        the window to lay itself out again. With a width that followed the text (`1–25` and `26–50` differ), every
        page turn re-laid the whole window out, and repainted the pager's strip of it, for a few pixels."""
        width = self.page_label.fontMetrics().horizontalAdvance(text) + 2 * self.page_label.margin() + 4
        if width > self._label_width:
            self._label_width = width
            self.page_label.setFixedSize(width, self.page_label.sizeHint().height())

    def _fix_button_sizes(self) -> None:
        """Previous and Next at a fixed size: a button turned on or off (at either end of the list, so on every
        turn to or from the first or last page) then asks for no layout either."""
        for button in (self.prev_button, self.next_button):
            button.setMinimumSize(0, 0)
            button.setMaximumSize(16777215, 16777215)
            button.setFixedSize(button.sizeHint())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._label_width = 0  # measured again in the new font
            self._fit_label(self.page_label.text())
            self._fix_button_sizes()

    def set_page_size(self, size: int) -> None:
        index = self.size_combo.findData(size)
        if index >= 0:
            self.size_combo.setCurrentIndex(index)

    def page_size(self) -> int:
        return int(self.size_combo.currentData())

    def _on_size_combo_activated(self, _index: int) -> None:
        self.pageSizeChanged.emit(self.page_size())
