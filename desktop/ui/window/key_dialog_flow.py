"""One flow for every "change one key in a dialog" (rename, roll, scopes): open, ask, done or why not, closed.

A QObject given, in its constructor, how to make the dialog, which of its signals asks for the change, how to
read the value from it, the controller's call and the words for a refusal; the window makes one per change
(lifecycle_actions.py). At most one dialog of a kind is open. The change runs off the GUI thread
(controller_lifecycle.LifecycleControl._change): the dialog closes when it is done, closes when the key was
deleted meanwhile (the status bar says so, once), and otherwise stays open with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from PySide6.QtCore import QObject, Qt

from desktop.core.operations import Operation
from desktop.core.presentation import not_done_text
from desktop.ui.control.guard import guarded

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QWidget

    from desktop.core.values import KeyRecord


class KeyDialog(Protocol):
    """What the flow asks of a dialog (RenameDialog, RollDialog, ScopesDialog; LimitsDialog, of several keys)."""

    @property
    def record(self) -> KeyRecord | tuple[KeyRecord, ...]:
        """The key it changes (the keys, for a dialog that changes several), handed to the controller's call."""

    #: QDialog.finished: a Signal on the class (as the stubs say), a SignalInstance on the dialog.
    finished: Any

    def show_error(self, message: str) -> None: ...

    def accept(self) -> None: ...

    def reject(self) -> None: ...

    def open(self) -> None: ...

    def setAttribute(self, attribute: Qt.WidgetAttribute, /, on: bool = ...) -> None: ...


D = TypeVar("D", bound=KeyDialog)
V = TypeVar("V")
#: The controller's call: (the key, the value, done, failed) → False when refused before starting.
Call = Callable[[Any, Any, Callable[[Any], None], Callable[[Exception, str], None]], bool]


class KeyDialogFlow(QObject, Generic[D, V]):
    """One kind of change to one key through its dialog; see the module's docstring."""

    def __init__(
        self,
        parent: QWidget,
        *,
        make: Callable[[Any], D],
        requested: Callable[[D], SignalInstance],
        value: Callable[[D], V],
        call: Call,
        refuse: Callable[[Operation], bool],
        operation: Operation,
        status_text: Callable[[], str],
        report: Callable[[BaseException, Operation], None],
        opened: Callable[[D], None] | None = None,
    ) -> None:
        """`operation` (RENAME) names what a refusal by the file watch (`refuse`) did not do, and heads the
        reason shown in the dialog ("Not renamed", core/presentation.py); `status_text` is the status bar's (why
        the controller refused); `value` may raise a DomainError, shown in the dialog; `opened` hears each new
        dialog (e.g. to load completions)."""
        super().__init__(parent)
        self._parent = parent
        self._make = make
        self._requested = requested
        self._value = value
        self._call = call
        self._refuse = refuse
        self._operation = operation
        self._status_text = status_text
        self._report = report
        self._opened = opened
        #: The dialog open now, if any.
        self.dialog: D | None = None

    def report(self, err: BaseException, operation: Operation) -> None:
        self._report(err, operation)

    def open(self, record: KeyRecord | tuple[KeyRecord, ...] | None) -> None:
        """Open the dialog for `record` (a key, or keys for a dialog of several), unless one is open already or
        the database file refuses writes."""
        if not record or self.dialog is not None or self._refuse(self._operation):
            return
        dialog = self.dialog = self._make(record)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Bound methods, not closures over `dialog`: a dialog whose own signal holds a reference to it crashed
        # PySide when it was deleted.
        self._requested(dialog).connect(self._on_dialog_requested)
        dialog.finished.connect(self._on_dialog_finished)
        if self._opened is not None:
            self._opened(dialog)
        dialog.open()

    @guarded
    def _on_dialog_requested(self) -> None:
        from desktop.core.errors import DomainError

        dialog = self.dialog
        if dialog is None:
            return
        try:
            value = self._value(dialog)
        except DomainError as err:
            dialog.show_error(err.message)
            return
        if not self._call(dialog.record, value, self._on_done, self._on_failed):
            dialog.show_error(f"{not_done_text(self._operation)}: {self._status_text()}")

    def _on_done(self, _result: object) -> None:
        # Before a rolled key's dialog opens (the controller emits `created` next): one modal dialog at a time.
        if self.dialog is not None:
            self.dialog.accept()

    def _on_failed(self, err: Exception, reason: str) -> None:
        """A key deleted meanwhile closes the dialog (the status bar says so, once); anything else stays in it."""
        from desktop.core.errors import KeyNotFound

        if self.dialog is None:
            return
        if isinstance(err, KeyNotFound):
            self.dialog.reject()
        else:
            self.dialog.show_error(f"{not_done_text(self._operation)}: {reason}")

    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None
