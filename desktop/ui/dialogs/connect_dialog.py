"""File ▸ Connect to Server…: the URL of a PostgreSQL database (team mode), checked before anything connects."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.ui import theme
from desktop.ui.names import is_server_url

PLACEHOLDER = "postgresql://alice@db.example.com/apikeys?sslmode=verify-full"


def url_problem(text: str) -> str | None:
    """Why `text` is not a server URL this app opens; None when it is one."""
    url = text.strip()
    if not url:
        return "Enter the database's URL, e.g. postgresql://alice@db.example.com/apikeys."
    if not is_server_url(url):
        return "A server URL starts with postgresql:// (for a database file, use File ▸ Open Database…)."
    if any(char.isspace() or not char.isprintable() for char in url):
        return "A URL has no spaces or control characters; write a space in a value as %20."
    return None


class ConnectDialog(QDialog):
    """Accepted only with a URL that passes `url_problem`; the problem is said under the field meanwhile."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("connectServerDialog")
        self.setWindowTitle("Connect to Server")
        self.setMinimumWidth(520)
        intro = QLabel(
            "The PostgreSQL database your team shares. Keep the password in ~/.pgpass or a service file: "
            "a URL with a password in it is not remembered in Open Recent."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("serverUrlEdit")
        self.url_edit.setPlaceholderText(PLACEHOLDER)
        self.url_edit.setAccessibleName("Database URL")
        self.url_edit.setClearButtonEnabled(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("serverUrlError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.error_text(self.palette()).name()};")
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setObjectName("connectButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.url_edit.textChanged.connect(self._on_url_edit_text_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.url_edit)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        # Only once the button is in this dialog does setDefault() register with it (before, Qt made the first
        # button, Cancel, the default): Enter in the field connects, Esc cancels.
        self.connect_button.setDefault(True)
        self.url_edit.setFocus()

    def url(self) -> str:
        return self.url_edit.text().strip()

    def accept(self) -> None:
        problem = url_problem(self.url_edit.text())
        if problem is not None:
            self.error_label.setText(problem)
            self.error_label.show()
            self.url_edit.setFocus()
            return
        super().accept()

    def _on_url_edit_text_changed(self, _text: str) -> None:
        self.error_label.hide()
