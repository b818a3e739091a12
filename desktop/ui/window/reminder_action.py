"""View ▸ Expiry Reminders: the window's switch for the daily desktop reminder (`apikeys remind --on/--off`).

Both write the reminder's own small settings file (desktop/remind/config.py): the reminder runs from a systemd
timer with no window and no Qt. Turning it on here remembers the database this window shows (unless its URL
would need a password written down: then the default database stays the one reminded about).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from desktop.core.errors import InvalidInput
from desktop.core.operations import Operation
from desktop.remind import config

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QMenu, QWidget

    from desktop.ui.control.controller import Controller

    Report = Callable[[BaseException, Operation], None]


def add_reminder_action(window: QWidget, menu: QMenu, controller: Controller, report: Report) -> QAction:
    """The checkable action in `menu`; `report` says what failed (the window's error policy)."""
    action = QAction("Expiry &Reminders", window)
    action.setObjectName("expiryRemindersAction")
    action.setCheckable(True)
    action.setStatusTip(
        "A desktop notification each day while keys are about to expire, even when this window is closed"
    )
    action.setChecked(config.load().enabled)
    # Another process (`apikeys remind --off`) may have changed it: read it again whenever the menu opens.
    menu.aboutToShow.connect(lambda: action.setChecked(config.load().enabled))
    action.triggered.connect(lambda checked: _switch(controller, report, checked))
    menu.addAction(action)
    return action


def _switch(controller: Controller, report: Report, on: bool) -> None:
    settings = config.load()
    store = controller.store
    database = store.reopen_target if on and store is not None and store.reopen_target else settings.database
    try:
        config.save(replace(settings, enabled=on, database=database))
    except InvalidInput:
        config.save(replace(settings, enabled=on, database=None))
    except OSError as err:
        report(err, Operation.REMINDERS_ON if on else Operation.REMINDERS_OFF)
        return
    controller.notifier.info(
        "Expiry reminders are on: a desktop notification each day while keys are about to expire."
        if on
        else "Expiry reminders are off. Turn them on again here, or with: apikeys remind --on"
    )
