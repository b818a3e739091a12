"""The banner over the table while active keys expire within 7 days: how many, and a way to list them."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.ui import theme

#: An amber tint that reads as a warning on a light or a dark palette, the palette's own text on it.
_TINT = {False: ("#fef7e0", "#e0b000"), True: ("#3d3014", "#8a6d00")}


class ExpiryBanner(QFrame):
    """`expiryBanner`: hidden while no active key expires soon."""

    showRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expiryBanner")
        self._dark: bool | None = None
        self._tint()
        self.icon_label = QLabel(self)
        self.icon_label.setPixmap(theme.icon("warning").pixmap(16, 16))
        self.text_label = QLabel(self)
        self.text_label.setObjectName("expiryBannerText")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setWordWrap(True)
        self.show_button = QPushButton("Show them", self)
        self.show_button.setObjectName("expiryShowButton")
        self.show_button.setAutoDefault(False)
        self.show_button.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.text_label, 1)
        layout.addWidget(self.show_button)
        self.show_button.clicked.connect(self.showRequested)
        self.count = 0
        self.hide()

    def _tint(self) -> None:
        dark = theme.is_dark(self.palette())
        if dark != self._dark:
            self._dark = dark
            background, border = _TINT[dark]
            self.setStyleSheet(
                f"QFrame#expiryBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._tint()

    def set_count(self, count: int) -> None:
        self.count = count
        if count <= 0:
            self.hide()
            return
        if count == 1:
            text = "1 active key expires within 7 days; clients using it will be rejected after that."
        else:
            text = f"{count:,} active keys expire within 7 days; clients using them will be rejected after that."
        self.text_label.setText(text)
        self.show_button.setAccessibleName(f"Show the {count:,} keys that expire soon")
        self.show()
