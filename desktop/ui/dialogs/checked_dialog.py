"""A dialog that asks for one value, checks it as it is typed, and hands it to its owner to store.

Rename and Scopes share this: the confirm button is enabled only while the value is valid, the problem is said
under the field, and once confirmed the dialog is busy (field and button disabled) until its owner closes it or
calls `show_error`. A subclass says how to read its value and which signal asks to store it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog

from desktop.core.errors import InvalidInput
from desktop.ui.dialogs.dialog_parts import say_problem

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton


class CheckedDialog(QDialog):
    """Set `field`, `confirm_button` and `error_label`, then call `_watch()` at the end of `__init__`."""

    field: QLineEdit
    confirm_button: QPushButton
    error_label: QLabel
    #: The confirm button's text while busy (None: unchanged).
    busy_text: str | None = None

    def _watch(self) -> None:
        self._busy = False
        self._idle_text = self.confirm_button.text()
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)
        self.field.textChanged.connect(self._on_field_text_changed)
        self._refresh()

    def _value(self) -> object:
        """The value as it will be stored; raises InvalidInput when it is not valid."""
        raise NotImplementedError

    def _request(self) -> None:
        """Ask the owner to store the value (emit the dialog's signal)."""
        raise NotImplementedError

    def _refreshed(self) -> None:
        """More to update as the text changes (a counter, say)."""

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.field.setEnabled(not busy)
        if self.busy_text is not None:
            self.confirm_button.setText(self.busy_text if busy else self._idle_text)
        self._refresh()

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        say_problem(self.error_label, message)

    def _problem(self) -> str | None:
        try:
            self._value()
        except InvalidInput as err:
            return err.message
        return None

    def _refresh(self) -> None:
        self._refreshed()
        problem = self._problem()
        self.confirm_button.setEnabled(problem is None and not self._busy)
        say_problem(self.error_label, problem)

    def _on_field_text_changed(self, _text: str) -> None:
        self._refresh()

    def _on_confirm_button_clicked(self) -> None:
        if self._problem() is not None or self._busy:
            self._refresh()
            return
        self.set_busy(True)
        self._request()
