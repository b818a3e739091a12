"""KeyStore's record of uses: the last use of each key (at most once a minute, never waiting for a writer).

Split from desktop.core.store to keep modules small.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from desktop.core.errors import DatabaseError, DatabaseLocked
from desktop.core.values import FileChange

if TYPE_CHECKING:
    from desktop.core.db import Database

#: The store's own logger: recording uses is the store's business (and people filter on its name).
log = logging.getLogger("desktop.core.store")

#: last_used_at is written at most this often per key, so a busy service does not serialize on writes.
TOUCH_INTERVAL = timedelta(minutes=1)
#: After recording a use failed (another writer holds the lock, a read-only file), no attempt for this long:
#: a service under a long-held write lock tries once per back-off, not once per request.
TOUCH_BACKOFF_S = 5.0


class UsageMixin:
    """_touch(); KeyStore provides the database and the clocks."""

    _touch_resume_at = -math.inf
    _touch_warned = False

    if TYPE_CHECKING:
        _db: Database
        _monotonic: Callable[[], float]

    def _touch(self, key_id: int, now: datetime, digest: bytes) -> None:
        """Record a use: bookkeeping only, so it never waits for a writer, and after a failure it rests."""
        attempted = self._monotonic()
        if attempted < self._touch_resume_at:
            return
        stale = now - TOUCH_INTERVAL
        db = self._db
        if db.file_state() is not FileChange.UNCHANGED:
            # Replaced meanwhile: the old file's -wal is still at the path, and a frame of the old file
            # written to it would be read as the new file's. verify's next check reopens.
            return
        try:
            db.touch(key_id, now, stale, digest)
        except DatabaseLocked:
            # Another writer holds the lock (perhaps for long): without the rest, every request of a busy
            # service would try again. The next verify of this key after the rest records it.
            self._touch_resume_at = attempted + TOUCH_BACKOFF_S
            log.debug("skipped recording last use of API key #%d: another writer holds the lock", key_id)
        except DatabaseError as err:
            # Read-only and the like: the answer stands. Said once, or a read-only service's stderr would
            # get a line per request (logging's last-resort handler prints warnings there).
            self._touch_resume_at = attempted + TOUCH_BACKOFF_S
            if self._touch_warned:
                log.debug("could not record last use of API key #%d: %s", key_id, err.message)
            else:
                self._touch_warned = True
                log.warning(
                    "could not record last use of API key #%d: %s (further failures are logged at debug level)",
                    key_id,
                    err.message,
                )
