"""What the Rename, Scopes and Roll dialogs share: the error line under the input, and Confirm/Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton

from desktop.ui import theme


def error_label(parent: QDialog, *, lines: int = 0) -> QLabel:
    """Plain text (a description is never markup), wrapped; `lines` keeps room for it, so the dialog never jumps."""
    label = QLabel(parent)
    label.setObjectName("errorLabel")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if lines:
        label.setMinimumHeight(label.fontMetrics().lineSpacing() * lines)
    return label


def say_problem(label: QLabel, problem: str | None) -> None:
    """The problem in the palette's error colour, or nothing."""
    label.setText(problem or "")
    label.setStyleSheet(f"color: {theme.error_text(label.palette()).name()};" if problem else "")


def confirm_buttons(dialog: QDialog, text: str, name: str) -> tuple[QDialogButtonBox, QPushButton]:
    """`text` (the default button, `<name>ConfirmButton`) and Cancel (`<name>CancelButton`, rejects the dialog)."""
    buttons = QDialogButtonBox(dialog)
    confirm = buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
    confirm.setObjectName(f"{name}ConfirmButton")
    confirm.setDefault(True)
    cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
    cancel.setObjectName(f"{name}CancelButton")
    buttons.rejected.connect(dialog.reject)
    return buttons, confirm
