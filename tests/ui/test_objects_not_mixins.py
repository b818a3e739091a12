"""Issue 22 item 1: the controller, the window and their parts are objects that own their state, not mixins."""

from __future__ import annotations

import ast

import pytest
from PySide6.QtCore import QObject

from desktop.ui.control.controller import Controller
from desktop.ui.control.controller_lifecycle import LifecycleControl
from desktop.ui.control.controller_query import QueryControl, TriageCount
from desktop.ui.control.file_watch import FileWatch
from desktop.ui.window.activity_log import ActivityLog
from desktop.ui.window.database_actions import DatabaseActions
from desktop.ui.window.export_actions import ExportActions
from desktop.ui.window.generate_flow import GenerateFlow
from desktop.ui.window.key_dialog_flow import KeyDialogFlow
from desktop.ui.window.lifecycle_actions import LifecycleActions
from desktop.ui.window.main_window import MainWindow
from desktop.ui.window.query_actions import QueryActions
from tests.helpers import REPO

PARTS = [
    Controller,
    FileWatch,
    QueryControl,
    TriageCount,
    LifecycleControl,
    DatabaseActions,
    GenerateFlow,
    LifecycleActions,
    ActivityLog,
    KeyDialogFlow,
    QueryActions,
    ExportActions,
    MainWindow,
]


@pytest.mark.parametrize("part", PARTS, ids=lambda part: part.__name__)
def test_each_part_is_a_qobject_of_its_own_with_no_mixin(part: type) -> None:
    assert issubclass(part, QObject)
    assert [base for base in part.__mro__ if base.__module__.startswith("desktop.")] == [part]


def test_no_class_in_the_ui_pretends_to_be_its_host() -> None:
    """No `QWidget if TYPE_CHECKING else object` base, no `if TYPE_CHECKING:` stubs of a host's methods in a class."""
    found = []
    for path in sorted((REPO / "desktop" / "ui").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "TYPE_CHECKING else object" in text:
            found.append(f"{path.name}: TYPE_CHECKING else object")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.If) and ast.unparse(item.test) == "TYPE_CHECKING":
                        found.append(f"{path.name}: {node.name} has type-only stubs")
    assert found == []
