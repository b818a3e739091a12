"""Process hardening at start-up: no core dumps and no ptrace by other processes of the same user.

A full key lives in this process's memory while the show-once dialog is open (and a Python
string cannot be wiped afterwards), so a crash must not write it to a core file, and another
program running as the same user must not read it through ptrace or /proc/PID/mem.
KeePassXC does the same at start: PR_SET_DUMPABLE 0 and a core limit of 0.
"""

from __future__ import annotations

import contextlib
import sys

PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def harden_process() -> None:
    """Best effort: a platform or sandbox that refuses either call still runs the app."""
    if sys.platform == "win32":
        return
    import resource

    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        # AttributeError: a libc without prctl (none known on Linux).
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
