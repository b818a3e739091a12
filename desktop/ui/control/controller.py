"""The window's controller: Qt (signals, a worker thread, a timer) but no widget.

It owns the store, the pager, the task runner and the objects it wires in __init__, each with its own state:
`files` (SQLite: PRAGMA data_version and the file's identity, polled: file_watch.py), `watch` (PostgreSQL:
LISTEN, change_watch.py), `queries` and `triage` (controller_query.py), `lifecycle` (rename, roll, scopes,
many keys, the log: controller_lifecycle.py). It reports every outcome through its notifier. The window
(main_window.py) only listens: `pageChanged` to show rows, `totalChanged` for the page label, `storeChanged`
when another database is shown, `notice` for the status bar. With no store every request is a no-op here.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from desktop.core.errors import DomainError, ServerUnreachable
from desktop.core.operations import Operation
from desktop.core.paging import Pager
from desktop.core.presentation import done_text
from desktop.ui.control.change_watch import ChangeWatch
from desktop.ui.control.controller_lifecycle import LifecycleControl
from desktop.ui.control.controller_query import QueryControl, TriageCount
from desktop.ui.control.error_policy import decide
from desktop.ui.control.file_watch import FileWatch
from desktop.ui.control.guard import guarded_as
from desktop.ui.control.notifications import Notice, Notifier, guarded
from desktop.ui.control.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.core.query import Query
    from desktop.core.store import KeyStore
    from desktop.core.values import CreatedKey, KeyRecord

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 1000


class Controller(QObject):
    """The database side of the window; see the module's docstring."""

    #: The rows to show, and the key to select among them (None: keep the selection).
    pageChanged = Signal(object, object)
    #: The count of all keys (None while unknown); the pager's position may have moved with it.
    totalChanged = Signal(object)
    #: Another store is shown (its location), or the same one reopened.
    storeChanged = Signal(str)
    #: Every notice the notifier posts (the status bar listens).
    notice = Signal(object)
    #: A sticky notice may go now (the status bar lets it time out).
    noticeReleased = Signal(object)
    #: A key was created (a CreatedKey: its one showing belongs to the window's dialog).
    created = Signal(object)
    #: Creating failed: the reason, for the open Generate dialog.
    createFailed = Signal(str)
    #: A poll found nothing changed (a key on screen may have expired meanwhile).
    unchanged = Signal()
    #: A live refresh (a change someone committed, or the server back) has shown the page it read.
    liveReloaded = Signal()
    #: A query (search, filter, order) is shown now, or failed and the one before stays (controller_query.py).
    queryApplied = Signal(object)
    #: The expiry banner's and key-health summary's figures (a controller_query.Triage), after each change.
    triageChanged = Signal(object)

    def __init__(self, parent: QObject | None = None, *, page_size: int, poll_interval_ms: int = POLL_INTERVAL_MS):
        super().__init__(parent)
        self._store: KeyStore | None = None
        self._pager: Pager | None = None
        self._page_size = page_size
        self._total: int | None = None
        self._count_running = False
        self._count_dirty = False
        self._reload_running = False
        self._reload_dirty = False
        #: The server went: the sticky notice that says so, until a reload after reconnecting works.
        self._lost_notice: Notice | None = None
        self.notifier = Notifier(self)
        self.notifier.posted.connect(self.notice)
        self.runner = TaskRunner(self)
        #: SQLite: the file, polled (the timer ticks for keys that expire on a server too).
        self.files = FileWatch(self.notifier, self._reread, self, interval_ms=poll_interval_ms)
        self.files.unchanged.connect(self.unchanged)
        self.files.failed.connect(self.report)
        self.files.noticeReleased.connect(self.noticeReleased)
        self.poll_timer = self.files.timer
        self.queries = QueryControl(self.runner, self)
        self.queries.read.connect(self._on_queries_read)
        self.queries.failed.connect(self._on_queries_failed)
        #: The next recount is for a new query only: the data did not change, the triage figures stand.
        self._skip_triage = False
        self.triage = TriageCount(self)
        self.triage.counted.connect(self.triageChanged)
        self.triage.failed.connect(self._on_triage_failed)
        #: Rename, roll, scopes, many keys at once, the audit log and which keys are retiring.
        self.lifecycle = LifecycleControl(self.runner, self.files, self)
        self.lifecycle.written.connect(self._after_write)
        self.lifecycle.failed.connect(self.report)
        self.lifecycle.created.connect(self.created)
        self.watch = ChangeWatch(self)
        self.watch.changed.connect(self._on_watch_changed)
        self.watch.started.connect(self._on_watch_started)
        self.watch.lost.connect(self._on_watch_lost)
        self.watch.restored.connect(self._on_watch_restored)

    # -- state --

    @property
    def store(self) -> KeyStore | None:
        return self._store

    @property
    def pager(self) -> Pager | None:
        return self._pager

    @property
    def total(self) -> int | None:
        """The cached count of all keys; refreshed only when the data changed."""
        return self._total

    @property
    def file_missing(self) -> bool:
        return self.files.missing

    @property
    def query(self) -> Query:
        """What the list shows now; the pager reads by it."""
        return self.queries.query

    def set_query(self, query: Query) -> None:
        """Show the first page of `query` and count it, off the GUI thread; `queryApplied` follows."""
        if self._store is None:
            self.queries.show(query)
        else:
            self.queries.ask(self._store, query, self._page_size)

    def _on_queries_read(self, store: KeyStore, query: Query, fresh: Pager) -> None:
        if store is not self._store:
            return  # another database is shown now (with this query's predecessor)
        self.queries.show(query)
        self._pager = fresh
        self._total = None  # "1–25" until the count says "of 312 matching"
        self.pageChanged.emit(fresh.items, None)
        self.totalChanged.emit(None)
        self.queryApplied.emit(query)
        self._skip_triage = True
        self._recount()

    def _on_queries_failed(self, store: KeyStore, err: Exception) -> None:
        if store is self._store:
            self.report(err, Operation.SEARCH)
            self.queryApplied.emit(self.query)

    def _on_triage_failed(self, err: Exception) -> None:
        self._background_failed(err, Operation.COUNT)

    def set_store(self, store: KeyStore, *, count_now: bool = True) -> None:
        """Show `store` (owned from now on), closing the one shown before.

        With `count_now` the total is counted before returning, so the page label reads "1–25 of N"
        at once; the launcher passes False to paint the first page first and count in the background.
        """
        old = self._store
        self.watch.stop()
        if old is not None:
            self.runner.wait()
            self.triage.finish()
            old.close()
        self._store = store
        self.triage.attach(store)
        self.lifecycle.attach(store)
        self._pager = Pager(store, self._page_size, self.query)
        self._total = None
        self._reload_running = self._reload_dirty = False
        self._drop_lost_notice()
        self.files.attach(store)
        self.storeChanged.emit(store.location)
        self._pager.first()
        if count_now:
            self._total = store.query_count(self.query)  # one indexed COUNT (~10 ms at a million keys)
        self.pageChanged.emit(self._pager.items, None)
        self.totalChanged.emit(self._total)
        self._recount()  # with count_now, for the expiry banner and the key-health summary
        self.poll_timer.start()
        if not self.files.polls:
            self.watch.watch(store)  # connects off the GUI thread

    def shutdown(self) -> None:
        """Stop listening, finish the writes, then close the store."""
        self.watch.close()
        self.poll_timer.stop()
        self.runner.shutdown()
        self.triage.finish(closing=True)
        if self._store is not None:
            self._store.close()

    # -- errors --

    def report(self, err: BaseException, operation: Operation, record: KeyRecord | None = None) -> None:
        """Every failure goes here: the policy decides, the notifier logs and shows; work carries on."""
        if self.files.explains(err, operation):  # a file moved away says so, whoever noticed first
            return
        if isinstance(err, ServerUnreachable):
            self.watch.server_lost(err)  # first, so that this action's own error shows on top of the sticky notice
        outcome = self.notifier.report(err, operation, record)
        if outcome.reload:
            try:
                self.refresh()
            except Exception as again:
                self.notifier.report(again, Operation.RELOAD)  # said once; no reload loop

    # -- paging --

    @guarded_as(Operation.TURN_PAGE)
    def previous(self) -> None:
        if self._pager is not None and self._pager.previous():
            self.pageChanged.emit(self._pager.items, None)
            self.totalChanged.emit(self._total)

    @guarded_as(Operation.TURN_PAGE)
    def next(self) -> None:
        if self._pager is not None and self._pager.next():
            self.pageChanged.emit(self._pager.items, None)
            self.totalChanged.emit(self._total)

    @guarded_as(Operation.TURN_PAGE)
    def resize(self, size: int) -> None:
        self._page_size = size
        if self._pager is not None:
            self._pager.resize(size)
            self.pageChanged.emit(self._pager.items, None)
            self.totalChanged.emit(self._total)

    @guarded_as(Operation.RELOAD)
    def reload(self) -> None:
        self.refresh()

    def _reread(self, replaced: bool) -> None:
        """The file watch found the data changed (or, `replaced`, another file at the path: from the top)."""
        if replaced:
            self._total = None
        self.refresh(top=replaced)

    def refresh(self, select: int | None = None, *, top: bool = False) -> None:
        """After any change: the same place reloaded (or the top), the count refreshed in the background."""
        store, pager = self._store, self._pager
        if store is None or pager is None:
            return
        self.files.mark_read()  # first: a change after it is caught by the next poll
        if top:
            pager.first()
        else:
            pager.reload()
        self.pageChanged.emit(pager.items, select)
        self.totalChanged.emit(self._total)
        self._recount()

    def _recount(self) -> None:
        """Count all keys and this page's offset off the GUI thread; coalesced while one runs."""
        self.lifecycle.note_change()
        store, pager = self._store, self._pager
        if store is None or pager is None:
            return
        if self._count_running:
            self._count_dirty = True
            return
        self._count_running = True
        start, query = pager.start, self.query
        if self._skip_triage:
            self._skip_triage = False
        else:
            self.triage.request()

        def work() -> tuple[int, int]:
            total = store.query_count(query)
            return total, (store.query_count(query, before=start) if start is not None else 0)

        self.runner.submit(
            work,
            lambda result: self._on_count_done(store, start, query, result),
            lambda err: self._on_count_failed(err),
            aside=True,  # a live change's page reload must not wait behind a count
        )

    def _on_count_done(self, store: KeyStore, start: Any, query: Any, result: tuple[int, int]) -> None:
        self._count_running = False
        if store is self._store and self._pager is not None and query == self.query:
            self._total, offset = result
            self._pager.set_position(start, offset)
            self.totalChanged.emit(self._total)
        if self._count_dirty:
            self._count_dirty = False
            self._recount()

    def _on_count_failed(self, err: Exception) -> None:
        self._count_running = False
        self._count_dirty = False
        self._background_failed(err, Operation.COUNT)

    def _background_failed(self, err: Exception, operation: Operation) -> None:
        """A count or live reload failed: a lost server is said once (the watch's notice), anything else reported."""
        if isinstance(err, ServerUnreachable) and (self.watch.listening or self.watch.away):
            self.watch.server_lost(err)
            return
        self.report(err, operation)

    # -- live refresh (PostgreSQL): the watch heard of a change, or the server is back --

    def _on_watch_changed(self) -> None:
        self._live_reload()

    def _on_watch_started(self) -> None:
        # A change committed between reading the first page and LISTEN was not heard.
        self._live_reload()

    def _on_watch_lost(self, err: BaseException) -> None:
        if self._lost_notice is not None:
            return  # still the same loss: one notice until the server is back
        if not isinstance(err, DomainError):
            self.report(err, Operation.LISTEN)
            return
        # The notifier logs it as it shows it.
        self._lost_notice = self.notifier.error(
            f"{err.message} The keys shown are the last ones read; reconnecting by itself.", sticky=True
        )

    def _on_watch_restored(self) -> None:
        # Notifications sent while away were lost: the page and the count are read again.
        self._live_reload()

    def _live_reload(self) -> None:
        """The page at the same place read again off the GUI thread, then the count; bursts coalesced.

        One reload in flight at a time; a change heard meanwhile makes one more after it.
        """
        store, pager = self._store, self._pager
        if store is None or pager is None:
            return
        if self._reload_running:
            self._reload_dirty = True
            return
        self._reload_running = True
        start, size, offset, query = pager.start, pager.size, pager.offset, self.query

        def work() -> Pager:
            fresh = Pager(store, size, query)
            if start is None:
                fresh.first()
            else:
                fresh.jump(start, offset)
            return fresh

        self.runner.submit(
            work,
            lambda fresh: self._on_live_reload_done(store, (start, query, size), fresh),
            lambda err: self._on_live_reload_failed(store, err),
        )

    @guarded
    def _on_live_reload_done(self, store: KeyStore, read_at: tuple[Any, Any, int], fresh: Pager) -> None:
        """`read_at`: the (position, query, page size) the reload read, to tell whether the window moved since."""
        if store is not self._store:
            return
        self._reload_running = False
        pager = self._pager
        # Moved meanwhile (a page turn, a write's refresh): that read came after the change, and stands.
        if pager is not None and (pager.start, self.query, pager.size) == read_at:
            pager.adopt(fresh)
            self.pageChanged.emit(pager.items, None)
            self.totalChanged.emit(self._total)
        self._recount()
        if self._lost_notice is not None and not self.watch.away:
            self._drop_lost_notice()
            self.notifier.info(f"The database server {store.location} is back; the keys shown are up to date.")
        self.liveReloaded.emit()
        if self._reload_dirty:
            self._reload_dirty = False
            self._live_reload()

    def _on_live_reload_failed(self, store: KeyStore, err: Exception) -> None:
        if store is not self._store:
            return
        self._reload_running = False
        self._reload_dirty = False
        self._background_failed(err, Operation.RELOAD)

    def _drop_lost_notice(self) -> None:
        if self._lost_notice is not None:
            self.noticeReleased.emit(self._lost_notice)
            self._lost_notice = None

    # -- writes --

    def create(
        self, description: str, expires_on: date | None, scopes: tuple[str, ...] = (), **limits: Any
    ) -> str | None:
        """Create a key (limits: rate, credits, refill) in the background; a reason when refused now."""
        if self._store is None:
            return "no database is open."
        if not self.files.check(before_write=True) and self.files.missing:
            return (
                f"the database file {self._store.location} was deleted or moved away. "
                "Put it back, or open another database."
            )
        store = self._store  # a replaced file was reopened: the same store, now on the new file
        self.runner.submit(
            lambda: store.create(description, expires_on, scopes=scopes, **limits),
            self._on_create_done,
            self._on_create_failed,
        )
        return None

    @guarded
    def _on_create_done(self, created: CreatedKey) -> None:
        self.created.emit(created)
        # The new key is the newest: show the top of the list, with it selected.
        self.refresh(select=created.record.id, top=True)

    def _on_create_failed(self, err: Exception) -> None:
        self.createFailed.emit(decide(err, Operation.CREATE).reason)
        self.report(err, Operation.CREATE)

    def set_active(self, record: KeyRecord, active: bool) -> None:
        store = self._store
        operation = Operation.toggling(active)
        if store is None or self.files.refuse(operation):
            return
        self.runner.submit(
            lambda: store.set_active(record.id, active),
            lambda updated: self._after_write(done_text(operation, updated), updated.id),
            lambda err: self.report(err, operation, record),
        )

    def delete(self, record: KeyRecord) -> None:
        store = self._store
        if store is None or self.files.refuse(Operation.DELETE):
            return
        self.runner.submit(
            lambda: store.delete(record.id),
            lambda _none: self._after_write(done_text(Operation.DELETE, record), None),
            lambda err: self.report(err, Operation.DELETE, record),
        )

    @guarded
    def _after_write(self, message: str, select: int | None, top: bool = False) -> None:
        self.notifier.info(message)
        self.refresh(select=select, top=top)
