"""File ▸ Export Keys…: the list as shown, to CSV or JSON, through the real dialog; cancel and bad paths."""

from __future__ import annotations

import csv
import json
import stat
import threading
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLineEdit, QProgressDialog, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.export import FIELDS
from desktop.core.query import Query, Sort
from desktop.core.store import KeyStore
from desktop.ui.control.notifications import Level
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import seed, status, status_level, wait_for, wait_idle
from tests.ui.widgets import child


def export_through_the_dialog(qtbot: QtBot, window: MainWindow, target: Path) -> None:
    child(window, type(window.exports.export_action), "exportAction").trigger()
    dialog = wait_for(qtbot, QFileDialog, "exportDialog")
    dialog.selectFile(str(target))
    child(dialog, QLineEdit, "fileNameEdit").setText(str(target))  # as a person types it
    dialog.accept()


def test_export_writes_the_filtered_sorted_list_as_csv_metadata_only_0600(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    seed(store, 30)
    made = [store.create(text) for text in ("Billing zulu", "Billing alpha", "=cmd|' /C calc'!A0 billing")]
    window = make_window()
    query = Query("billing", sort=Sort.DESCRIPTION)
    window.query_bar.apply_query(query)
    qtbot.waitUntil(lambda: window.controller.query == query)
    target = tmp_path / "out" / "keys.csv"
    target.parent.mkdir()
    export_through_the_dialog(qtbot, window, target)
    qtbot.waitUntil(lambda: status(window).startswith("Exported"))
    wait_idle(qtbot, window)
    assert status(window) == f"Exported 3 keys to {target}."
    text = target.read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert list(rows[0]) == list(FIELDS)
    assert [int(row["id"]) for row in rows] == [record.id for record in store.find(query)]
    assert "'=cmd|' /C calc'!A0 billing" in {row["description"] for row in rows}  # kept as text by a spreadsheet
    for created in made:
        assert created.key not in text and created.key[3:] not in text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["keys.csv"]  # no temporary file left


def test_export_as_json_by_its_suffix_reads_back_as_list_json_does(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    seed(store, 1200)  # more than one keyset batch
    window = make_window()
    target = tmp_path / "keys.json"
    export_through_the_dialog(qtbot, window, target)
    qtbot.waitUntil(lambda: status(window).startswith("Exported"), timeout=10_000)
    items = json.loads(target.read_text(encoding="utf-8"))
    assert [item["id"] for item in items] == [record.id for record in store.all()]
    assert set(items[0]) == set(FIELDS)
    assert status(window) == f"Exported 1,200 keys to {target}."


def test_cancel_leaves_no_file_and_says_so(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    seed(store, 50)
    window = make_window()
    target = tmp_path / "keys.csv"
    target.write_text("an older export\n", encoding="utf-8")
    # Hold the worker, so the Cancel press lands before the export starts writing.
    release = threading.Event()
    window.runner.submit(lambda: release.wait(10), lambda _result: None, lambda _err: None)
    window.exports.export_to(str(target), "csv")
    progress = window.findChild(QProgressDialog, "exportProgress")
    assert progress is not None
    assert len(list(tmp_path.glob(".keys.csv.*.part"))) == 1  # the temporary file, beside the target
    child(progress, QPushButton).click()  # its Cancel button
    release.set()
    qtbot.waitUntil(lambda: status(window).startswith("Export cancelled"))
    wait_idle(qtbot, window)
    assert target.read_text(encoding="utf-8") == "an older export\n"  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".keys")) == []
    assert window.findChild(QProgressDialog, "exportProgress") is None or not progress.isVisible()


def test_an_unwritable_path_gives_one_clear_message(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    seed(store, 5)
    window = make_window()
    target = tmp_path / "no such folder" / "keys.csv"
    export_through_the_dialog(qtbot, window, target)
    qtbot.waitUntil(lambda: status(window).startswith("Could not export"))
    assert status(window) == f"Could not export the keys to {target}: No such file or directory."
    assert status_level(window) is Level.ERROR
    assert not target.parent.exists()


def test_choosing_json_in_the_dialog_writes_json_under_a_name_without_suffix(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QComboBox

    from desktop.ui.window.export_actions import JSON_FILTER

    seed(store, 3)
    window = make_window()
    window.exports.export_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "exportDialog")
    types = child(dialog, QComboBox, "fileTypeCombo")
    types.setCurrentIndex(types.findText(JSON_FILTER))
    types.activated.emit(types.currentIndex())  # as a person picks it
    types.textActivated.emit(JSON_FILTER)
    child(dialog, QLineEdit, "fileNameEdit").setText(str(tmp_path / "keys"))
    dialog.accept()
    qtbot.waitUntil(lambda: status(window).startswith("Exported"))
    target = tmp_path / "keys.json"
    assert status(window) == f"Exported 3 keys to {target}."
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 3


def test_csv_for_excel_in_the_dialog_starts_with_a_bom_so_the_ellipsis_is_not_mojibake(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, tmp_path: Path
) -> None:
    """Issue 21.14: the dialog offers CSV for Excel, UTF-8 with a byte order mark; plain CSV stays without one."""
    from PySide6.QtWidgets import QComboBox

    from desktop.ui.window.export_actions import EXCEL_FILTER

    made = store.create("Café billing").record
    window = make_window()
    window.exports.export_action.trigger()
    dialog = wait_for(qtbot, QFileDialog, "exportDialog")
    types = child(dialog, QComboBox, "fileTypeCombo")
    assert [types.itemText(i) for i in range(types.count())] == ["CSV (*.csv)", EXCEL_FILTER, "JSON (*.json)"]
    types.setCurrentIndex(types.findText(EXCEL_FILTER))
    types.activated.emit(types.currentIndex())  # as a person picks it
    types.textActivated.emit(EXCEL_FILTER)
    dialog.grab().save("/tmp/expiry-export-dialog.png")
    child(dialog, QLineEdit, "fileNameEdit").setText(str(tmp_path / "for-excel"))
    dialog.accept()
    qtbot.waitUntil(lambda: status(window).startswith("Exported"))
    target = tmp_path / "for-excel.csv"
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    # As Excel reads it: the mark says UTF-8, so the masked key's `…` and the `é` come back as typed.
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert (rows[0]["masked"], rows[0]["description"]) == (made.masked, "Café billing")

    plain = tmp_path / "plain.csv"
    window.exports.export_to(str(plain), "csv")
    qtbot.waitUntil(lambda: status(window) == f"Exported 1 key to {plain}.")
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    wait_idle(qtbot, window)
