"""The Python API for your own service: check incoming keys against the app's database."""

from __future__ import annotations

from desktop.core.errors import DomainError
from desktop.core.store import KeyRecord, KeyStore, Verdict
from desktop.core.target import resolve_target

__all__ = ["DomainError", "KeyRecord", "KeyStore", "Verdict", "open_store"]


def open_store(database: str | None = None) -> KeyStore:
    """Open the store the way every entry point does: the argument, else $APIKEYS_DATABASE, else the default file."""
    return KeyStore.open(resolve_target(database))
