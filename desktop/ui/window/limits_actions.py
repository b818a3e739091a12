"""The window's limits: Edit ▸ Limits… (and the row's context menu) for the selected keys, and the table's Credits
column and limited Status cells, read per page.

A QObject the key actions make (lifecycle_actions.py), given the window, the controller, the table, its model,
the menus to add its action to and how to read the selection. The dialog (dialogs/limits_dialog.py) is one
KeyDialogFlow (key_dialog_flow.py) of several keys: it opens at once, its fields filled once the keys' limits are
read off the GUI thread; the change goes through the controller (controller_lifecycle.LifecycleControl.set_limits)
as every lifecycle change does, then the status bar says it. After each page is shown, the limits of its keys are
read in one statement (KeyStore.limit_states; none at all where no key has limits), and a rate limit's end is
shown when it comes.

While the Credits column is shown, the page's limits are read again every POLL_MS: a verify in another process
spends credits and trips rate limits without a change anyone hears of (PostgreSQL's LISTEN carries changes to the
keys, not their use), so without it the column would show a balance already spent. One read at a time, off the
GUI thread, none while the window is hidden or minimised, and a slow read (a busy server or worker) makes the next
wait twice as long, up to MAX_POLL_MS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QObject, QTimer

from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded
from desktop.ui.control.key_table_model import COL_CREDITS

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMainWindow, QMenu

    from desktop.core.clock import Clock
    from desktop.core.values import KeyRecord, LimitState
    from desktop.ui.control.controller import Controller
    from desktop.ui.control.key_table_model import KeyTableModel
    from desktop.ui.dialogs.limits_dialog import LimitsDialog
    from desktop.ui.widgets.key_table_view import KeyTableView
    from desktop.ui.widgets.limit_fields import LimitsChange

#: A rate limit's end is shown at most this long after it (a timer is not exact), and at least this far apart.
_BLOCK_END_SLACK_MS = 250
#: While any key has limits, the page's credits and limit states are read again this often (ms)...
POLL_MS = 3000
#: ... and twice as long after a read that took this long or longer (asked to answered), up to MAX_POLL_MS.
SLOW_POLL_MS = 250
MAX_POLL_MS = 60_000


class LimitsActions(QObject):
    """limitsAction, its dialog's flow, and the page's limit states; see the module's docstring."""

    def __init__(
        self,
        window: QMainWindow,
        controller: Controller,
        table: KeyTableView,
        model: KeyTableModel,
        *,
        menus: Sequence[QMenu],
        before: QAction,
        selected: Callable[[], list[KeyRecord]],
        status_text: Callable[[], str],
        clock: Clock,
    ) -> None:
        """`limitsAction` goes in each of `menus` before `before`; `selected` reads the selected keys."""
        from PySide6.QtGui import QAction

        from desktop.ui.window.key_dialog_flow import KeyDialogFlow

        super().__init__(window)
        self._window = window
        self.controller = controller
        self.table = table
        self.model = model
        self._selected = selected
        self._clock = clock
        self.action = QAction("&Limits…", window)
        self.action.setObjectName("limitsAction")
        self.action.setToolTip("Set the rate limit and credits of the selected keys")
        self.action.triggered.connect(self._on_action_triggered)
        for menu in menus:
            menu.insertAction(before, self.action)
        lifecycle = controller.lifecycle
        self.flow: KeyDialogFlow[LimitsDialog, LimitsChange] = KeyDialogFlow(
            window,
            make=self._make_dialog,
            requested=lambda dialog: dialog.limitsRequested,
            value=lambda dialog: dialog.change(),
            call=lifecycle.set_limits,
            refuse=controller.files.refuse,
            operation=Operation.SET_LIMITS,
            status_text=status_text,
            report=controller.report,
            opened=self._on_dialog_opened,
        )
        #: The page's keys whose limits are to be read (after the page is painted).
        self._wanted: tuple[int, ...] = ()
        #: Shows a rate limit's end: the Status cell turns back to Active without a read.
        self.block_timer = QTimer(self)
        self.block_timer.setSingleShot(True)
        self.block_timer.timeout.connect(self._on_block_timer_timeout)
        #: The page's limits read again while the Credits column is shown (see the module's docstring).
        self.poll_ms = self._poll_wait = POLL_MS
        self.slow_poll_ms = SLOW_POLL_MS
        self._poll_asked = QElapsedTimer()
        self.poll_timer = QTimer(self)
        self.poll_timer.setSingleShot(True)
        self.poll_timer.timeout.connect(self._on_poll_timer_timeout)
        self.table.setColumnHidden(COL_CREDITS, True)  # until a key with limits is known of
        controller.pageChanged.connect(self._on_controller_page_changed)
        table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        model.modelReset.connect(self._on_selection_changed)
        model.pageReplaced.connect(self._on_selection_changed)
        self._on_selection_changed()

    def report(self, err: BaseException, operation: Operation) -> None:
        self.controller.report(err, operation)

    # -- the action and its dialog --

    def _on_selection_changed(self, *_args: object) -> None:
        self.action.setEnabled(bool(self._selected()))

    @guarded
    def _on_action_triggered(self) -> None:
        self.flow.open(tuple(self._selected()))

    def _make_dialog(self, records: tuple[KeyRecord, ...]) -> LimitsDialog:
        from desktop.ui.dialogs.limits_dialog import LimitsDialog

        return LimitsDialog(records, self._window)

    def _on_dialog_opened(self, dialog: LimitsDialog) -> None:
        ids = [r.id for r in dialog.record]
        self.controller.lifecycle.read_limits(
            ids, lambda states: self._on_limits_read(dialog, states), lambda why: self._on_unreadable(dialog, why)
        )

    def _on_limits_read(self, dialog: LimitsDialog, states: dict[int, LimitState]) -> None:
        if dialog is self.flow.dialog:  # still the one open
            dialog.set_current(states)

    def _on_unreadable(self, dialog: LimitsDialog, reason: str) -> None:
        if dialog is self.flow.dialog:
            dialog.set_unreadable(reason)

    # -- the page's limits --

    def _on_controller_page_changed(self, records: Sequence[KeyRecord], _select: object) -> None:
        # Read from the event loop, off the GUI thread: at start-up the first page is painted first.
        self._wanted = tuple(r.id for r in records)
        if self._wanted:
            QTimer.singleShot(0, self, self._look_up)
        else:
            self.model.set_limit_states({})

    def _look_up(self) -> None:
        wanted, self._wanted = self._wanted, ()
        if wanted:
            self.controller.lifecycle.look_up_limits(wanted, self._on_limits_found)

    def _on_limits_found(self, any_limits: bool, states: dict[int, LimitState]) -> None:
        self.table.setColumnHidden(COL_CREDITS, not any_limits)
        if states != self.model.limit_states():
            self.model.set_limit_states(states)
        self._time_block_end(states)
        if any_limits:  # the next read POLL_MS after this one, whatever asked for it (a page read or the poll)
            self.poll_timer.start(self._poll_wait)
        else:
            self.poll_timer.stop()

    def set_poll_interval(self, ms: int, slow_ms: int = SLOW_POLL_MS) -> None:
        """Read the page's limits every `ms` while any key has them (a read taking `slow_ms` or more: twice as
        long next time); from the next read on."""
        self.poll_ms = self._poll_wait = ms
        self.slow_poll_ms = slow_ms

    def poll_wait(self) -> int:
        """How long after the last read of the page's limits the next one is due (ms)."""
        return self._poll_wait

    def _on_poll_timer_timeout(self) -> None:
        wanted = tuple(r.id for r in self.model.records())
        if not wanted:
            return  # an empty page: the next page read starts the poll again
        if not self._window.isVisible() or self._window.isMinimized():
            self.poll_timer.start(self._poll_wait)  # nobody looking: ask again later, without reading
            return
        self._poll_asked.start()
        # Its answer (or the next page's read) starts the timer again: one read at a time. A failed read is
        # logged, and the next page read starts the poll again.
        self.controller.lifecycle.look_up_limits(wanted, self._on_polled)

    def _on_polled(self, any_limits: bool, states: dict[int, LimitState]) -> None:
        slow = self._poll_asked.isValid() and self._poll_asked.elapsed() >= self.slow_poll_ms
        self._poll_wait = min(self._poll_wait * 2, MAX_POLL_MS) if slow else self.poll_ms
        self._on_limits_found(any_limits, states)

    def _time_block_end(self, states: dict[int, LimitState]) -> None:
        """The soonest end of a rate limit on the page, when its Status cell turns back to Active."""
        now: datetime = self._clock.now()
        ends = [s.blocked_until for s in states.values() if s.blocked_until is not None and s.blocked_until > now]
        if not ends:
            self.block_timer.stop()
            return
        wait_ms = int((min(ends) - now).total_seconds() * 1000) + _BLOCK_END_SLACK_MS
        self.block_timer.start(min(wait_ms, 2**31 - 1))

    def _on_block_timer_timeout(self) -> None:
        states = self.model.limit_states()
        self.model.set_limit_states(states)  # the same states: only "now" moved on
        self._time_block_end(states)
