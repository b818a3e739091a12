"""A description is the person's text: wherever it reaches a widget it shows as typed, never as markup (10.11)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.ui.control.key_table_model import COL_DESCRIPTION
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import cell_of, wait_for, wait_idle
from tests.ui.widgets import child

MARKUP = "<b>x</b><img src=/nonexistent/pixel.png> & done"


def shown(text: str, text_format: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt displays for `text` in a label of that format, or in a tool tip (always AutoText)."""
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def literal_everywhere(widgets: list[QWidget]) -> list[str]:
    """Every label text and tool tip that carries the description but would not show it as typed."""
    wrong = []
    fragment = "x</b>"
    for widget in widgets:
        texts = []
        if isinstance(widget, QLabel):
            texts.append((widget.text(), widget.textFormat()))
        texts.append((widget.toolTip(), Qt.TextFormat.AutoText))
        for raw, text_format in texts:
            carries = fragment in raw or "x&lt;/b&gt;" in raw
            if carries and MARKUP not in shown(raw, text_format):
                wrong.append(f"{widget.objectName() or type(widget).__name__}: {raw!r}")
    return wrong


def test_markup_in_a_description_is_shown_as_typed(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    window = make_window()
    # Generate it through the dialog: the show-once dialog and the status bar carry it.
    window.generate_button.click()
    dialog = wait_for(qtbot, QDialog, "generateDialog")
    child(dialog, QLineEdit, "descriptionEdit").setText(MARKUP)
    child(dialog, QPushButton, "generateConfirmButton").click()
    created = wait_for(qtbot, QDialog, "keyCreatedDialog")
    wait_idle(qtbot, window)
    assert MARKUP in window.notification_area.text()
    status_tip = child(window, QLabel, "statusText").toolTip()
    assert MARKUP in shown(status_tip)
    assert literal_everywhere(QApplication.allWidgets()) == []
    child(created, QPushButton, "copyKeyButton").click()
    created.accept()
    # Deactivate it: the confirmation, then the status bar again.
    cell_of(window, 0).toggle_button.click()
    box = wait_for(qtbot, QMessageBox, "confirmDeactivateDialog")
    assert MARKUP in shown(box.text(), box.textFormat())
    assert literal_everywhere(QApplication.allWidgets()) == []
    child(box, QPushButton, "confirmButton").click()
    qtbot.waitUntil(lambda: "Deactivated" in window.notification_area.text())
    assert MARKUP in shown(child(window, QLabel, "statusText").toolTip())
    # The table's own tool tip.
    tip = window.model.index(0, COL_DESCRIPTION).data(Qt.ItemDataRole.ToolTipRole)
    assert MARKUP in shown(tip)
    assert literal_everywhere(QApplication.allWidgets()) == []
