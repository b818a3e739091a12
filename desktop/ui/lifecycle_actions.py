"""The window's key-lifecycle actions: the Edit menu, the table's context menu, the selection bar, and the
rename, roll, scopes, bulk and history flows.

A mixin of MainWindow (main_window.py), like database_actions.py. The same QActions sit in the Edit menu, the
context menu and (bulk ones) the selection bar, so all three say and do the same. Writes go through the
controller (controller_lifecycle.py), off the GUI thread; a new key from a roll is shown by the window's one
show-once flow (the controller's `created` signal), exactly as a generated key.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from desktop.ui.activity_log import ActivityLog
from desktop.ui.guard import guarded

if TYPE_CHECKING:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu, QMenuBar

    from desktop.core.clock import Clock
    from desktop.core.values import KeyRecord, RolledKey
    from desktop.ui.dialogs.confirm import ConfirmDialog
    from desktop.ui.dialogs.rename_dialog import RenameDialog
    from desktop.ui.dialogs.roll_dialog import RollDialog
    from desktop.ui.dialogs.scopes_dialog import ScopesDialog
    from desktop.ui.key_table_model import KeyTableModel
    from desktop.ui.notifications import NotificationArea, Notifier
    from desktop.ui.widgets.key_table_view import KeyTableView

#: A confirmation lists at most this many keys by name; the rest are counted.
CONFIRM_LISTED = 10


def confirm_many(parent: QWidget | None, records: Sequence[KeyRecord], verb: str) -> ConfirmDialog:
    """One confirmation for deactivating or deleting several keys: the count, and up to ten of them by name."""
    from desktop.ui.dialogs.confirm import ConfirmDialog

    count = len(records)
    noun = "key" if count == 1 else "keys"
    items = "".join(
        f"<li><b>{html.escape(r.masked)}</b> (“{html.escape(r.description)}”)</li>" for r in records[:CONFIRM_LISTED]
    )
    more = f"<p>…and {count - CONFIRM_LISTED:,} more.</p>" if count > CONFIRM_LISTED else ""
    deleting = verb == "delete"
    return ConfirmDialog(
        parent,
        object_name="confirmDeleteSelectedDialog" if deleting else "confirmDeactivateSelectedDialog",
        title=f"{verb.capitalize()} {count:,} API {noun.capitalize()}",
        text=f"{verb.capitalize()} {count:,} {noun}{' for good' if deleting else ''}?<ul>{items}</ul>{more}",
        detail=(
            "Clients using them will be rejected. This cannot be undone."
            if deleting
            else "Clients using them will be rejected until you activate them again."
        ),
        confirm_text=f"{verb.capitalize()} {count:,} {noun}",
        destructive=True,
    )


class LifecycleActions(ActivityLog):
    """Needs from its window: `controller`, `table`, `model`, `notifier`, `notification_area`, `_clock`,
    `_record`, `_confirm`, `file_menu`, `view_menu`, `menuBar`, `centralWidget`."""

    table: KeyTableView
    model: KeyTableModel
    notifier: Notifier
    notification_area: NotificationArea
    file_menu: QMenu
    _clock: Clock

    if TYPE_CHECKING:

        def _record(self, key_id: int) -> KeyRecord | None: ...

        def _confirm(self, box: ConfirmDialog, on_confirm: Callable[[], None]) -> None: ...

        def menuBar(self) -> QMenuBar: ...

    def _build_lifecycle(self) -> None:
        """The actions, the Edit menu (between File and View), the context menu and the selection bar."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence
        from PySide6.QtWidgets import QMenu

        from desktop.ui.widgets.selection_bar import SelectionBar

        self.rename_dialog: RenameDialog | None = None
        self.roll_dialog: RollDialog | None = None
        self.scopes_dialog: ScopesDialog | None = None

        def action(name: str, text: str, slot: Callable[[], None], shortcut: str | None = None) -> QAction:
            made = QAction(text, self)
            made.setObjectName(name)
            if shortcut:
                made.setShortcut(QKeySequence(shortcut))
            made.triggered.connect(slot)
            return made

        self.rename_action = action("renameAction", "&Rename…", self._on_rename_action_triggered, "F2")
        self.roll_action = action("rollAction", "R&oll Key…", self._on_roll_action_triggered, "Ctrl+R")
        self.scopes_action = action("scopesAction", "&Scopes…", self._on_scopes_action_triggered)
        self.history_action = action("historyAction", "&History…", self._on_history_action_triggered, "Ctrl+H")
        self.activate_selected_action = action(
            "activateSelectedAction", "&Activate Selected", self._on_activate_selected_action_triggered
        )
        self.deactivate_selected_action = action(
            "deactivateSelectedAction", "&Deactivate Selected…", self._on_deactivate_selected_action_triggered
        )
        self.delete_selected_action = action(
            "deleteSelectedAction", "De&lete Selected…", self._on_delete_selected_action_triggered
        )
        self.select_all_action = action("selectAllAction", "Select &All", self._on_select_all_action_triggered)
        self.select_all_action.setShortcut(QKeySequence.StandardKey.SelectAll)
        self.single_actions = (self.rename_action, self.roll_action, self.scopes_action, self.history_action)
        self.bulk_actions = (
            self.activate_selected_action,
            self.deactivate_selected_action,
            self.delete_selected_action,
        )

        self.edit_menu = QMenu("&Edit", self)
        self.edit_menu.setObjectName("editMenu")
        self.key_menu = QMenu(self)
        self.key_menu.setObjectName("keyContextMenu")
        for menu in (self.edit_menu, self.key_menu):
            menu.addActions(list(self.single_actions))
            menu.addSeparator()
            menu.addActions(list(self.bulk_actions))
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.select_all_action)
        self.menuBar().insertMenu(self.view_menu.menuAction(), self.edit_menu)

        self.selection_bar = SelectionBar(
            self.activate_selected_action, self.deactivate_selected_action, self.delete_selected_action, self
        )
        self.selection_bar.clearClicked.connect(self._on_selection_bar_clear_clicked)
        central = self.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None and hasattr(layout, "insertWidget"):
            layout.insertWidget(layout.indexOf(self.table) + 1, self.selection_bar)

        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_custom_context_menu_requested)
        self.table.renameRequested.connect(self._on_table_rename_requested)
        self.table.deleteSelectedRequested.connect(self.delete_selected_action.trigger)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.model.modelReset.connect(self._on_table_selection_changed)
        self.model.pageReplaced.connect(self._on_table_selection_changed)
        self._rolled_wanted: tuple[int, ...] = ()
        self.controller.pageChanged.connect(self._on_controller_page_changed_mark_rolled)
        self._build_activity_log()
        self._on_table_selection_changed()

    # -- selection --

    def selected_records(self) -> list[KeyRecord]:
        return [r for key_id in self.table.selected_key_ids() if (r := self._record(key_id)) is not None]

    def _one_selected(self) -> KeyRecord | None:
        records = self.selected_records()
        return records[0] if len(records) == 1 else None

    def _on_table_selection_changed(self, *_args: object) -> None:
        records = self.selected_records()
        count = len(records)
        any_active = any(r.active for r in records)
        any_inactive = any(not r.active for r in records)
        for single in self.single_actions:
            single.setEnabled(count == 1)
        # Only what applies to the selection: nothing to activate when every selected key is active.
        self.activate_selected_action.setEnabled(any_inactive)
        self.deactivate_selected_action.setEnabled(any_active)
        self.delete_selected_action.setEnabled(count >= 1)
        self.selection_bar.set_selection(count, any_active=any_active, any_inactive=any_inactive)

    def _on_selection_bar_clear_clicked(self) -> None:
        self.table.clearSelection()

    def _on_select_all_action_triggered(self) -> None:
        self.table.selectAll()

    def _on_table_custom_context_menu_requested(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            key_id = self.model.record(index.row()).id
            if key_id not in self.table.selected_key_ids():
                self.table.select_key(key_id)
        self.key_menu.popup(self.table.viewport().mapToGlobal(pos))

    def _on_controller_page_changed_mark_rolled(self, records: Sequence[KeyRecord], _select: object) -> None:
        from PySide6.QtCore import QTimer

        now = self._clock.now()
        # Only a key still valid can be retiring: most pages need no lookup at all. Looked up from the event loop,
        # off the GUI thread: at start-up the first page is painted before the database layer is loaded.
        self._rolled_wanted = tuple(r.id for r in records if r.expires_at is not None and r.expires_at > now)
        if self._rolled_wanted:
            QTimer.singleShot(0, self, self._look_up_rolled)  # type: ignore[call-overload]

    def _look_up_rolled(self) -> None:
        wanted, self._rolled_wanted = self._rolled_wanted, ()
        self.controller.lifecycle.look_up_rolled(wanted, self._on_rolled_found)

    def _on_rolled_found(self, rolled: frozenset[int]) -> None:
        # Once rolled, always rolled (its event stays): keep what was known, so a reload never flickers.
        self.model.set_rolled(self.model.rolled() | rolled)

    # -- rename --

    @guarded
    def _on_rename_action_triggered(self) -> None:
        record = self._one_selected()
        if record is not None:
            self.open_rename(record)

    @guarded
    def _on_table_rename_requested(self, key_id: int) -> None:
        record = self._record(key_id)
        if record is not None:
            self.open_rename(record)

    def open_rename(self, record: KeyRecord) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.rename_dialog import RenameDialog

        if self.rename_dialog is not None or self.controller.files.refuse("rename the key"):
            return
        dialog = self.rename_dialog = RenameDialog(record, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.renameRequested.connect(self._on_rename_dialog_rename_requested)
        dialog.finished.connect(self._on_rename_dialog_finished)
        dialog.open()

    @guarded
    def _on_rename_dialog_rename_requested(self) -> None:
        from desktop.core.errors import DomainError

        dialog = self.rename_dialog
        if dialog is None:
            return
        try:
            description = dialog.description()
        except DomainError as err:
            dialog.show_error(err.message)
            return
        if not self.controller.lifecycle.rename(dialog.record, description, self._on_renamed, self._on_rename_failed):
            dialog.show_error(f"Not renamed: {self.notification_area.text()}")

    def _on_renamed(self, _record: KeyRecord) -> None:
        if self.rename_dialog is not None:
            self.rename_dialog.accept()

    def _on_rename_failed(self, err: Exception, reason: str) -> None:
        self._dialog_failed(self.rename_dialog, err, f"Not renamed: {reason}")

    def _on_rename_dialog_finished(self, _result: int) -> None:
        self.rename_dialog = None

    def _dialog_failed(
        self, dialog: RenameDialog | RollDialog | ScopesDialog | None, err: Exception, text: str
    ) -> None:
        """A key deleted meanwhile closes the dialog (the status bar says so, once); anything else stays in it."""
        from desktop.core.errors import KeyNotFound

        if dialog is None:
            return
        if isinstance(err, KeyNotFound):
            dialog.reject()
        else:
            dialog.show_error(text)

    # -- roll --

    @guarded
    def _on_roll_action_triggered(self) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.roll_dialog import RollDialog

        record = self._one_selected()
        if record is None or self.roll_dialog is not None:
            return
        if self.controller.files.refuse("roll the key"):
            return
        dialog = self.roll_dialog = RollDialog(record, self, clock=self._clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.rollRequested.connect(self._on_roll_dialog_roll_requested)
        dialog.finished.connect(self._on_roll_dialog_finished)
        dialog.open()

    @guarded
    def _on_roll_dialog_roll_requested(self) -> None:
        dialog = self.roll_dialog
        if dialog is None:
            return
        if not self.controller.lifecycle.roll(dialog.record, dialog.grace(), self._on_rolled, self._on_roll_failed):
            dialog.show_error(f"Not rolled: {self.notification_area.text()}")

    def _on_rolled(self, _rolled: RolledKey) -> None:
        # Before the new key's dialog opens (the controller emits `created` next): one modal dialog at a time.
        if self.roll_dialog is not None:
            self.roll_dialog.accept()

    def _on_roll_failed(self, err: Exception, reason: str) -> None:
        self._dialog_failed(self.roll_dialog, err, f"Not rolled: {reason}")

    def _on_roll_dialog_finished(self, _result: int) -> None:
        self.roll_dialog = None

    # -- scopes --

    @guarded
    def _on_scopes_action_triggered(self) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.scopes_dialog import ScopesDialog

        record = self._one_selected()
        if record is None or self.scopes_dialog is not None:
            return
        if self.controller.files.refuse("change the key's scopes"):
            return
        dialog = self.scopes_dialog = ScopesDialog(record, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.scopesRequested.connect(self._on_scopes_dialog_scopes_requested)
        dialog.finished.connect(self._on_scopes_dialog_finished)
        self.controller.lifecycle.scopes_in_use(lambda known: self._on_scopes_known(dialog, known))
        dialog.open()

    def _on_scopes_known(self, dialog: ScopesDialog, known: list[str]) -> None:
        if dialog is self.scopes_dialog:
            dialog.set_known(known)

    @guarded
    def _on_scopes_dialog_scopes_requested(self) -> None:
        from desktop.core.errors import DomainError

        dialog = self.scopes_dialog
        if dialog is None:
            return
        try:
            scopes = dialog.scopes()
        except DomainError as err:
            dialog.show_error(err.message)
            return
        if not self.controller.lifecycle.set_scopes(dialog.record, scopes, self._on_scopes_set, self._on_scopes_failed):
            dialog.show_error(f"Not changed: {self.notification_area.text()}")

    def _on_scopes_set(self, _record: KeyRecord) -> None:
        if self.scopes_dialog is not None:
            self.scopes_dialog.accept()

    def _on_scopes_failed(self, err: Exception, reason: str) -> None:
        self._dialog_failed(self.scopes_dialog, err, f"Not changed: {reason}")

    def _on_scopes_dialog_finished(self, _result: int) -> None:
        self.scopes_dialog = None

    # -- many keys --

    @guarded
    def _on_activate_selected_action_triggered(self) -> None:
        records = self.selected_records()
        if records:
            self.controller.lifecycle.set_active_many(records, True)  # as for one key: activating asks nothing

    @guarded
    def _on_deactivate_selected_action_triggered(self) -> None:
        records = self.selected_records()
        if records and not self.controller.files.refuse("deactivate the keys"):
            self._confirm(
                confirm_many(self, records, "deactivate"),
                lambda: self.controller.lifecycle.set_active_many(records, False),
            )

    @guarded
    def _on_delete_selected_action_triggered(self) -> None:
        records = self.selected_records()
        if records and not self.controller.files.refuse("delete the keys"):
            self._confirm(confirm_many(self, records, "delete"), lambda: self.controller.lifecycle.delete_many(records))

    # -- history --

    @guarded
    def _on_history_action_triggered(self) -> None:
        record = self._one_selected()
        if record is not None:
            self.open_history(record)
