"""Names the window, dialogs and launcher share."""

from __future__ import annotations

APP_NAME = "API Key Manager"
DATABASE_FILTER = "API key databases (*.db *.sqlite *.sqlite3);;All files (*)"
