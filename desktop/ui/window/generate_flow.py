"""The window's Generate flow: the Generate dialog, the write, and the new key shown once.

A QObject the window makes (main_window.py), given itself (the dialogs' parent), the controller, the clipboard,
the status area and the clock; it listens to the controller's `created` and `createFailed` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop.core.clock import Clock
    from desktop.core.values import CreatedKey
    from desktop.ui.control.controller import Controller
    from desktop.ui.control.notifications import Notice, NotificationArea
    from desktop.ui.dialogs.generate_dialog import GenerateKeyDialog
    from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog
    from desktop.ui.platform.clipboard import SecretClipboard


class GenerateFlow(QObject):
    """Generate a key and show it once; see the module's docstring."""

    def __init__(
        self,
        window: QWidget,
        controller: Controller,
        clipboard: SecretClipboard,
        notification_area: NotificationArea,
        clock: Clock,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        self._notifier = controller.notifier
        self._clipboard = clipboard
        self._notification_area = notification_area
        self._clock = clock
        self.generate_dialog: GenerateKeyDialog | None = None
        #: The new key's one showing, while it is open.
        self.key_dialog: KeyCreatedDialog | None = None
        self._created_notice: Notice | None = None
        controller.created.connect(self._on_controller_created)
        controller.createFailed.connect(self._on_controller_create_failed)

    def report(self, err: BaseException, operation: Operation) -> None:
        self._controller.report(err, operation)

    def discard(self) -> None:
        """Closing: the key shown once is taken off the screen and out of memory."""
        if self.key_dialog is not None:
            self.key_dialog.discard()
            self.key_dialog = None

    @guarded
    def open(self) -> None:
        """The Generate button and File ▸ Generate New API Key… (Ctrl+N)."""
        store = self._controller.store
        if store is None:
            return
        if not self._controller.files.check() and self._controller.files.missing:
            self._notifier.error(
                f"Cannot generate a key: the database file {store.location} was deleted or moved away. "
                "Put it back, or open another database."
            )
            return
        if self.generate_dialog is not None:
            self.generate_dialog.raise_()
            self.generate_dialog.activateWindow()
            return
        # Imported on first use: the first paint does not wait for the dialog's module.
        from PySide6.QtCore import Qt

        from desktop.ui.dialogs.generate_dialog import GenerateKeyDialog

        dialog = GenerateKeyDialog(self._window, clock=self._clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.generateRequested.connect(self._on_generate_dialog_generate_requested)
        dialog.finished.connect(self._on_generate_dialog_finished)
        self.generate_dialog = dialog
        dialog.open()

    def _on_generate_dialog_finished(self, _result: int) -> None:
        self.generate_dialog = None

    @guarded
    def _on_generate_dialog_generate_requested(self) -> None:
        from desktop.core.errors import DomainError

        dialog = self.generate_dialog
        if dialog is None:
            return
        try:
            description, expires_on, scopes = dialog.description(), dialog.expires_on(), dialog.scopes()
            rate, credits, refill = dialog.limits()
        except DomainError as err:
            dialog.show_error(err.message)
            return
        refused = self._controller.create(description, expires_on, scopes, rate=rate, credits=credits, refill=refill)
        if refused is not None:
            dialog.show_error(f"The key was not created: {refused}")

    @guarded
    def _on_controller_created(self, created: CreatedKey) -> None:
        from desktop.core.presentation import describe_key
        from desktop.ui.dialogs.key_created_dialog import KeyCreatedDialog

        record = created.record
        if self.generate_dialog is not None:
            self.generate_dialog.accept()
        # Sticky: the message stays for as long as the key is on screen, however long that is.
        self._created_notice = self._notifier.info(
            f"Generated {describe_key(record)}. Copy it now: it is shown only once.", sticky=True
        )
        dialog = KeyCreatedDialog(created.key, record, self._clipboard, self._window)
        dialog.finished.connect(self._on_key_dialog_finished)
        self.key_dialog = dialog
        dialog.open()

    def _on_controller_create_failed(self, reason: str) -> None:
        if self.generate_dialog is not None:
            self.generate_dialog.show_error(f"The key was not created: {reason}")

    def _on_key_dialog_finished(self, _result: int) -> None:
        dialog = self.key_dialog
        self.key_dialog = None
        if self._created_notice is not None:
            self._notification_area.release(self._created_notice)
            self._created_notice = None
        if dialog is not None and not dialog.copied():
            self._notifier.info("The key was not copied; if you need it, deactivate that key and generate a new one.")
