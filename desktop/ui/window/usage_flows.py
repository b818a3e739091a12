"""A key's details (`detailsAction`, Enter or double-click on a row) and View ▸ Usage (`usageAction`).

A QObject the window makes, given the controller, the table and its model, the Edit and context menus, the View
menu, the key's history and how to apply a query to the table. Each dialog only shows (dialogs/key_details.py,
usage_view.py); this object reads what they show off the GUI thread (the controller's runner, aside: a page read or
a write never waits behind a chart) and reads it again when the keys change (here, by the CLI or another window:
the controller's pageChanged) and every few seconds while a dialog is open, since `apikeys serve` and the CLI
write their usage counts every 5 s. One read at a time per dialog: a tick while one is on its way is skipped, and
after a slow read (a huge database) the timer waits four times as long as it took before the next.
The chart module is imported only when a dialog first opens: start-up never loads Qt Charts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu, QWidget

    from desktop.core.query import Query
    from desktop.core.store import KeyStore
    from desktop.core.usage_report import UsagePeriod
    from desktop.core.values import KeyRecord
    from desktop.ui.dialogs.key_details import KeyDetailsDialog
    from desktop.ui.window.lifecycle_actions import LifecycleActions
    from desktop.ui.window.usage_view import UsageView

#: While a dialog is open its figures are read again this often (the usage counts are written every 5 s).
REFRESH_MS = 5000


class UsageFlows(QObject):
    """See the module's docstring."""

    def __init__(
        self,
        window: QWidget,
        key_actions: LifecycleActions,
        view_menu: QMenu,
        open_history: Callable[[KeyRecord], None],
        apply_query: Callable[[Query], None],
    ) -> None:
        """`detailsAction` goes first in the Edit and context menus of `key_actions`, `usageAction` into View."""
        from PySide6.QtGui import QAction, QKeySequence

        super().__init__(window)
        self._window = window
        self._controller = key_actions.controller
        self._table = table = key_actions.table
        self._model = model = key_actions.model
        self._open_history = open_history
        self._apply_query = apply_query
        self.details_dialog: KeyDetailsDialog | None = None
        self.usage_view: UsageView | None = None
        self._reading: dict[str, float] = {}  # "details", "usage": when the read on its way began
        self._idle_until: dict[str, float] = {}  # the timer's next read of each, no sooner (see _done)
        self.details_action = QAction("&Details…", window)
        self.details_action.setObjectName("detailsAction")
        self.details_action.setToolTip("The key's details, limits and use (Enter, or double-click the row)")
        self.details_action.triggered.connect(self._on_details_action_triggered)
        for menu in (key_actions.edit_menu, key_actions.key_menu):
            actions = menu.actions()
            if actions:
                menu.insertAction(actions[0], self.details_action)
            else:
                menu.addAction(self.details_action)
        self.usage_action = QAction("&Usage…", window)
        self.usage_action.setObjectName("usageAction")
        self.usage_action.setShortcut(QKeySequence("Ctrl+U"))
        self.usage_action.setToolTip("Verifications of every key over time, and the keys used most")
        self.usage_action.triggered.connect(self._on_usage_action_triggered)
        view_menu.addAction(self.usage_action)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        table.detailsRequested.connect(self._on_table_details_requested)
        table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        model.modelReset.connect(self._on_table_selection_changed)
        key_actions.controller.pageChanged.connect(self._on_controller_page_changed)
        self._on_table_selection_changed()

    def report(self, err: BaseException, operation: Operation) -> None:
        self._controller.report(err, operation)

    def _on_table_selection_changed(self, *_args: object) -> None:
        self.details_action.setEnabled(len(self._table.selected_key_ids()) == 1)

    # -- a key's details --

    @guarded
    def _on_details_action_triggered(self) -> None:
        ids = self._table.selected_key_ids()
        if len(ids) == 1:
            self.open_details(ids[0])

    @guarded
    def _on_table_details_requested(self, key_id: int) -> None:
        self.open_details(key_id)

    def open_details(self, key_id: int) -> None:
        """The key's details in a dialog of its own (one at a time: another key replaces the one shown)."""
        if self._controller.store is None:
            return
        row = self._model.row_of(key_id)
        record = self._model.record(row) if row is not None else None
        if self.details_dialog is not None:
            if self.details_dialog.record.id == key_id:
                self.details_dialog.raise_()
                self.details_dialog.activateWindow()
                return
            self.details_dialog.close()
        if record is None:
            self._read_key_then_open(key_id)
        else:
            self._show_details(record)

    def _show_details(self, record: KeyRecord) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.key_details import KeyDetailsDialog

        dialog = self.details_dialog = KeyDetailsDialog(record, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.periodChanged.connect(self._on_details_dialog_period_changed)
        dialog.historyRequested.connect(self._on_details_dialog_history_requested)
        dialog.finished.connect(self._on_details_dialog_finished)
        dialog.show()
        self._read_details()
        self._timer.start()

    def _read_key_then_open(self, key_id: int) -> None:
        """A key not on the table's page (a link in View ▸ Usage): read it, then open it."""
        store = self._controller.store
        if store is not None:
            self._controller.runner.submit(
                lambda: store.get(key_id),
                lambda record: self._on_key_read(store, record),
                lambda err: self._controller.report(err, Operation.OPEN_KEY),
                aside=True,
            )

    @guarded
    def _on_key_read(self, store: KeyStore, record: KeyRecord) -> None:
        if store is self._controller.store and self.details_dialog is None:
            self._show_details(record)

    def _read_details(self, tick: bool = False) -> None:
        dialog, store = self.details_dialog, self._controller.store
        if (
            dialog is None
            or store is None
            or dialog.gone
            or "details" in self._reading
            or self._resting("details", tick)
        ):
            return
        key_id, period = dialog.record.id, dialog.period

        def work() -> tuple[Any, Any, Any]:
            return store.get(key_id), store.limits(key_id), store.usage_series(key_id, period)

        self._reading["details"] = time.monotonic()
        self._controller.runner.submit(
            work,
            lambda got: self._on_details_read(dialog, got),
            lambda err: self._on_details_failed(dialog, err),
            aside=True,
        )

    @guarded
    def _on_details_read(self, dialog: KeyDetailsDialog, got: tuple[Any, Any, Any]) -> None:
        self._done("details")
        if dialog is not self.details_dialog:
            self._read_details()  # closed meanwhile: the dialog open now (if any) was left waiting
            return
        record, limits, series = got
        dialog.show_details(record, limits, series)
        if series.period is not dialog.period:
            self._read_details()  # the period changed while this one was read

    def _on_details_failed(self, dialog: KeyDetailsDialog, err: Exception) -> None:
        from desktop.core.errors import KeyNotFound
        from desktop.ui.control.error_policy import decide

        self._done("details")
        if dialog is not self.details_dialog:
            self._read_details()
            return
        if isinstance(err, KeyNotFound):
            dialog.show_gone()
            return
        dialog.show_error(f"Could not read the key's use: {decide(err, Operation.READ_USAGE).reason}")

    def _on_details_dialog_period_changed(self, _period: UsagePeriod) -> None:
        self._read_details()

    @guarded
    def _on_details_dialog_history_requested(self) -> None:
        if self.details_dialog is not None:
            self._open_history(self.details_dialog.record)

    def _on_details_dialog_finished(self, _result: int) -> None:
        self.details_dialog = None
        self._stop_timer_if_idle()

    # -- View ▸ Usage --

    @guarded
    def _on_usage_action_triggered(self) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.window.usage_view import UsageView

        if self._controller.store is None:
            return
        if self.usage_view is not None:
            self.usage_view.raise_()
            self.usage_view.activateWindow()
            return
        view = self.usage_view = UsageView(self._window)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.periodChanged.connect(self._on_usage_view_period_changed)
        view.keyRequested.connect(self._on_usage_view_key_requested)
        view.unusedRequested.connect(self._on_usage_view_unused_requested)
        view.finished.connect(self._on_usage_view_finished)
        view.show()
        self._read_usage()
        self._timer.start()

    def _read_usage(self, tick: bool = False) -> None:
        view, store = self.usage_view, self._controller.store
        if view is None or store is None or "usage" in self._reading or self._resting("usage", tick):
            return
        from desktop.ui.window.usage_view import TOP_KEYS  # loaded with the view: never before it opens

        period = view.period

        def work() -> tuple[Any, list[tuple[Any, Any]]]:
            from desktop.core.errors import KeyNotFound

            top: list[tuple[Any, Any]] = []
            for use in store.top_keys(period, TOP_KEYS):
                try:
                    top.append((use, store.get(use.key_id)))
                except KeyNotFound:  # deleted since its use was counted
                    top.append((use, None))
            return store.usage_series(None, period), top

        self._reading["usage"] = time.monotonic()
        self._controller.runner.submit(
            work, lambda got: self._on_usage_read(view, got), lambda err: self._on_usage_failed(view, err), aside=True
        )

    @guarded
    def _on_usage_read(self, view: UsageView, got: tuple[Any, Any]) -> None:
        self._done("usage")
        if view is not self.usage_view:
            self._read_usage()
            return
        series, top = got
        view.show_usage(series, top)
        if series.period is not view.period:
            self._read_usage()

    def _on_usage_failed(self, view: UsageView, err: Exception) -> None:
        from desktop.ui.control.error_policy import decide

        self._done("usage")
        if view is self.usage_view:
            view.show_error(f"Could not read the use: {decide(err, Operation.READ_USAGE).reason}")

    def _on_usage_view_period_changed(self, _period: UsagePeriod) -> None:
        self._read_usage()

    @guarded
    def _on_usage_view_key_requested(self, key_id: int) -> None:
        self._table.select_key(key_id)  # when it is on the page shown
        self.open_details(key_id)

    @guarded
    def _on_usage_view_unused_requested(self, period: UsagePeriod) -> None:
        from desktop.core.query import Filter, Query
        from desktop.core.usage_report import UsagePeriod

        wanted = {
            UsagePeriod.DAY: Filter.NOT_USED_24H,
            UsagePeriod.WEEK: Filter.NOT_USED_7D,
            UsagePeriod.MONTH: Filter.NOT_USED_30D,
        }
        self._apply_query(Query(status=wanted[period]))
        self._window.raise_()
        self._window.activateWindow()

    def _on_usage_view_finished(self, _result: int) -> None:
        self.usage_view = None
        self._stop_timer_if_idle()

    # -- following changes --

    def _on_controller_page_changed(self, *_args: object) -> None:
        self._read_details()
        self._read_usage()

    def _on_timer_timeout(self) -> None:
        self._read_details(tick=True)
        self._read_usage(tick=True)

    def _done(self, kind: str) -> None:
        """A read came back. The timer reads that dialog again no sooner than 4 times as long as this one took: at
        100M counted verifies an aggregation of seconds is not repeated back to back on the worker."""
        began = self._reading.pop(kind, None)
        if began is not None:
            now = time.monotonic()
            self._idle_until[kind] = now + 4 * (now - began)

    def _resting(self, kind: str, tick: bool) -> bool:
        return tick and time.monotonic() < self._idle_until.get(kind, 0.0)

    def _stop_timer_if_idle(self) -> None:
        if self.details_dialog is None and self.usage_view is None:
            self._timer.stop()
