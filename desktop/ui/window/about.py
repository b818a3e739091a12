"""Help ▸ About: the version, what the app does with the database open, and where that database is."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop import __version__
from desktop.ui import theme
from desktop.ui.names import APP_NAME

#: Where a long location may wrap: after a folder's or a URL's "/" (not inside "://"), "?", "&", "@" or ",".
_BREAKS = re.compile(r"(?<=[/?&@,])(?!/)")
#: A zero-width space: a place to wrap that shows nothing.
_WRAP_HERE = "\u200b"
#: A word joiner after a hyphen: no wrap there ("db-" / "primary" is one host name).
_NO_WRAP_HYPHEN = "-\u2060"


def location_html(location: str) -> str:
    """`location` escaped, wrappable only between its parts: never inside a host name, a user or a file name."""
    parts = (html.escape(part).replace("-", _NO_WRAP_HYPHEN) for part in _BREAKS.split(location) if part)
    return _WRAP_HERE.join(parts)


def about_text(location: str | None) -> str:
    """The About box's informative text (rich text) for the database at `location` (a masked URL or a path)."""
    if location is None:
        return "Generate, view, activate, deactivate and delete API keys.<br><br>No database is open."
    if "://" in location:
        what, where = "a team's PostgreSQL database on a server", "Server"
    else:
        what, where = "a local SQLite database file", "Database file"
    return (
        f"Generate, view, activate, deactivate and delete API keys kept in {what}.<br><br>"
        f"{where}: {location_html(location)}"
    )


def show_about(parent: QWidget, location: str | None) -> QMessageBox:
    """Opens the About box (window-modal, deleted on close) and returns it."""
    box = QMessageBox(parent)
    box.setObjectName("aboutDialog")
    box.setWindowTitle("About")  # Qt appends the app name
    box.setIconPixmap(theme.icon("app").pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<b>{APP_NAME}</b> {html.escape(__version__)}")
    box.setInformativeText(about_text(location))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
