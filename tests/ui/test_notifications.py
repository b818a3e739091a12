"""One notifier: successes plainly, errors with icon and colour for longer; the slot guard."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.core.errors import DatabaseLocked
from desktop.core.operations import Operation
from desktop.ui.control.guard import guarded_as
from desktop.ui.control.notifications import ElidedLabel, Level, Notice, NotificationArea, Notifier, guarded
from tests.ui.widgets import child


def test_area_shows_info_then_error_distinctly(qtbot: QtBot) -> None:
    notifier = Notifier()
    area = NotificationArea()
    qtbot.addWidget(area)
    notifier.posted.connect(area.show_notice)
    notifier.info("Activated ak_7Gq2…x9Lp")
    assert area.text() == "Activated ak_7Gq2…x9Lp"
    assert area.notice() == Notice(Level.INFO, "Activated ak_7Gq2…x9Lp")
    info_style = child(area, QWidget, "statusText").styleSheet()
    notifier.error("The database is busy")
    assert area.text() == "The database is busy"
    notice = area.notice()
    assert notice is not None and notice.level is Level.ERROR
    assert child(area, QWidget, "statusText").styleSheet() != info_style
    assert "color" in child(area, QWidget, "statusText").styleSheet()
    assert area.accessibleName() == "Error"


def test_errors_stay_longer_and_long_texts_longer_still() -> None:
    assert Notice(Level.ERROR, "x").duration_ms > Notice(Level.INFO, "x").duration_ms
    assert Notice(Level.INFO, "x" * 300).duration_ms > Notice(Level.INFO, "x").duration_ms
    assert Notice(Level.INFO, "x").duration_ms >= 4000


def test_area_clears_itself(qtbot: QtBot) -> None:
    area = NotificationArea()
    qtbot.addWidget(area)
    area.show_notice(Notice(Level.INFO, "done"))
    area._expiry.start(10)
    qtbot.waitUntil(lambda: area.text() == "")


class _Owner:
    def __init__(self) -> None:
        self.reported: list[tuple[BaseException, Operation]] = []

    def report(self, err: BaseException, operation: Operation) -> None:
        self.reported.append((err, operation))

    @guarded
    def _on_button_clicked(self) -> int:
        raise DatabaseLocked("busy")

    @guarded
    def _on_other_clicked(self) -> int:
        return 3

    @guarded_as(Operation.TURN_PAGE)
    def next(self) -> None:
        raise DatabaseLocked("busy")


def test_guard_reports_instead_of_raising() -> None:
    owner = _Owner()
    assert owner._on_button_clicked() is None
    assert owner._on_other_clicked() == 3
    assert owner.next() is None
    # A slot's failure is a bug's (the log's traceback says where); a page turn's is a read's, which a vanished
    # database file explains (FileWatch.explains).
    assert [(type(e), o) for e, o in owner.reported] == [
        (DatabaseLocked, Operation.HANDLE_EVENT),
        (DatabaseLocked, Operation.TURN_PAGE),
    ]


def test_a_sticky_notice_stays_and_comes_back_until_released(qtbot: QtBot) -> None:
    from PySide6.QtCore import QTimer

    notifier = Notifier()
    area = NotificationArea()
    qtbot.addWidget(area)
    notifier.posted.connect(area.show_notice)
    expiry = child(area, QTimer, "noticeExpiryTimer")
    standing = notifier.error("The database file is gone", sticky=True)
    assert not expiry.isActive()
    notifier.info("Could not generate a key")  # passes…
    assert expiry.isActive()
    expiry.timeout.emit()
    assert area.text() == "The database file is gone" and not expiry.isActive()  # …and the standing one returns
    area.release(standing)
    assert expiry.isActive()
    expiry.timeout.emit()
    assert area.text() == ""
    notifier.info("later")
    expiry.timeout.emit()
    assert area.text() == ""  # released: it does not come back


def test_the_notifier_logs_what_it_shows(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:

    notifier = Notifier()
    shown: list[Notice] = []
    notifier.posted.connect(shown.append)
    with caplog.at_level(logging.INFO, logger="desktop.ui.control.notifications"):
        notifier.error("The database file is gone")
        outcome = notifier.report(DatabaseLocked("The database is busy."), Operation.COUNT)
        notifier.report(ValueError("boom"), Operation.HANDLE_EVENT)
    assert [n.text for n in shown][:2] == ["The database file is gone", outcome.text]
    records = [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert records == [
        (logging.ERROR, "The database file is gone", False),
        (logging.WARNING, "count failed: The database is busy.", False),
        (logging.ERROR, "unexpected error in event handler", True),
    ]


def test_a_notice_longer_than_the_bar_ends_in_an_ellipsis_and_its_tooltip_has_it_whole(qtbot: QtBot) -> None:
    area = NotificationArea()
    qtbot.addWidget(area)
    area.resize(320, 24)
    area.show()
    qtbot.waitExposed(area)
    text = "Cannot reach the database server db.example: connection refused. The keys shown are the last ones read."
    area.show_notice(Notice(Level.ERROR, text))
    label = child(area, ElidedLabel, "statusText")
    qtbot.waitUntil(lambda: label.shown_text().endswith("…"))
    assert label.shown_text() != text and text.startswith(label.shown_text()[:-1])
    assert area.text() == text and text in label.toolTip()
    area.resize(2000, 24)
    qtbot.waitUntil(lambda: label.shown_text() == text)
