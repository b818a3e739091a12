"""Rename a key: its description, checked as typed with the same rule and counter as at generation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLayout, QVBoxLayout, QWidget

from desktop.core.validation import validate_description
from desktop.ui.dialogs.checked_dialog import CheckedDialog
from desktop.ui.dialogs.description_field import description_counter, description_edit, update_counter
from desktop.ui.dialogs.dialog_parts import confirm_buttons, error_label

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord


class RenameDialog(CheckedDialog):
    """Asks; does not store. The owner reads `description()` on `renameRequested` and closes it when done."""

    renameRequested = Signal()
    busy_text = "Renaming…"

    def __init__(self, record: KeyRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("renameDialog")
        self.setWindowTitle("Rename API Key")
        self.setModal(True)
        self.record = record

        intro = QLabel(f"New description for {record.masked}:", self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.description_edit = self.field = description_edit(self, record.description)
        self.counter = description_counter(self)
        self.error_label = error_label(self, lines=2)

        self.buttons, self.confirm_button = confirm_buttons(self, "Rename", "rename")

        form_widget = QWidget(self)
        form = QFormLayout(form_widget)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Description:", self.description_edit)
        form.addRow("", self.counter)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(form_widget)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        # Wide enough for the text at any font size; the size follows the wrapped text, so none is clipped.
        intro.setMinimumWidth(max(456, intro.fontMetrics().averageCharWidth() * 64))
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        self.description_edit.selectAll()
        self._watch()

    def description(self) -> str:
        """As it will be stored (trimmed); raises InvalidDescription when not valid."""
        return validate_description(self.description_edit.text())

    def _value(self) -> str:
        return self.description()

    def _request(self) -> None:
        self.renameRequested.emit()

    def _refreshed(self) -> None:
        update_counter(self.counter, self.description_edit.text(), self.palette())
