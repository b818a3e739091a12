"""Names the window, dialogs and launcher share."""

from __future__ import annotations

from desktop import APP_DISPLAY_NAME

#: The display name (desktop.APP_DISPLAY_NAME); the identifier, `apikeys`, is desktop.APP_ID.
APP_NAME = APP_DISPLAY_NAME
DATABASE_FILTER = "API key databases (*.db *.sqlite *.sqlite3);;All files (*)"
