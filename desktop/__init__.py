"""API Key Manager: issue, view and verify API keys kept in a local database."""

from __future__ import annotations

__version__ = "0.1.0"

#: The program's identifier: the command, the data, log and settings folders, the desktop entry.
APP_ID = "apikeys"
#: The program's name as people read it: window titles, the About box, messages.
APP_DISPLAY_NAME = "API Key Manager"
