"""API Key Manager: issue, view and verify API keys kept in a local database."""

from __future__ import annotations

__version__ = "0.1.0"
