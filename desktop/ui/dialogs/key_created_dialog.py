"""Shows a new key exactly once, with a Copy button; closing without copying asks once more."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui import theme

if TYPE_CHECKING:
    from desktop.core.values import KeyRecord
    from desktop.ui.platform.clipboard import SecretClipboard

WARNING = (
    "Copy this key now and store it somewhere safe. It will not be shown again: "
    "only its masked form is kept, so a lost key cannot be recovered, only replaced."
)


class KeyCreatedDialog(QDialog):
    """Holds the key only while open; on close the field is emptied and every reference dropped."""

    def __init__(self, key: str, record: KeyRecord, clipboard: SecretClipboard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyCreatedDialog")
        self.setWindowTitle("API Key Created")
        self.setModal(True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._key: str | None = key
        self._clipboard = clipboard
        self._copied = False
        self._close_confirmed = False
        self._pending_result: int | None = None
        self.confirm_box: QMessageBox | None = None
        self._close_button: QPushButton | None = None

        title = QLabel(f"<b>New key {html.escape(record.masked)}</b>", self)
        title.setTextFormat(Qt.TextFormat.RichText)
        about = QLabel(f"For: {record.description}", self)
        about.setTextFormat(Qt.TextFormat.PlainText)
        about.setWordWrap(True)
        expiry = record.expires_on
        about_expiry = QLabel(
            f"Valid through {expiry.isoformat()}." if expiry is not None else "It never expires.", self
        )

        self.warning = QLabel(WARNING, self)
        self.warning.setObjectName("showOnceWarning")
        self.warning.setWordWrap(True)
        warning_icon = QLabel(self)
        warning_icon.setPixmap(theme.icon("warning").pixmap(24, 24))
        warning_icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        warning_widget = QWidget(self)  # a widget, not a bare layout: see main_window's header
        warning_row = QHBoxLayout(warning_widget)
        warning_row.setContentsMargins(0, 0, 0, 0)
        warning_row.addWidget(warning_icon)
        warning_row.addWidget(self.warning, 1)

        self.key_field = QLineEdit(key, self)
        self.key_field.setObjectName("keyField")
        self.key_field.setReadOnly(True)
        mono = theme.monospace_font()
        mono.setPointSizeF(max(mono.pointSizeF(), self.font().pointSizeF()))  # as large as the text around it
        self.key_field.setFont(mono)
        self.key_field.setAccessibleName("New API key")
        self.key_field.setMinimumWidth(self.key_field.fontMetrics().horizontalAdvance(key) + 24)
        self.key_field.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)  # copy goes through the button
        # No selection, ever: on X11 a selection is copied to the PRIMARY buffer, unmarked and never
        # cleared, and Ctrl+C would bypass the secret hints. Copying goes through the Copy button only.
        self.key_field.selectionChanged.connect(self.key_field.deselect)
        self.copy_button = QPushButton(theme.icon("copy"), "Copy", self)
        self.copy_button.setObjectName("copyKeyButton")
        self.copy_button.setAccessibleName("Copy the key to the clipboard")
        self.copy_button.setDefault(True)
        key_widget = QWidget(self)
        key_row = QHBoxLayout(key_widget)
        key_row.setContentsMargins(0, 0, 0, 0)
        key_row.addWidget(self.key_field, 1)
        key_row.addWidget(self.copy_button)

        self.copied_label = QLabel(self)
        self.copied_label.setObjectName("copiedLabel")
        self.copied_label.setWordWrap(True)

        buttons = QDialogButtonBox(self)
        self.done_button = buttons.addButton("Done", QDialogButtonBox.ButtonRole.AcceptRole)
        self.done_button.setObjectName("keyCreatedDoneButton")
        self.done_button.setAutoDefault(False)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(about)
        layout.addWidget(about_expiry)
        layout.addWidget(warning_widget)
        layout.addWidget(key_widget)
        layout.addWidget(self.copied_label)
        layout.addWidget(buttons)
        # The size follows the contents (a line added after Copy, a larger font): a top-level window does
        # not grow for word-wrapped labels by itself, and they were cut off. Each label gets at least its
        # size hint, which is enough room for its wrapped text.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)

        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        # The "Copied" line stays true while the dialog is open: it counts down, then says the key was cleared.
        clipboard.countdown.connect(self._on_clipboard_countdown)
        clipboard.cleared.connect(self._on_clipboard_cleared)
        self.finished.connect(self._on_self_finished)
        self.key_field.installEventFilter(self)
        self.copy_button.setFocus()

    def copied(self) -> bool:
        return self._copied

    def discard(self) -> None:
        """Close without asking (the window is going away): the key is dropped all the same."""
        self._close_confirmed = True
        if self.confirm_box is not None:
            self.confirm_box.reject()
        self.reject()

    def done(self, result: int) -> None:
        # Every way out (Done, Esc, the window's close button) comes through here.
        if self._copied or self._close_confirmed or self._key is None:
            super().done(result)
            return
        if self.confirm_box is not None:
            return
        self._pending_result = result
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Close without copying?",
            "You have not copied the key. Once this window closes it cannot be shown again.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("confirmCloseKeyDialog")
        close = box.addButton("Close Without Copying", QMessageBox.ButtonRole.AcceptRole)
        close.setObjectName("confirmButton")
        theme.style_button(close, "danger", self.palette())
        back = box.addButton("Go Back", QMessageBox.ButtonRole.RejectRole)
        back.setObjectName("cancelButton")
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        self._close_button = close
        box.finished.connect(self._on_confirm_box_finished)
        self.confirm_box = box
        box.open()

    def _on_confirm_box_finished(self, _result: int) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is None:
            return
        close = box.clickedButton() is self._close_button
        self._close_button = None
        box.deleteLater()
        if close:
            self._close_confirmed = True
            self.done(self._pending_result if self._pending_result is not None else 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Ctrl+C in the field would copy without the secret hints: route it through the button.
        if (
            watched is self.key_field
            and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Copy)
        ):
            if event.type() == QEvent.Type.KeyPress:
                self._on_copy_button_clicked()
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def _on_copy_button_clicked(self) -> None:
        if self._key is None:
            return
        self._clipboard.copy(self._key)
        self._copied = True
        self.copy_button.setText("Copied")
        self._on_clipboard_countdown(self._clipboard.seconds_left())

    def _on_clipboard_countdown(self, seconds: int) -> None:
        if not self._copied:
            return
        if seconds > 0:
            self.copied_label.setText(
                f"Copied. The clipboard is marked secret for clipboard managers and will be cleared in {seconds} s."
            )
        elif not self._clipboard.holds_secret():
            # Something else was copied since (or the clipboard was cleared): nothing of the key is left on it.
            self.copied_label.setText("Copied. The key is no longer on the clipboard; copy it again if needed.")

    def _on_clipboard_cleared(self) -> None:
        if self._copied:
            self.copied_label.setText(
                "Copied, then cleared from the clipboard for safety. Copy it again if you still need it."
            )

    def _on_self_finished(self, _result: int) -> None:
        self._clipboard.countdown.disconnect(self._on_clipboard_countdown)
        self._clipboard.cleared.disconnect(self._on_clipboard_cleared)
        # No widget may hold the key once the dialog is gone: setText also drops the undo history.
        self.key_field.setText("")
        self.key_field.setMinimumWidth(0)
        self._key = None
