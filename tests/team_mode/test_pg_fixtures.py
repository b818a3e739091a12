"""The PostgreSQL fixtures skip with one line where no server can be started, and fail instead under CI=true."""

from __future__ import annotations

import glob
import shutil

import pytest

from tests import pg


def test_no_postgresql_is_one_line_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # the modules tests.pg looks with
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    with pytest.raises(pg.PgUnavailable) as raised:
        pg.start_cluster()
    message = str(raised.value)
    assert "\n" not in message and "apt install postgresql" in message


@pytest.mark.parametrize("ci", ["", "false"])
def test_a_developer_machine_skips(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped: no server here"):
        pg.unavailable("no server here")


@pytest.mark.parametrize("ci", ["true", "1"])
def test_ci_fails_rather_than_skips(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required in CI: no server here"):
        pg.unavailable("no server here")
