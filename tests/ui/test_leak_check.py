"""The window fixture's leak check (tests/ui/helpers.py leaked_widgets) finds what it must, and only that."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from tests.ui.helpers import leaked_widgets, top_level_ids


def test_a_message_box_left_alive_is_reported_and_a_deleted_one_is_not(qtbot) -> None:  # type: ignore[no-untyped-def]
    before = top_level_ids()
    box = QMessageBox()
    box.setObjectName("forgottenBox")
    box.show()
    qtbot.waitExposed(box)
    assert leaked_widgets(before) == ["QMessageBox 'forgottenBox'"]
    box.close()
    box.deleteLater()
    assert leaked_widgets(before) == []


def test_a_hidden_but_undeleted_dialog_still_counts(qtbot) -> None:  # type: ignore[no-untyped-def]
    before = top_level_ids()
    box = QMessageBox()
    box.setObjectName("hiddenBox")
    box.show()
    box.hide()  # hidden is not gone: it still holds whatever it showed
    assert leaked_widgets(before) == ["QMessageBox 'hiddenBox'"]
    box.deleteLater()
    assert leaked_widgets(before) == []
