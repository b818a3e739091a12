"""The screenshot script renders the real window to a PNG, so `make screenshot` cannot rot."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.ui import screenshot


def test_renders_a_png(qtbot: QtBot, tmp_path: Path) -> None:
    output = tmp_path / "shot.png"
    screenshot.render(output, count=12)
    image = QImage(str(output))
    assert not image.isNull() and image.width() >= 800 and image.height() >= 500
