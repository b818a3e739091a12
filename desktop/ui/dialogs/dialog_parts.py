"""What the Rename, Scopes, Roll and Limits dialogs share: the intro, the form, the error line under the input,
Confirm/Cancel, and the layout that stacks them at a size that fits the text."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

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


def intro_label(parent: QDialog, text: str, *, rich: bool = False, wrap: bool = True) -> QLabel:
    """The sentence at the top of a dialog: plain text unless `rich` (the caller escapes what it puts in)."""
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def form(parent: QDialog, rows: Iterable[tuple[str, QWidget]]) -> QWidget:
    """Labelled rows, flush with the dialog's other parts."""
    widget = QWidget(parent)
    layout = QFormLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    for label, field in rows:
        layout.addRow(label, field)
    return widget


def stack(dialog: QDialog, intro: QLabel, *parts: QWidget, min_width: int, chars: int) -> QVBoxLayout:
    """The intro and then `parts`, top to bottom. Wide enough for the intro at any font size (`chars` average
    characters, at least `min_width` pixels); the dialog's size follows the wrapped text, so none is clipped."""
    layout = QVBoxLayout(dialog)
    layout.addWidget(intro)
    for part in parts:
        layout.addWidget(part)
    intro.setMinimumWidth(max(min_width, intro.fontMetrics().averageCharWidth() * chars))
    layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
    return layout
