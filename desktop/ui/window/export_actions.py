"""File ▸ Export Keys…: the list as shown (search, filter, order) to a CSV or JSON file, metadata only.

A QObject the window makes (main_window.py), given itself, the controller and the File menu. The keys are read
in keyset batches and written off the GUI thread (core/export.py, shared with `apikeys list --csv/--json`) into
a temporary file beside the target, created 0600; only a finished export takes the target's name (os.replace),
so a cancel or a failure leaves no half file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.core.operations import Operation

if TYPE_CHECKING:
    from collections.abc import Iterator

    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QFileDialog, QMenu, QProgressDialog, QWidget

    from desktop.core.query import Query
    from desktop.core.store import KeyStore
    from desktop.core.values import KeyRecord
    from desktop.ui.control.controller import Controller

log = logging.getLogger(__name__)

CSV_FILTER = "CSV (*.csv)"
#: The same CSV, starting with UTF-8's byte order mark: Excel on Windows then reads `…` and accents as typed.
EXCEL_FILTER = "CSV for Excel, UTF-8 with BOM (*.csv)"
JSON_FILTER = "JSON (*.json)"
#: Progress is reported every this many keys (a signal per key would flood the GUI thread).
PROGRESS_EVERY = 500


class ExportCancelled(Exception):
    """The person pressed Cancel: the temporary file is removed, the target left as it was."""


class _Progress(QObject):
    """Lives on the GUI thread; the worker emits through it (a queued connection)."""

    advanced = Signal(int)


def export_format(path: str, chosen_filter: str) -> str:
    """`json`, `csv` or `csv-bom` (CSV for Excel): by the file's suffix, else by the filter chosen in the dialog;
    a `.csv` file chosen under the Excel filter gets the byte order mark."""
    suffix = Path(path).suffix.lower()
    csv_format = "csv-bom" if chosen_filter == EXCEL_FILTER else "csv"
    if suffix in (".json", ".csv"):
        return "json" if suffix == ".json" else csv_format
    return "json" if chosen_filter == JSON_FILTER else csv_format


def export_keys(
    store: KeyStore,
    query: Query,
    fmt: str,
    fd: int,
    temp: str,
    target: str,
    cancel: threading.Event,
    progress: _Progress,
) -> int:
    """Write the keys `query` finds to the open temporary file, then give it the target's name; the count."""
    from desktop.core.export import record_fields, write_csv, write_json

    now = store.clock.now()

    def records() -> Iterator[KeyRecord]:
        for number, record in enumerate(store.find(query), 1):
            if cancel.is_set():
                raise ExportCancelled
            if number % PROGRESS_EVERY == 0:
                progress.advanced.emit(number)
            yield record

    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            if cancel.is_set():
                raise ExportCancelled
            fields = lambda record: record_fields(record, now)  # noqa: E731
            if fmt == "json":
                count = write_json(records(), out, fields)
            else:
                count = write_csv(records(), out, fields, bom=fmt == "csv-bom")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return count


class ExportActions(QObject):
    """File ▸ Export Keys…; see the module's docstring."""

    def __init__(self, window: QWidget, controller: Controller, file_menu: QMenu, before: QAction) -> None:
        """The action goes into `file_menu` before `before` (Quit), with a separator."""
        from PySide6.QtGui import QAction

        super().__init__(window)
        self._window = window
        self.controller = controller
        self.export_action = QAction("&Export Keys…", window)
        self.export_action.setObjectName("exportAction")
        self.export_action.setStatusTip("Save the keys listed (search, filter and order as shown) as CSV or JSON")
        file_menu.insertAction(before, self.export_action)
        file_menu.insertSeparator(before)
        self.export_action.triggered.connect(self._on_export_action_triggered)
        self.export_progress: QProgressDialog | None = None
        self._export_cancel: threading.Event | None = None
        self._export_dialog: QFileDialog | None = None

    def _on_export_action_triggered(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QFileDialog

        if self.controller.store is None:
            return
        if self.export_progress is not None:
            self.export_progress.raise_()
            return
        from desktop.ui.platform.user_folders import documents_folder

        # A folder that exists (a missing Documents made Qt start in the working directory).
        dialog = QFileDialog(self._window, "Export Keys", str(documents_folder() / "api-keys.csv"))
        dialog.setObjectName("exportDialog")
        dialog.setNameFilters([CSV_FILTER, EXCEL_FILTER, JSON_FILTER])
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("csv")
        # Bound methods, not closures over `dialog`: a dialog whose own signal holds a reference to it crashed
        # PySide when it was deleted (see MainWindow._confirm).
        dialog.filterSelected.connect(self._on_export_dialog_filter_selected)
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        dialog.finished.connect(self._on_export_dialog_finished)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._export_dialog = dialog
        dialog.open()

    def _on_export_dialog_filter_selected(self, chosen: str) -> None:
        if self._export_dialog is not None:
            self._export_dialog.setDefaultSuffix("json" if chosen == JSON_FILTER else "csv")

    def _on_export_dialog_file_selected(self, path: str) -> None:
        chosen = self._export_dialog.selectedNameFilter() if self._export_dialog is not None else CSV_FILTER
        self.export_to(path, export_format(path, chosen))

    def _on_export_dialog_finished(self, _result: int) -> None:
        self._export_dialog = None

    def export_to(self, target: str, fmt: str) -> None:
        """Export the list as shown now to `target` (`csv`, `csv-bom` or `json`), with a progress dialog when long."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QProgressDialog

        from desktop.core.presentation import shown

        store, notifier = self.controller.store, self.controller.notifier
        if store is None:
            return
        path = Path(target).expanduser()
        try:
            # In the target's folder, so os.replace is one rename; mkstemp creates it 0600.
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except OSError as err:
            notifier.error(f"Could not export the keys to {shown(str(path))}: {err.strerror or err}.")
            return
        total = self.controller.total
        progress = QProgressDialog("Exporting keys…", "Cancel", 0, total or 0, self._window)
        progress.setObjectName("exportProgress")
        progress.setWindowTitle("Export Keys")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(500)
        progress.setAutoReset(False)
        progress.setAutoClose(False)
        cancel = threading.Event()
        progress.canceled.connect(cancel.set)
        relay = _Progress(progress)
        relay.advanced.connect(progress.setValue)
        self.export_progress, self._export_cancel = progress, cancel
        query = self.controller.query
        log.info("exporting keys as %s", fmt)
        self.controller.runner.submit(
            lambda: export_keys(store, query, fmt, fd, temp, str(path), cancel, relay),
            lambda count: self._on_export_done(str(path), count),
            lambda err: self._on_export_failed(str(path), err),
        )

    def _close_export_progress(self) -> None:
        progress = self.export_progress
        self.export_progress, self._export_cancel = None, None
        if progress is not None:
            progress.canceled.disconnect()
            progress.close()
            progress.deleteLater()

    def cancel_export(self) -> None:
        """Closing the window: a running export stops and removes its temporary file."""
        if self._export_cancel is not None:
            self._export_cancel.set()

    def _on_export_done(self, target: str, count: int) -> None:
        from desktop.core.presentation import shown

        self._close_export_progress()
        keys = "1 key" if count == 1 else f"{count:,} keys"
        self.controller.notifier.info(f"Exported {keys} to {shown(target)}.")

    def _on_export_failed(self, target: str, err: Exception) -> None:
        from desktop.core.presentation import shown

        self._close_export_progress()
        if isinstance(err, ExportCancelled):
            self.controller.notifier.info(f"Export cancelled; {shown(target)} was not written.")
        elif isinstance(err, OSError):
            self.controller.notifier.error(f"Could not export the keys to {shown(target)}: {err.strerror or err}.")
        else:
            self.controller.report(err, Operation.EXPORT)
