"""The window's real settings file (QSettings' own place) is private (0600 in a 0700 folder) under umask 022, and
never holds a password in any spelling libpq accepts, nor any text holding a key (issue 20, item 1)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from desktop.core.keys import KEY_PATTERN, mask
from desktop.core.store import KeyStore
from desktop.ui.window.main_window import MainWindow
from tests.pg import PgCluster
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import open_store, wait_idle
from tests.ui.widgets import child

PASSWORD = "S3cretPW"
NO_POLL = 60_000
OPENS_MS = 10_000


@pytest.fixture
def real_settings(tmp_path: Path) -> Iterator[Path]:
    """QSettings() (what the window uses when given none) writes under a fresh folder, with umask 022."""
    before = Path(QSettings().fileName()).parent.parent
    root = tmp_path / "config"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root))
    umask = os.umask(0o022)
    try:
        yield Path(QSettings().fileName())
    finally:
        os.umask(umask)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(before))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _written(name: str) -> object:
    """What the window's settings hold for `name` now (a QSettings on the same file shares what is unsaved)."""
    return QSettings().value(name)


def _leaks(text: str) -> list[str]:
    found = [match.group(0)[:6] + "…" for match in KEY_PATTERN.finditer(text)]
    if PASSWORD in text:
        found.append("the password")
    return found


def _search(qtbot: QtBot, window: MainWindow, text: str) -> None:
    edit = child(window, QLineEdit, "searchEdit")
    edit.setText(text)  # as pasted (keyClicks takes ASCII only: the U+200B case)
    edit.textEdited.emit(text)
    qtbot.waitUntil(lambda: window.controller.query.search == text.strip())
    wait_idle(qtbot, window)


def _open(qtbot: QtBot, window: MainWindow, url: str) -> None:
    name = url.split("/")[3].split("?")[0]
    window.databases.open_database(url)
    qtbot.waitUntil(lambda: name in open_store(window).location, timeout=OPENS_MS)
    wait_idle(qtbot, window)


def test_the_real_settings_file_is_private_and_holds_no_password_or_key(
    qtbot: QtBot, make_window: WindowFactory, real_settings: Path, store: KeyStore, pg_cluster: PgCluster
) -> None:
    key = store.create("remembered").key
    window = make_window(settings=None, poll_interval_ms=NO_POLL)
    assert window._settings.fileName() == str(real_settings)

    # Open Recent: every spelling of a password libpq (and the URL parser in front of it) accepts.
    plain = pg_cluster.new_database()
    with_password = [
        pg_cluster.new_database() + f"&password={PASSWORD}",
        pg_cluster.new_database() + f"&sslpassword={PASSWORD}",
        pg_cluster.new_database() + f"&pass%77ord={PASSWORD}",
        pg_cluster.new_database().replace("postgres@", f"postgres:{PASSWORD}@"),
    ]
    for url in [plain, *with_password]:
        _open(qtbot, window, url)
        found = _leaks(repr(_written("database/recent")))  # never the value itself in a failure
        assert not found, url.replace(PASSWORD, "***")
    recent = _written("database/recent")
    assert isinstance(recent, list) and any(item == plain for item in recent)  # a URL without one still is

    # The search box: whatever holds a key keeps it only masked; whatever names a password is not written.
    for typed in (
        f"Bearer {key}",
        f"API_KEY={key}",
        f"{key}\u200b",
        f"xx{key}yy",
        f"host=db user=alice password={PASSWORD}",
        f"host=db password = '{PASSWORD}'",
        f"service=team sslpassword={PASSWORD}",
        f"postgresql://alice@db/keys?password={PASSWORD}",
        f"postgresql://alice:{PASSWORD}@db/keys",
    ):
        _search(qtbot, window, typed)
        found = _leaks(str(_written("query/search") or ""))
        assert not found, typed.replace(key, "<key>").replace(PASSWORD, "***")
    _search(qtbot, window, f"Bearer {key}")
    assert _written("query/search") == f"Bearer {mask(key)}"

    window.shutdown()  # saves the window's place and syncs: the file is on disk
    assert real_settings.is_file()
    assert _mode(real_settings) == 0o600
    assert _mode(real_settings.parent) == 0o700
    assert real_settings.parent.name == QCoreApplication.organizationName()
    text = real_settings.read_text(encoding="utf-8", errors="replace")
    found = _leaks(text)
    assert not found
    assert re.search(r"password|pass%77ord", text, re.IGNORECASE) is None


def test_a_settings_file_left_by_an_older_version_is_cleaned_and_narrowed(
    qtbot: QtBot, make_window: WindowFactory, real_settings: Path, store: KeyStore
) -> None:
    key = store.create("old").key
    real_settings.parent.mkdir(parents=True)
    os.chmod(real_settings.parent, 0o755)
    old = QSettings()
    old.setValue("database/recent", [f"postgresql://alice@db/keys?password={PASSWORD}", "/srv/keys.db"])
    old.setValue("query/search", f"Bearer {key}")
    old.sync()
    os.chmod(real_settings, 0o644)
    del old

    window = make_window(settings=None, poll_interval_ms=NO_POLL)
    assert _mode(real_settings) == 0o600 and _mode(real_settings.parent) == 0o700
    found = _leaks(real_settings.read_text(encoding="utf-8", errors="replace"))
    assert not found
    found = _leaks(repr(window.databases.recent_databases()))
    assert not found
    assert "/srv/keys.db" in window.databases.recent_databases()


KEY = "ak_" + "7Gq2" + "A" * 30 + "x9Lp"


@pytest.mark.parametrize(
    "value",
    [
        f"postgresql://alice:{PASSWORD}@db.example.com/keys",
        f"postgres://alice:{PASSWORD}@[::1]:5432/keys",
        f"postgresql://alice:p/{PASSWORD}@db/keys",
        f"postgresql://alice@db/keys?sslmode=require&password={PASSWORD}",
        f"postgresql://alice@db/keys?sslpassword={PASSWORD}",
        f"postgresql://alice@db/keys?pass%77ord={PASSWORD}",
        f"postgresql://alice@db/keys?%70assword={PASSWORD}",
        f"postgresql://alice@db/keys?password%3D{PASSWORD}",
        f"host=db dbname=keys password={PASSWORD}",
        f"host=db password = '{PASSWORD} with spaces'",
        f"PGPASSWORD={PASSWORD}",
        ["/srv/keys.db", f"postgresql://bob:{PASSWORD}@h/db"],
    ],
)
def test_the_gate_never_writes_a_password(value: object) -> None:
    from desktop.ui.platform.private_settings import cleaned

    assert PASSWORD not in repr(cleaned(value))


@pytest.mark.parametrize(
    "value",
    [KEY, f"Bearer {KEY}", f"API_KEY={KEY}", f"{KEY}\u200b", f"x{KEY}y", f"ak%5F{KEY[3:]}", [f"a {KEY}"]],
)
def test_the_gate_never_writes_a_key(value: object) -> None:
    from desktop.ui.platform.private_settings import cleaned

    assert KEY_PATTERN.search(repr(cleaned(value))) is None
    assert KEY[3:] not in repr(cleaned(value))


@pytest.mark.parametrize(
    "value",
    [
        "postgresql://alice@/keys?host=/run/postgresql&sslmode=verify-full",
        "postgresql://[::1]:5432/keys",
        "/home/alice/keys.db",
        "billing",
        "ak_7Gq2…x9Lp",
        42,
        True,
    ],
)
def test_the_gate_keeps_what_holds_no_secret(value: object) -> None:
    from desktop.ui.platform.private_settings import cleaned

    assert cleaned(value) == value
