"""Rename a key: its description, checked as typed with the same rule and counter as at generation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLayout, QVBoxLayout, QWidget

from desktop.core.errors import InvalidInput
from desktop.core.validation import validate_description
from desktop.ui.dialogs.description_field import description_counter, description_edit, update_counter
from desktop.ui.dialogs.dialog_parts import confirm_buttons, error_label, say_problem

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord


class RenameDialog(QDialog):
    """Asks; does not store. The owner reads `description()` on `renameRequested` and closes it when done."""

    renameRequested = Signal()

    def __init__(self, record: KeyRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("renameDialog")
        self.setWindowTitle("Rename API Key")
        self.setModal(True)
        self.record = record
        self._busy = False

        intro = QLabel(f"New description for {record.masked}:", self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.description_edit = description_edit(self, record.description)
        self.counter = description_counter(self)
        self.error_label = error_label(self, lines=2)

        self.buttons, self.confirm_button = confirm_buttons(self, "Rename", "rename")
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)

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
        self.description_edit.textChanged.connect(self._on_description_edit_text_changed)
        self.description_edit.selectAll()
        self._refresh()

    def description(self) -> str:
        """As it will be stored (trimmed); raises InvalidDescription when not valid."""
        return validate_description(self.description_edit.text())

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.description_edit.setEnabled(not busy)
        self.confirm_button.setText("Renaming…" if busy else "Rename")
        self._refresh()

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        say_problem(self.error_label, message)

    def _problem(self) -> str | None:
        try:
            self.description()
        except InvalidInput as err:
            return err.message
        return None

    def _refresh(self) -> None:
        update_counter(self.counter, self.description_edit.text(), self.palette())
        problem = self._problem()
        self.confirm_button.setEnabled(problem is None and not self._busy)
        say_problem(self.error_label, problem)

    def _on_description_edit_text_changed(self, _text: str) -> None:
        self._refresh()

    def _on_confirm_button_clicked(self) -> None:
        if self._problem() is not None or self._busy:
            self._refresh()
            return
        self.set_busy(True)
        self.renameRequested.emit()
