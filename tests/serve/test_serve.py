"""`apikeys serve` as a real process hit over real sockets: verdicts, bad requests, token, TLS, SIGTERM, outages."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desktop.core.store import KeyStore
from tests.helpers import ONE_LINE_ERROR, REPO, Secret, files_holding
from tests.pg import PgCluster

#: How long a starting or recovering server gets before the test fails (a bound, never a measurement).
PATIENCE_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=30)
        self._path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self._path)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    """One `apikeys serve` process and how to reach it."""

    proc: subprocess.Popen[str]
    port: int | None = None
    socket_path: Path | None = None
    tls: ssl.SSLContext | None = None
    stderr: str = field(default="")
    stopped: bool = False

    def connection(self) -> http.client.HTTPConnection:
        if self.socket_path is not None:
            return UnixHTTPConnection(self.socket_path)
        assert self.port is not None
        if self.tls is not None:
            return http.client.HTTPSConnection("localhost", self.port, timeout=30, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def verify(self, payload: Any, token: str | None = None) -> Answer:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.request("POST", "/v1/keys/verify", json.dumps(payload).encode(), headers)

    def wait_until(self, path: str, status: int) -> Answer:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.proc.stderr.read()}"  # type: ignore[union-attr]
            try:
                answer = self.request("GET", path)
                if answer.status == status:
                    return answer
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{path} never answered {status}"
            time.sleep(0.05)

    def stop(self) -> int:
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, self.stderr = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, self.stderr = self.proc.communicate()
        return self.proc.returncode


def start(database: str, *args: str, tls: ssl.SSLContext | None = None) -> Served:
    port = None
    socket_path = None
    if "--socket" in args:
        socket_path = Path(args[args.index("--socket") + 1])
    elif "--listen" in args:
        port = int(args[args.index("--listen") + 1].rsplit(":", 1)[1])
    else:
        port = free_port()
        args = (*args, "--listen", f"127.0.0.1:{port}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop", "serve", "--database", database, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    served = Served(proc, port, socket_path, tls)
    served.wait_until("/healthz", 200)
    return served


@dataclass
class Keys:
    valid: Secret
    scoped: Secret
    inactive: Secret
    expired: Secret
    ids: dict[str, int]


def make_keys(database: str) -> Keys:
    with KeyStore.open(database, create=True) as admin:
        valid = admin.create("plain")
        scoped = admin.create("scoped", scopes=("orders:read", "orders:write"))
        inactive = admin.create("inactive")
        admin.set_active(inactive.record.id, False)
        expired = admin.create("to expire")
    # An expiry in the past cannot be created through the store's validation: move it there directly.
    past = datetime.now(UTC) - timedelta(days=2)
    with KeyStore.open(database) as admin, admin.database.write() as conn:
        from desktop.core.db import statements as sql

        conn.execute(sql.SET_EXPIRY, {"key_id": expired.record.id, "expires_at": past})
    return Keys(
        Secret(valid.key),
        Secret(scoped.key),
        Secret(inactive.key),
        Secret(expired.key),
        {
            "valid": valid.record.id,
            "scoped": scoped.record.id,
            "inactive": inactive.record.id,
            "expired": expired.record.id,
        },
    )


@pytest.fixture
def keys_db(database: str) -> tuple[str, Keys]:
    return database, make_keys(database)


@pytest.fixture
def served(keys_db: tuple[str, Keys], isolated_home: Path) -> Iterator[tuple[Served, Keys]]:
    database, keys = keys_db
    server = start(database)
    try:
        yield server, keys
    finally:
        server.stop()
        secrets = [keys.valid, keys.scoped, keys.inactive, keys.expired]
        for key in secrets:
            assert key not in server.stderr, "a key reached serve's stderr"
        # Nor its log file, nor anything else it wrote in its home (the log is under $XDG_STATE_HOME).
        assert not files_holding([key.encode() for key in secrets], isolated_home)


def _answer(valid: bool, verdict: str, key_id: int | None, scopes: list[str]) -> dict[str, Any]:
    return {
        "valid": valid,
        "verdict": verdict,
        "key_id": key_id,
        "scopes": scopes,
        "remaining": None,
        "ratelimit": None,
    }


def test_every_verdict_is_a_200_with_the_same_fields(served: tuple[Served, Keys]) -> None:
    server, keys = served
    ids = keys.ids
    scopes = ["orders:read", "orders:write"]
    cases = [
        ({"key": keys.valid}, _answer(True, "valid", ids["valid"], [])),
        ({"key": keys.scoped, "scopes": ["orders:read"], "cost": 1}, _answer(True, "valid", ids["scoped"], scopes)),
        ({"key": keys.scoped, "scopes": ["admin"]}, _answer(False, "forbidden", ids["scoped"], scopes)),
        ({"key": keys.inactive}, _answer(False, "inactive", ids["inactive"], [])),
        ({"key": keys.expired}, _answer(False, "expired", ids["expired"], [])),
        ({"key": keys.valid[:-1] + ("A" if keys.valid[-1] != "A" else "B")}, _answer(False, "malformed", None, [])),
        ({"key": "", "unknown field": 1}, _answer(False, "malformed", None, [])),
    ]
    for payload, expected in cases:
        answer = server.verify(payload)
        assert (answer.status, answer.json) == (200, expected), expected["verdict"]
        assert answer.headers["content-type"] == "application/json"
    # A well-formed key the database does not hold.
    from desktop.core import keys as key_format

    answer = server.verify({"key": key_format.generate()})
    assert (answer.status, answer.json) == (200, _answer(False, "unknown", None, []))

    metrics = server.request("GET", "/metrics")
    assert metrics.status == 200
    text = metrics.body.decode()
    assert 'apikeys_verifications_total{verdict="valid"} 2.0' in text
    for verdict in ("forbidden", "inactive", "expired", "unknown"):
        assert f'apikeys_verifications_total{{verdict="{verdict}"}} 1.0' in text
    assert 'apikeys_verifications_total{verdict="malformed"} 2.0' in text
    assert "apikeys_verify_seconds_count 8.0" in text
    assert "ak_" not in text


def _is_one_line_error(answer: Answer) -> str:
    assert answer.headers["content-type"] == "application/json"
    assert answer.body.count(b"\n") == 0
    message = answer.json["error"]
    assert isinstance(message, str) and message and "\n" not in message
    assert set(answer.json) == {"error"}
    return message


def test_bad_requests_get_one_line_json_errors(served: tuple[Served, Keys]) -> None:
    server, keys = served
    post = {"Content-Type": "application/json"}
    for body in (
        b"not json",
        b"[1, 2]",
        b'{"scopes": []}',
        b'{"key": 5}',
        b'{"key": "x", "scopes": "orders:read"}',
        b'{"key": "x", "scopes": [1]}',
        b'{"key": "x", "cost": -1}',
        b'{"key": "x", "cost": "1"}',
        b'{"key": "x", "cost": true}',
        b"\xff\xfe",
    ):
        answer = server.request("POST", "/v1/keys/verify", body, post)
        assert answer.status == 400, body
        _is_one_line_error(answer)
    # A bad scope names the scope, never the key.
    answer = server.request("POST", "/v1/keys/verify", json.dumps({"key": keys.valid, "scopes": ["a b"]}).encode())
    assert answer.status == 400
    assert keys.valid not in _is_one_line_error(answer)

    big = json.dumps({"key": keys.valid, "pad": "x" * 4096}).encode()
    answer = server.request("POST", "/v1/keys/verify", big, post)
    assert answer.status == 413
    _is_one_line_error(answer)
    at_limit = json.dumps({"key": keys.valid, "pad": ""}).encode()
    at_limit = at_limit[:-1] + b" " * (4096 - len(at_limit)) + b"}"
    assert len(at_limit) == 4096
    assert server.request("POST", "/v1/keys/verify", at_limit, post).status == 200

    for method, path, status in (
        ("GET", "/v1/keys/verify", 405),
        ("PUT", "/v1/keys/verify", 405),
        ("POST", "/healthz", 405),
        ("DELETE", "/metrics", 405),
        ("GET", "/", 404),
        ("POST", "/v1/keys/verify/", 404),
        ("GET", f"/v1/keys/{keys.valid}", 404),
    ):
        answer = server.request(method, path, b"{}" if method != "GET" else None)
        assert answer.status == status, (method, path)
        assert keys.valid not in _is_one_line_error(answer)
        if status == 405:
            assert "POST" in answer.headers["allow"] or "GET" in answer.headers["allow"]
    # Still answering after all that.
    assert server.verify({"key": keys.valid}).json["verdict"] == "valid"


def test_token_file_requires_a_bearer_token_except_for_healthz(keys_db: tuple[str, Keys], tmp_path: Path) -> None:
    database, keys = keys_db
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    token_file.chmod(0o640)
    server = start(database, "--token-file", str(token_file))
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"}):
            answer = server.request("POST", "/v1/keys/verify", json.dumps({"key": keys.valid}).encode(), headers)
            assert answer.status == 401
            assert answer.headers["www-authenticate"] == "Bearer"
            _is_one_line_error(answer)
            assert server.request("GET", "/metrics", None, headers).status == 401
        assert server.verify({"key": keys.valid}, token="s3cret-token").json["verdict"] == "valid"
        assert server.request("GET", "/metrics", None, {"Authorization": "bearer s3cret-token"}).status == 200
        assert server.request("GET", "/healthz").json == {"status": "ok"}
    finally:
        assert server.stop() == 0
    assert "s3cret-token" not in server.stderr
    assert "can be read by other users" in server.stderr  # 0640: said once, at start
    token_file.chmod(0o600)
    server = start(database, "--token-file", str(token_file))
    assert server.stop() == 0
    assert "can be read by other users" not in server.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_bad_token_file_or_address_is_one_line_and_exit_2(database: str, tmp_path: Path) -> None:
    make_keys(database)
    empty = tmp_path / "empty"
    empty.write_text("\n")
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    for args in (
        ("--token-file", str(tmp_path / "missing")),
        ("--token-file", str(empty)),
        ("--listen", "0.0.0.0:8787"),
        ("--listen", "192.0.2.1:8787"),
        ("--listen", "example.com:8787"),
        ("--listen", "[::]:8787"),
        ("--listen", "127.0.0.1"),
        ("--listen", "127.0.0.1:99999"),
        ("--tls-cert", str(cert)),
        ("--listen", "127.0.0.1:1", "--socket", str(tmp_path / "s")),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "desktop", "serve", "--database", database, *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert ONE_LINE_ERROR.match(done.stderr), done.stderr
    # A missing database: one line, exit 3, nothing created.
    missing = tmp_path / "none.db"
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "serve", "--database", str(missing)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 3 and ONE_LINE_ERROR.match(done.stderr), done.stderr
    assert not missing.exists()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate (apt install openssl)")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_non_loopback_address_serves_tls_or_insecure_http_when_asked(database: str, tmp_path: Path) -> None:
    keys = make_keys(database)
    cert, key = _self_signed(tmp_path)
    port = free_port()
    context = ssl.create_default_context(cafile=str(cert))
    server = start(database, "--listen", f"0.0.0.0:{port}", "--tls-cert", str(cert), "--tls-key", str(key), tls=context)
    try:
        assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            plain.request("GET", "/healthz")
            plain.getresponse().read()
        plain.close()
    finally:
        assert server.stop() == 0
    port = free_port()
    server = start(database, "--listen", f"0.0.0.0:{port}", "--insecure-http")
    try:
        assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_unix_socket(database: str, tmp_path: Path) -> None:
    keys = make_keys(database)
    path = tmp_path / "apikeys.sock"
    server = start(database, "--socket", str(path))
    try:
        assert path.is_socket() and path.stat().st_mode & 0o777 == 0o660
        assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
    finally:
        assert server.stop() == 0


def test_sigterm_finishes_the_request_in_flight_then_exits_0(served: tuple[Served, Keys], database: str) -> None:
    server, keys = served
    assert server.port is not None
    body = json.dumps({"key": keys.valid}).encode()
    head = b"POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body[:12])
        # Wait until the server holds the request: the connection is accepted once a second one can be made.
        assert server.request("GET", "/healthz").status == 200
        server.proc.send_signal(signal.SIGTERM)
        # New connections are refused once it is draining...
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
            except OSError:
                break
            assert time.monotonic() < deadline, "serve kept accepting connections after SIGTERM"
            time.sleep(0.02)
        assert server.proc.poll() is None, "serve exited with a request in flight"
        # ...and the one in flight still gets its answer.
        conn.sendall(body[12:])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:40]
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["verdict"] == "valid"
    assert server.stop() == 0
    if not database.startswith("postgresql"):
        # Flushed and closed: the last connection's close folds the WAL (the valid verify wrote last use) back in.
        assert not Path(database + "-wal").exists()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_database_file_that_goes_away_is_503_until_it_is_back(database: str, tmp_path: Path) -> None:
    keys = make_keys(database)
    server = start(database)
    aside = tmp_path / "aside.db"
    try:
        Path(database).rename(aside)
        server.wait_until("/healthz", 503)
        answer = server.verify({"key": keys.valid})
        assert answer.status == 503 and answer.headers["retry-after"]
        _is_one_line_error(answer)
        aside.rename(database)
        server.wait_until("/healthz", 200)
        assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
    finally:
        assert server.stop() == 0
    # One line when it stopped answering, one when it answered again: not one per request.
    assert server.stderr.count("cannot check keys") == 1, server.stderr
    assert server.stderr.count("the database answers again") == 1, server.stderr


@pytest.mark.parametrize("backend", ["postgresql"])
def test_several_serve_processes_share_a_postgresql_database_and_survive_its_restart(
    database: str, pg_cluster: PgCluster
) -> None:
    keys = make_keys(database)
    servers = [start(database), start(database)]
    try:
        for server in servers:
            assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
        with KeyStore.open(database) as admin:
            admin.set_active(keys.ids["valid"], False)
        for server in servers:
            assert server.verify({"key": keys.valid}).json["verdict"] == "inactive"
        pg_cluster.stop()
        try:
            for server in servers:
                server.wait_until("/healthz", 503)
                assert server.verify({"key": keys.scoped}).status == 503
        finally:
            pg_cluster.start()
        for server in servers:
            server.wait_until("/healthz", 200)
            assert server.verify({"key": keys.scoped}).json["verdict"] == "valid"
    finally:
        codes = [server.stop() for server in servers]
    assert codes == [0, 0], [s.stderr for s in servers]


def _doc_snippet(name: str, language: str) -> str:
    text = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- serve-{name}:start -->\n```{language}\n(.*?)```\n<!-- serve-{name}:end -->", text, re.S)
    assert found, f"docs/service.md lost its {name} snippet"
    return found.group(1)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_docs_snippets_in_python_and_node_check_keys_over_http(database: str) -> None:
    keys = make_keys(database)
    server = start(database)
    url = f"http://127.0.0.1:{server.port}/v1/keys/verify"
    try:
        namespace: dict[str, Any] = {}
        exec(
            compile(
                _doc_snippet("python", "python").replace("http://127.0.0.1:8787", f"http://127.0.0.1:{server.port}"),
                "service.md",
                "exec",
            ),
            namespace,
        )
        assert namespace["VERIFY_URL"] == url
        assert namespace["check_key"](keys.scoped, ["orders:read"])["verdict"] == "valid"
        assert namespace["check_key"](keys.scoped, ["admin"])["verdict"] == "forbidden"
        assert namespace["check_key"](keys.inactive)["valid"] is False

        node = shutil.which("node")
        if node is None:
            pytest.skip("node is not installed: the Node.js snippet was not run")
        script = _doc_snippet("node", "js").replace("http://127.0.0.1:8787", f"http://127.0.0.1:{server.port}")
        script += """
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const [good, inactive] = input.trim().split("\\n");
  const answers = [await checkKey(good, ["orders:read"]), await checkKey(inactive)];
  console.log(answers.map((a) => `${a.valid} ${a.verdict}`).join(","));
});
"""
        done = subprocess.run(
            [node, "-e", script], input=f"{keys.scoped}\n{keys.inactive}\n", capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout) == (0, "true valid,false inactive\n"), done.stderr[-2000:]
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_taken_address_is_one_line_and_a_stale_socket_is_replaced(database: str, tmp_path: Path) -> None:
    keys = make_keys(database)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "desktop", "serve", "--database", database, "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
    assert done.returncode == 3 and ONE_LINE_ERROR.match(done.stderr), done.stderr
    # A socket file left by a server that was killed: nobody answers there, so serve takes its place.
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(str(path))
    server = start(database, "--socket", str(path))
    try:
        assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
        # ...but a second server on a socket that answers is refused.
        done = subprocess.run(
            [sys.executable, "-m", "desktop", "serve", "--database", database, "--socket", str(path)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert done.returncode == 3 and ONE_LINE_ERROR.match(done.stderr), done.stderr
        assert server.verify({"key": keys.valid}).json["verdict"] == "valid"
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("backend", ["postgresql"])
def test_serve_runs_as_a_verifier_role(database: str, pg_cluster: PgCluster) -> None:
    """A service that may only verify (`apikeys grant ROLE --verifier`) is all serve needs on PostgreSQL."""
    from sqlalchemy.engine import make_url

    from tests.helpers import run_cli

    keys = make_keys(database)
    role = pg_cluster.create_role(f"serve_verifier_{os.getpid()}_{free_port()}")
    assert run_cli("grant", role, "--verifier", "--database", database).returncode == 0
    as_verifier = pg_cluster.url(str(make_url(database).database), role=role)
    server = start(as_verifier)
    try:
        assert server.verify({"key": keys.scoped, "scopes": ["orders:read"]}).json["verdict"] == "valid"
        assert server.verify({"key": keys.inactive}).json["verdict"] == "inactive"
    finally:
        assert server.stop() == 0
