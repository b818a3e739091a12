"""The window's key-lifecycle actions: the Edit menu, the table's context menu, the selection bar, and the
rename, roll, scopes, bulk and history flows; limits (limits_actions.py).

A QObject the window makes (main_window.py), given the controller, the table and its model, and the window's
confirmation and history. The same QActions sit in the Edit menu, the context menu and (bulk ones) the
selection bar, so all three say and do the same. Rename, roll and scopes are one KeyDialogFlow each
(key_dialog_flow.py). Writes go through the controller (controller_lifecycle.py), off the GUI thread; a new key
from a roll is shown by the window's one show-once flow (the controller's `created` signal), as a generated key.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded

if TYPE_CHECKING:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMainWindow, QMenu

    from desktop.core.clock import Clock
    from desktop.core.values import KeyRecord
    from desktop.ui.control.controller import Controller
    from desktop.ui.control.key_table_model import KeyTableModel
    from desktop.ui.dialogs.confirm import ConfirmDialog
    from desktop.ui.dialogs.rename_dialog import RenameDialog
    from desktop.ui.dialogs.roll_dialog import RollDialog
    from desktop.ui.dialogs.scopes_dialog import ScopesDialog
    from desktop.ui.widgets.key_table_view import KeyTableView
    from desktop.ui.window.key_dialog_flow import KeyDialogFlow

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


class LifecycleActions(QObject):
    """The key actions of a window; see the module's docstring. Made by the window, given what it acts on."""

    def __init__(
        self,
        window: QMainWindow,
        controller: Controller,
        table: KeyTableView,
        model: KeyTableModel,
        *,
        view_menu: QMenu,
        confirm: Callable[[ConfirmDialog, Callable[[], None]], None],
        open_history: Callable[[KeyRecord], None],
        status_text: Callable[[], str],
        clock: Clock,
    ) -> None:
        """The actions, the Edit menu (put before `view_menu`), the context menu and the selection bar (put
        under the table). `confirm` asks the window's one confirmation; `status_text` is the status bar's."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence
        from PySide6.QtWidgets import QMenu

        from desktop.ui.widgets.selection_bar import SelectionBar

        super().__init__(window)
        self._window = window
        self.controller = controller
        self.table = table
        self.model = model
        self._confirm = confirm
        self._open_history = open_history
        self._status_text = status_text
        self._clock = clock

        def action(name: str, text: str, slot: Callable[[], None], shortcut: str | None = None) -> QAction:
            made = QAction(text, window)
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

        self.edit_menu = QMenu("&Edit", window)
        self.edit_menu.setObjectName("editMenu")
        self.key_menu = QMenu(window)
        self.key_menu.setObjectName("keyContextMenu")
        for menu in (self.edit_menu, self.key_menu):
            menu.addActions(list(self.single_actions))
            menu.addSeparator()
            menu.addActions(list(self.bulk_actions))
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.select_all_action)
        window.menuBar().insertMenu(view_menu.menuAction(), self.edit_menu)

        self.selection_bar = SelectionBar(
            self.activate_selected_action, self.deactivate_selected_action, self.delete_selected_action, window
        )
        self.selection_bar.clearClicked.connect(self._on_selection_bar_clear_clicked)
        central = window.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None and hasattr(layout, "insertWidget"):
            layout.insertWidget(layout.indexOf(self.table) + 1, self.selection_bar)

        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_custom_context_menu_requested)
        self.table.deleteSelectedRequested.connect(self.delete_selected_action.trigger)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.model.modelReset.connect(self._on_table_selection_changed)
        self.model.pageReplaced.connect(self._on_table_selection_changed)
        self._rolled_wanted: tuple[int, ...] = ()
        self.controller.pageChanged.connect(self._on_controller_page_changed_mark_rolled)
        self._build_key_dialog_flows()
        self._on_table_selection_changed()
        from desktop.ui.window.limits_actions import LimitsActions

        self.limits = LimitsActions(
            window,
            controller,
            table,
            model,
            menus=(self.edit_menu, self.key_menu),
            before=self.history_action,
            selected=self.selected_records,
            status_text=status_text,
            clock=clock,
        )

    def report(self, err: BaseException, operation: Operation) -> None:
        self.controller.report(err, operation)

    def _record(self, key_id: int) -> KeyRecord | None:
        row = self.model.row_of(key_id)
        return None if row is None else self.model.record(row)

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
            QTimer.singleShot(0, self, self._look_up_rolled)

    def _look_up_rolled(self) -> None:
        wanted, self._rolled_wanted = self._rolled_wanted, ()
        self.controller.lifecycle.look_up_rolled(wanted, self._on_rolled_found)

    def _on_rolled_found(self, rolled: frozenset[int]) -> None:
        # Once rolled, always rolled (its event stays): keep what was known, so a reload never flickers.
        self.model.set_rolled(self.model.rolled() | rolled)

    # -- rename, roll, scopes: one flow each (key_dialog_flow.py) --

    def _build_key_dialog_flows(self) -> None:
        from desktop.ui.window.key_dialog_flow import KeyDialogFlow

        controller, lifecycle = self.controller, self.controller.lifecycle

        def flow(**given: Any) -> Any:
            return KeyDialogFlow(
                self._window, refuse=controller.files.refuse, status_text=self._status_text, report=self.report, **given
            )

        def rename_dialog(record: KeyRecord) -> RenameDialog:
            from desktop.ui.dialogs.rename_dialog import RenameDialog

            return RenameDialog(record, self._window)

        def roll_dialog(record: KeyRecord) -> RollDialog:
            from desktop.ui.dialogs.roll_dialog import RollDialog

            return RollDialog(record, self._window, clock=self._clock)

        def scopes_dialog(record: KeyRecord) -> ScopesDialog:
            from desktop.ui.dialogs.scopes_dialog import ScopesDialog

            return ScopesDialog(record, self._window)

        self.rename_flow: KeyDialogFlow[RenameDialog, str] = flow(
            make=rename_dialog,
            requested=lambda dialog: dialog.renameRequested,
            value=lambda dialog: dialog.description(),
            call=lifecycle.rename,
            operation=Operation.RENAME,
        )
        self.roll_flow: KeyDialogFlow[RollDialog, timedelta] = flow(
            make=roll_dialog,
            requested=lambda dialog: dialog.rollRequested,
            value=lambda dialog: dialog.grace(),
            call=lifecycle.roll,
            operation=Operation.ROLL,
        )
        self.scopes_flow: KeyDialogFlow[ScopesDialog, tuple[str, ...]] = flow(
            make=scopes_dialog,
            requested=lambda dialog: dialog.scopesRequested,
            value=lambda dialog: dialog.scopes(),
            call=lifecycle.set_scopes,
            operation=Operation.SET_SCOPES,
            opened=self._on_scopes_dialog_opened,
        )

    def _on_scopes_dialog_opened(self, dialog: ScopesDialog) -> None:
        # Completion: read in the background; kept only if this dialog is still the one open.
        self.controller.lifecycle.scopes_in_use(lambda known: self._on_scopes_known(dialog, known))

    def _on_scopes_known(self, dialog: ScopesDialog, known: list[str]) -> None:
        if dialog is self.scopes_flow.dialog:
            dialog.set_known(known)

    @guarded
    def _on_rename_action_triggered(self) -> None:
        self.rename_flow.open(self._one_selected())

    @guarded
    def open_rename(self, record: KeyRecord) -> None:
        self.rename_flow.open(record)

    @guarded
    def _on_roll_action_triggered(self) -> None:
        self.roll_flow.open(self._one_selected())

    @guarded
    def _on_scopes_action_triggered(self) -> None:
        self.scopes_flow.open(self._one_selected())

    # -- many keys --

    @guarded
    def _on_activate_selected_action_triggered(self) -> None:
        records = self.selected_records()
        if records:
            self.controller.lifecycle.set_active_many(records, True)  # as for one key: activating asks nothing

    @guarded
    def _on_deactivate_selected_action_triggered(self) -> None:
        records = self.selected_records()
        if records and not self.controller.files.refuse(Operation.DEACTIVATE, many=True):
            self._confirm(
                confirm_many(self._window, records, "deactivate"),
                lambda: self.controller.lifecycle.set_active_many(records, False),
            )

    @guarded
    def _on_delete_selected_action_triggered(self) -> None:
        records = self.selected_records()
        if records and not self.controller.files.refuse(Operation.DELETE, many=True):
            self._confirm(
                confirm_many(self._window, records, "delete"), lambda: self.controller.lifecycle.delete_many(records)
            )

    # -- history --

    @guarded
    def _on_history_action_triggered(self) -> None:
        record = self._one_selected()
        if record is not None:
            self._open_history(record)
