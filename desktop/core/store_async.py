"""The thread pool of `await store.averify(key)` and `await store.acheck(key, scopes)`, for asyncio services.

The lookups block (sqlite3, psycopg's blocking connections). Awaited on the event loop itself they would stall
every other request for as long as the database takes: up to the 10 s connect timeout of a PostgreSQL server
that went away. These run them on a thread pool of the store's own, as large as the connections a process may
open ($APIKEYS_MAX_CONNECTIONS, 8 by default), so a burst queues there instead of starting a thread per
request. A malformed key is answered at once, without a thread: no database is asked.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from desktop.core.db.idle import limits_from_environment
from desktop.core.errors import DatabaseUnavailable

_START = threading.Lock()


class VerifyPool:
    """The store's threads for averify() and acheck(), started by the first of them."""

    def __init__(self) -> None:
        self._async_pool: ThreadPoolExecutor | None = None

    def executor(self) -> ThreadPoolExecutor:
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

    def close(self) -> None:
        pool, self._async_pool = self._async_pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
