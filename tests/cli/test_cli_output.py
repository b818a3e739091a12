"""What the command line prints when its input or its database is hostile or odd: a bad or empty `--database`,
descriptions holding terminal controls written by another program, wide characters in the table, a state
change that is already so, and the log file naming the database (issue 20 items 6, 7, 9, 10; issue 21 items 7,
13, 15, 16)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from desktop.core.store import KeyStore
from tests.backends import execute
from tests.helpers import ONE_LINE_ERROR, REPO, fingerprint, run_cli, seed
from tests.pg import PgCluster

PASSWORD = "S3cretPW"


def _log_text(home: Path) -> str:
    log = home / "state" / "apikeys" / "log" / "apikeys.log"
    return log.read_text(encoding="utf-8") if log.exists() else ""


def _assert_refused_without_leak(result_stderr: str, returncode: int, secret: str, home: Path) -> None:
    assert returncode in (2, 3) and ONE_LINE_ERROR.match(result_stderr), result_stderr
    assert "internal error" not in result_stderr and "Traceback" not in result_stderr, result_stderr
    assert secret not in result_stderr and secret not in _log_text(home), "the password was echoed"


# -- 20.6 / 21.16: a bad --database URL --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"postgres ql://alice:{PASSWORD}@h/db",
        f"postgresql://alice:{PASSWORD}@h:abc/db",
        f"postgresql://alice:{PASSWORD}@[::1/db",
        f"postgresql://alice:{PASSWORD}@[::1]:x/db",
        f"postgresql+psycopg://alice:{PASSWORD}@h:99999999999999999999999/db",
        f"postgresql://alice:{PASSWORD}@h:-1/db",
        f"postgresql://alice:{PASSWORD}@h/db?password={PASSWORD}&port=x",
        f"postgresql://alice@h:abc/db?sslpassword={PASSWORD}",
        f"postgresql://alice:{PASSWORD}\x1b[2J@h:abc/db",
        f"mysql://alice:{PASSWORD}@h/db",
        f"postgresql+asyncpg://alice:{PASSWORD}@h/db",
        f"http://alice:{PASSWORD}@example.invalid/",
        f"://alice:{PASSWORD}@h/db",
    ],
)
def test_a_bad_database_url_is_one_line_with_the_password_masked(url: str, isolated_home: Path) -> None:
    result = run_cli("--database", url, "list")
    _assert_refused_without_leak(result.stderr, result.returncode, PASSWORD, isolated_home)
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize("url", ["mysql://bob@db/keys", "mysql+pymysql://bob@db/keys", "oracle://bob@db/keys"])
def test_an_unsupported_database_names_the_supported_backends(url: str) -> None:
    result = run_cli("list", "--database", url)
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert "not supported" in result.stderr and "SQLite" in result.stderr and "postgresql://" in result.stderr
    assert "No module named" not in result.stderr and "MySQLdb" not in result.stderr


_SCHEMES = st.sampled_from(["postgresql", "postgresql+psycopg", "postgres ql", "mysql", "sqlite", "x-y", ""])
_BAD_HOSTS = st.sampled_from(["h:abc", "[::1", "[::1]:p", "h:1:2", "h: 5", "[v1.x]:y", "h:٣"])
#: Passwords in any printable ASCII but the separators that would end the user-info part.
_PASSWORDS = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="@/?#"), min_size=4
).map(lambda text: "Pw" + text)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scheme=_SCHEMES, host=_BAD_HOSTS, password=_PASSWORDS, query=st.booleans())
def test_no_malformed_url_echoes_its_password(
    scheme: str, host: str, password: str, query: bool, isolated_home: Path
) -> None:
    url = f"{scheme}://alice:{password}@{host}/db" + (f"?password={password}" if query else "")
    result = run_cli("--database", url, "list")
    _assert_refused_without_leak(result.stderr, result.returncode, password, isolated_home)


# -- 20.10: an empty --database or $APIKEYS_DATABASE -------------------------------------------------------


@pytest.mark.parametrize("how", ["--database ''", "--database=", "--database '  '", "APIKEYS_DATABASE=''"])
@pytest.mark.parametrize("default_exists", [True, False], ids=["default database exists", "no default database"])
def test_an_empty_database_choice_is_bad_usage_and_opens_nothing(
    how: str, default_exists: bool, isolated_home: Path
) -> None:
    data = isolated_home / "data" / "apikeys"
    default = data / "keys.db"
    if default_exists:
        assert run_cli("create", "--description", "the real one").returncode == 0  # the default database
    before = fingerprint(default), sorted(p.name for p in data.iterdir()) if data.exists() else None
    env = {"APIKEYS_DATABASE": ""} if how.startswith("APIKEYS") else None
    choice = {
        "--database ''": ["--database", ""],
        "--database=": ["--database="],
        "--database '  '": ["--database", "  "],
    }
    for args in (["delete", "1"], ["deactivate", "1"], ["list"], ["verify", "ak_x"], ["seed", "--count", "2"]):
        result = run_cli(*choice.get(how, []), *args, env=env)
        assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), (args, result.stderr)
        assert "empty" in result.stderr and result.stdout == ""
        assert (fingerprint(default), sorted(p.name for p in data.iterdir()) if data.exists() else None) == before
    assert default_exists == default.exists() and (default_exists or not data.exists())


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--database", ""], None), (["--database="], None), ([], {"APIKEYS_DATABASE": ""})],
    ids=["--database ''", "--database=", "APIKEYS_DATABASE=''"],
)
def test_an_empty_database_choice_opens_no_window(
    args: list[str], env: dict[str, str] | None, isolated_home: Path
) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr) and "empty" in result.stderr, result
    assert not (isolated_home / "data").exists()


# -- 20.7: controls in a description written by another program ---------------------------------------------

#: ESC/BEL and a CSI, C1 (CSI as one character), bidi override and isolates, a line break, DEL.
HOSTILE = "pay\x1b]0;owned\x07 me\x9b2J\u202etxt.exe\u2066x\u2069\nnext\x7f"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069", "\x7f")


def _no_raw_controls(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)
    # Line breaks only where the format puts them: none inside a value.
    assert "\nnext" not in text, repr(text)


def test_no_output_prints_a_planted_description_raw(database: str) -> None:
    assert run_cli("create", "--description", "placeholder", "--database", database).returncode == 0
    execute(database, "UPDATE api_keys SET description = :text", {"text": HOSTILE})
    key_id = str(execute(database, "SELECT id FROM api_keys")[0][0])
    # The old description reaches the log's details through a rename.
    assert run_cli("rename", key_id, "--description", "renamed", "--database", database).returncode == 0
    execute(database, "UPDATE api_keys SET description = :text", {"text": HOSTILE})
    planted_scope = "ops\x1b[8m hidden"
    execute(database, "UPDATE api_keys SET scopes = :scopes", {"scopes": planted_scope})

    as_json = run_cli("list", "--json", "--database", database)
    _no_raw_controls(as_json.stdout)
    assert json.loads(as_json.stdout)[0]["description"] == HOSTILE  # escaped in the text, exact in the value

    as_csv = run_cli("list", "--csv", "--database", database)
    _no_raw_controls(as_csv.stdout)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows[0]["description"].startswith("pay\\x1b]0;owned\\x07 me\\x9b2J\\u202etxt.exe")
    assert rows[0]["scopes"] == "ops\\x1b[8m hidden"

    table = run_cli("list", "--database", database)
    _no_raw_controls(table.stdout)
    assert len(table.stdout.splitlines()) == 2

    log_json = run_cli("log", "--json", "--database", database)
    _no_raw_controls(log_json.stdout)
    events = json.loads(log_json.stdout)
    # On PostgreSQL the server also logs the planted changes themselves (newest first): the app's rename is the
    # one from the planted description.
    assert any(e["action"] == "renamed" and e["details"].get("from") == HOSTILE for e in events), events

    log_text = run_cli("log", "--database", database)
    _no_raw_controls(log_text.stdout)
    assert "\\u202e" in log_text.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--status", "act\x1b[31mive"],
        ["list", "--limit", "1\x07\u202e"],
        ["seed", "--count", "9\x1b[2J"],
        ["log", "--limit", "\x9b5"],
        ["delete", "\u202e12"],
        ["list", "--sort", "x\x1b]0;t\x07"],
        ["frob\x1b[2J"],
        ["list", "--bogus\x1b[2J"],
    ],
    ids=lambda args: repr(args[-1]),
)
def test_argument_errors_never_echo_raw_controls(args: list[str], db_path: Path) -> None:
    result = run_cli(*args, "--database", str(db_path))
    assert result.returncode == 2 and ONE_LINE_ERROR.match(result.stderr), result.stderr
    assert not any(c in result.stderr for c in RAW), repr(result.stderr)


# -- 21.13: the table aligns by display width ---------------------------------------------------------------


def _column_starts(line: str, header: str) -> list[int]:
    """The display column where each of the table's later columns starts, read off `line` at `header`'s."""
    starts = []
    for name in ("CREATED", "EXPIRES", "STATUS", "LAST USED"):
        at = header.index(name)  # the header is ASCII: characters are display columns
        starts.append(at)
        # the cell in `line` that starts at display column `at` is preceded by exactly `at` columns
        prefix = ""
        for char in line:
            if cell_len(prefix) >= at:
                break
            prefix += char
        assert cell_len(prefix) == at and line[len(prefix) - 1] == " " and line[len(prefix)] != " ", (name, line)
    return starts


def test_the_table_aligns_wide_characters(db_path: Path) -> None:
    descriptions = ["plain ascii", "🚀 deploy 👩 rocket", "請求書の書き出し", "混合 mixed 🎉 text", "é accents"]
    for text in descriptions:
        assert run_cli("create", "--description", text, "--database", str(db_path)).returncode == 0
    lines = run_cli("list", "--database", str(db_path)).stdout.splitlines()
    assert len(lines) == 1 + len(descriptions)
    for line in lines[1:]:
        _column_starts(line, lines[0])


def test_a_wide_description_after_the_first_rows_is_cut_to_its_column(db_path: Path) -> None:
    from desktop.cli_output import TABLE_FIRST_ROWS

    with KeyStore.open(str(db_path), create=True) as store:
        seed(store, TABLE_FIRST_ROWS + 2)  # "key 000"… newest first: the oldest is printed last
    execute(str(db_path), "UPDATE api_keys SET description = :text WHERE id = 1", {"text": "長い説明" * 20})
    lines = run_cli("list", "--database", str(db_path)).stdout.splitlines()
    assert len(lines) == TABLE_FIRST_ROWS + 3
    _column_starts(lines[-1], lines[0])
    assert "長い説明長" in lines[-1] and "…" in lines[-1]


# -- 20.9: the table streams --------------------------------------------------------------------------------


#: Run by a small Python of its own: it starts the command and prints the command's peak RSS (KiB) from wait4.
_MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def _peak_rss_kib(*args: str) -> int:
    """Peak resident memory of `python -m desktop ARGS`, by wait4 on that one process.

    A subprocess on purpose: peak memory belongs to a process, and only a process of its own measures the
    command alone (run in-process it would be the test runner's high-water mark). And started by a small
    launcher, not by pytest itself: a child's ru_maxrss counts from its parent's size at fork, and the test
    process is big by then.
    """
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    status, peak = result.stdout.split()
    assert status == "0", result.stderr
    return int(peak)


# 60,000 keys seeded, then listed twice: with the other long tests, first rather than as the run's tail.
@pytest.mark.xdist_group("long")
def test_the_table_streams_like_json(db_path: Path) -> None:
    """A memory canary (issue 20.9: within 1.25× of --json): with 60,000 keys the table held every row."""
    with KeyStore.open(str(db_path), create=True) as store:
        seed(store, 60_000)
    as_json = _peak_rss_kib("list", "--json", "--database", str(db_path))
    table = _peak_rss_kib("list", "--database", str(db_path))
    assert table <= 1.25 * as_json, f"table {table} KiB, --json {as_json} KiB"


# -- 21.7: activate/deactivate what already is ---------------------------------------------------------------


def test_deactivating_an_inactive_key_says_so_and_logs_nothing(database: str) -> None:
    assert run_cli("create", "--description", "Billing", "--database", database).returncode == 0
    key_id = str(execute(database, "SELECT id FROM api_keys")[0][0])

    def events() -> list[str]:
        return [e["action"] for e in json.loads(run_cli("log", "--json", "--database", database).stdout)]

    already = run_cli("activate", key_id, "--database", database)
    assert already.returncode == 0 and already.stderr == ""
    assert already.stdout.startswith("Key ak_") and already.stdout.endswith(
        "(“Billing”) is already active; nothing was changed.\n"
    )
    assert events() == ["created"]
    assert run_cli("deactivate", key_id, "--database", database).stdout.startswith("Deactivated ")
    again = run_cli("deactivate", key_id, "--database", database)
    assert again.returncode == 0 and again.stdout.endswith("is already inactive; nothing was changed.\n")
    assert events() == ["deactivated", "created"]
    assert run_cli("activate", key_id, "--database", database).stdout.startswith("Activated ")
    assert events() == ["activated", "deactivated", "created"]


# -- 21.15: the log file names the database ----------------------------------------------------------------


def test_each_log_line_names_its_database(tmp_path: Path, isolated_home: Path) -> None:
    files = [tmp_path / "first.db", tmp_path / "second.db"]
    for file in files:
        assert run_cli("create", "--description", "k", "--database", str(file)).returncode == 0
    lines = [line for line in _log_text(isolated_home).splitlines() if "created API key #1" in line]
    assert len(lines) == 2 and all(f"[{file}]" in line for line, file in zip(lines, files, strict=True)), lines


def test_a_server_in_the_log_is_named_without_its_password(pg_cluster: PgCluster, isolated_home: Path) -> None:
    url = pg_cluster.new_database()  # trust authentication: the password is sent to no one
    with_password = url.replace("://postgres@", f"://postgres:{PASSWORD}@") + f"&password={PASSWORD}x"
    assert run_cli("create", "--description", "k", "--database", with_password).returncode == 0
    text = _log_text(isolated_home)
    line = next(line for line in text.splitlines() if "created API key" in line)
    assert "postgres:***@" in line and "password=***" in line and PASSWORD not in text
