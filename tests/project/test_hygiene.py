"""Secret hygiene: a canary key run through every path leaves no trace on disk."""

from __future__ import annotations

import ast
import logging
import os
import stat
from pathlib import Path

import pytest

from desktop.app import RedactKeys
from desktop.core import keys
from tests.helpers import REPO, Secret, files_holding, run_cli


def _all_files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


def _leaks(secret: str, *roots: Path) -> list[str]:
    return files_holding([secret.encode(), secret[3:35].encode(), secret.encode("utf-16-le")], *roots)


def test_canary_through_the_cli_leaves_no_trace(tmp_path: Path, isolated_home: Path) -> None:
    db = tmp_path / "db" / "keys.db"
    db.parent.mkdir()
    old = os.umask(0o000)
    try:
        created = run_cli("create", "--description", "canary", "--database", str(db))
    finally:
        os.umask(old)
    canary = Secret(created.stdout.strip())
    assert keys.is_well_formed(canary)
    key_id = "1"
    # Every path the key can travel: verify (valid, then inactive), errors, a bad database, stdin.
    assert run_cli("verify", canary, "--database", str(db)).returncode == 0
    assert run_cli("deactivate", key_id, "--database", str(db)).returncode == 0
    assert run_cli("verify", "-", "--database", str(db), stdin=canary).stdout == "inactive\n"
    (tmp_path / "bad.db").write_text("not a database")
    failed = run_cli("verify", canary, "--database", str(tmp_path / "bad.db"))
    assert failed.returncode == 3 and canary not in failed.stderr and canary[3:35] not in failed.stderr
    assert run_cli("verify", canary[:-1] + "!", "--database", str(db)).returncode == 1
    assert run_cli("list", "--database", str(db)).stdout.count(keys.mask(canary)) == 1

    log_files = list((isolated_home / "state").rglob("*.log"))
    assert log_files, "the CLI should keep a log"
    assert "created API key #1" in log_files[0].read_text()
    assert _leaks(canary, db.parent, isolated_home, tmp_path) == []
    for path in db.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in log_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_log_filter_masks_any_full_key() -> None:
    canary = keys.generate()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s in %r", (canary, [canary]), None)
    assert RedactKeys().filter(record)
    message = record.getMessage()
    assert canary not in message and message.count(keys.mask(canary)) == 2


def test_log_filter_masks_keys_in_tracebacks(tmp_path: Path) -> None:
    canary = keys.generate()
    log_file = tmp_path / "t.log"
    handler = logging.FileHandler(log_file)
    handler.addFilter(RedactKeys())
    logger = logging.getLogger("hygiene-test")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"failed for {canary}")
        except RuntimeError:
            logger.exception("while handling %s", canary)
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = log_file.read_text()
    assert "RuntimeError: failed for " + keys.mask(canary) in text
    assert canary not in text and canary[3:35] not in text


SECRET_NAMES = {"key", "full_key", "presented", "digest", "secret", "canary", "stored_digest"}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return None


def test_no_secret_is_compared_with_equals() -> None:
    """Digests and keys are compared with hmac/secrets.compare_digest, never `==`."""
    offenders = []
    for path in (REPO / "desktop").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                operands = (node.left, *node.comparators)
                # `Model.column == bindparam(...)` builds SQL; the database compares, not Python.
                if any(isinstance(x, ast.Attribute) and _name(x.value) == "ApiKey" for x in operands):
                    continue
                if {_name(x) for x in operands} & SECRET_NAMES:
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_database_files_are_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    db = tmp_path / f"u{umask:o}.db"
    old = os.umask(umask)
    try:
        from desktop.core.store import KeyStore

        with KeyStore.open(str(db), create=True) as store:
            store.create("mode")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    finally:
        os.umask(old)
    assert modes == {db.name: 0o600, f"{db.name}-wal": 0o600, f"{db.name}-shm": 0o600}


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=["umask000", "umask022"])
def test_every_log_file_is_0600_after_rotation(tmp_path: Path, isolated_home: Path, umask: int) -> None:
    """Two rollovers through the CLI (each `create` logs a line): the new file after each one is private too."""
    from desktop.app import log_path

    log = log_path()  # the child computes the same path from the same XDG_STATE_HOME
    log.parent.mkdir(parents=True)
    log.write_bytes(b"x" * 1_000_000)
    log.chmod(0o600)
    db = tmp_path / "keys.db"
    old = os.umask(umask)
    try:
        for round_ in range(2):
            if round_:
                with log.open("ab") as handle:  # fill the file the app made, keeping its mode
                    handle.write(b"x" * (1_000_000 - log.stat().st_size))
            assert run_cli("create", "--description", "rotate", "--database", str(db)).returncode == 0
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in log.parent.iterdir()}
    assert modes == {"apikeys.log": 0o600, "apikeys.log.1": 0o600, "apikeys.log.2": 0o600}
    assert "created API key #2" in log.read_text()


def test_an_old_world_readable_log_is_made_private(isolated_home: Path, tmp_path: Path) -> None:
    from desktop.app import log_path

    log = log_path()
    log.parent.mkdir(parents=True)
    log.write_text("from an older version\n")
    log.chmod(0o644)
    assert run_cli("create", "--description", "old log", "--database", str(tmp_path / "keys.db")).returncode == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_canary_through_the_lifecycle_leaves_no_trace(tmp_path: Path, isolated_home: Path) -> None:
    """Roll, rename, scopes, many at once and the log: no full key, nor its digest in hex, in any file or output."""
    import hashlib

    from desktop.core.store import KeyStore

    db = tmp_path / "db" / "keys.db"
    db.parent.mkdir()
    outputs: list[str] = []

    def cli(*args: str, stdin: str | None = None) -> str:
        result = run_cli(*args, "--database", str(db), stdin=stdin)
        assert result.returncode in (0, 1), result.stderr
        outputs.extend((result.stdout, result.stderr))
        return result.stdout

    first = Secret(cli("create", "--description", "canary", "--scope", "canary:read").strip())
    cli("rename", "1", "--description", "canary renamed")
    cli("scopes", "1", "canary:read", "canary:write")
    cli("verify", "--json", "--scope", "canary:write", "-", stdin=first)
    cli("verify", "--scope", "other", "-", stdin=first)
    rolled = Secret(cli("roll", "1", "--grace", "1h").strip())
    outputs.remove(rolled + "\n")  # the one place a key may appear: stdout of the command that made it
    outputs.remove(first + "\n")
    with KeyStore.open(str(db)) as store:
        store.set_active_many([1, 2], False)
        store.delete_many([1])
    cli("log")
    cli("log", "--json")
    cli("list", "--json")
    for secret in (first, rolled):
        assert keys.is_well_formed(secret)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert _leaks(secret, db.parent, isolated_home, tmp_path) == []
        assert not [p for p in _all_files(db.parent, isolated_home) if digest.encode() in p.read_bytes().lower()]
        for text in outputs:
            assert secret not in text and secret[3:35] not in text and digest not in text.lower()
