"""Which TLS mode a PostgreSQL connection gets (issue 20.5), decided from the URL, the environment and the service
file alone: no network, no server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from desktop.core.db.pg_tls import choose, is_local
from desktop.core.db.postgresql import PostgresDatabase


def _choice(url: str, **env: str) -> tuple[str | None, str | None, bool]:
    choice = choose(make_url(url), "the server", {"HOME": "/nonexistent", **env})
    return choice.default, choice.rootcert, choice.warning is not None


@pytest.mark.parametrize(
    "host", ["", "/run/postgresql", "@abstract", "localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]"]
)
def test_a_socket_or_the_loopback_is_local(host: str) -> None:
    assert is_local(host)


@pytest.mark.parametrize("host", ["db.example.com", "10.0.0.5", "192.168.1.2", "2001:db8::1", "localhost.example"])
def test_any_other_host_is_remote(host: str) -> None:
    assert not is_local(host)


def test_a_remote_host_defaults_to_verify_full_with_the_systems_roots() -> None:
    assert _choice("postgresql://alice@db.example.com/apikeys") == ("verify-full", "system", False)
    assert _choice("postgresql://alice@/apikeys?host=db.example.com") == ("verify-full", "system", False)
    assert _choice("postgresql://alice@/apikeys", PGHOST="db.example.com") == ("verify-full", "system", False)
    # The query's host replaces the URL's, as in libpq; an address beyond this machine is remote whatever the name.
    assert _choice("postgresql://a@db.example.com/k?host=/run/postgresql") == (None, None, False)
    assert _choice("postgresql://a@localhost/k?hostaddr=10.1.2.3")[0] == "verify-full"
    # Several hosts: one beyond this machine is enough.
    assert _choice("postgresql://alice@/apikeys?host=localhost,db.example.com")[0] == "verify-full"
    # A root certificate named (URL or environment) is libpq's to use.
    assert _choice("postgresql://a@db.example.com/k?sslrootcert=/ca.pem") == ("verify-full", None, False)
    assert _choice("postgresql://a@db.example.com/k", PGSSLROOTCERT="/ca.pem") == ("verify-full", None, False)


def test_libpqs_own_root_certificate_is_used_when_there_is_one(tmp_path: Path) -> None:
    (tmp_path / ".postgresql").mkdir()
    (tmp_path / ".postgresql" / "root.crt").write_text("")
    choice = choose(make_url("postgresql://a@db.example.com/k"), "x", {"HOME": str(tmp_path)})
    assert (choice.default, choice.rootcert) == ("verify-full", None)


def test_local_connections_keep_libpqs_default() -> None:
    for url in ("postgresql://alice@/apikeys", "postgresql://a@localhost/k", "postgresql://a@/k?host=/tmp/s"):
        assert _choice(url) == (None, None, False)


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_a_weaker_mode_chosen_anywhere_is_kept_and_said(mode: str, tmp_path: Path) -> None:
    assert _choice(f"postgresql://a@db.example.com/k?sslmode={mode}") == (None, None, True)
    assert _choice("postgresql://a@db.example.com/k", PGSSLMODE=mode) == (None, None, True)
    services = tmp_path / "services.conf"
    services.write_text(f"[keys]\nhost=db.example.com\nsslmode={mode}\n")
    assert _choice("postgresql:///k?service=keys", PGSERVICEFILE=str(services)) == (None, None, True)
    assert _choice("postgresql:///k", PGSERVICE="keys", PGSERVICEFILE=str(services)) == (None, None, True)
    # The URL's own mode wins over the environment's, as in libpq.
    assert _choice("postgresql://a@db.example.com/k?sslmode=verify-full", PGSSLMODE=mode) == (None, None, False)


def test_a_service_naming_a_remote_host_without_a_mode_is_verified(tmp_path: Path) -> None:
    services = tmp_path / "services.conf"
    services.write_text("[keys]\nhost=db.example.com\n")
    assert _choice("postgresql:///k?service=keys", PGSERVICEFILE=str(services)) == ("verify-full", "system", False)


def test_the_connection_parameters_carry_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGSSLMODE", "PGHOST", "PGSERVICE", "PGSSLROOTCERT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    remote = PostgresDatabase(make_url("postgresql://alice@db.example.com/apikeys"))._connect_args(pool=True)
    assert (remote["sslmode"], remote["sslrootcert"]) == ("verify-full", "system")
    local = PostgresDatabase(make_url("postgresql://alice@/apikeys?host=/tmp"))._connect_args(pool=False)
    assert "sslmode" not in local
    weak = PostgresDatabase(make_url("postgresql://alice@db.example.com/apikeys?sslmode=require"))
    assert "sslmode" not in weak._connect_args(pool=True)  # the URL's own reaches libpq unchanged
    assert weak.warning is not None and "not verified" in weak.warning
