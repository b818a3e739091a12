"""The confirmations before deactivating or deleting a key: modal, with an accept and a reject button."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from desktop.ui import theme

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord


class ConfirmDialog(QMessageBox):
    """Accepted only through `confirm_button`; Esc, close and `cancel_button` change nothing."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        object_name: str,
        title: str,
        text: str,
        detail: str,
        confirm_text: str,
        destructive: bool,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(title)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setText(text)
        self.setInformativeText(detail)
        self.confirm_button: QPushButton = self.addButton(confirm_text, QMessageBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("confirmButton")
        self.cancel_button: QPushButton = self.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        self.cancel_button.setObjectName("cancelButton")
        self.setEscapeButton(self.cancel_button)
        if destructive:
            theme.style_button(self.confirm_button, "danger", self.palette())
            # Enter must not destroy anything by accident.
            self.setDefaultButton(self.cancel_button)
        else:
            self.setDefaultButton(self.confirm_button)

    def confirmed(self) -> bool:
        return self.clickedButton() is self.confirm_button


def _key_phrase(record: KeyRecord) -> str:
    return f"<b>{html.escape(record.masked)}</b> (“{html.escape(record.description)}”)"


def confirm_deactivate(parent: QWidget | None, record: KeyRecord) -> ConfirmDialog:
    return ConfirmDialog(
        parent,
        object_name="confirmDeactivateDialog",
        title="Deactivate API Key",
        text=f"Deactivate the key {_key_phrase(record)}?",
        detail="Clients using this key will be rejected until you activate it again.",
        confirm_text="Deactivate",
        destructive=True,
    )


def confirm_delete(parent: QWidget | None, record: KeyRecord) -> ConfirmDialog:
    return ConfirmDialog(
        parent,
        object_name="confirmDeleteDialog",
        title="Delete API Key",
        text=f"Delete the key {_key_phrase(record)} for good?",
        detail="Clients using it will be rejected. This cannot be undone.",
        confirm_text=f"Delete {record.masked}",
        destructive=True,
    )
