"""Edit a key's scopes: a space-separated list, each word completed from the scopes other keys already use."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QLineEdit,
    QWidget,
)

from desktop.core.lifecycle import validate_scopes
from desktop.ui.dialogs.checked_dialog import CheckedDialog
from desktop.ui.dialogs.dialog_parts import confirm_buttons, error_label, intro_label, stack

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord

_SEPARATORS = re.compile(r"[\s,]+")


def parse_scopes(text: str) -> tuple[str, ...]:
    """Words separated by spaces or commas, checked by the core's rule; InvalidScope naming the first bad one."""
    return validate_scopes(word for word in _SEPARATORS.split(text) if word)


class WordCompleter(QCompleter):
    """Completes the word under the cursor (the last one), keeping the words before it."""

    def splitPath(self, path: str) -> list[str]:
        return [_SEPARATORS.split(path)[-1]]

    def pathFromIndex(self, index: object) -> str:
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = text[: len(text) - len(_SEPARATORS.split(text)[-1])]
        return head + str(super().pathFromIndex(index))  # type: ignore[arg-type]


class ScopesDialog(CheckedDialog):
    """Asks; does not store. The owner reads `scopes()` on `scopesRequested`, and may `set_known()` for completion."""

    scopesRequested = Signal()

    def __init__(self, record: KeyRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scopesDialog")
        self.setWindowTitle("API Key Scopes")
        self.setModal(True)
        self.record = record

        intro = intro_label(
            self,
            f"Scopes of {record.masked}, separated by spaces (e.g. billing:read orders:write). "
            "A service can require them on verify. Leave empty for none.",
        )
        self.scopes_edit = self.field = QLineEdit(" ".join(record.scopes), self)
        self.scopes_edit.setObjectName("scopesEdit")
        self.scopes_edit.setAccessibleName("Scopes")
        self.scopes_edit.setClearButtonEnabled(True)
        self.known = QStringListModel(self)
        self.completer = WordCompleter(self.known, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.scopes_edit.setCompleter(self.completer)
        self.error_label = error_label(self, lines=2)

        self.buttons, self.confirm_button = confirm_buttons(self, "Save Scopes", "scopes")

        stack(self, intro, self.scopes_edit, self.error_label, self.buttons, min_width=456, chars=64)
        self._watch()

    def scopes(self) -> tuple[str, ...]:
        return parse_scopes(self.scopes_edit.text())

    def set_known(self, scopes: list[str]) -> None:
        self.known.setStringList(scopes)

    def _value(self) -> tuple[str, ...]:
        return self.scopes()

    def _request(self) -> None:
        self.scopesRequested.emit()
