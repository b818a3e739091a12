"""The API Keys window: generate, copy once, see, activate/deactivate, delete and page through keys."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.core.errors import DatabaseMissing, DomainError, KeyNotFound
from desktop.core.paging import DEFAULT_PAGE_SIZE, PAGE_SIZES, Pager
from desktop.core.presentation import describe_key
from desktop.core.values import FileChange
from desktop.ui import theme
from desktop.ui.clipboard import CLEAR_AFTER_MS, SecretClipboard
from desktop.ui.dialogs.confirm import ConfirmDialog, confirm_deactivate, confirm_delete
from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog
from desktop.ui.key_table_model import KeyTableModel
from desktop.ui.names import APP_NAME, DATABASE_FILTER
from desktop.ui.notifications import Notice, NotificationArea, Notifier, guarded
from desktop.ui.tasks import TaskRunner
from desktop.ui.text import menu_text, plain_rich, plain_tooltip
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
SETTINGS_RECENT = "database/recent"
RECENT_MAX = 8
EMPTY_TEXT = "No API keys yet. Generate one to get started."


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
        self._created_notice: Notice | None = None
        self._seen_generation = 0
        #: The database file was deleted or moved away: reads show the last page, writes are refused.
        self._file_missing = False
        self._file_notice: Notice | None = None
        self._file_error: str | None = None
        self.missing_dialog: QMessageBox | None = None

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
        self.table.set_empty_text(EMPTY_TEXT)
        self.empty_label = self.table.empty_label
        size = self._saved_page_size()
        self.pagination = PaginationBar(PAGE_SIZES, size, self)

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
        self.new_database_action = QAction("New &Database…", self)
        self.new_database_action.triggered.connect(self._on_new_database_action_triggered)
        self.open_action = QAction("&Open Database…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("openRecentMenu")
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.generate_action)
        file_menu.addSeparator()
        file_menu.addAction(self.new_database_action)
        file_menu.addAction(self.open_action)
        file_menu.addMenu(self.recent_menu)
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

    # -- recent databases --

    def recent_databases(self) -> list[str]:
        value = self._settings.value(SETTINGS_RECENT, [])
        if isinstance(value, str):  # INI settings hand back a one-item list as a string
            value = [value]
        return [str(item) for item in value or [] if str(item)] if isinstance(value, list) else []

    def _remember_database(self, location: str) -> None:
        if "://" in location:
            return  # a URL is shown without its password, so it could not be opened again from here
        recent = [location] + [item for item in self.recent_databases() if item != location]
        self._settings.setValue(SETTINGS_RECENT, recent[:RECENT_MAX])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_databases()
        current = self._store.location if self._store is not None else None
        for number, location in enumerate(recent, start=1):
            action = self.recent_menu.addAction(f"&{number} {menu_text(location)}" if number < 10 else location)
            action.setData(location)
            action.setToolTip(plain_tooltip(location))
            action.setEnabled(location != current)
            action.triggered.connect(lambda _checked=False, where=location: self.open_database(where))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("&Clear Menu")
            clear.setObjectName("clearRecentAction")
            clear.triggered.connect(self._on_clear_recent_action_triggered)
        self.recent_menu.setEnabled(bool(recent))

    def _on_recent_menu_about_to_show(self) -> None:
        self._update_recent_menu()  # another window may have added to the list meanwhile

    def _on_clear_recent_action_triggered(self) -> None:
        self._settings.setValue(SETTINGS_RECENT, [])
        self._update_recent_menu()

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
        self._seen_generation = store.generation
        self._file_missing = False
        self._file_error = None
        self._drop_file_notice()
        # Qt appends " — API Key Manager" (the application display name) to every title itself.
        self.setWindowTitle(store.location)
        self.location_label.setText(store.location)
        self.location_label.setToolTip(plain_tooltip(f"Database: {store.location}"))
        self._remember_database(store.location)
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

    # -- the database file: deleted or replaced while open --

    def _watch_file(self, *, before_write: bool = False) -> bool:
        """Compare the file at the path with the one open; True when reads and writes may go on as they were.

        Replaced (restored, synced, `mv new.db keys.db`): the store has reopened onto the new file; the page
        is reloaded from it, with a notice. Gone: a red notice that stays, and False, so that nothing is
        written and no key is shown. When the file comes back, the window recovers by itself.
        """
        store = self._store
        if store is None:
            return False
        try:
            change = store.check_file()
        except DomainError as err:
            # Something unusable took the file's place (not a database, unsafe): the store keeps the old handles.
            if err.message != self._file_error:
                self._file_error = err.message
                self.notifier.error(err.message)
            return not before_write
        self._file_error = None
        if change is FileChange.MISSING:
            if not self._file_missing:
                self._file_missing = True
                log.warning("the database file %s is gone", store.location)
                self._file_notice = self.notifier.error(
                    f"The database file {store.location} was deleted or moved away. Nothing can be changed "
                    "until it is back; the keys shown are the last ones read.",
                    sticky=True,
                )
            return False
        if self._file_missing or store.generation != self._seen_generation:
            came_back = self._file_missing
            self._file_missing = False
            self._seen_generation = store.generation
            self._drop_file_notice()
            self._total = None
            self._refresh(top=True)
            if came_back:
                self.notifier.info(f"The database file {store.location} is back; its keys are shown again.")
            else:
                self.notifier.info(
                    f"The database file {store.location} was replaced (restored or synced?); "
                    "now showing the keys in the new file."
                )
            return not before_write
        return True

    def _drop_file_notice(self) -> None:
        if self._file_notice is not None:
            self.notification_area.release(self._file_notice)
            self._file_notice = None

    def _refuse_when_file_changed(self, what: str) -> bool:
        """Before a write: True (and a message) when it must not go ahead because the file is gone or new."""
        if self._watch_file(before_write=True):
            return False
        store = self._store
        location = store.location if store is not None else "the database"
        if self._file_missing:
            self.notifier.error(
                f"Could not {what}: the database file {location} was deleted or moved away. "
                "Put it back, or open another database."
            )
        elif self._file_error is not None:
            self.notifier.error(f"Could not {what}: {self._file_error}")
        else:
            self.notifier.error(
                f"Nothing was changed: the database file {location} was replaced, and the list now shows the "
                f"new file. Check it and {what} again if you still want to."
            )
        return True

    # -- showing --

    def _show_page(self, select: int | None = None) -> None:
        pager = self._pager
        if pager is None:
            return
        keep = select if select is not None else self.table.selected_key_id()
        self.model.reload(pager.items)
        if keep is not None:
            self.table.select_key(keep)
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
        if not self._watch_file() and self._file_missing:
            self.notifier.error(
                f"Cannot generate a key: the database file {self._store.location} was deleted or moved away. "
                "Put it back, or open another database."
            )
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
        if not self._watch_file(before_write=True) and self._file_missing:
            dialog.show_error(
                f"The key was not created: the database file {store.location} was deleted or moved away. "
                "Put it back, or open another database."
            )
            return
        store = self._store  # a replaced file was reopened: the same store, now on the new file
        if store is None:
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
        # Sticky: the message stays for as long as the key is on screen, however long that is.
        self._created_notice = self.notifier.info(
            f"Generated {describe_key(record)}. Copy it now: it is shown only once.", sticky=True
        )
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
        if self._created_notice is not None:
            self.notification_area.release(self._created_notice)
            self._created_notice = None
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
        if self._refuse_when_file_changed("deactivate the key" if record.active else "activate the key"):
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
        if self._refuse_when_file_changed("delete the key"):
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
        if self._refuse_when_file_changed(f"{what} the key"):
            return
        done = "Activated" if active else "Deactivated"
        consequence = "clients using it are accepted again" if active else "clients using it will be rejected"
        self.runner.submit(
            lambda: store.set_active(record.id, active),
            lambda updated: self._after_write(f"{done} {describe_key(updated)}: {consequence}.", updated.id),
            lambda err: self._write_failed(err, record, what),
        )

    def _delete(self, record: KeyRecord) -> None:
        store = self._store
        if store is None or self._refuse_when_file_changed("delete the key"):
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
            if not self._watch_file() or self._file_missing:
                return  # reloaded from a replaced file, or the file is gone: nothing more to compare
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

    def _file_dialog_start(self) -> str:
        if self._store is not None and "://" not in self._store.location:
            return self._store.location
        return ""

    @guarded
    def _on_open_action_triggered(self) -> None:
        dialog = QFileDialog(self, "Open Database", self._file_dialog_start(), DATABASE_FILTER)
        dialog.setObjectName("openDatabaseDialog")
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.open_database)
        dialog.open()

    @guarded
    def _on_new_database_action_triggered(self) -> None:
        start = self._file_dialog_start()
        folder = str(Path(start).parent) if start else ""
        dialog = QFileDialog(self, "New Database", str(Path(folder) / "keys.db") if folder else "", DATABASE_FILTER)
        dialog.setObjectName("newDatabaseDialog")
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("db")
        # An existing file is never replaced (see new_database): no "Replace it?" question that would not be kept.
        dialog.setOption(QFileDialog.Option.DontConfirmOverwrite)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.new_database)
        dialog.open()

    @guarded
    def new_database(self, target: str) -> None:
        """File ▸ New Database…: make a new database there and switch to it; an existing file is left alone."""
        if Path(target).expanduser().exists():
            self.notifier.error(
                f"{target} already exists and was not changed. Open it with File ▸ Open Database…, "
                "or choose a new name."
            )
            return
        self.open_database(target, create=True)

    @guarded
    def open_database(self, target: str, *, create: bool = False) -> None:
        """Switch to another database; on failure keep the current one and say why.

        A file that does not exist is created only with `create` (File ▸ New Database…) or once the person
        answers "Create" to "No database at X. Create it?".
        """
        from desktop.core.store import KeyStore

        try:
            store = KeyStore.open(target, create=create)
        except DatabaseMissing as err:
            self._ask_to_create(target, err.path)
            return
        except DomainError as err:
            log.warning("could not open a database: %s", err.message)
            self.notifier.error(f"Could not open that database: {err.message}")
            return
        self.set_store(store)
        self.notifier.info(f"{'Created' if create else 'Opened'} {store.location}.")

    def _ask_to_create(self, target: str, location: str) -> None:
        if self.missing_dialog is not None:
            return
        box = QMessageBox(self)
        box.setObjectName("missingDatabaseDialog")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Create the Database?")  # Qt appends the app name
        box.setText(plain_rich(f"No database at {location}. Create it?"))
        box.setInformativeText("A new, empty database will be made there; the one open now stays as it is until then.")
        create = box.addButton("Create", QMessageBox.ButtonRole.AcceptRole)
        create.setObjectName("createButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        cancel.setObjectName("cancelButton")
        box.setDefaultButton(create)
        box.setEscapeButton(cancel)
        box.setProperty("target", target)
        self.missing_dialog = box
        box.finished.connect(self._on_missing_dialog_finished)
        box.open()

    def _on_missing_dialog_finished(self, _result: int) -> None:
        box, self.missing_dialog = self.missing_dialog, None
        if box is None:
            return
        target = str(box.property("target"))
        created = box.clickedButton() is not None and box.clickedButton().objectName() == "createButton"
        box.deleteLater()
        if created:
            self.open_database(target, create=True)
        else:
            self.notifier.info(
                f"Nothing was created; still showing {self._store.location if self._store else 'no database'}."
            )

    @guarded
    def _on_about_action_triggered(self) -> None:
        location = self._store.location if self._store is not None else "none"
        box = QMessageBox(self)
        box.setObjectName("aboutDialog")
        box.setWindowTitle("About")  # Qt appends the app name
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
