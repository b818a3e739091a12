"""Team mode in the window, on a real PostgreSQL server: live without polling, and losing the server.

Windows here poll every minute at most (NO_POLL), so whatever appears within a test's waitUntil was heard
through LISTEN, never found by a poll.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from desktop.ui.control.notifications import Level
from desktop.ui.window.main_window import MainWindow
from tests.helpers import run_cli
from tests.pg import PgCluster, throwaway_cluster
from tests.team_mode.test_tls import REMOTE, TlsServer, tls_server  # noqa: F401  # a fixture, used by name
from tests.ui.conftest import WindowFactory
from tests.ui.helpers import (
    answer,
    click,
    find_visible,
    generate,
    open_store,
    row_button,
    secret,
    seed,
    shown_ids,
    status,
    status_level,
    wait_for,
    wait_idle,
    widget_texts,
)
from tests.ui.widgets import child

#: A poll interval no test outlives: only the listener can show a change in time.
NO_POLL = 60_000
#: The contract gives a change 1 s to appear and a recovery 5 s; these are the waits' upper bounds.
APPEARS_MS = 5000


@pytest.fixture
def window_database(pg_cluster: PgCluster) -> str:
    """make_window's windows open a fresh database on the session's cluster (with the current schema)."""
    return pg_cluster.new_migrated_database()


@pytest.fixture
def store(window_database: str) -> Iterator[KeyStore]:
    with KeyStore.open(window_database, create=True) as opened:
        yield opened


@pytest.fixture
def private_cluster(pg_cluster: PgCluster) -> Iterator[PgCluster]:
    """A cluster of this test's own, to stop and start (the session's serves every other test)."""
    with throwaway_cluster() as cluster:
        yield cluster


def listening(qtbot: QtBot, window: MainWindow) -> None:
    """Until the window listens and the reload that follows LISTEN is done."""
    qtbot.waitUntil(lambda: window.controller.watch.listening, timeout=APPEARS_MS)
    wait_idle(qtbot, window)


def listeners(cluster: PgCluster, database: str) -> int:
    """How many sessions LISTEN on the database (the windows' listeners)."""
    rows = cluster.execute(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND query LIKE 'LISTEN %'"
    )
    return int(rows[0][0])


def db_name(url: str) -> str:
    return url.split("/")[3].split("?")[0]


def descriptions(window: MainWindow) -> list[str]:
    return [record.description for record in window.model.records()]


# -- the walkthrough on PostgreSQL ------------------------------------------------


def test_walkthrough_generate_toggle_delete_and_page(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    seed(store, 30)
    window = make_window(poll_interval_ms=NO_POLL)
    assert window.windowTitle().startswith("postgresql+psycopg://")
    assert child(window, QLabel, "pageLabel").text() == "1–25 of 30"
    click(qtbot, window.pagination.next_button)
    assert len(shown_ids(window)) == 5 and child(window, QLabel, "pageLabel").text() == "26–30 of 30"
    click(qtbot, window.pagination.prev_button)
    assert len(shown_ids(window)) == 25

    shown = generate(qtbot, window, "Team billing")
    key = secret(child(shown, QLineEdit, "keyField").text())
    click(qtbot, shown.findChild(QPushButton, "copyKeyButton"))
    shown.accept()
    wait_idle(qtbot, window)
    assert descriptions(window)[0] == "Team billing"
    assert child(window, QLabel, "pageLabel").text() == "1–25 of 31"
    assert store.verify(key) is Verdict.VALID

    record = window.model.record(0)
    click(qtbot, row_button(window, 0, "toggleButton"))
    answer(qtbot, "confirmDeactivateDialog", "confirmButton")
    qtbot.waitUntil(lambda: row_button(window, 0, "toggleButton").text() == "Activate")
    assert not store.get(record.id).active and store.verify(key) is Verdict.INACTIVE
    assert "Deactivated" in status(window) and status_level(window) is Level.INFO

    click(qtbot, row_button(window, 0, "deleteButton"))
    answer(qtbot, "confirmDeleteDialog", "confirmButton")
    qtbot.waitUntil(lambda: record.id not in shown_ids(window))
    wait_idle(qtbot, window)
    assert store.count() == 30 and child(window, QLabel, "pageLabel").text() == "1–25 of 30"
    assert "Deleted" in status(window)


# -- live refresh without polling --------------------------------------------------


def test_two_windows_and_the_cli_see_each_others_changes(
    qtbot: QtBot, make_window: WindowFactory, window_database: str
) -> None:
    first = make_window(poll_interval_ms=NO_POLL)
    second = make_window(poll_interval_ms=NO_POLL, settings=QSettings())
    listening(qtbot, first)
    listening(qtbot, second)

    result = run_cli("create", "--description", "from the command line", "--database", window_database)
    assert result.returncode == 0, result.stderr
    for window in (first, second):

        def made_by_the_cli(w: MainWindow = window) -> bool:
            return descriptions(w) == ["from the command line"]

        qtbot.waitUntil(made_by_the_cli, timeout=APPEARS_MS)

    shown = generate(qtbot, first, "from the first window")
    click(qtbot, shown.findChild(QPushButton, "copyKeyButton"))
    shown.accept()
    qtbot.waitUntil(lambda: descriptions(second)[:1] == ["from the first window"], timeout=APPEARS_MS)
    qtbot.waitUntil(lambda: child(second, QLabel, "pageLabel").text() == "1–2 of 2", timeout=APPEARS_MS)

    cli_key = second.model.record(1)
    click(qtbot, row_button(second, 1, "toggleButton"))
    answer(qtbot, "confirmDeactivateDialog", "confirmButton")
    qtbot.waitUntil(lambda: row_button(first, 1, "toggleButton").text() == "Activate", timeout=APPEARS_MS)

    result = run_cli("delete", str(cli_key.id), "--database", window_database)
    assert result.returncode == 0, result.stderr
    for window in (first, second):

        def gone(w: MainWindow = window) -> bool:
            return cli_key.id not in shown_ids(w)

        def counted(w: MainWindow = window) -> bool:
            return child(w, QLabel, "pageLabel").text() == "1–1 of 1"

        qtbot.waitUntil(gone, timeout=APPEARS_MS)
        qtbot.waitUntil(counted, timeout=APPEARS_MS)
    wait_idle(qtbot, first)
    wait_idle(qtbot, second)


def test_a_page_further_down_stays_in_place_when_a_key_is_added_above(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore
) -> None:
    seed(store, 30)
    window = make_window(poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    click(qtbot, window.pagination.next_button)
    page = shown_ids(window)
    store.create("newest, on page one")
    qtbot.waitUntil(lambda: child(window, QLabel, "pageLabel").text() == "27–31 of 31", timeout=APPEARS_MS)
    assert shown_ids(window) == page


def test_a_verify_touch_does_not_wake_the_window(
    qtbot: QtBot, make_window: WindowFactory, store: KeyStore, pg_cluster: PgCluster
) -> None:
    created = store.create("verified by a service")
    window = make_window(poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    reloads: list[object] = []
    window.controller.liveReloaded.connect(lambda: reloads.append(None))

    # The trigger itself, watched from a session of the test's own: a touch announces nothing.
    import psycopg

    with psycopg.connect(open_store(window).database.target.replace("+psycopg", ""), autocommit=True) as spy:
        spy.execute("LISTEN apikeys_changes")
        with qtbot.assertNotEmitted(window.controller.liveReloaded, wait=500):
            assert store.verify(created.key) is Verdict.VALID
        assert store.get(created.record.id).last_used_at is not None  # the use was recorded
        assert list(spy.notifies(timeout=0.2)) == []
        store.set_active(created.record.id, False)  # a real change: announced, and reloaded
        assert len(list(spy.notifies(timeout=2, stop_after=1))) == 1
    qtbot.waitUntil(lambda: row_button(window, 0, "toggleButton").text() == "Activate", timeout=APPEARS_MS)
    assert len(reloads) == 1
    wait_idle(qtbot, window)


def test_a_burst_of_changes_is_coalesced(qtbot: QtBot, make_window: WindowFactory, store: KeyStore) -> None:
    window = make_window(poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    reloads: list[object] = []
    window.controller.liveReloaded.connect(lambda: reloads.append(None))
    for n in range(20):
        store.create(f"burst {n}")  # twenty commits, twenty notifications
    qtbot.waitUntil(lambda: descriptions(window)[:1] == ["burst 19"], timeout=APPEARS_MS)
    wait_idle(qtbot, window)
    assert 1 <= len(reloads) < 20
    assert child(window, QLabel, "pageLabel").text() == "1–20 of 20"


def test_closing_the_window_closes_its_listener(
    qtbot: QtBot, make_window: WindowFactory, window_database: str, pg_cluster: PgCluster
) -> None:
    window = make_window(poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    assert listeners(pg_cluster, db_name(window_database)) == 1
    window.close()
    qtbot.waitUntil(lambda: listeners(pg_cluster, db_name(window_database)) == 0, timeout=APPEARS_MS)


# -- losing the server -------------------------------------------------------------


def test_losing_the_server_keeps_the_page_and_recovers(
    qtbot: QtBot, make_window: WindowFactory, private_cluster: PgCluster
) -> None:
    url = private_cluster.new_database()
    with KeyStore.open(url, create=True) as other:
        seed(other, 3)
    window = make_window(database=url, poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    page = shown_ids(window)
    lost: list[object] = []
    window.controller.watch.lost.connect(lost.append)

    private_cluster.stop()
    qtbot.waitUntil(lambda: "Cannot reach the database server" in status(window), timeout=APPEARS_MS)
    assert status_level(window) is Level.ERROR and "reconnecting" in status(window)
    assert shown_ids(window) == page and child(window, QLabel, "pageLabel").text() == "1–3 of 3"

    # An action meanwhile says why it failed, and changes nothing.
    record = window.model.record(0)
    click(qtbot, row_button(window, 0, "toggleButton"))
    answer(qtbot, "confirmDeactivateDialog", "confirmButton")
    qtbot.waitUntil(lambda: f"Could not deactivate {record.masked}" in status(window), timeout=APPEARS_MS)
    assert shown_ids(window) == page
    # Retries go on (250 ms doubling): still one notice for the whole loss.
    qtbot.waitUntil(lambda: window.controller.watch._delay_ms >= 1000, timeout=APPEARS_MS)
    assert len(lost) == 1

    private_cluster.start()
    qtbot.waitUntil(lambda: "is back" in status(window), timeout=APPEARS_MS)
    assert status_level(window) is Level.INFO
    assert open_store(window).get(record.id).active  # the refused deactivation was not half-done

    result = run_cli("create", "--description", "made after the restart", "--database", url)
    assert result.returncode == 0, result.stderr
    qtbot.waitUntil(lambda: descriptions(window)[:1] == ["made after the restart"], timeout=APPEARS_MS)
    qtbot.waitUntil(lambda: child(window, QLabel, "pageLabel").text() == "1–4 of 4", timeout=APPEARS_MS)
    wait_idle(qtbot, window)


def test_changes_made_while_away_appear_once_back(
    qtbot: QtBot, make_window: WindowFactory, private_cluster: PgCluster
) -> None:
    url = private_cluster.new_database()
    window = make_window(database=url, poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    private_cluster.stop()
    qtbot.waitUntil(lambda: window.controller.watch.away, timeout=APPEARS_MS)
    # Changed while the window could not hear: its notification is lost; the reload in full shows it.
    private_cluster.start()
    private_cluster.execute(
        "INSERT INTO api_keys (digest, hint, description, created_at, active) "
        "VALUES (sha256('x'), 'abcdwxyz', 'made by psql', now() AT TIME ZONE 'utc', true)",
        db_name(url),
    )
    qtbot.waitUntil(lambda: descriptions(window) == ["made by psql"], timeout=APPEARS_MS)
    wait_idle(qtbot, window)


def test_closing_while_reconnecting_neither_hangs_nor_reconnects(
    qtbot: QtBot, make_window: WindowFactory, private_cluster: PgCluster
) -> None:
    url = private_cluster.new_database()
    window = make_window(database=url, poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    watch = window.controller.watch
    private_cluster.stop()
    qtbot.waitUntil(lambda: watch.away, timeout=APPEARS_MS)
    window.close()
    assert not watch.active and not watch.listening
    private_cluster.start()
    qtbot.wait(800)  # longer than the next retries would take: none may come
    assert listeners(private_cluster, db_name(url)) == 0


# -- no password, anywhere ---------------------------------------------------------


def test_a_password_in_the_url_is_never_shown(
    qtbot: QtBot, make_window: WindowFactory, private_cluster: PgCluster, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "Canary-pw-7Q2x"
    plain = private_cluster.new_database()
    url = plain.replace("postgres@", f"postgres:{canary}@")  # the cluster trusts the socket: any password works
    caplog.set_level(logging.DEBUG)
    window = make_window(database=url, poll_interval_ms=NO_POLL)
    listening(qtbot, window)
    assert "***" in window.windowTitle() and "***" in window.location_label.text()
    window.about_action.trigger()
    about = wait_for(qtbot, QMessageBox, "aboutDialog")
    assert "***" in about.informativeText()
    texts = widget_texts()
    about.close()
    private_cluster.stop()  # the unreachable notice names the server too
    qtbot.waitUntil(lambda: "Cannot reach" in status(window), timeout=APPEARS_MS)
    texts += widget_texts()
    private_cluster.start()
    qtbot.waitUntil(lambda: "is back" in status(window), timeout=APPEARS_MS)
    texts += widget_texts()
    assert not [text for text in texts if canary in text]
    assert canary not in caplog.text
    wait_idle(qtbot, window)
    QApplication.processEvents()


def test_the_live_refresh_benchmark_runs(qtbot: QtBot, window_database: str) -> None:
    # So that tests/benchmarks/pg_live.py cannot rot; its figures belong to `make bench`, never to a test.
    from tests.benchmarks.pg_live import measure_live_refresh

    times = measure_live_refresh(window_database, samples=3)
    assert len(times) == 3 and all(t > 0 for t in times)


def test_open_recent_keeps_a_server_url_but_never_one_with_a_password(
    qtbot: QtBot, make_window: WindowFactory, pg_cluster: PgCluster, settings: QSettings
) -> None:
    from PySide6.QtWidgets import QMenu

    canary = "Canary-pw-3Rk8"
    with_password = pg_cluster.new_database().replace("postgres@", f"postgres:{canary}@")
    plain = pg_cluster.new_database()
    window = make_window(database=with_password, poll_interval_ms=NO_POLL)
    window.databases.open_database(plain)
    qtbot.waitUntil(lambda: window.store is not None and db_name(plain) in window.store.location)
    window.databases.open_database(with_password)
    qtbot.waitUntil(lambda: window.store is not None and "***" in window.store.location)
    menu = window.findChild(QMenu, "openRecentMenu")
    assert menu is not None
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if a.data()]
    assert [a.data() for a in entries] == [plain]  # reopenable as it was given; the password URL not kept
    settings.sync()
    assert canary not in Path(settings.fileName()).read_text(encoding="utf-8")
    entries[0].trigger()
    qtbot.waitUntil(lambda: window.store is not None and db_name(plain) in window.store.location)
    wait_idle(qtbot, window)


# -- File ▸ Connect to Server… ------------------------------------------------------------------------


def _connect_dialog(qtbot: QtBot, window: MainWindow) -> QDialog:
    child(window, QAction, "connectServerAction").trigger()
    return wait_for(qtbot, QDialog, "connectServerDialog")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the database's URL"),
        ("   ", "Enter the database's URL"),
        ("/home/alice/keys.db", "starts with postgresql://"),
        ("sqlite:///keys.db", "starts with postgresql://"),
        ("mysql://bob@db/keys", "starts with postgresql://"),
        ("postgresql://bob@db/my keys", "no spaces or control characters"),
        ("postgresql://bob@db/keys\x07", "no spaces or control characters"),
    ],
)
def test_connect_refuses_what_is_not_a_server_url_and_changes_nothing(
    qtbot: QtBot, make_window: WindowFactory, typed: str, says: str
) -> None:
    window = make_window(poll_interval_ms=NO_POLL)
    before = open_store(window).location
    dialog = _connect_dialog(qtbot, window)
    child(dialog, QLineEdit, "serverUrlEdit").setText(typed)
    click(qtbot, dialog.findChild(QPushButton, "connectButton"))
    error = child(dialog, QLabel, "serverUrlError")
    assert dialog.isVisible() and error.isVisible() and says in error.text()
    dialog.reject()
    qtbot.waitUntil(lambda: find_visible(QDialog, "connectServerDialog") is None)
    wait_idle(qtbot, window)
    assert open_store(window).location == before


def test_connect_to_a_server_switches_the_window_and_remembers_it(
    qtbot: QtBot, make_window: WindowFactory, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QMenu

    with KeyStore.open(str(tmp_path / "local.db"), create=True) as local:
        local.create("on the laptop")
    server = pg_cluster.new_database()
    with KeyStore.open(server) as shared:
        shared.create("shared by the team")
    window = make_window(database=str(tmp_path / "local.db"), poll_interval_ms=NO_POLL)
    dialog = _connect_dialog(qtbot, window)
    child(dialog, QLineEdit, "serverUrlEdit").setText(f"  {server} ")
    click(qtbot, dialog.findChild(QPushButton, "connectButton"))
    qtbot.waitUntil(lambda: db_name(server) in open_store(window).location, timeout=APPEARS_MS)
    qtbot.waitUntil(lambda: descriptions(window) == ["shared by the team"], timeout=APPEARS_MS)
    assert "Opened" in status(window)
    listening(qtbot, window)  # and live: the server's changes reach it
    menu = child(window, QMenu, "openRecentMenu")
    menu.aboutToShow.emit()
    assert server in [a.data() for a in menu.actions() if a.data()]


def test_an_unreachable_server_keeps_the_database_open_now(
    qtbot: QtBot, make_window: WindowFactory, private_cluster: PgCluster
) -> None:
    window = make_window(poll_interval_ms=NO_POLL)
    before = open_store(window).location
    url = private_cluster.new_database()
    private_cluster.stop()
    window.databases.open_database(url)
    assert "Connecting" in status(window)  # said at once; the connection is tried off the GUI thread
    qtbot.waitUntil(lambda: "Cannot reach the database server" in status(window), timeout=APPEARS_MS)
    assert status_level(window) is Level.ERROR
    assert open_store(window).location == before
    wait_idle(qtbot, window)


# -- a connection whose TLS is not verified (issue 20.5) ---------------------------------------------------


def test_a_server_connection_that_is_not_verified_is_said_once(
    qtbot: QtBot,
    make_window: WindowFactory,
    tls_server: TlsServer,  # noqa: F811  # the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PGSSLMODE", "PGSSLROOTCERT"):
        monkeypatch.delenv(name, raising=False)
    window = make_window(poll_interval_ms=NO_POLL)
    # A name beyond this machine reached at 127.0.0.1 (no network): sslmode=require is honoured, and said.
    window.databases.open_database(tls_server.url("hostaddr=127.0.0.1&sslmode=require", host=REMOTE))
    qtbot.waitUntil(lambda: "not verified" in status(window), timeout=APPEARS_MS * 4)
    assert status_level(window) is Level.ERROR and REMOTE in status(window)
    assert REMOTE in window.windowTitle()
    assert tls_server.password not in status(window) + window.windowTitle()
    listening(qtbot, window)
