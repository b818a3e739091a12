"""The controller's key-lifecycle writes and reads: rename, roll, scopes, limits, many keys at once, the audit log.

A QObject the controller (controller.py) owns, given the runner and the file watch, and told which store is
shown (`attach`). Every database call runs on the runner, off the GUI thread; a success goes out by `written`
(the controller says it and re-reads the page), a failure by `failed` to the one error policy. Rename, roll and
scopes are one flow (`_change`): the window passes callbacks for what its open dialog must hear (done, or why not).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Signal

from desktop.core.operations import Operation
from desktop.core.presentation import done_many_text, done_text, limits_set_text
from desktop.ui.control.error_policy import decide
from desktop.ui.control.notifications import guarded

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.core.values import Action, BulkResult, EventCursor, EventPage, KeyRecord, Limits, LimitState, RolledKey
    from desktop.ui.control.file_watch import FileWatch
    from desktop.ui.control.tasks import TaskRunner

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a dialog hears when its write failed: the error (KeyNotFound closes it) and the reason to show.
Failed = Callable[[Exception, str], None]


class LifecycleControl(QObject):
    """Writes to keys and the reads that go with them, on the store attached; see the module's docstring."""

    #: A write is done: (what to say, the key to select or None, whether to show the top of the list).
    written = Signal(str, object, bool)
    #: A write or read failed: (the error, the Operation, the key or None), for the one error policy.
    failed = Signal(object, object, object)
    #: A roll made a new key (a CreatedKey): its one showing belongs to the window's dialog.
    created = Signal(object)

    def __init__(self, runner: TaskRunner, files: FileWatch, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._files = files
        self._store: KeyStore | None = None
        #: Bumped by every change to the keys (note_change): see look_up_rolled.
        self._changes = 0
        #: (`_changes` when asked, whether any key was ever rolled): good until the next change.
        self._rolls_known: tuple[int, bool] | None = None
        #: (`_changes` when asked, whether any key has limits): the same, for look_up_limits.
        self._limits_known: tuple[int, bool] | None = None

    def attach(self, store: KeyStore) -> None:
        self._store = store

    def note_change(self) -> None:
        """The keys may have changed (the controller recounts): what was known of rolls is asked again."""
        self._changes += 1

    def report(self, err: BaseException, operation: Operation, record: KeyRecord | None = None) -> None:
        self.failed.emit(err, operation, record)

    def _writable(self, operation: Operation, *, many: bool = False) -> KeyStore | None:
        store = self._store
        if store is None or self._files.refuse(operation, many=many):
            return None
        return store

    # -- one key, from a dialog --

    def _change(
        self,
        record: KeyRecord | None,
        operation: Operation,
        work: Callable[[KeyStore], T],
        done: Callable[[T], None],
        failed: Failed,
        said: Callable[[T], tuple[str, int | None, bool]],
        *,
        many: bool = False,
    ) -> bool:
        """The one shape of a dialog's change to one key. Refused now: False (the status bar says why, as
        "Could not rename the key"). Otherwise `work` runs off the GUI thread; then the dialog hears `done` (or
        `failed`, with the reason the policy gives), and after it the change is said and shown (`said`)."""
        store = self._writable(operation, many=many)
        if store is None:
            return False

        def on_failed(err: Exception) -> None:
            failed(err, decide(err, operation, record).reason)
            self.report(err, operation, record)

        self._runner.submit(lambda: work(store), lambda result: self._on_changed(result, done, said), on_failed)
        return True

    @guarded
    def _on_changed(
        self, result: T, done: Callable[[T], None], said: Callable[[T], tuple[str, int | None, bool]]
    ) -> None:
        done(result)
        message, select, top = said(result)
        self.written.emit(message, select, top)

    def rename(self, record: KeyRecord, description: str, done: Callable[[KeyRecord], None], failed: Failed) -> bool:
        """Rename off the GUI thread; False (and a status-bar message) when refused before starting."""

        def said(updated: KeyRecord) -> tuple[str, int | None, bool]:
            return done_text(Operation.RENAME, updated, before=record), updated.id, False

        rename = Operation.RENAME
        return self._change(record, rename, lambda store: store.rename(record.id, description), done, failed, said)

    def roll(self, record: KeyRecord, grace: timedelta, done: Callable[[RolledKey], None], failed: Failed) -> bool:
        """Roll off the GUI thread. Only after the commit: `done`, then the new key's one showing (`created`)."""
        return self._change(
            record, Operation.ROLL, lambda store: store.roll(record.id, grace), done, failed, self._rolled
        )

    def _rolled(self, rolled: RolledKey) -> tuple[str, int | None, bool]:
        self.created.emit(rolled.new)  # the window's show-once dialog, as for a generated key
        now = self._store.clock.now() if self._store is not None else None
        return done_text(Operation.ROLL, rolled.new.record, before=rolled.old, now=now), rolled.new.record.id, True

    def set_scopes(
        self, record: KeyRecord, scopes: Sequence[str], done: Callable[[KeyRecord], None], failed: Failed
    ) -> bool:
        def said(updated: KeyRecord) -> tuple[str, int | None, bool]:
            return done_text(Operation.SET_SCOPES, updated), updated.id, False

        return self._change(
            record,
            Operation.SET_SCOPES,
            lambda store: store.set_scopes(record.id, scopes),
            done,
            failed,
            said,
        )

    def set_limits(
        self, records: Sequence[KeyRecord], given: dict[str, Any], done: Callable[[object], None], failed: Failed
    ) -> bool:
        """Set what `given` names (rate, credits, refill; absent: kept) on one key, or on several in one
        transaction (keys deleted meanwhile are counted, as the other changes to many keys do)."""
        if len(records) == 1:
            (record,) = records

            def said(limits: Limits) -> tuple[str, int | None, bool]:
                return limits_set_text(record, limits), record.id, False

            work: Callable[[KeyStore], Any] = lambda store: store.set_limits(record.id, **given)  # noqa: E731
            return self._change(record, Operation.SET_LIMITS, work, done, failed, said)
        ids = [r.id for r in records]

        def said_many(result: BulkResult) -> tuple[str, int | None, bool]:
            return done_many_text(Operation.SET_LIMITS, result), None, False

        return self._change(
            None,
            Operation.SET_LIMITS,
            lambda store: store.set_limits_many(ids, **given),
            done,
            failed,
            said_many,
            many=True,
        )

    def read_limits(
        self, key_ids: Sequence[int], done: Callable[[dict[int, LimitState]], None], failed: Callable[[str], None]
    ) -> None:
        """These keys' limits now (for the Limits dialog), read off the GUI thread."""
        store = self._store
        if store is None:
            return
        wanted = tuple(key_ids)

        def on_failed(err: Exception) -> None:
            failed(decide(err, Operation.READ_LIMITS).reason)
            self.report(err, Operation.READ_LIMITS)

        self._runner.submit(lambda: store.limit_states(wanted), done, on_failed)

    def look_up_limits(self, key_ids: Sequence[int], found: Callable[[bool, dict[int, LimitState]], None]) -> None:
        """The limit states of a page's keys (its Credits column and Status cells), off the GUI thread; as
        look_up_rolled, whether any key has limits is asked once per change, and a database without (most) needs
        no lookup per page."""
        store, changes = self._store, self._changes
        known = self._limits_known[1] if self._limits_known is not None and self._limits_known[0] == changes else None
        if store is None or not key_ids:
            return
        if known is False:
            found(False, {})
            return
        wanted = tuple(key_ids)

        def work() -> tuple[bool, dict[int, LimitState]]:
            any_limits = store.has_limits() if known is None else known
            return any_limits, store.limit_states(wanted) if any_limits else {}

        def done(result: tuple[bool, dict[int, LimitState]]) -> None:
            if store is not self._store:
                return
            any_limits, states = result
            if changes == self._changes:
                self._limits_known = (changes, any_limits)
            found(any_limits, states)

        def failed(err: Exception) -> None:  # a nicety beside the page: its failure must not stop one
            log.warning("could not read the limits of the keys shown: %s", err)

        self._runner.submit(work, done, failed)

    def scopes_in_use(self, done: Callable[[list[str]], None]) -> None:
        """For completion; a full scan at a million keys, so in the background. Failing only costs completion."""
        store = self._store
        if store is not None:
            self._runner.submit(
                store.scopes_in_use, done, lambda err: log.warning("could not read scopes in use: %s", err)
            )

    # -- many keys --

    def set_active_many(self, records: Sequence[KeyRecord], active: bool) -> None:
        operation = Operation.toggling(active)
        store = self._writable(operation, many=True)
        if store is None or not records:
            return
        ids = [r.id for r in records]
        self._runner.submit(
            lambda: store.set_active_many(ids, active),
            lambda result: self.written.emit(done_many_text(operation, result), None, False),
            lambda err: self.report(err, operation),
        )

    def delete_many(self, records: Sequence[KeyRecord]) -> None:
        store = self._writable(Operation.DELETE, many=True)
        if store is None or not records:
            return
        ids = [r.id for r in records]
        self._runner.submit(
            lambda: store.delete_many(ids),
            lambda result: self.written.emit(done_many_text(Operation.DELETE, result), None, False),
            lambda err: self.report(err, Operation.DELETE),
        )

    # -- reads for the window --

    def load_events(
        self,
        done: Callable[[EventPage], None],
        failed: Callable[[str], None],
        *,
        limit: int,
        key_id: int | None = None,
        before: EventCursor | None = None,
        action: Action | None = None,
    ) -> None:
        store = self._store
        if store is None:
            return

        def on_failed(err: Exception) -> None:
            failed(decide(err, Operation.READ_LOG).reason)
            self.report(err, Operation.READ_LOG)

        self._runner.submit(lambda: store.events(limit, key_id=key_id, before=before, action=action), done, on_failed)

    def look_up_rolled(self, key_ids: Sequence[int], found: Callable[[frozenset[int]], None]) -> None:
        """Which of these keys were rolled, read off the GUI thread; `found` gets them if the store is still shown.

        Whether any key was ever rolled is asked once, and again only after a change. Where none was (most
        databases) no page needs the lookup: handed to the worker on every page turn, it cost a turn 2-5 ms (the
        worker's Python, beside the paint)."""
        store, changes = self._store, self._changes
        known = self._rolls_known[1] if self._rolls_known is not None and self._rolls_known[0] == changes else None
        if store is None or not key_ids or known is False:
            return
        wanted = tuple(key_ids)

        def work() -> tuple[bool, frozenset[int]]:
            any_rolled = store.has_rolled() if known is None else known
            return any_rolled, store.rolled_among(wanted) if any_rolled else frozenset()

        def done(result: tuple[bool, frozenset[int]]) -> None:
            if store is not self._store:
                return
            any_rolled, rolled = result
            if changes == self._changes:  # not if a change came meanwhile: it may have been a roll
                self._rolls_known = (changes, any_rolled)
            if any_rolled:
                found(rolled)

        def failed(err: Exception) -> None:  # the "Retiring" label is a nicety: its failure must not stop a page
            log.warning("could not tell which keys are retiring: %s", err)

        self._runner.submit(work, done, failed)
