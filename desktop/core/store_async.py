"""`await store.averify(key)` and `await store.acheck(key, scopes)`: verify and check for asyncio services.

The lookups block (sqlite3, psycopg's blocking connections). Awaited on the event loop itself they would stall
every other request for as long as the database takes: up to the 10 s connect timeout of a PostgreSQL server
that went away. These run them on a thread pool of the store's own, as large as the connections a process may
open ($APIKEYS_MAX_CONNECTIONS, 8 by default), so a burst queues there instead of starting a thread per
request. A malformed key is answered at once, without a thread: no database is asked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from desktop.core import keys
from desktop.core.db.idle import limits_from_environment
from desktop.core.errors import DatabaseUnavailable
from desktop.core.values import Verdict, VerifyResult

_START = threading.Lock()


class AsyncVerifyMixin:
    """averify() and acheck(); KeyStore provides verify() and check()."""

    _async_pool: ThreadPoolExecutor | None = None

    if TYPE_CHECKING:

        def verify(self, key: str) -> Verdict: ...

        def check(self, key: str, scopes: Sequence[str] = ()) -> VerifyResult: ...

    def _pool(self) -> ThreadPoolExecutor:
        pool = self._async_pool
        if pool is None:
            with _START:
                pool = self._async_pool
                if pool is None:
                    try:
                        size, _ = limits_from_environment()
                    except ValueError as err:
                        raise DatabaseUnavailable(f"Cannot check keys: {err}.") from None
                    pool = self._async_pool = ThreadPoolExecutor(size, thread_name_prefix="apikeys-verify")
        return pool

    async def averify(self, key: str) -> Verdict:
        """verify(), awaited: the event loop goes on serving while the database answers."""
        if not keys.is_well_formed(key):
            return Verdict.MALFORMED  # no database asked
        return await asyncio.get_running_loop().run_in_executor(self._pool(), self.verify, key)

    async def acheck(self, key: str, scopes: Sequence[str] = ()) -> VerifyResult:
        """check(), awaited: the event loop goes on serving while the database answers."""
        wanted = tuple(scopes)
        if not keys.is_well_formed(key):
            return self.check(key, wanted)  # no database asked; bad scopes still raise, as from check()
        return await asyncio.get_running_loop().run_in_executor(self._pool(), self.check, key, wanted)

    def _close_async(self) -> None:
        pool, self._async_pool = self._async_pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
