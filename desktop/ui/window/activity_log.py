"""View ▸ Activity Log (every event) and a key's History: the audit log, read page by page off the GUI thread.

A QObject the window makes, given itself (the dialogs' parent), the controller and the View menu. The dialogs
(dialogs/history_dialog.py) only show; this object asks the controller for each page and hands it to the dialog
that is still open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu, QWidget

    from desktop.core.values import Action, EventCursor, EventPage, KeyRecord
    from desktop.ui.control.controller import Controller
    from desktop.ui.dialogs.history_dialog import EventLogDialog


class ActivityLog(QObject):
    """View ▸ Activity Log and each key's History; see the module's docstring."""

    def __init__(self, window: QWidget, controller: Controller, view_menu: QMenu) -> None:
        from PySide6.QtGui import QAction, QKeySequence

        super().__init__(window)
        self._window = window
        self._controller = controller
        self.history_dialog: EventLogDialog | None = None
        self.activity_log_dialog: EventLogDialog | None = None
        self._history_key_id: int | None = None
        self.action = QAction("&Activity Log…", window)
        self.action.setObjectName("activityLogAction")
        self.action.setShortcut(QKeySequence("Ctrl+L"))
        self.action.setToolTip("Every change to every key, with who made it")
        self.action.triggered.connect(self._on_activity_log_action_triggered)
        view_menu.addSeparator()
        view_menu.addAction(self.action)
        # A change shown in the keys (made here, by the CLI or a colleague) shows in an open log's first page too.
        controller.pageChanged.connect(self._on_controller_page_changed)

    def report(self, err: BaseException, operation: Operation) -> None:
        self._controller.report(err, operation)

    # -- opening --

    @guarded
    def _on_activity_log_action_triggered(self) -> None:
        from PySide6.QtCore import Qt

        if self._controller.store is None:
            return
        if self.activity_log_dialog is not None:
            self.activity_log_dialog.raise_()
            self.activity_log_dialog.activateWindow()
            return
        from desktop.ui.dialogs.history_dialog import activity_log_dialog

        dialog = self.activity_log_dialog = activity_log_dialog(self._window)
        dialog.pageRequested.connect(self._on_activity_log_dialog_page_requested)
        dialog.finished.connect(self._on_activity_log_dialog_finished)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()

    def open_history(self, record: KeyRecord) -> None:
        """The key's events, in a dialog of its own (one at a time: a second replaces the first)."""
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.history_dialog import history_dialog

        if self.history_dialog is not None:
            self.history_dialog.close()
        self._history_key_id = record.id
        dialog = self.history_dialog = history_dialog(record.masked, self._window)
        dialog.pageRequested.connect(self._on_history_dialog_page_requested)
        dialog.finished.connect(self._on_history_dialog_finished)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()

    # -- pages --

    def _on_activity_log_dialog_page_requested(self, before: EventCursor | None, action: Action | None) -> None:
        self._load(self.activity_log_dialog, None, before, action)

    def _on_history_dialog_page_requested(self, before: EventCursor | None, action: Action | None) -> None:
        self._load(self.history_dialog, self._history_key_id, before, action)

    def _load(
        self, dialog: EventLogDialog | None, key_id: int | None, before: EventCursor | None, action: Action | None
    ) -> None:
        from desktop.ui.dialogs.history_dialog import EVENTS_PER_PAGE

        if dialog is None:
            return
        # The answer goes to the dialog only if it is still the one open (closed meanwhile: dropped).
        self._controller.lifecycle.load_events(
            lambda page: self._on_events_loaded(dialog, page, before, action),
            lambda reason: self._on_events_failed(dialog, reason),
            limit=EVENTS_PER_PAGE,
            key_id=key_id,
            before=before,
            action=action,
        )

    def _still_open(self, dialog: EventLogDialog) -> bool:
        return dialog is self.history_dialog or dialog is self.activity_log_dialog

    @guarded
    def _on_events_loaded(
        self, dialog: EventLogDialog, page: EventPage, before: EventCursor | None, action: Action | None
    ) -> None:
        if self._still_open(dialog) and dialog.wants(before, action):
            dialog.show_page(page)

    def _on_events_failed(self, dialog: EventLogDialog, reason: str) -> None:
        if self._still_open(dialog):
            dialog.show_error(f"Could not read the log: {reason}")

    def _on_controller_page_changed(self, *_args: object) -> None:
        for dialog in (self.history_dialog, self.activity_log_dialog):
            if dialog is not None and dialog.on_first_page():
                dialog.refresh()

    # -- closing --

    def _on_activity_log_dialog_finished(self, _result: int) -> None:
        self.activity_log_dialog = None

    def _on_history_dialog_finished(self, _result: int) -> None:
        self.history_dialog = None
        self._history_key_id = None
