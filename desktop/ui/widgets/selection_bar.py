"""The bar under the keys while two or more rows are selected: "3 selected — Activate, Deactivate, Delete, Clear".

It offers only what applies: no Activate when every selected key is active, no Deactivate when none is.
One selected row needs no bar: the row's own buttons, the context menu and the keys act on it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.ui import theme


class SelectionBar(QFrame):
    """Buttons that trigger the window's bulk actions (so they say and do exactly what the menus do)."""

    clearClicked = Signal()

    def __init__(self, activate: QAction, deactivate: QAction, delete: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("selectionBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Selected keys")
        self.label = QLabel(self)
        self.label.setObjectName("selectionLabel")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        self.buttons: dict[str, QPushButton] = {}
        for name, text, action in (
            ("selectionActivateButton", "Activate", activate),
            ("selectionDeactivateButton", "Deactivate", deactivate),
            ("selectionDeleteButton", "Delete", delete),
        ):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.setAutoDefault(False)
            button.clicked.connect(action.trigger)
            layout.addWidget(button)
            self.buttons[name] = button
        theme.style_button(self.buttons["selectionDeleteButton"], "danger", self.palette())
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setObjectName("selectionClearButton")
        self.clear_button.setAutoDefault(False)
        self.clear_button.setToolTip("Clear the selection (Esc)")
        self.clear_button.clicked.connect(self.clearClicked)
        layout.addWidget(self.clear_button)
        self.hide()

    #: The bar shows from this many selected rows on.
    MIN_COUNT = 2

    def set_selection(self, count: int, *, any_active: bool, any_inactive: bool) -> None:
        """`count` rows selected; whether any of them is active, and whether any is inactive."""
        self.label.setText(f"{count:,} selected —")
        self.buttons["selectionActivateButton"].setVisible(any_inactive)
        self.buttons["selectionDeactivateButton"].setVisible(any_active)
        self.setVisible(count >= self.MIN_COUNT)
