"""The Python API for your own service: check incoming keys against the app's database.

`store.check(key, scopes)` authenticates and authorises in one lookup: a VerifyResult with the verdict, the
key's id and its scopes. `store.verify(key)` answers the Verdict alone, as before. In an asyncio service,
`await store.acheck(key, scopes)` and `await store.averify(key)` answer the same without blocking the loop.
"""

from __future__ import annotations

from desktop.core.errors import DomainError
from desktop.core.store import KeyStore, open_store
from desktop.core.values import KeyRecord, Verdict, VerifyResult

__all__ = ["DomainError", "KeyRecord", "KeyStore", "Verdict", "VerifyResult", "open_store"]
