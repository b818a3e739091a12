"""SIGTERM and SIGINT quit the Qt event loop with exit 0 (desktop/ui/platform/unix_signals.py), in a child process
each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO

# The child prints "ready" from inside the event loop, then waits to be signalled; a
# watchdog exits 7 so that a lost signal fails the test instead of hanging it.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox
    from desktop.ui.platform.unix_signals import install_quit_on_signals

    mode = sys.argv[1]
    app = QApplication(sys.argv[:1])
    if mode != "not-installed":
        install_quit_on_signals(app)
    app.aboutToQuit.connect(lambda: print("aboutToQuit", flush=True))
    window = QMainWindow()
    window.show()
    QTimer.singleShot(8000, lambda: os._exit(7))
    if mode == "before-exec":
        os.kill(os.getpid(), signal.SIGTERM)
    if mode == "modal-before-exec":
        QTimer.singleShot(0, lambda: print("ready", flush=True))
        box = QMessageBox(window)
        stay = box.addButton("Stay", QMessageBox.ButtonRole.AcceptRole)
        box.setEscapeButton(box.addButton("Quit", QMessageBox.ButtonRole.RejectRole))
        box.exec()
        print("modal closed, stayed:", box.clickedButton() is stay, flush=True)
        sys.exit(0)
    QTimer.singleShot(0, lambda: print("ready", flush=True))
    code = app.exec()
    print("restored:", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
    sys.exit(code)
    """
)


def _run(mode: str, signum: int | None) -> tuple[int, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    lines = []
    if signum is not None:
        for line in child.stdout:
            lines.append(line)
            if line.strip() == "ready":
                child.send_signal(signum)
                break
    out, _ = child.communicate(timeout=20)
    return child.returncode, "".join(lines) + out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_quits_the_event_loop_with_exit_0(signum: int) -> None:
    code, out = _run("installed", signum)
    assert code == 0, out
    assert "aboutToQuit" in out  # the normal quit route, where the clipboard is cleared
    assert "restored: True" in out


def test_without_the_handlers_sigterm_kills_the_process() -> None:
    code, out = _run("not-installed", signal.SIGTERM)
    assert code == -signal.SIGTERM
    assert "aboutToQuit" not in out


def test_a_signal_before_exec_is_not_lost() -> None:
    code, out = _run("before-exec", None)
    assert code == 0, out
    assert "aboutToQuit" in out


def test_a_signal_closes_a_modal_dialog_shown_before_exec() -> None:
    code, out = _run("modal-before-exec", signal.SIGTERM)
    assert code == 0, out
    assert "modal closed, stayed: False" in out
