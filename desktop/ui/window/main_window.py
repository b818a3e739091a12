"""The API Keys window: layout, menus and dialogs; its controller (controller.py) does the database side.

Built the qutebrowser way: children first, then one `_connect_signals`. The window asks the controller
(toggle, delete, page) and shows what it emits. Its flows are objects it makes in build(), each given what it
needs: the database menu (database_actions.py), Generate (generate_flow.py), the key actions with rename, roll
and scopes (lifecycle_actions.py), the audit log (activity_log.py), search and filter (query_actions.py) and
export (export_actions.py). The launcher paints the frame first
(`MainWindow(build=False)`), then calls build(): keep this module's imports light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

# Only what the frame needs: the launcher paints the frame before anything else is imported (build()).
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from desktop.core.clock import SYSTEM_CLOCK, Clock
from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded
from desktop.ui.names import APP_NAME
from desktop.ui.platform.private_settings import PrivateSettings
from desktop.ui.window.reminder_action import add_reminder_action

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from desktop.core.paging import Pager
    from desktop.core.store import KeyStore
    from desktop.core.values import KeyRecord
    from desktop.ui.dialogs.confirm import ConfirmDialog

SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_PAGE_SIZE = "table/pageSize"


class MainWindow(QMainWindow):
    """Owns its controller, and through it the store it is given (closed on close)."""

    def __init__(
        self,
        store: KeyStore | None = None,
        *,
        settings: QSettings | None = None,
        poll_interval_ms: int | None = None,
        clipboard_clear_ms: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
        build: bool = True,
    ) -> None:
        """With `build=False` only the frame (title, size) is made: show it, then call build()."""
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        # Every write to the settings passes this gate: never a password or a key, the file private (0600).
        self._settings = PrivateSettings(settings)
        self._clock = clock
        self._shut_down = False
        self._built = False
        self._intervals = (poll_interval_ms, clipboard_clear_ms)
        self.confirm_dialog: ConfirmDialog | None = None
        self._confirm_action: Callable[[], None] | None = None
        geometry = self._settings.value(SETTINGS_GEOMETRY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1160, 680)  # room for every column of a limited key at the usual font (test_column_widths)
        if build:
            self.build(store)

    @property
    def built(self) -> bool:
        return self._built

    def build(self, store: KeyStore | None = None) -> None:
        """Everything inside the frame. Its modules are imported here, so the frame can be on screen first."""
        if self._built:
            return
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

        from desktop.core.paging import PAGE_SIZES
        from desktop.ui import theme
        from desktop.ui.control.controller import POLL_INTERVAL_MS, Controller
        from desktop.ui.control.key_table_model import KeyTableModel
        from desktop.ui.control.notifications import NotificationArea
        from desktop.ui.platform.clipboard import CLEAR_AFTER_MS, SecretClipboard
        from desktop.ui.widgets.focus_ring import FocusRing, ring_every_window
        from desktop.ui.widgets.key_table_view import KeyTableView
        from desktop.ui.widgets.pagination_bar import PaginationBar
        from desktop.ui.window.activity_log import ActivityLog
        from desktop.ui.window.database_actions import DatabaseActions
        from desktop.ui.window.export_actions import ExportActions
        from desktop.ui.window.generate_flow import GenerateFlow
        from desktop.ui.window.lifecycle_actions import LifecycleActions
        from desktop.ui.window.query_actions import EMPTY_TEXT, QueryActions
        from desktop.ui.window.usage_flows import UsageFlows

        self._built = True
        poll_interval_ms, clipboard_clear_ms = self._intervals
        self.setWindowIcon(theme.icon("app"))
        self.controller = Controller(
            self,
            page_size=self._saved_page_size(),
            poll_interval_ms=POLL_INTERVAL_MS if poll_interval_ms is None else poll_interval_ms,
        )
        self.notifier = self.controller.notifier
        self.runner = self.controller.runner
        self.poll_timer = self.controller.poll_timer
        self.clipboard = SecretClipboard(
            self, clear_after_ms=CLEAR_AFTER_MS if clipboard_clear_ms is None else clipboard_clear_ms
        )
        self.model = KeyTableModel(self)
        self.databases = DatabaseActions(self, self.controller, self._settings)

        # -- header --
        title = QLabel("API Keys", self)
        title.setObjectName("titleLabel")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        self.location_label = QLabel(self)
        self.location_label.setObjectName("locationLabel")
        self.location_label.setTextFormat(Qt.TextFormat.PlainText)
        self.generate_button = QPushButton("Generate New API Key", self)
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setAccessibleName("Generate New API Key")
        self.generate_button.setToolTip("Generate a new API key (Ctrl+N)")
        # Nested layouts hang off widgets: PySide does not always hand a bare layout's
        # ownership to the layout it is added to, and Python would free it under Qt.
        header_widget = QWidget(self)
        header_text_widget = QWidget(header_widget)
        header_text = QVBoxLayout(header_text_widget)
        header_text.setContentsMargins(0, 0, 0, 0)
        header_text.setSpacing(0)
        header_text.addWidget(title)
        header_text.addWidget(self.location_label)
        header = QHBoxLayout(header_widget)
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(header_text_widget, 1)
        header.addWidget(self.generate_button, 0, Qt.AlignmentFlag.AlignVCenter)

        # -- table and pager --
        self.table = KeyTableView(self.model, self)
        self.table.set_empty_text(EMPTY_TEXT)
        self.empty_label = self.table.empty_label
        self.pagination = PaginationBar(PAGE_SIZES, self._saved_page_size(), self)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(header_widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.pagination)
        self.setCentralWidget(central)

        # -- status bar --
        self.notification_area = NotificationArea(self)
        self.clipboard_label = QLabel(self)
        self.clipboard_label.setObjectName("clipboardLabel")
        self.clipboard_label.hide()
        self.statusBar().addWidget(self.notification_area, 1)
        self.statusBar().addPermanentWidget(self.clipboard_label)

        self.generate_flow = GenerateFlow(self, self.controller, self.clipboard, self.notification_area, self._clock)
        self._build_menus()
        self.activity_log = ActivityLog(self, self.controller, self.view_menu)
        self.key_actions = LifecycleActions(
            self,
            self.controller,
            self.table,
            self.model,
            view_menu=self.view_menu,
            confirm=self._confirm,
            open_history=self.activity_log.open_history,
            status_text=self.notification_area.text,
            clock=self._clock,
        )
        self.selection_bar = self.key_actions.selection_bar
        self.query_bar = QueryActions(self, self.controller, self.table, self._settings, self.view_menu)
        self.exports = ExportActions(self, self.controller, self.file_menu, self.quit_action)
        self.usage = UsageFlows(
            self, self.key_actions, self.view_menu, self.activity_log.open_history, self.query_bar.apply_query
        )
        self._set_tab_order()
        self.focus_ring = FocusRing(self)
        ring_every_window()  # the dialogs too

        self._connect_signals()
        self.query_bar.connect_signals()

        self._set_enabled(False)
        if store is not None:
            self.set_store(store)

    def _set_tab_order(self) -> None:
        """Tab in reading order (top to bottom, left to right); no stop per row button, nor the health links."""
        from desktop.ui.widgets.focus_ring import chain_tab_order

        bar, pager, query = self.selection_bar, self.pagination, self.query_bar
        chain_tab_order(self.generate_button, query.expiry_banner.show_button, query.search_edit, query.status_filter)
        chain_tab_order(
            query.status_filter, self.table, self.table.empty_button, *bar.buttons.values(), bar.clear_button
        )
        chain_tab_order(bar.clear_button, pager.size_combo, pager.prev_button, pager.next_button)

    def _connect_signals(self) -> None:
        """The owner connects its children (qutebrowser's MainWindow._connect_signals): all wiring in one place."""
        controller = self.controller
        controller.notice.connect(self.notification_area.show_notice)
        controller.noticeReleased.connect(self.notification_area.release)
        controller.pageChanged.connect(self._on_controller_page_changed)
        controller.totalChanged.connect(self._on_controller_total_changed)
        controller.storeChanged.connect(self._on_controller_store_changed)
        controller.unchanged.connect(self._on_controller_unchanged)
        self.generate_button.clicked.connect(self.generate_flow.open)
        self.generate_action.triggered.connect(self.generate_flow.open)
        self.previous_action.triggered.connect(self._on_pagination_previous_clicked)
        self.next_action.triggered.connect(self._on_pagination_next_clicked)
        self.reload_action.triggered.connect(self._on_reload_action_triggered)
        self.table.toggleRequested.connect(self._on_table_toggle_requested)
        self.table.deleteRequested.connect(self._on_table_delete_requested)
        self.pagination.previousClicked.connect(self._on_pagination_previous_clicked)
        self.pagination.nextClicked.connect(self._on_pagination_next_clicked)
        self.pagination.pageSizeChanged.connect(self._on_pagination_page_size_changed)
        self.clipboard.countdown.connect(self._on_clipboard_countdown)
        self.clipboard.cleared.connect(self._on_clipboard_cleared)

    # -- building --

    def _build_menus(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence

        menu = self.menuBar()
        file_menu = self.file_menu = menu.addMenu("&File")
        self.generate_action = QAction("&Generate New API Key…", self)
        self.generate_action.setShortcut(QKeySequence.StandardKey.New)
        databases = self.databases
        self.new_database_action, self.open_action = databases.new_database_action, databases.open_action
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.generate_action)
        file_menu.addSeparator()
        file_menu.addAction(self.new_database_action)
        file_menu.addAction(self.open_action)
        file_menu.addAction(databases.connect_action)
        file_menu.addMenu(databases.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = self.view_menu = menu.addMenu("&View")
        self.previous_action = QAction("&Previous Page", self)
        self.previous_action.setShortcuts([QKeySequence("Alt+Left"), QKeySequence(Qt.Key.Key_PageUp)])
        self.next_action = QAction("&Next Page", self)
        self.next_action.setShortcuts([QKeySequence("Alt+Right"), QKeySequence(Qt.Key.Key_PageDown)])
        self.reload_action = QAction("&Reload", self)
        self.reload_action.setShortcut(QKeySequence.StandardKey.Refresh)
        view_menu.addAction(self.previous_action)
        view_menu.addAction(self.next_action)
        view_menu.addSeparator()
        view_menu.addAction(self.reload_action)
        view_menu.addSeparator()
        self.reminder_action = add_reminder_action(self, view_menu, self.controller, self.report)

        help_menu = self.help_menu = menu.addMenu("&Help")
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(databases.about)
        help_menu.addAction(self.about_action)

    def _saved_page_size(self) -> int:
        from desktop.core.paging import DEFAULT_PAGE_SIZE, PAGE_SIZES

        try:
            size = int(self._settings.value(SETTINGS_PAGE_SIZE, DEFAULT_PAGE_SIZE))  # type: ignore[call-overload]  # value() is `object`: int() refusing it is caught
        except (TypeError, ValueError):
            size = DEFAULT_PAGE_SIZE
        return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE

    # -- the store --

    @property
    def store(self) -> KeyStore | None:
        return self.controller.store

    @property
    def pager(self) -> Pager | None:
        return self.controller.pager

    @property
    def total(self) -> int | None:
        """The cached count of all keys; refreshed only when the data changed."""
        return self.controller.total

    def set_store(self, store: KeyStore, *, count_now: bool = True) -> None:
        """Show `store` (the window owns it from now on), closing the one shown before; see Controller.set_store."""
        self.controller.set_store(store, count_now=count_now)

    def report(self, err: BaseException, operation: Operation, record: KeyRecord | None = None) -> None:
        self.controller.report(err, operation, record)

    def _on_controller_store_changed(self, location: str) -> None:
        from desktop.ui.text import plain_tooltip

        # Qt appends " — API Key Manager" (the application display name) to every title itself.
        self.setWindowTitle(location)
        self.location_label.setText(location)
        self.location_label.setToolTip(plain_tooltip(f"Database: {location}"))
        self._set_enabled(True)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.generate_button, self.table, self.pagination):
            widget.setEnabled(enabled)
        for action in (self.generate_action, self.reload_action):
            action.setEnabled(enabled)

    # -- showing --

    def _on_controller_page_changed(self, records: tuple[KeyRecord, ...], select: int | None) -> None:
        keep = select if select is not None else self.table.selected_key_id()
        self.model.reload(records)
        if keep is not None:
            self.table.select_key(keep)

    def _show_page(self, select: int | None = None) -> None:
        """Show the pager's current page (after moving it directly, as the benchmark does)."""
        pager = self.controller.pager
        if pager is not None:
            self._on_controller_page_changed(pager.items, select)
            self._on_controller_total_changed(self.controller.total)

    def _on_controller_total_changed(self, total: int | None) -> None:
        pager = self.controller.pager
        if pager is None:
            return
        self.pagination.set_state(pager.label(total), can_go_back=pager.has_newer, can_go_forward=pager.has_older)
        self.previous_action.setEnabled(pager.has_newer)
        self.next_action.setEnabled(pager.has_older)

    def _on_controller_unchanged(self) -> None:
        if self.model.expiry_passed():
            self.model.reload(self.model.records())  # a key on the page expired meanwhile

    # -- toggle and delete --

    def _record(self, key_id: int) -> KeyRecord | None:
        row = self.model.row_of(key_id)
        return None if row is None else self.model.record(row)

    @guarded
    def _on_table_toggle_requested(self, key_id: int) -> None:
        from desktop.ui.dialogs.confirm import confirm_deactivate

        record = self._record(key_id)
        if record is None:
            return
        if self.controller.files.refuse(Operation.toggling(not record.active)):
            return
        if record.active:
            self._confirm(confirm_deactivate(self, record), lambda: self.controller.set_active(record, False))
        else:
            self.controller.set_active(record, True)

    @guarded
    def _on_table_delete_requested(self, key_id: int) -> None:
        from desktop.ui.dialogs.confirm import confirm_delete

        record = self._record(key_id)
        if record is None:
            return
        if self.controller.files.refuse(Operation.DELETE):
            return
        self._confirm(confirm_delete(self, record), lambda: self.controller.delete(record))

    def _confirm(self, box: ConfirmDialog, on_confirm: Callable[[], None]) -> None:
        if self.confirm_dialog is not None:
            box.deleteLater()
            return
        self.confirm_dialog = box
        self._confirm_action = on_confirm
        # A bound method, not a closure over `box`: a dialog whose own signal holds a
        # reference to it crashed PySide when it was deleted.
        box.finished.connect(self._on_confirm_dialog_finished)
        box.open()

    @guarded
    def _on_confirm_dialog_finished(self, _result: int) -> None:
        box, action = self.confirm_dialog, self._confirm_action
        self.confirm_dialog, self._confirm_action = None, None
        if box is None:
            return
        confirmed = box.confirmed()
        box.deleteLater()
        if confirmed and action is not None:
            action()

    # -- paging --

    def _on_pagination_previous_clicked(self) -> None:
        self.controller.previous()
        self.table.scrollToTop()  # the page replaced the last in place: read from its first row, not its end

    def _on_pagination_next_clicked(self) -> None:
        self.controller.next()
        self.table.scrollToTop()

    def _on_reload_action_triggered(self) -> None:
        self.controller.reload()

    @guarded
    def _on_pagination_page_size_changed(self, size: int) -> None:
        self._settings.setValue(SETTINGS_PAGE_SIZE, size)
        self.controller.resize(size)

    # -- clipboard --

    def _on_clipboard_countdown(self, seconds: int) -> None:
        if seconds <= 0:
            self.clipboard_label.hide()
            self.clipboard_label.clear()
            return
        self.clipboard_label.setText(f"Copied key: clipboard clears in {seconds} s")
        self.clipboard_label.show()

    def _on_clipboard_cleared(self) -> None:
        self.notifier.info("Cleared the copied key from the clipboard.")

    # -- closing --

    def shutdown(self) -> None:
        """Save the window's place, take the key off the clipboard, finish writes, close the store. Idempotent."""
        if self._shut_down:
            return
        self._settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        self._settings.sync()
        if not self._built:  # closed while only the frame was on screen: nothing else to finish yet
            return
        self._shut_down = True
        self.generate_flow.discard()
        self.clipboard.clear_if_owned()
        self.exports.cancel_export()
        self.controller.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
