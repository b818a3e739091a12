"""The code in the README and docs/ runs as printed, against a real database; their tables match the program.

Each check reads the file that now holds its text: the README (the two commands, its own short service
example), docs/service.md (the WSGI snippet, the SQL calls, the key format), docs/user-guide.md (the JSON
fields, the exit codes), docs/team-mode.md (the set-up block).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest

from desktop.cli import exit_status
from desktop.core import keys
from desktop.core.errors import DatabaseMissing, DomainError
from desktop.core.store import KeyStore
from tests.helpers import REPO, Secret, run_cli
from tests.pg import PgCluster, throwaway_cluster
from tests.pg import _bindir as pg_bindir

README = (REPO / "README.md").read_text(encoding="utf-8")
USER_GUIDE = (REPO / "docs" / "user-guide.md").read_text(encoding="utf-8")
SERVICE = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
TEAM_MODE = (REPO / "docs" / "team-mode.md").read_text(encoding="utf-8")


def snippet() -> str:
    block = re.search(
        r"<!-- service-snippet:start -->\n```python\n(.*?)```\n<!-- service-snippet:end -->", SERVICE, re.S
    )
    assert block, "docs/service.md lost its service snippet"
    return block.group(1)


Response = tuple[str, dict[str, str], bytes]


def call(app: Callable[..., Iterable[bytes]], authorization: str | None) -> Response:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    answers: list[tuple[str, dict[str, str]]] = []
    body = b"".join(app(environ, lambda status, headers: answers.append((status, dict(headers)))))
    [(status, headers)] = answers
    return status, headers, body


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture
def service(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The snippet of docs/service.md, run as printed with $APIKEYS_DATABASE set: its globals (`store`, etc.)."""
    monkeypatch.setenv("APIKEYS_DATABASE", str(db_path))
    with KeyStore.open(str(db_path), create=True) as admin:
        admin.create("created first")  # the snippet opens an existing database; it never creates one
    namespace: dict[str, Any] = {}
    exec(compile(snippet(), "docs/service.md", "exec"), namespace)
    try:
        yield namespace
    finally:
        namespace["store"].close()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split()[:2] for line in first_block] == [["make", "run"], ["make", "test"]]


def test_readme_service_example_answers_as_verify_does(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's short example (the full middleware is in docs/service.md) runs as printed."""
    monkeypatch.setenv("APIKEYS_DATABASE", str(db_path))
    with KeyStore.open(str(db_path), create=True) as admin:
        reader = admin.create("reader", scopes=["orders:read"])
        other = admin.create("other", scopes=["billing:read"])
        off = admin.create("switched off", scopes=["orders:read"])
        admin.set_active(off.record.id, False)
    namespace: dict[str, Any] = {}
    code = _block("readme-service", README).split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), namespace)
    try:
        allowed = namespace["allowed"]
        answers = [allowed(key) for key in (reader.key, other.key, off.key, keys.generate(), "ak_nonsense")]
        assert answers == [True, False, False, False, False]
    finally:
        namespace["store"].close()


def test_service_snippet_guards_an_app(db_path: Path, service: dict[str, Any]) -> None:
    with KeyStore.open(str(db_path)) as admin:
        good = admin.create("service").key
    app = service["require_api_key"](hello)
    answer = call(app, f"Bearer {good}")  # outside the assert, so that a failure does not print the key
    assert answer == ("200 OK", {"Content-Type": "text/plain"}, b"hello")
    with KeyStore.open(str(db_path)) as admin:
        assert admin.all()[0].last_used_at is not None


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "beArer"])
def test_service_snippet_takes_the_scheme_in_any_case(db_path: Path, service: dict[str, Any], scheme: str) -> None:
    with KeyStore.open(str(db_path)) as admin:
        good = admin.create("service").key
    app = service["require_api_key"](hello)
    status, _, body = call(app, f"{scheme} {good}")
    assert (status, body) == ("200 OK", b"hello")


def test_service_snippet_refuses_every_bad_request_alike(
    db_path: Path, service: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with KeyStore.open(str(db_path)) as admin:
        good = admin.create("service").key
        off = admin.create("switched off")
        admin.set_active(off.record.id, False)
        old = admin.create("old")
    con = sqlite3.connect(db_path)
    con.execute("UPDATE api_keys SET expires_at = '2000-01-01 00:00:00.000000' WHERE id = ?", (old.record.id,))
    con.commit()
    con.close()
    app = service["require_api_key"](hello)
    refusals = {
        "no header": None,
        "empty header": "",
        "a bare key, no scheme": good,
        "another scheme": f"Basic {good}",
        "Bearer with nothing": "Bearer ",
        "malformed": "Bearer ak_nonsense",
        "unknown": f"Bearer {keys.generate()}",
        "inactive": f"Bearer {off.key}",
        "expired": f"Bearer {old.key}",
    }
    with caplog.at_level(logging.INFO):
        answers = {why: call(app, header) for why, header in refusals.items()}
    uniform = ("401 Unauthorized", {"Content-Type": "text/plain", "WWW-Authenticate": "Bearer"}, b"Unauthorized\n")
    assert answers == dict.fromkeys(refusals, uniform)
    # The reason is the service's to know: it is in the log, without the key.
    logged = caplog.text
    for reason in ("no Authorization header", "not a Bearer credential", "malformed", "unknown", "inactive", "expired"):
        assert reason in logged
    leaked = [key in logged or key[3:20] in logged for key in (good, off.key, old.key)]
    assert leaked == [False, False, False]  # no key in the log (and none in this assertion's message)


def test_service_snippet_answers_503_when_the_database_cannot_be_used(
    db_path: Path, service: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with KeyStore.open(str(db_path)) as admin:
        good = admin.create("service").key
    app = service["require_api_key"](hello)
    con = sqlite3.connect(db_path)
    con.execute("DROP TABLE api_keys")  # as a broken migration or a restored wrong file would leave it
    con.commit()
    con.close()
    with caplog.at_level(logging.INFO):
        status, _, body = call(app, f"Bearer {good}")
    assert (status, body) == ("503 Service Unavailable", b"Service unavailable\n")
    leaked = good in caplog.text
    assert "cannot check API keys" in caplog.text and not leaked


# -- the README and docs/ stand alone -----------------------------------------------


def _block(name: str, text: str) -> str:
    block = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert block, f"the docs lost their {name} block"
    return block.group(1)


def _repository_files() -> list[Path]:
    """What a clone holds: git's view when there is one, else the tree without build output."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:
        return [REPO / name for name in listed.stdout.decode().split("\0") if name]
    skipped = {".git", ".venv", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    return [
        path
        for path in REPO.rglob("*")
        if path.is_file() and not any(part in skipped or part.endswith(".egg-info") for part in path.parts)
    ]


def test_nothing_in_the_repository_points_outside_the_clone() -> None:
    # Spelled in pieces so that this file does not find itself.
    outside = ("../" + "shared", "CONTRACT" + ".md")
    files = _repository_files()
    assert REPO / "README.md" in files and REPO / "desktop" / "core" / "keys.py" in files
    offenders = []
    for path in files:
        if not path.is_file():  # deleted but not yet committed
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        offenders += [f"{path.relative_to(REPO)}: {word}" for word in outside if word in text]
    assert offenders == []


def test_readme_lists_the_json_fields_that_list_prints(db_path: Path) -> None:
    documented = re.findall(r"^\| `([a-z_]+)` \|", _block("json-fields", USER_GUIDE), re.M)
    created = run_cli("create", "--description", "x", "--expires", "2999-01-01", "--database", str(db_path))
    assert created.returncode == 0, created.stderr
    result = run_cli("list", "--json", "--database", str(db_path))
    [entry] = json.loads(result.stdout)
    assert documented == list(entry)
    assert "the UTC instant at which the key stops working" in _block("json-fields", USER_GUIDE)


def test_readme_key_check_agrees_with_the_app() -> None:
    namespace: dict[str, Any] = {}
    code = _block("key-check", SERVICE).split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/service.md", "exec"), namespace)
    well_formed = namespace["well_formed"]
    assert f"Regex: `^{keys.KEY_PATTERN.pattern}$`" in SERVICE
    for _ in range(200):
        key = Secret(keys.generate())
        assert well_formed(key)
        for i in range(3, len(key)):
            changed = key[:i] + ("0" if key[i] != "0" else "1") + key[i + 1 :]
            assert well_formed(changed) == keys.is_well_formed(changed)
    for odd in ("", "ak_", "AK" + key[2:], key + "0", key[:-1], "ak_" + "é" * 38):
        assert well_formed(odd) is keys.is_well_formed(odd) is False


def test_readme_states_every_exit_code_and_the_unsafe_file_rules() -> None:
    section = USER_GUIDE.split("## Command line\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| (\d+) \|", section, re.M) == ["0", "1", "2", "3", "3", "130"]
    for rule in ("symlink", "not a regular file", "owned by another user", "group or others", "sticky bit"):
        assert rule in section


def test_service_snippet_with_a_mistyped_database_fails_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "keyz.db"
    monkeypatch.setenv("APIKEYS_DATABASE", str(typo))
    with pytest.raises(DomainError, match=re.escape(f"No database at {typo}")) as raised:
        exec(compile(snippet(), "docs/service.md", "exec"), {})
    assert isinstance(raised.value, DatabaseMissing) and exit_status(raised.value) == 3
    assert list(tmp_path.iterdir()) == []


# -- Team mode (PostgreSQL): the set-up, psql and Python blocks run as printed, on a server of their own ----------


def _code(name: str, language: str, text: str) -> str:
    return _block(name, text).split(f"```{language}\n", 1)[1].split("```", 1)[0]


@dataclass
class TeamServer:
    """A private cluster docs/team-mode.md's set-up block ran on (its role names are the doc's, so not shared)."""

    cluster: PgCluster
    env: dict[str, str]  # what a person's shell has: PATH with apikeys and psql, PGHOST, the service file
    key: Secret  # a valid key, created by the owner


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    with throwaway_cluster() as cluster:
        services = tmp_path_factory.mktemp("team") / "pg_service.conf"
        # docs/team-mode.md's service file, pointing at this cluster's socket instead of db.example.com.
        services.write_text(f"[apikeys]\nhost={cluster.socket}\ndbname=apikeys\n")
        path = os.pathsep.join([str(Path(sys.executable).parent), str(pg_bindir()), os.environ["PATH"]])
        env = {**os.environ, "PATH": path, "PGHOST": str(cluster.socket), "PGUSER": "postgres"}
        env["PGSERVICEFILE"] = str(services)
        env.pop("APIKEYS_DATABASE", None)
        setup = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _code("team-setup", "sh", TEAM_MODE)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert setup.returncode == 0, setup.stderr
        assert "Granted billing_service the verifier role" in setup.stdout
        assert "Granted alice the manager role" in setup.stdout
        owner = cluster.url("apikeys", role="apikeys_owner")
        with KeyStore.open(owner) as store:
            key = Secret(store.create("from the README").key)
        yield TeamServer(cluster, env, key)


def test_readme_team_setup_gives_each_role_its_rights(team_server: TeamServer) -> None:
    env = team_server.env
    as_alice = subprocess.run(
        [sys.executable, "-m", "desktop", "list", "--json", "--database", "postgresql://alice@/?service=apikeys"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert as_alice.returncode == 0, as_alice.stderr
    assert "from the README" in as_alice.stdout
    as_service = subprocess.run(
        [sys.executable, "-m", "desktop", "list", "--database", "postgresql://billing_service@/?service=apikeys"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert as_service.returncode == 3 and "permission denied" in as_service.stderr.lower()


def test_readme_psql_verify_call(team_server: TeamServer) -> None:
    def psql(key: str) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _code("team-psql", "sh", SERVICE)],
            env={**team_server.env, "API_KEY": key, "PGUSER": "nobody"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert psql(team_server.key) == "valid\n"
    assert psql(keys.generate()) == "unknown\n"
    key = team_server.key
    assert psql(f"  {key[:-1]}{'0' if key[-1] != '0' else '1'}\n") == "malformed\n"


def test_readme_python_verify_call(team_server: TeamServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSERVICEFILE", team_server.env["PGSERVICEFILE"])
    namespace: dict[str, Any] = {}
    exec(compile(_code("team-python", "python", SERVICE), "docs/service.md", "exec"), namespace)
    try:
        verify = namespace["verify"]
        assert verify(team_server.key) == "valid"
        assert verify(f" {team_server.key}\t") == "valid"
        assert verify(keys.generate()) == "unknown"
        assert verify("ak_nonsense") == "malformed"
        # As the service role, which cannot read the keys themselves.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            namespace["conn"].execute("SELECT description FROM api_keys")
        # The server restarts: the first call after it answers, on a new connection.
        team_server.cluster.stop("fast")
        team_server.cluster.start()
        assert verify(team_server.key) == "valid"
        # A server that stays down is an error the caller sees (a 503), and the next call after it comes back works.
        team_server.cluster.stop("fast")
        with pytest.raises(psycopg.OperationalError):
            verify(team_server.key)
        team_server.cluster.start()
        assert verify(team_server.key) == "valid"
    finally:
        if not (team_server.cluster.data / "postmaster.pid").exists():
            team_server.cluster.start()
        if namespace.get("conn") is not None:
            namespace["conn"].close()


#: Runs docs/service.md's Node.js block, then answers each key read from stdin with its verdict, one a line.
NODE_DRIVER = """
const readline = require("readline");
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (key) => {
  queue = queue.then(async () => {
    try { console.log(await verify(key)); } catch (err) { console.log("error: " + err.message); }
  });
});
lines.on("close", () => queue.then(() => pool.end()));
"""


def _node_modules() -> Path:
    """node-postgres, installed once with npm into the virtualenv (not the repository)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed (apt-get install nodejs npm): the Node.js snippet is not run")
    folder = REPO / ".venv" / "node"
    if not (folder / "node_modules" / "pg").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), "pg@8"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]
    return folder / "node_modules"


def test_readme_node_verify_call_survives_a_server_restart(team_server: TeamServer, tmp_path: Path) -> None:
    modules = _node_modules()
    script = tmp_path / "verify.js"
    script.write_text(_code("team-node", "js", SERVICE) + NODE_DRIVER, encoding="utf-8")
    env = {**team_server.env, "NODE_PATH": str(modules), "PGDATABASE": "apikeys"}
    node = subprocess.Popen(
        ["node", str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert node.stdin is not None and node.stdout is not None

    def ask(key: str) -> str:
        assert node.stdin is not None and node.stdout is not None
        node.stdin.write(key + "\n")
        node.stdin.flush()
        return node.stdout.readline().strip()

    try:
        assert ask(team_server.key) == "valid"
        team_server.cluster.stop("fast")  # the pool's idle connection is closed by the server
        team_server.cluster.start()
        assert ask(team_server.key) == "valid"
        assert ask(keys.generate()) == "unknown"
        node.stdin.close()
        assert node.wait(timeout=60) == 0
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=60)
        if not (team_server.cluster.data / "postmaster.pid").exists():
            team_server.cluster.start()
    assert node.stderr is not None
    err = node.stderr.read()
    node.stdout.close()
    node.stderr.close()
    assert "database connection lost" in err  # the pool's listener heard the restart; the process lived on


def test_service_snippet_as_a_postgresql_verifier(team_server: TeamServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSERVICEFILE", team_server.env["PGSERVICEFILE"])
    monkeypatch.setenv("APIKEYS_DATABASE", "postgresql://billing_service@/?service=apikeys")
    namespace: dict[str, Any] = {}
    exec(compile(snippet(), "docs/service.md", "exec"), namespace)
    try:
        app = namespace["require_api_key"](hello)
        answer = call(app, f"Bearer {team_server.key}")
        assert answer[0] == "200 OK"
        assert call(app, f"Bearer {keys.generate()}")[0] == "401 Unauthorized"
    finally:
        namespace["store"].close()


def test_service_snippet_checks_scopes(db_path: Path, service: dict[str, Any]) -> None:
    with KeyStore.open(str(db_path)) as admin:
        reader = admin.create("reader", scopes=["orders:read"])
        other = admin.create("other", scopes=["billing:read"])
    seen: list[object] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ["apikeys.key_id"])
        return hello(environ, start_response)

    guarded = service["require_api_key"](app, "orders:read")
    allowed = call(guarded, f"Bearer {reader.key}")
    assert allowed[0] == "200 OK" and seen == [reader.record.id]
    refused = call(guarded, f"Bearer {other.key}")
    assert refused == (
        "403 Forbidden",
        {"Content-Type": "text/plain", "WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        b"Forbidden\n",
    )
    assert call(guarded, f"Bearer {keys.generate()}")[0] == "401 Unauthorized"
    # Without scopes, any valid key passes, as before.
    assert call(service["require_api_key"](app), f"Bearer {other.key}")[0] == "200 OK"


def test_service_snippet_answers_from_the_key_as_it_is_now(db_path: Path, service: dict[str, Any]) -> None:
    """Each request asks the database again (check()'s kept answers are by the scopes just read): a key whose
    scopes change, or that is switched off, is answered for what it is now."""
    with KeyStore.open(str(db_path)) as admin:
        made = admin.create("reader", scopes=["orders:read"])
    guarded = service["require_api_key"](hello, "orders:read")
    statuses = [call(guarded, f"Bearer {made.key}")[0] for _ in range(2)]
    with KeyStore.open(str(db_path)) as admin:
        admin.set_scopes(made.record.id, ["billing:read"])
        statuses.append(call(guarded, f"Bearer {made.key}")[0])
        admin.set_scopes(made.record.id, ["orders:read"])
        statuses.append(call(guarded, f"Bearer {made.key}")[0])
        admin.set_active(made.record.id, False)
        statuses.append(call(guarded, f"Bearer {made.key}")[0])
    assert statuses == ["200 OK", "200 OK", "403 Forbidden", "200 OK", "401 Unauthorized"]
