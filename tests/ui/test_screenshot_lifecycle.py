"""The lifecycle screenshot script renders the roll dialog, the history, the log and a selection, so
`make screenshot` (docs/roll-dialog.png) cannot rot."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.ui import screenshot_lifecycle


def test_renders_the_pngs(qtbot: QtBot, tmp_path: Path) -> None:
    written = screenshot_lifecycle.render(tmp_path)
    assert [p.name for p in written] == ["roll-dialog.png", "history.png", "activity-log.png", "selection.png"]
    for path in written:
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= 400 and image.height() >= 100
