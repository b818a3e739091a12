"""Rename a key: its description, checked as typed with the same rule and counter as at generation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from desktop.core.validation import validate_description
from desktop.ui.dialogs.checked_dialog import CheckedDialog
from desktop.ui.dialogs.description_field import description_counter, description_edit, update_counter
from desktop.ui.dialogs.dialog_parts import confirm_buttons, error_label, form, intro_label, stack

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

        intro = intro_label(self, f"New description for {record.masked}:", wrap=False)
        self.description_edit = self.field = description_edit(self, record.description)
        self.counter = description_counter(self)
        self.error_label = error_label(self, lines=2)

        self.buttons, self.confirm_button = confirm_buttons(self, "Rename", "rename")

        rows = form(self, [("&Description:", self.description_edit), ("", self.counter)])
        stack(self, intro, rows, self.error_label, self.buttons, min_width=456, chars=64)
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
