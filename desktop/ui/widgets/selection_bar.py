"""The bar under the keys while rows are selected: "3 selected — Activate, Deactivate, Delete, Clear"."""

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

    def set_count(self, count: int) -> None:
        self.label.setText(f"{count:,} selected —")
        self.setVisible(count > 0)
