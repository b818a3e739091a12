"""The description input shared by the Generate and Rename dialogs: the same field, counter and limit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from desktop.core.validation import DESCRIPTION_MAX
from desktop.ui import theme


def description_edit(parent: QWidget, text: str = "") -> QLineEdit:
    edit = QLineEdit(text, parent)
    edit.setObjectName("descriptionEdit")
    edit.setAccessibleName("Description")
    edit.setPlaceholderText("e.g. Billing service, production")
    # No maxLength: text past the limit must be refused with a reason, not cut off silently.
    edit.setClearButtonEnabled(True)
    return edit


def description_counter(parent: QWidget) -> QLabel:
    counter = QLabel(parent)
    counter.setObjectName("descriptionCounter")
    counter.setAlignment(Qt.AlignmentFlag.AlignRight)
    counter.setAccessibleName("Characters used")
    return counter


def update_counter(counter: QLabel, text: str, palette: QPalette) -> bool:
    """Show how much of the limit `text` uses (as stored: trimmed); True when it is over the limit."""
    length = len(text.strip())
    counter.setText(f"{length} / {DESCRIPTION_MAX}")
    too_long = length > DESCRIPTION_MAX
    counter.setStyleSheet(f"color: {theme.error_text(palette).name()};" if too_long else "")
    counter.setAccessibleDescription("Too long" if too_long else "")
    return too_long
