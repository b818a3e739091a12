"""Issue 22 item 2: the window hears of other sessions' changes through the store (`KeyStore.listen()`), never
through the database seam it used to be handed (`store.database`)."""

from __future__ import annotations

import select

from desktop.core.store import KeyStore

#: How long the listener's socket may take to become readable after the other session's COMMIT: a bound on a
#: hang, not a measure of speed (the notification arrives in milliseconds).
READABLE_WITHIN_S = 30


def test_the_store_hears_a_change_another_store_commits(database: str, backend: str) -> None:
    with KeyStore.open(database, create=True) as watching, KeyStore.open(database) as other:
        listener = watching.listen()
        if backend == "sqlite":
            # No notifications on a file: the window polls data_version(), which another connection's commit moves.
            assert listener is None
            before = watching.data_version()
            other.create("heard by polling")
            assert watching.data_version() != before
            return
        assert listener is not None
        try:
            assert not listener.drain()  # nothing committed yet
            other.create("heard by LISTEN")
            readable, _, _ = select.select([listener.fileno()], [], [], READABLE_WITHIN_S)
            assert readable and listener.drain()
            assert not listener.drain()  # drained: the socket goes quiet until the next change
        finally:
            listener.close()
