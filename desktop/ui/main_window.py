"""The API Keys window: generate, copy once, see, activate/deactivate, delete and page through keys."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.core.errors import DomainError, KeyNotFound
from desktop.core.paging import DEFAULT_PAGE_SIZE, PAGE_SIZES, Pager
from desktop.core.presentation import describe_key
from desktop.ui import theme
from desktop.ui.clipboard import CLEAR_AFTER_MS, SecretClipboard
from desktop.ui.dialogs.confirm import ConfirmDialog, confirm_deactivate, confirm_delete
from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog
from desktop.ui.key_table_model import KeyTableModel
from desktop.ui.names import APP_NAME, DATABASE_FILTER
from desktop.ui.notifications import NotificationArea, Notifier, guarded
from desktop.ui.tasks import TaskRunner
from desktop.ui.widgets.key_table_view import KeyTableView
from desktop.ui.widgets.pagination_bar import PaginationBar

if TYPE_CHECKING:
    from desktop.core.store import KeyStore
    from desktop.core.values import CreatedKey, KeyRecord
    from desktop.ui.dialogs.generate_dialog import GenerateKeyDialog

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 1000
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_PAGE_SIZE = "table/pageSize"


class MainWindow(QMainWindow):
    """Owns the store it is given (closes it on close); reports every outcome through one notifier."""

    def __init__(
        self,
        store: KeyStore | None = None,
        *,
        settings: QSettings | None = None,
        poll_interval_ms: int = POLL_INTERVAL_MS,
        clipboard_clear_ms: int = CLEAR_AFTER_MS,
        today: Callable[[], date] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(theme.icon("app"))
        self._settings = settings if settings is not None else QSettings()
        self._today = today
        self._store: KeyStore | None = None
        self._pager: Pager | None = None
        self._total: int | None = None
        self._seen_version: int | None = None
        self._poll_error: str | None = None
        self._count_running = False
        self._count_dirty = False
        self._shut_down = False
        self.generate_dialog: GenerateKeyDialog | None = None
        self.key_dialog: KeyCreatedDialog | None = None
        self.confirm_dialog: ConfirmDialog | None = None
        self._confirm_action: Callable[[], None] | None = None

        self.notifier = Notifier(self)
        self.runner = TaskRunner(self)
        self.clipboard = SecretClipboard(self, clear_after_ms=clipboard_clear_ms)
        self.model = KeyTableModel(self)

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
        self.empty_label = QLabel("No API keys yet. Generate one to get started.", self)
        self.empty_label.setObjectName("emptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()
        size = self._saved_page_size()
        self.pagination = PaginationBar(PAGE_SIZES, size, self)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(header_widget)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.pagination)
        self.setCentralWidget(central)

        # -- status bar --
        self.notification_area = NotificationArea(self)
        self.clipboard_label = QLabel(self)
        self.clipboard_label.setObjectName("clipboardLabel")
        self.clipboard_label.hide()
        self.statusBar().addWidget(self.notification_area, 1)
        self.statusBar().addPermanentWidget(self.clipboard_label)

        self._build_menus()
        QWidget.setTabOrder(self.generate_button, self.table)

        self.poll_timer = QTimer(self)
        self.poll_timer.setObjectName("pollTimer")
        self.poll_timer.setInterval(poll_interval_ms)

        # -- wiring: the owner connects its children --
        self.notifier.posted.connect(self.notification_area.show_notice)
        self.generate_button.clicked.connect(self._on_generate_button_clicked)
        self.table.toggleRequested.connect(self._on_table_toggle_requested)
        self.table.deleteRequested.connect(self._on_table_delete_requested)
        self.pagination.previousClicked.connect(self._on_pagination_previous_clicked)
        self.pagination.nextClicked.connect(self._on_pagination_next_clicked)
        self.pagination.pageSizeChanged.connect(self._on_pagination_page_size_changed)
        self.clipboard.countdown.connect(self._on_clipboard_countdown)
        self.clipboard.cleared.connect(self._on_clipboard_cleared)
        self.poll_timer.timeout.connect(self._on_poll_timer_timeout)

        geometry = self._settings.value(SETTINGS_GEOMETRY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1040, 680)
        self._set_enabled(False)
        if store is not None:
            self.set_store(store)

    # -- building --

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.generate_action = QAction("&Generate New API Key…", self)
        self.generate_action.setShortcut(QKeySequence.StandardKey.New)
        self.generate_action.triggered.connect(self._on_generate_button_clicked)
        self.open_action = QAction("&Open Database…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.generate_action)
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = menu.addMenu("&View")
        self.previous_action = QAction("&Previous Page", self)
        self.previous_action.setShortcuts([QKeySequence("Alt+Left"), QKeySequence(Qt.Key.Key_PageUp)])
        self.previous_action.triggered.connect(self._on_pagination_previous_clicked)
        self.next_action = QAction("&Next Page", self)
        self.next_action.setShortcuts([QKeySequence("Alt+Right"), QKeySequence(Qt.Key.Key_PageDown)])
        self.next_action.triggered.connect(self._on_pagination_next_clicked)
        self.reload_action = QAction("&Reload", self)
        self.reload_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.reload_action.triggered.connect(self._on_reload_action_triggered)
        view_menu.addAction(self.previous_action)
        view_menu.addAction(self.next_action)
        view_menu.addSeparator()
        view_menu.addAction(self.reload_action)

        help_menu = menu.addMenu("&Help")
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self._on_about_action_triggered)
        help_menu.addAction(self.about_action)

    def _saved_page_size(self) -> int:
        try:
            size = int(self._settings.value(SETTINGS_PAGE_SIZE, DEFAULT_PAGE_SIZE))
        except (TypeError, ValueError):
            size = DEFAULT_PAGE_SIZE
        return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE

    # -- the store --

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

    def set_store(self, store: KeyStore, *, count_now: bool = True) -> None:
        """Show `store` (the window owns it from now on), closing the one shown before.

        With `count_now` the total is counted before returning, so the page label reads "1–25 of N"
        at once; the launcher passes False to paint the first page first and count in the background.
        """
        old = self._store
        if old is not None:
            self.runner.wait()
            old.close()
        self._store = store
        self._pager = Pager(store, self.pagination.page_size())
        self._total = None
        self._poll_error = None
        self.setWindowTitle(f"{APP_NAME} — {store.location}")
        self.location_label.setText(store.location)
        self.location_label.setToolTip(f"Database: {store.location}")
        self._set_enabled(True)
        self._seen_version = store.data_version()
        self._pager.first()
        if count_now:
            self._total = store.count()  # one indexed COUNT (~10 ms at a million keys)
        self._show_page()
        if not count_now:
            self._recount()
        self.poll_timer.start()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.generate_button, self.table, self.pagination):
            widget.setEnabled(enabled)
        for action in (self.generate_action, self.reload_action):
            action.setEnabled(enabled)

    # -- showing --

    def _show_page(self, select: int | None = None) -> None:
        pager = self._pager
        if pager is None:
            return
        keep = select if select is not None else self.table.selected_key_id()
        self.model.reload(pager.items)
        if keep is not None:
            self.table.select_key(keep)
        self.empty_label.setVisible(not pager.items)
        self._update_pagination()

    def _update_pagination(self) -> None:
        pager = self._pager
        if pager is None:
            return
        self.pagination.set_state(pager.label(self._total), can_go_back=pager.has_newer, can_go_forward=pager.has_older)
        self.previous_action.setEnabled(pager.has_newer)
        self.next_action.setEnabled(pager.has_older)

    def _refresh(self, select: int | None = None, *, top: bool = False) -> None:
        """After any change: the same place reloaded (or the top), the count refreshed in the background."""
        store, pager = self._store, self._pager
        if store is None or pager is None:
            return
        # Read the version first: a change after it is caught by the next poll.
        self._seen_version = store.data_version()
        if top:
            pager.first()
        else:
            pager.reload()
        self._show_page(select)
        self._recount()

    def _recount(self) -> None:
        """Count all keys and this page's offset off the GUI thread; coalesced while one runs."""
        store, pager = self._store, self._pager
        if store is None or pager is None:
            return
        if self._count_running:
            self._count_dirty = True
            return
        self._count_running = True
        start = pager.start

        def work() -> tuple[int, int]:
            total = store.count()
            return total, (store.count(newer_than=start) if start is not None else 0)

        self.runner.submit(
            work,
            lambda result: self._on_count_done(store, start, result),
            lambda err: self._on_count_failed(err),
        )

    def _on_count_done(self, store: KeyStore, start: Any, result: tuple[int, int]) -> None:
        self._count_running = False
        if store is self._store and self._pager is not None:
            self._total, offset = result
            self._pager.set_position(start, offset)
            self._update_pagination()
        if self._count_dirty:
            self._count_dirty = False
            self._recount()

    def _on_count_failed(self, err: Exception) -> None:
        self._count_running = False
        self._count_dirty = False
        self.report_exception(err, "count")

    # -- errors at the UI boundary --

    def report_exception(self, err: BaseException, context: str) -> None:
        """Log (no secrets: messages name keys only masked) and show; the window carries on."""
        if isinstance(err, KeyNotFound):
            log.info("%s: key #%d no longer exists", context, err.key_id)
            self.notifier.error(
                "That key no longer exists: another program or window deleted it. The list has been reloaded."
            )
            self._safe_refresh()
        elif isinstance(err, DomainError):
            log.warning("%s failed: %s", context, err.message)
            self.notifier.error(err.message)
        else:
            log.error("unexpected error in %s", context, exc_info=err)
            self.notifier.error(
                f"Something went wrong ({type(err).__name__}). The details are in the log; the window keeps working."
            )

    def _safe_refresh(self) -> None:
        try:
            self._refresh()
        except DomainError as err:
            self.notifier.error(err.message)

    def _write_failed(self, err: Exception, record: KeyRecord, what: str) -> None:
        if isinstance(err, KeyNotFound):
            log.info("could not %s key #%d: it no longer exists", what, record.id)
            self.notifier.error(
                f"{describe_key(record)} no longer exists: another program or window deleted it. "
                "The list has been reloaded."
            )
            self._safe_refresh()
        elif isinstance(err, DomainError):
            log.warning("could not %s key #%d: %s", what, record.id, err.message)
            self.notifier.error(f"Could not {what} {record.masked}: {err.message}")
        else:
            self.report_exception(err, what)

    # -- generate --

    @guarded
    def _on_generate_button_clicked(self) -> None:
        if self._store is None:
            return
        if self.generate_dialog is not None:
            self.generate_dialog.raise_()
            self.generate_dialog.activateWindow()
            return
        # Imported on first use: the first paint does not wait for the dialog's module.
        from desktop.ui.dialogs.generate_dialog import GenerateKeyDialog

        dialog = GenerateKeyDialog(self, today=self._today() if self._today else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.generateRequested.connect(self._on_generate_dialog_generate_requested)
        dialog.finished.connect(self._on_generate_dialog_finished)
        self.generate_dialog = dialog
        dialog.open()

    def _on_generate_dialog_finished(self, _result: int) -> None:
        self.generate_dialog = None

    @guarded
    def _on_generate_dialog_generate_requested(self) -> None:
        dialog, store = self.generate_dialog, self._store
        if dialog is None or store is None:
            return
        try:
            description, expires_on = dialog.description(), dialog.expires_on()
        except DomainError as err:
            dialog.show_error(err.message)
            return
        self.runner.submit(
            lambda: store.create(description, expires_on),
            self._on_create_done,
            self._on_create_failed,
        )

    @guarded
    def _on_create_done(self, created: CreatedKey) -> None:
        record = created.record
        if self.generate_dialog is not None:
            self.generate_dialog.accept()
        self.notifier.info(f"Generated {describe_key(record)}. Copy it now: it is shown only once.")
        dialog = KeyCreatedDialog(created.key, record, self.clipboard, self)
        dialog.finished.connect(self._on_key_dialog_finished)
        self.key_dialog = dialog
        dialog.open()
        # The new key is the newest: show the top of the list, with it selected.
        self._refresh(select=record.id, top=True)

    def _on_create_failed(self, err: Exception) -> None:
        message = err.message if isinstance(err, DomainError) else f"unexpected {type(err).__name__}"
        if self.generate_dialog is not None:
            self.generate_dialog.show_error(f"The key was not created: {message}")
        if isinstance(err, DomainError):
            log.warning("could not create a key: %s", err.message)
            self.notifier.error(f"Could not generate a key: {err.message}")
        else:
            self.report_exception(err, "create")

    def _on_key_dialog_finished(self, _result: int) -> None:
        dialog = self.key_dialog
        self.key_dialog = None
        if dialog is not None and not dialog.copied():
            self.notifier.info("The key was not copied; if you need it, deactivate that key and generate a new one.")

    # -- toggle and delete --

    def _record(self, key_id: int) -> KeyRecord | None:
        row = self.model.row_of(key_id)
        return None if row is None else self.model.record(row)

    @guarded
    def _on_table_toggle_requested(self, key_id: int) -> None:
        record = self._record(key_id)
        if record is None or self._store is None:
            return
        if record.active:
            self._confirm(confirm_deactivate(self, record), lambda: self._set_active(record, False))
        else:
            self._set_active(record, True)

    @guarded
    def _on_table_delete_requested(self, key_id: int) -> None:
        record = self._record(key_id)
        if record is None or self._store is None:
            return
        self._confirm(confirm_delete(self, record), lambda: self._delete(record))

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

    def _on_confirm_dialog_finished(self, _result: int) -> None:
        box, action = self.confirm_dialog, self._confirm_action
        self.confirm_dialog, self._confirm_action = None, None
        if box is None:
            return
        confirmed = box.confirmed()
        box.deleteLater()
        if confirmed and action is not None:
            self._run_guarded(action, "confirm")

    def _run_guarded(self, action: Callable[[], None], context: str) -> None:
        try:
            action()
        except Exception as err:
            self.report_exception(err, context)

    def _set_active(self, record: KeyRecord, active: bool) -> None:
        store = self._store
        if store is None:
            return
        what = "activate" if active else "deactivate"
        done = "Activated" if active else "Deactivated"
        consequence = "clients using it are accepted again" if active else "clients using it will be rejected"
        self.runner.submit(
            lambda: store.set_active(record.id, active),
            lambda updated: self._after_write(f"{done} {describe_key(updated)}: {consequence}.", updated.id),
            lambda err: self._write_failed(err, record, what),
        )

    def _delete(self, record: KeyRecord) -> None:
        store = self._store
        if store is None:
            return
        self.runner.submit(
            lambda: store.delete(record.id),
            lambda _none: self._after_write(f"Deleted {describe_key(record)}.", None),
            lambda err: self._write_failed(err, record, "delete"),
        )

    @guarded
    def _after_write(self, message: str, select: int | None) -> None:
        self.notifier.info(message)
        self._refresh(select=select)

    # -- paging --

    @guarded
    def _on_pagination_previous_clicked(self) -> None:
        if self._pager is not None and self._pager.previous():
            self._show_page()

    @guarded
    def _on_pagination_next_clicked(self) -> None:
        if self._pager is not None and self._pager.next():
            self._show_page()

    @guarded
    def _on_pagination_page_size_changed(self, size: int) -> None:
        self._settings.setValue(SETTINGS_PAGE_SIZE, size)
        if self._pager is not None:
            self._pager.resize(size)
            self._show_page()

    @guarded
    def _on_reload_action_triggered(self) -> None:
        self._refresh()

    # -- outside changes --

    def _on_poll_timer_timeout(self) -> None:
        store = self._store
        if store is None:
            return
        try:
            version = store.data_version()
            if version == self._seen_version:
                if self.model.expiry_passed():
                    self.model.reload(self.model.records())  # a key on the page expired meanwhile
                return
            self._refresh()
        except DomainError as err:
            # Once per distinct problem, not every second.
            if err.message != self._poll_error:
                self._poll_error = err.message
                self.notifier.error(err.message)
            return
        except Exception as err:
            self.poll_timer.stop()
            self.report_exception(err, "poll")
            return
        self._poll_error = None

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

    # -- menus --

    @guarded
    def _on_open_action_triggered(self) -> None:
        start = ""
        if self._store is not None and "://" not in self._store.location:
            start = self._store.location
        dialog = QFileDialog(self, "Open Database", start, DATABASE_FILTER)
        dialog.setObjectName("openDatabaseDialog")
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.open_database)
        dialog.open()

    @guarded
    def open_database(self, target: str) -> None:
        """Switch to another database; on failure keep the current one and say why."""
        from desktop.core.store import KeyStore

        try:
            store = KeyStore.open(target, create=True)
        except DomainError as err:
            log.warning("could not open a database: %s", err.message)
            self.notifier.error(f"Could not open that database: {err.message}")
            return
        self.set_store(store)
        self.notifier.info(f"Opened {store.location}.")

    @guarded
    def _on_about_action_triggered(self) -> None:
        location = self._store.location if self._store is not None else "none"
        box = QMessageBox(self)
        box.setObjectName("aboutDialog")
        box.setWindowTitle(f"About {APP_NAME}")
        box.setIconPixmap(theme.icon("app").pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<b>{APP_NAME}</b> {html.escape(__version__)}")
        box.setInformativeText(
            "Generate, view, activate, deactivate and delete API keys kept in a local database.<br><br>"
            f"Database: {html.escape(location)}"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- closing --

    def shutdown(self) -> None:
        """Save the window's place, take the key off the clipboard, finish writes, close the store. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self.poll_timer.stop()
        self._settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        self._settings.sync()
        if self.key_dialog is not None:
            self.key_dialog.discard()
            self.key_dialog = None
        self.clipboard.clear_if_owned()
        self.runner.shutdown()
        if self._store is not None:
            self._store.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
