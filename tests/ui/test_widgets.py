"""tests/ui/widgets.py's child(): the named widget, typed, or a failure that names what was looked for."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QPushButton, QVBoxLayout
from pytestqt.qtbot import QtBot

from tests.ui.widgets import child


def _dialog(qtbot: QtBot) -> QDialog:
    dialog = QDialog()
    dialog.setObjectName("exampleDialog")
    qtbot.addWidget(dialog)
    layout = QVBoxLayout(dialog)
    ok = QPushButton("OK")
    ok.setObjectName("okButton")
    layout.addWidget(ok)
    layout.addWidget(QLabel("unnamed"))  # Qt's own widgets often have no objectName, or one of Qt's
    return dialog


def test_child_finds_a_named_descendant_of_that_class(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    assert child(dialog, QPushButton, "okButton").text() == "OK"


def test_child_without_a_name_matches_any_name(qtbot: QtBot) -> None:
    """findChild(cls, "") matches only an empty objectName in Qt 6: child() must not pass "" for "any"."""
    dialog = _dialog(qtbot)
    assert child(dialog, QPushButton).objectName() == "okButton"
    assert child(dialog, QLabel).text() == "unnamed"


@pytest.mark.parametrize(
    ("cls", "name", "said"),
    [
        (QPushButton, "cancelButton", "no QPushButton named 'cancelButton' under QDialog 'exampleDialog'"),
        (QLabel, "okButton", "no QLabel named 'okButton' under QDialog 'exampleDialog'"),  # the name, not the class
    ],
)
def test_a_missing_child_fails_naming_it_and_its_parent(
    qtbot: QtBot, cls: type[QPushButton | QLabel], name: str, said: str
) -> None:
    # LookupError, not AssertionError: inside qtbot.waitUntil an AssertionError means "not yet, try again".
    with pytest.raises(LookupError) as raised:
        child(_dialog(qtbot), cls, name)
    assert str(raised.value) == said


def test_a_parent_without_a_name_is_named_by_its_class(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.setObjectName("")
    with pytest.raises(LookupError, match=r"^no QCheckBox under QDialog$"):
        child(dialog, QCheckBox)
