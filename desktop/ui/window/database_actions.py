"""The window's database actions: File ▸ Open, New Database, Open Recent, the "Create it?" question, About.

A QObject the window makes (main_window.py), given itself (the dialogs' parent), the controller and the
settings: its actions and the Open Recent menu are the window's to place; these are the dialogs that choose
which database the controller shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.core.errors import DatabaseMissing, DomainError
from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded
from desktop.ui.names import DATABASE_FILTER, is_server_url
from desktop.ui.text import menu_text, plain_rich, plain_tooltip

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox, QWidget

    from desktop.core.store import KeyStore
    from desktop.ui.control.controller import Controller
    from desktop.ui.platform.private_settings import PrivateSettings

SETTINGS_RECENT = "database/recent"
RECENT_MAX = 8


class DatabaseActions(QObject):
    """File ▸ New Database, Open, Connect to Server, Open Recent, and Help ▸ About; see the module's docstring."""

    def __init__(self, window: QWidget, controller: Controller, settings: PrivateSettings) -> None:
        from PySide6.QtGui import QAction, QKeySequence
        from PySide6.QtWidgets import QMenu

        super().__init__(window)
        self._window = window
        self._controller = controller
        self._notifier = controller.notifier
        self._settings = settings
        #: The "No database at X. Create it?" question, while it is open.
        self.missing_dialog: QMessageBox | None = None
        self.new_database_action = QAction("New &Database…", window)
        self.new_database_action.triggered.connect(self._on_new_database_action_triggered)
        self.open_action = QAction("&Open Database…", window)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.connect_action = QAction("&Connect to Server…", window)
        self.connect_action.setObjectName("connectServerAction")
        self.connect_action.triggered.connect(self._on_connect_action_triggered)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setObjectName("openRecentMenu")
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        controller.storeChanged.connect(self._on_controller_store_changed)

    @property
    def store(self) -> KeyStore | None:
        return self._controller.store

    def report(self, err: BaseException, operation: Operation) -> None:
        self._controller.report(err, operation)

    def _on_controller_store_changed(self, _location: str) -> None:
        store = self._controller.store
        if store is not None and store.reopen_target is not None:
            self._remember_database(store.reopen_target)

    # -- recent databases --

    def recent_databases(self) -> list[str]:
        value = self._settings.value(SETTINGS_RECENT, [])
        if isinstance(value, str):  # INI settings hand back a one-item list as a string
            value = [value]
        return [str(item) for item in value or [] if str(item)] if isinstance(value, list) else []

    def _remember_database(self, location: str) -> None:
        """Keep a path or URL for Open Recent (never one with a password: the store offers None for those)."""
        recent = [location] + [item for item in self.recent_databases() if item != location]
        self._settings.setValue(SETTINGS_RECENT, recent[:RECENT_MAX])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_databases()
        current = self.store.reopen_target if self.store is not None else None
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

    # -- menus --

    def _file_dialog_start(self) -> str:
        """Open starts in the open file's folder, or the person's documents: never the working directory."""
        from desktop.ui.platform.user_folders import file_dialog_folder

        return str(file_dialog_folder(self.store.location if self.store is not None else None))

    @guarded
    def _on_open_action_triggered(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Open Database", self._file_dialog_start(), DATABASE_FILTER)
        dialog.setObjectName("openDatabaseDialog")
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.open_database)
        dialog.open()

    @guarded
    def _on_new_database_action_triggered(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QFileDialog

        from desktop.ui.platform.user_folders import documents_folder, free_name

        # A name that names nothing yet, in the person's documents (never the file open now: Save would refuse it).
        suggested = free_name(documents_folder(), "keys.db")
        dialog = QFileDialog(self._window, "New Database", str(suggested), DATABASE_FILTER)
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
            self._notifier.error(
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

        if is_server_url(target):
            self._open_server(target)
            return
        try:
            store = KeyStore.open(target, create=create)
        except DatabaseMissing as err:
            self._ask_to_create(target, err.path)
            return
        except DomainError as err:
            self.report(err, Operation.OPEN)
            return
        self._controller.set_store(store)
        self._notifier.info(f"{'Created' if create else 'Opened'} {store.location}.")

    def _open_server(self, url: str) -> None:
        """Connect off the GUI thread (a server may take its connect timeout to answer), keeping the window live
        and the current database shown until the new one is open."""
        from desktop.core.store import KeyStore

        self._notifier.info("Connecting to the database server…")
        self._controller.runner.submit(lambda: KeyStore.open(url), self._on_server_opened, self._on_server_open_failed)

    def _on_server_opened(self, store: KeyStore) -> None:
        self._controller.set_store(store)
        if store.warning:  # e.g. TLS not verified: said once, and kept until the next message
            self._notifier.error(store.warning, sticky=True)
        else:
            self._notifier.info(f"Opened {store.location}.")

    def _on_server_open_failed(self, err: Exception) -> None:
        self.report(err, Operation.OPEN)

    @guarded
    def _on_connect_action_triggered(self) -> None:
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.connect_dialog import ConnectDialog

        dialog = ConnectDialog(self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.open_database(dialog.url()))
        dialog.open()

    def _ask_to_create(self, target: str, location: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        if self.missing_dialog is not None:
            return
        box = QMessageBox(self._window)
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
            self._notifier.info(
                f"Nothing was created; still showing {self.store.location if self.store else 'no database'}."
            )

    @guarded
    def about(self) -> None:
        """Help ▸ About."""
        from desktop.ui.window.about import show_about

        show_about(self._window, self.store.location if self.store is not None else None)
