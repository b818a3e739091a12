"""Issue 21.16: the About box says which kind of database is open, and its location wraps only between parts."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.ui.window.about import location_html
from desktop.ui.window.main_window import MainWindow
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import open_store, wait_for

#: A wrap may fall after these (and at spaces); anything else is inside a word, a host or a file name.
BREAK_AFTER = "/?&@, \u200b"


def about_box(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    window.about_action.trigger()
    return wait_for(qtbot, QMessageBox, "aboutDialog")


def wrapped_lines(label: QLabel) -> list[str]:
    """The lines the label's text is laid out in, at the label's width and font."""
    document = QTextDocument()
    document.setDefaultFont(label.font())
    document.setHtml(label.text())
    document.setDocumentMargin(0)
    document.setTextWidth(label.contentsRect().width())
    document.size()  # lays the text out
    lines = []
    block = document.begin()
    while block.isValid():
        layout = block.layout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            lines.append(block.text()[line.textStart() : line.textStart() + line.textLength()])
        block = block.next()
    return lines


def test_about_names_the_kind_of_database_and_wraps_its_location_between_parts(
    qtbot: QtBot, make_window: WindowFactory, database: str, backend: str
) -> None:
    if backend == "postgresql":
        database = database.replace("postgres@", "postgres:Canary-pw-7Q2x@")  # the socket trusts any password
    window = make_window(database=database)
    box = about_box(qtbot, window)
    text = box.informativeText()
    if backend == "postgresql":
        assert "PostgreSQL database on a server" in text and "local" not in text
        assert "***" in text and "Canary" not in text
    else:
        assert "local SQLite database file" in text
    label = box.findChild(QLabel, "qt_msgbox_informativelabel")
    assert label is not None
    lines = wrapped_lines(label)
    where = next(i for i, line in enumerate(lines) if line.startswith(("Server:", "Database file:")))
    location_lines = lines[where:]
    shown = "".join(location_lines).replace("\u200b", "").replace("\u2060", "")
    assert open_store(window).location in shown
    for line in location_lines[:-1]:
        assert line[-1] in BREAK_AFTER, f"wrapped inside a part: {location_lines}"
    box.close()


def test_location_parts_are_the_only_wrap_points() -> None:
    html = location_html("postgresql://alice:***@db.example.com:5432/keys?sslmode=verify-full&x=<y>")
    html = html.replace("\u2060", "")  # after each hyphen: no wrap there
    assert html.replace("\u200b", "") == (
        "postgresql://alice:***@db.example.com:5432/keys?sslmode=verify-full&amp;x=&lt;y&gt;"
    )
    assert html.split("\u200b") == [
        "postgresql://",
        "alice:***@",
        "db.example.com:5432/",
        "keys?",
        "sslmode=verify-full&amp;",
        "x=&lt;y&gt;",
    ]
