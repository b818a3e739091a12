"""The table model: headers, roles, tooltip and icon, expired marking; pytest-qt's model tester."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import KeyRecord, NewKey
from desktop.ui import theme
from desktop.ui.control.key_table_model import (
    COL_ACTIONS,
    COL_DESCRIPTION,
    COL_EXPIRES,
    COL_KEY,
    COL_STATUS,
    HEADERS,
    KEY_ID_ROLE,
    KeyTableModel,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def record(key_id: int = 7, **changes: Any) -> KeyRecord:
    usual = KeyRecord(
        id=key_id,
        masked="ak_7Gq2…x9Lp",
        description="Billing service",
        created_at=NOW - timedelta(days=3),
        expires_at=None,
        active=True,
        last_used_at=None,
    )
    return dataclasses.replace(usual, **changes)


def test_headers_keep_the_contract_order() -> None:
    model = KeyTableModel()
    shown = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert shown == list(HEADERS)
    positions = [shown.index(name) for name in ("API Key", "Description", "Expires", "Actions")]
    assert positions == sorted(positions)


def test_model_passes_qtmodeltester(qtmodeltester: ModelTester, store: KeyStore) -> None:
    store.insert_many([NewKey(f"key {i}", NOW - timedelta(minutes=i), active=i % 2 == 0) for i in range(30)])
    model = KeyTableModel(clock=lambda: NOW)
    model.reload(store.page(25).items)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 25
    assert model.rowCount(model.index(0, 0)) == 0


def test_reload_resets_the_model(qtbot: QtBot) -> None:
    model = KeyTableModel(clock=lambda: NOW)
    with qtbot.waitSignals([model.modelAboutToBeReset, model.modelReset]):
        model.reload([record(1), record(2)])
    assert model.rowCount() == 2
    assert model.data(model.index(1, COL_KEY), KEY_ID_ROLE) == 2
    assert model.row_of(2) == 1 and model.row_of(99) is None


def test_key_column_is_masked_and_monospace() -> None:
    model = KeyTableModel(clock=lambda: NOW)
    model.reload([record()])
    index = model.index(0, COL_KEY)
    assert model.data(index) == "ak_7Gq2…x9Lp"
    font = model.data(index, Qt.ItemDataRole.FontRole)
    assert (isinstance(font, QFont) and font.fixedPitch()) or font.styleHint() == QFont.StyleHint.Monospace


def test_description_has_info_icon_and_detailed_tooltip() -> None:
    model = KeyTableModel(clock=lambda: NOW)
    used = NOW - timedelta(hours=2)
    model.reload([record(42, description="Payments <prod> & friends", last_used_at=used)])
    index = model.index(0, COL_DESCRIPTION)
    icon = model.data(index, Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon) and not icon.isNull()
    assert not icon.pixmap(16, 16).isNull()
    tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "Payments &lt;prod&gt; &amp; friends" in tip  # the whole description, as text not markup
    assert "Created" in tip and (NOW - timedelta(days=3)).astimezone().strftime("%Y-%m-%d") in tip
    assert "Last used" in tip and used.astimezone().strftime("%Y-%m-%d %H:%M") in tip
    assert "Key ID" in tip and ">42<" in tip
    assert model.data(index) == "Payments <prod> & friends"


def test_tooltip_says_never_used() -> None:
    model = KeyTableModel(clock=lambda: NOW)
    model.reload([record()])
    assert "never" in model.data(model.index(0, COL_DESCRIPTION), Qt.ItemDataRole.ToolTipRole)


def test_expires_shows_never_date_or_expired() -> None:
    from desktop.core.validation import expiry_instant

    model = KeyTableModel(clock=lambda: NOW)
    # A date expiry, as the store writes one (the local midnight after the day), and an instant (a grace's end).
    future = expiry_instant((NOW + timedelta(days=10)).astimezone().date())
    past = NOW - timedelta(days=1)
    instant = NOW + timedelta(days=10)
    model.reload([record(1), record(2, expires_at=future), record(3, expires_at=past), record(4, expires_at=instant)])
    never, later, expired, until = (model.index(row, COL_EXPIRES) for row in range(4))
    assert model.data(never) == "Never"
    assert model.data(later) == (NOW + timedelta(days=10)).astimezone().date().isoformat()
    assert model.data(until) == f"Until {instant.astimezone():%Y-%m-%d %H:%M}"
    assert model.data(later, Qt.ItemDataRole.ForegroundRole) is None
    assert model.data(expired).startswith("Expired ")
    colour = model.data(expired, Qt.ItemDataRole.ForegroundRole)
    assert isinstance(colour, QColor)
    assert colour == theme.expired_text(QPalette())
    warning = model.data(expired, Qt.ItemDataRole.DecorationRole)
    assert isinstance(warning, QIcon) and not warning.isNull()
    assert "Expired" in model.data(expired, Qt.ItemDataRole.ToolTipRole)


def test_status_and_actions_columns() -> None:
    model = KeyTableModel(clock=lambda: NOW)
    model.reload([record(1), record(2, active=False)])
    assert model.data(model.index(0, COL_STATUS)) == "Active"
    assert model.data(model.index(1, COL_STATUS)) == "Inactive"
    assert model.data(model.index(0, COL_ACTIONS)) == ""
    assert "Activate" in model.data(model.index(1, COL_ACTIONS), Qt.ItemDataRole.AccessibleTextRole)
    assert model.data(QModelIndex()) is None


def test_answers_follow_each_change_of_page_rolled_keys_and_palette(qtbot: QtBot) -> None:
    # The model works a row's answers out once and keeps them: every change must forget them.
    model = KeyTableModel(clock=lambda: NOW)
    model.reload([record(1, description="first"), record(2, expires_at=NOW + timedelta(days=3))])
    assert model.index(0, COL_DESCRIPTION).data() == "first"
    expires = model.index(1, COL_EXPIRES)
    assert not str(expires.data()).startswith("Retiring")
    # Same length: replaced in place, new answers.
    model.reload([record(3, description="third"), record(2, expires_at=NOW + timedelta(days=3))])
    assert model.index(0, COL_DESCRIPTION).data() == "third"
    assert model.index(0, COL_KEY).data(KEY_ID_ROLE) == 3
    assert not str(expires.data()).startswith("Retiring")
    with qtbot.waitSignal(model.dataChanged):
        model.set_rolled(frozenset({2}))
    assert str(expires.data()).startswith("Retiring ")
    model.reload([record(4, expires_at=NOW - timedelta(days=1))])
    light, dark = QPalette(QColor("#ffffff")), QPalette(QColor("#202020"))
    model.set_palette(light)
    on_light = model.index(0, COL_EXPIRES).data(Qt.ItemDataRole.ForegroundRole)
    model.set_palette(dark)
    assert model.index(0, COL_EXPIRES).data(Qt.ItemDataRole.ForegroundRole) == theme.expired_text(dark)
    assert on_light == theme.expired_text(light) != theme.expired_text(dark)
    # Cells it does not have answer nothing.
    assert model.index(0, COL_KEY).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(QModelIndex()) is None
    assert model.data(model.createIndex(5, 0)) is None and model.data(model.createIndex(0, 99)) is None


def test_a_rolled_key_whose_own_date_comes_first_reads_retiring_on_that_day() -> None:
    """Issue 21.3: a roll keeps the old key's own expiry date when it comes first: still a date, not `00:00`."""
    from desktop.core.validation import expiry_instant

    model = KeyTableModel(clock=lambda: NOW)
    own = expiry_instant(NOW.astimezone().date() + timedelta(days=1))
    grace = NOW + timedelta(hours=3)
    model.reload([record(1, expires_at=own), record(2, expires_at=grace)])
    model.set_rolled(frozenset({1, 2}))
    day = (NOW.astimezone().date() + timedelta(days=1)).isoformat()
    assert model.data(model.index(0, COL_EXPIRES)) == f"Retiring {day}"
    assert model.data(model.index(1, COL_EXPIRES)) in (
        f"Retiring {grace.astimezone():%H:%M} {word}" for word in ("today", "tomorrow")
    )
    assert "00:00" not in model.data(model.index(0, COL_EXPIRES), Qt.ItemDataRole.ToolTipRole)


def test_cell_flags_are_answered_by_qt_without_a_call_into_python() -> None:
    """The view asks every visible cell's flags on every paint (about 120 a turn): Qt's table model answers them
    in C++ (enabled, selectable, no children); a Python flags() was a call from C++ into Python for each."""
    assert "flags" not in KeyTableModel.__dict__
    model = KeyTableModel(clock=lambda: NOW)
    model.reload([record(1), record(2, active=False)])
    expected = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
    assert all(model.flags(model.index(r, c)) == expected for r in range(2) for c in range(model.columnCount()))
    assert model.flags(QModelIndex()) == Qt.ItemFlag.NoItemFlags
