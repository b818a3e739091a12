"""Team mode over TLS (issue 12.9): `sslmode=verify-full` with `sslrootcert` through the real command line.

A private cluster listens on 127.0.0.1 (a free port) with ssl=on and a server certificate for `localhost` signed
by a throwaway CA made here with `openssl`; pg_hba accepts the test role only over TLS (`hostssl`) with a
password, so every command that succeeds has gone through an encrypted, authenticated connection.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ONE_LINE_ERROR, CliResult, run_cli
from tests.pg import PgUnavailable, throwaway_cluster, unavailable

ROLE = "apikeys_tls"
#: A name beyond this machine, reached without a network: `hostaddr=127.0.0.1` says where, libpq checks the name.
REMOTE = "db.example.test"
DATABASE = "apikeys_tls"


@dataclass(frozen=True)
class TlsServer:
    port: int
    password: str = field(repr=False)  # never in a failing test's output
    ca: Path  # the CA that signed the server's certificate
    other_ca: Path  # a CA that did not

    def url(self, query: str, *, host: str = "localhost") -> str:
        return f"postgresql://{ROLE}:{self.password}@{host}:{self.port}/{DATABASE}?{query}"


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise PgUnavailable(f"openssl {args[0]} failed: {result.stderr.strip()[-300:]}")


def _make_ca(folder: Path, name: str) -> None:
    _openssl(
        *("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        *("-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=apikeys test {name}"),
        cwd=folder,
    )


def _make_certificates(folder: Path) -> None:
    """ca.pem signs server.crt (CN localhost, SAN localhost and REMOTE); other-ca.pem signs nothing we meet."""
    _make_ca(folder, "ca")
    _make_ca(folder, "other-ca")
    _openssl(
        *("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        *("-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"),
        cwd=folder,
    )
    (folder / "san.ext").write_text(f"subjectAltName = DNS:localhost, DNS:{REMOTE}\n")
    _openssl(
        *("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"),
        *("-out", "server.crt", "-days", "2", "-extfile", "san.ext"),
        cwd=folder,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed (apt install openssl): cannot make the test certificates")
    with throwaway_cluster() as cluster:
        password = secrets.token_urlsafe(18)
        cluster.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
        cluster.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
        tls = cluster.folder / "tls"
        tls.mkdir()
        _make_certificates(tls)
        if shutil.which("runuser"):  # as root the server runs as postgres, which must own its key (0600)
            shutil.chown(tls / "server.key", "postgres", "postgres")
            shutil.chown(tls / "server.crt", "postgres", "postgres")
        (tls / "server.key").chmod(0o600)
        cluster.stop()
        # Only TLS with a password over TCP; the superuser keeps the socket for administration.
        (cluster.data / "pg_hba.conf").write_text(
            f"local all postgres trust\nhostssl {DATABASE} {ROLE} 127.0.0.1/32 scram-sha-256\n"
        )
        port = _free_port()
        options = (
            f"-k {cluster.socket} -c listen_addresses=127.0.0.1 -c port={port} -c fsync=off -c ssl=on"
            f" -c ssl_cert_file={tls / 'server.crt'} -c ssl_key_file={tls / 'server.key'}"
        )
        cluster.pg_ctl("-l", str(cluster.log), "-w", "-o", options, "start")
        yield TlsServer(port, password, tls / "ca.pem", tls / "other-ca.pem")


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An empty HOME: no ~/.postgresql/root.crt, .pgpass or service file of the person running the tests."""
    folder = tmp_path / "home"
    folder.mkdir()
    return {"HOME": str(folder), "PGSSLMODE": "", "PGSSLROOTCERT": "", "PGPASSFILE": str(folder / "none")}


def _cli(url: str, env: dict[str, str], *args: str, stdin: str | None = None) -> CliResult:
    return run_cli(*args, "--database", url, stdin=stdin, env=env)


def _refused(result: CliResult, server: TlsServer) -> str:
    """The one-line exit-3 refusal, with no password in it."""
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert server.password not in result.stdout + result.stderr
    return result.stderr


def test_verify_full_with_the_servers_ca_works(tls_server: TlsServer, home: dict[str, str]) -> None:
    url = tls_server.url(f"sslmode=verify-full&sslrootcert={tls_server.ca}")
    created = _cli(url, home, "create", "--description", "over TLS")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert _cli(url, home, "verify", "-", stdin=key + "\n").stdout == "valid\n"
    listed = _cli(url, home, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["description"] for row in json.loads(listed.stdout)] == ["over TLS"]
    for result in (created, listed):
        assert tls_server.password not in result.stdout + result.stderr


def test_verify_full_refuses_a_server_signed_by_another_ca(tls_server: TlsServer, home: dict[str, str]) -> None:
    url = tls_server.url(f"sslmode=verify-full&sslrootcert={tls_server.other_ca}")
    message = _refused(_cli(url, home, "list"), tls_server)
    assert "certificate verify failed" in message
    assert f"localhost:{tls_server.port}" in message  # names the server


def test_verify_full_refuses_a_certificate_for_another_name(tls_server: TlsServer, home: dict[str, str]) -> None:
    # The right CA, but the certificate is for `localhost`, not `127.0.0.1`: verify-full checks the name too.
    url = tls_server.url(f"sslmode=verify-full&sslrootcert={tls_server.ca}", host="127.0.0.1")
    message = _refused(_cli(url, home, "list"), tls_server)
    assert "does not match host name" in message


def test_require_encrypts_but_does_not_check_the_certificate(tls_server: TlsServer, home: dict[str, str]) -> None:
    # No CA trusted anywhere (empty HOME, no sslrootcert): a server with a certificate nobody can check is
    # accepted, so sslmode=require does not stop someone in the middle who presents a certificate of their own.
    result = _cli(tls_server.url("sslmode=require"), home, "list", "--json")
    assert result.returncode == 0, result.stderr


def test_require_with_a_root_certificate_checks_the_ca(tls_server: TlsServer, home: dict[str, str]) -> None:
    # libpq's compatibility rule: with a root certificate file, `require` behaves as `verify-ca` (not the name).
    url = tls_server.url(f"sslmode=require&sslrootcert={tls_server.other_ca}")
    assert "certificate verify failed" in _refused(_cli(url, home, "list"), tls_server)


def test_the_server_refuses_an_unencrypted_connection(tls_server: TlsServer, home: dict[str, str]) -> None:
    # What makes the successes above prove TLS: pg_hba has no entry for a connection without it.
    message = _refused(_cli(tls_server.url("sslmode=disable"), home, "list"), tls_server)
    assert "no encryption" in message


def test_a_missing_ca_file_is_named_in_one_line(tls_server: TlsServer, home: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    message = _refused(_cli(tls_server.url(f"sslmode=verify-full&sslrootcert={missing}"), home, "list"), tls_server)
    assert f'"{missing}" does not exist' in message


# -- issue 20.5: a host beyond this machine is verified unless a mode is chosen ----------------------------------


def _remote(server: TlsServer, query: str = "") -> str:
    return server.url("&".join(filter(None, ("hostaddr=127.0.0.1", query))), host=REMOTE)


def test_a_remote_host_without_a_mode_is_verified_against_the_systems_roots(
    tls_server: TlsServer, home: dict[str, str]
) -> None:
    # libpq's own default (prefer) would have connected; verify-full with the system's roots refuses our test CA.
    assert "certificate verify failed" in _refused(_cli(_remote(tls_server), home, "list"), tls_server)


def test_a_remote_host_without_a_mode_is_verified_by_its_name(tls_server: TlsServer, home: dict[str, str]) -> None:
    good = _cli(_remote(tls_server, f"sslrootcert={tls_server.ca}"), home, "list", "--json")
    assert (good.returncode, good.stderr) == (0, ""), good.stderr
    # The same CA, the certificate names no `other.example.test`: verify-full checks the name.
    url = tls_server.url(f"hostaddr=127.0.0.1&sslrootcert={tls_server.ca}", host="other.example.test")
    assert "does not match host name" in _refused(_cli(url, home, "list"), tls_server)


@pytest.mark.parametrize("where", ["url", "environment"])
def test_a_weaker_mode_chosen_for_a_remote_host_works_and_says_once_it_is_not_verified(
    tls_server: TlsServer, home: dict[str, str], where: str
) -> None:
    url = _remote(tls_server, "sslmode=require" if where == "url" else "")
    env = {**home, "PGSSLMODE": "require"} if where == "environment" else home
    result = _cli(url, env, "list", "--json")
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)  # the module's database: what other tests left in it
    [line] = result.stderr.splitlines()
    assert "not verified (sslmode=require)" in line and REMOTE in line and "warning" in line
    assert tls_server.password not in line


def test_a_local_server_needs_no_verification_and_gets_no_warning(tls_server: TlsServer, home: dict[str, str]) -> None:
    result = _cli(tls_server.url("sslmode=require"), home, "list", "--json")
    assert (result.returncode, result.stderr) == (0, "")
