"""`usageView` (View ▸ Usage): every key's verifications over 24 hours, 7 or 30 days by outcome, and the keys used
most, each a link that opens the key; one more link lists the keys with no use in the period in the main table.

Only shows: the flow (usage_flows.py) reads the period off the GUI thread and hands it to `show_usage`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.presentation import shorten
from desktop.core.usage_report import KeyUse, UsagePeriod, UsageSeries
from desktop.core.values import KeyRecord
from desktop.ui.dialogs.key_details import chart_heading, period_of
from desktop.ui.widgets.usage_chart import PERIOD_TEXT

#: How many of the most used keys the view lists.
TOP_KEYS = 10


def link_button(text: str, name: str, parent: QWidget) -> QPushButton:
    """A flat button that reads as a link (keyboard: Tab, then Space), in the palette's link colour."""
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setFlat(True)
    button.setAutoDefault(False)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setStyleSheet("QPushButton { color: palette(link); text-align: left; padding: 0 2px; border: none; }")
    return button


class UsageView(QDialog):
    """See the module's docstring. `keyRequested(id)` opens a key; `unusedRequested(period)` filters the table."""

    periodChanged = Signal(object)  # UsagePeriod
    keyRequested = Signal(int)
    unusedRequested = Signal(object)  # UsagePeriod

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageView")
        self.setWindowTitle("Usage")
        self.setModal(False)
        top, self.period_group, self.chart = chart_heading(self, "Verifications of every key")

        self.top_heading = QLabel("Most used keys", self)
        self.top_heading.setObjectName("topKeysHeading")
        font = self.top_heading.font()
        font.setBold(True)
        self.top_heading.setFont(font)
        self.top_widget = QWidget(self)
        self.top_widget.setObjectName("topKeys")
        self.top_grid = QGridLayout(self.top_widget)
        self.top_grid.setContentsMargins(0, 0, 0, 0)
        self.top_grid.setHorizontalSpacing(12)
        self.top_grid.setColumnStretch(1, 1)
        self.key_buttons: list[QPushButton] = []
        self.unused_button = link_button("", "unusedKeysButton", self)
        self.unused_button.setToolTip("List the keys with no use in this period in the main window")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.setFocus()
        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(self.chart, 1)
        layout.addSpacing(6)
        layout.addWidget(self.top_heading)
        layout.addWidget(self.top_widget)
        layout.addWidget(self.unused_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(buttons)
        self.period_group.idToggled.connect(self._on_period_group_id_toggled)
        self.unused_button.clicked.connect(self._on_unused_button_clicked)
        self._say_unused()
        hint = self.sizeHint()
        self.resize(max(720, hint.width()), max(640, hint.height()))

    @property
    def period(self) -> UsagePeriod:
        return period_of(self.period_group)

    def show_usage(self, series: UsageSeries, top: Sequence[tuple[KeyUse, KeyRecord | None]]) -> None:
        """The period's bars and its most used keys (a key deleted since shows by its number)."""
        if series.period is not self.period:
            return  # another period was asked for meanwhile: its answer follows
        self.chart.set_series(series)
        while self.top_grid.count():
            item = self.top_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.key_buttons = []
        if not top:
            empty = QLabel(f"No key was used in the last {PERIOD_TEXT[series.period]}.", self.top_widget)
            self.top_grid.addWidget(empty, 0, 0, 1, 3)
        for row, (use, record) in enumerate(top):
            name = record.masked if record is not None else f"Key #{use.key_id} (deleted)"
            button = link_button(name, "topKeyButton", self.top_widget)
            button.setAccessibleName(f"Open {name}")
            button.setToolTip("Open the key's details")
            button.setProperty("keyId", use.key_id)
            button.clicked.connect(lambda _checked=False, key_id=use.key_id: self.keyRequested.emit(key_id))
            button.setEnabled(record is not None)
            description = QLabel(shorten(record.description, 60) if record is not None else "", self.top_widget)
            description.setTextFormat(Qt.TextFormat.PlainText)
            counts = QLabel(f"{use.total:,} verifications, {use.valid:,} valid", self.top_widget)
            counts.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.top_grid.addWidget(button, row, 0)
            self.top_grid.addWidget(description, row, 1)
            self.top_grid.addWidget(counts, row, 2)
            self.key_buttons.append(button)
        hint = self.sizeHint()
        if hint.height() > self.height() or hint.width() > self.width():  # grown with the list (a large font)
            self.resize(max(hint.width(), self.width()), max(hint.height(), self.height()))

    def show_error(self, message: str) -> None:
        self.chart.set_loading(message)

    def _say_unused(self) -> None:
        self.unused_button.setText(f"Show the keys not used in the last {PERIOD_TEXT[self.period]}")

    def _on_period_group_id_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._say_unused()
            self.chart.set_loading(f"Reading the last {PERIOD_TEXT[self.period]}…")
            self.periodChanged.emit(self.period)

    def _on_unused_button_clicked(self) -> None:
        self.unusedRequested.emit(self.period)
