"""The documented service install: a fresh virtualenv gets the key store and `apikeys serve`, and no Qt."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from desktop.core.store import KeyStore
from tests.helpers import REPO

SERVICE_DOC = REPO / "docs" / "service.md"

#: In the fresh environment: the library as a service uses it, on a database the app made.
SCRIPT = """
import sys
from apikeys import Verdict, open_store

store = open_store(sys.argv[1])
assert store.verify(sys.argv[2]) is Verdict.VALID, "the key is not valid"
result = store.check(sys.argv[2], ["orders:read"])
assert (result.verdict, result.scopes) == (Verdict.VALID, ("orders:read",)), result.verdict
assert store.verify("ak_" + "x" * 38) is Verdict.MALFORMED
import desktop.api  # the app's own module stays importable too
store.close()
print("ok")
"""


def install_commands() -> list[list[str]]:
    text = SERVICE_DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- service-install:start -->\n```sh\n(.*?)```\n<!-- service-install:end -->", text, re.S)
    assert block, "docs/service.md lost its service-install block"
    commands = [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]
    assert commands and all("pip" in " ".join(c[:3]) and "install" in c for c in commands), commands
    return commands


# A real pip install into a new environment: a minute or two on a busy machine (pip's cache spares the downloads).
# pip for half a minute, one process at a time: with the other long tests, first (tests/conftest.py).
@pytest.mark.xdist_group("long")
@pytest.mark.timeout(900)
def test_the_documented_install_gives_the_library_without_qt(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / "bin"
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    for command in install_commands():
        # `python` and `pip` as a person types them: the fresh environment's, through PATH.
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]

    python = str(bindir / "python")
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"], env=env, capture_output=True, text=True, check=True
    ).stdout.lower()
    installed = {line.split("==")[0] for line in listed.splitlines()}
    assert "apikeys" in installed
    assert not installed & {"pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6"}, sorted(installed)

    db = tmp_path / "keys.db"
    with KeyStore.open(str(db), create=True) as admin:
        key = admin.create("a service's client", scopes=("orders:read",)).key
    # Run from elsewhere: the installed package, not the checkout on sys.path.
    done = subprocess.run(
        [python, "-c", SCRIPT, str(db), key], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr[-3000:]
    # The command line and `apikeys serve` are there too; the window says what it lacks in one line.
    served = subprocess.run([str(bindir / "apikeys"), "serve", "--help"], cwd=tmp_path, env=env, capture_output=True)
    assert served.returncode == 0, served.stderr[-2000:]
    window = subprocess.run([str(bindir / "apikeys")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert window.returncode == 3
    assert window.stderr.count("\n") == 1 and "PySide6" in window.stderr, window.stderr
    assert sys.executable != python
