"""Run a child process as an unprivileged user when the tests run as root (as CI does)."""

from __future__ import annotations

import os
import shutil

NOBODY = 65534


def unprivileged() -> tuple[list[str], int]:
    """The command prefix that runs a child unprivileged, and the uid it will have."""
    if os.geteuid() != 0:
        return [], os.geteuid()
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to run a child as an unprivileged user"
    # The venv's Python may sit under /root (pyenv), which nobody may not enter: the child keeps the
    # right to read and search folders (CAP_DAC_READ_SEARCH), nothing else of root's.
    caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *caps], NOBODY
