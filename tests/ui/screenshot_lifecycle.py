"""Render the key-lifecycle parts of the real window to PNGs: the roll dialog, a key's history, the Activity Log,
and the window with several keys selected and scope chips.

`python tests/ui/screenshot_lifecycle.py FOLDER [--only roll]` writes FOLDER/roll-dialog.png (what README shows)
and, without --only, history.png, activity-log.png and selection.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.ui.screenshot import sample_keys

if TYPE_CHECKING:  # Qt is imported where it is used, once QT_QPA_PLATFORM is set
    from PySide6.QtWidgets import QApplication, QWidget

SCOPES = (("billing:read", "billing:write"), ("orders:read",), ("reports:read", "exports:write", "admin"))


def _until(app: QApplication, done: Callable[[], bool]) -> None:
    deadline = datetime.now() + timedelta(seconds=5)
    while not done() and datetime.now() < deadline:
        app.processEvents()
    app.processEvents()


def render(folder: Path, *, only_roll: bool = False) -> list[Path]:
    from PySide6.QtCore import QItemSelectionModel, QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.core.store import KeyStore
    from desktop.ui.launcher import configure_application
    from desktop.ui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    configure_application(app)
    written: list[Path] = []
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        database = Path(temp) / "keys.db"
        with KeyStore.open(str(database), create=True) as seeding:
            seeding.insert_many(sample_keys(30, datetime.now(UTC)))
            ids = [record.id for record in seeding.all()]
            for key_id, scopes in zip(ids[:9], SCOPES * 3, strict=True):
                seeding.set_scopes(key_id, scopes)
            seeding.rename(ids[0], "Billing service — production (EU)")
            seeding.roll(ids[1], timedelta(days=7))  # a retiring key on the first page
            seeding.set_active_many(ids[4:6], False)
        settings = QSettings(str(Path(temp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(KeyStore.open(str(database)), settings=settings)
        window.resize(1100, 720)
        window.show()
        _until(app, lambda: window.total is not None)

        def shot(widget: QWidget, name: str) -> None:
            path = folder / name
            if not widget.grab().save(str(path)):
                raise SystemExit(f"could not write {path}")
            written.append(path)

        records = window.model.records()
        window.table.select_key(records[2].id)
        window.key_actions.roll_action.trigger()
        roll = window.key_actions.roll_flow.dialog
        assert roll is not None
        roll.adjustSize()
        _until(app, lambda: roll.isVisible())
        shot(roll, "roll-dialog.png")
        roll.reject()
        if not only_roll:
            window.key_actions.history_action.trigger()
            history = window.activity_log.history_dialog
            assert history is not None
            _until(app, lambda: history.table.rowCount() > 0)
            shot(history, "history.png")
            history.close()
            window.activity_log.action.trigger()
            log = window.activity_log.activity_log_dialog
            assert log is not None
            _until(app, lambda: log.table.rowCount() > 0)
            shot(log, "activity-log.png")
            log.close()
            window.table.clearSelection()
            for record in records[1:4]:
                row = window.model.row_of(record.id)
                window.table.selectionModel().select(
                    window.model.index(row or 0, 0),
                    QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
                )
            _until(app, lambda: window.selection_bar.isVisible())
            shot(window, "selection.png")
        window.close()
        window.deleteLater()
        app.processEvents()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write the PNGs, e.g. docs")
    parser.add_argument("--only", choices=("roll",), help="only the roll dialog (what README shows)")
    args = parser.parse_args(argv)
    for path in render(args.folder, only_roll=args.only == "roll"):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
