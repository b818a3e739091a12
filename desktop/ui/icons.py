"""Icons from the bundled resources, apart from theme.py so the launcher can set the app icon cheaply."""

from __future__ import annotations

import functools

from PySide6.QtGui import QIcon

from desktop.resources import resource


@functools.cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG), or the app icon for "app"."""
    if name == "app":
        return QIcon(str(resource("app", "apikeys.svg")))
    return QIcon(str(resource("icons", f"{name}.svg")))
