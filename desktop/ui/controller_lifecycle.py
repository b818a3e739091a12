"""The controller's key-lifecycle writes and reads: rename, roll, scopes, many keys at once, the audit log.

A mixin of Controller (controller.py). Every database call runs on the task runner, off the GUI thread; every
outcome goes through the notifier (successes) or `report` (failures, by the one error policy), as for
create/set_active/delete. The window passes callbacks for what its open dialog must hear (done, or why not).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from desktop.core.presentation import describe_key, shorten, shown, status_text
from desktop.core.values import Status
from desktop.ui.error_policy import decide
from desktop.ui.notifications import guarded

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.core.values import Action, BulkResult, EventCursor, EventPage, KeyRecord, RolledKey
    from desktop.ui.file_watch import FileWatch
    from desktop.ui.notifications import Notifier
    from desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: What a dialog hears when its write failed: the error (KeyNotFound closes it) and the reason to show.
Failed = Callable[[Exception, str], None]


def _keys(count: int) -> str:
    return f"{count:,} key" if count == 1 else f"{count:,} keys"


def bulk_message(verb: str, result: BulkResult, *, deleting: bool) -> str:
    """One status-bar line for a change to many keys: "Deleted 3 keys", "2 deleted; 1 was already gone"."""
    done, gone = len(result.changed), len(result.missing)
    if not gone:
        return f"{verb.capitalize()} {_keys(done)}."
    if not done:
        return f"Nothing was {verb}: {'the key was' if gone == 1 else f'all {gone:,} keys were'} already gone."
    return f"{done:,} {verb}; {gone:,} {'was' if gone == 1 else 'were'} already gone{'' if deleting else ' (deleted)'}."


class LifecycleControl(QObject if TYPE_CHECKING else object):
    """Needs from Controller: `_store`, `runner`, `notifier`, `report`, `refresh`, `files`,
    `_after_write`, `created`."""

    _store: KeyStore | None
    files: FileWatch
    runner: TaskRunner
    notifier: Notifier
    created: Any
    _changes: int
    #: (`_changes` when asked, whether any key was ever rolled): good until the next change.
    _rolls_known: tuple[int, bool] | None = None

    if TYPE_CHECKING:

        def report(self, err: BaseException, action: str, record: KeyRecord | None = None) -> None: ...

        def refresh(self, select: int | None = None, *, top: bool = False) -> None: ...

        def _after_write(self, message: str, select: int | None) -> None: ...

    def _writable(self, what: str) -> KeyStore | None:
        store = self._store
        if store is None or self.files.refuse(what):
            return None
        return store

    def _dialog_failed(self, action: str, record: KeyRecord, failed: Failed) -> Callable[[Exception], None]:
        def on_failed(err: Exception) -> None:
            failed(err, decide(err, action, record).reason)
            self.report(err, action, record)

        return on_failed

    # -- one key --

    def rename(self, record: KeyRecord, description: str, done: Callable[[KeyRecord], None], failed: Failed) -> bool:
        """Rename off the GUI thread; False (and a status-bar message) when refused before starting."""
        store = self._writable("rename the key")
        if store is None:
            return False

        def on_done(updated: KeyRecord) -> None:
            done(updated)
            self._after_write(f"Renamed {record.masked} to “{shown(shorten(updated.description))}”.", updated.id)

        self.runner.submit(
            lambda: store.rename(record.id, description), on_done, self._dialog_failed("rename", record, failed)
        )
        return True

    def roll(self, record: KeyRecord, grace: timedelta, done: Callable[[RolledKey], None], failed: Failed) -> bool:
        """Roll off the GUI thread. Only after the commit: `done`, then the new key's one showing (`created`)."""
        store = self._writable("roll the key")
        if store is None:
            return False
        self.runner.submit(
            lambda: store.roll(record.id, grace),
            lambda rolled: self._on_roll_done(rolled, done),
            self._dialog_failed("roll", record, failed),
        )
        return True

    @guarded
    def _on_roll_done(self, rolled: RolledKey, done: Callable[[RolledKey], None]) -> None:
        from desktop.core.presentation import expiry_phrase

        done(rolled)
        self.created.emit(rolled.new)  # the window's show-once dialog, as for a generated key
        old, new = rolled.old, rolled.new.record
        now = self._store.clock.now() if self._store is not None else None
        if old.expires_at is not None and now is not None and old.expires_at <= now:
            until = "the old key no longer works"
        else:
            until = f"the old key keeps working {expiry_phrase(old.expires_at, now).removeprefix('valid ')}"
        state = (
            ""
            if new.status(now) is Status.ACTIVE
            else f"; the new key is {status_text(new, now).lower()}, as the old one was"
        )
        self.notifier.info(f"Rolled {describe_key(old)} into {new.masked}: {until}{state}. Copy the new key now.")
        self.refresh(select=new.id, top=True)

    def set_scopes(
        self, record: KeyRecord, scopes: Sequence[str], done: Callable[[KeyRecord], None], failed: Failed
    ) -> bool:
        store = self._writable("change the key's scopes")
        if store is None:
            return False

        def on_done(updated: KeyRecord) -> None:
            done(updated)
            listed = ", ".join(updated.scopes) if updated.scopes else "none"
            self._after_write(f"Scopes of {describe_key(updated)}: {listed}.", updated.id)

        self.runner.submit(
            lambda: store.set_scopes(record.id, scopes),
            on_done,
            self._dialog_failed("change the scopes of", record, failed),
        )
        return True

    def scopes_in_use(self, done: Callable[[list[str]], None]) -> None:
        """For completion; a full scan at a million keys, so in the background. Failing only costs completion."""
        store = self._store
        if store is not None:
            self.runner.submit(
                store.scopes_in_use, done, lambda err: log.warning("could not read scopes in use: %s", err)
            )

    # -- many keys --

    def set_active_many(self, records: Sequence[KeyRecord], active: bool) -> None:
        what = "activate" if active else "deactivate"
        store = self._writable(f"{what} the keys")
        if store is None or not records:
            return
        ids = [r.id for r in records]
        verb = "activated" if active else "deactivated"
        self.runner.submit(
            lambda: store.set_active_many(ids, active),
            lambda result: self._after_write(bulk_message(verb, result, deleting=False), None),
            lambda err: self.report(err, what),
        )

    def delete_many(self, records: Sequence[KeyRecord]) -> None:
        store = self._writable("delete the keys")
        if store is None or not records:
            return
        ids = [r.id for r in records]
        self.runner.submit(
            lambda: store.delete_many(ids),
            lambda result: self._after_write(bulk_message("deleted", result, deleting=True), None),
            lambda err: self.report(err, "delete"),
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
            failed(decide(err, "read the log").reason)
            self.report(err, "read the log")

        self.runner.submit(lambda: store.events(limit, key_id=key_id, before=before, action=action), done, on_failed)

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

        self.runner.submit(work, done, failed)
