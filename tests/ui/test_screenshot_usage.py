"""The usage screenshot script renders a key's details and View ▸ Usage, so `make screenshot` (docs/key-details.png)
cannot rot."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.ui import screenshot_usage


def test_renders_the_pngs(qtbot: QtBot, tmp_path: Path) -> None:
    written = screenshot_usage.render(tmp_path)
    assert [p.name for p in written] == ["key-details.png", "usage-view.png"]
    for path in written:
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= 400 and image.height() >= 300
