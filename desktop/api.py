"""The Python API for your own service: check incoming keys against the app's database."""

from __future__ import annotations

from desktop.core.errors import DomainError
from desktop.core.store import KeyStore, open_store
from desktop.core.values import KeyRecord, Verdict

__all__ = ["DomainError", "KeyRecord", "KeyStore", "Verdict", "open_store"]
