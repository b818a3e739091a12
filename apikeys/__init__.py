"""The key store for your own service, without Qt: `from apikeys import open_store`.

`open_store(target)` opens a database (a SQLite path or a PostgreSQL URL; default $APIKEYS_DATABASE, else the
app's keys.db) and never creates one. `store.verify(key)` answers a Verdict; `store.check(key, scopes)` a
VerifyResult (verdict, key id, scopes) from one lookup. The same objects as `desktop.api`, which the app's own
environment keeps; this package is what `pip install .` (no GUI extra) gives a service.
"""

from __future__ import annotations

from desktop.api import DomainError, KeyRecord, KeyStore, Verdict, VerifyResult, open_store

__all__ = ["DomainError", "KeyRecord", "KeyStore", "Verdict", "VerifyResult", "open_store"]
