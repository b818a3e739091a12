"""Names the window, dialogs and launcher share, and how a server URL is told from a file's path."""

from __future__ import annotations

from desktop import APP_DISPLAY_NAME

#: The display name (desktop.APP_DISPLAY_NAME); the identifier, `apikeys`, is desktop.APP_ID.
APP_NAME = APP_DISPLAY_NAME
DATABASE_FILTER = "API key databases (*.db *.sqlite *.sqlite3);;All files (*)"
#: What File ▸ Connect to Server… opens, and what the window connects to off the GUI thread (any case).
SERVER_SCHEMES = ("postgresql://", "postgresql+psycopg://")


def is_server_url(target: str) -> bool:
    return target.strip().lower().startswith(SERVER_SCHEMES)
