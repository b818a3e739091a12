"""The one place that wires core and UI: arguments, logging, excepthook, store and window."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from desktop import APP_ID
from desktop.core.errors import DomainError
from desktop.hardening import harden_process

if TYPE_CHECKING:
    from argparse import Namespace

    from PySide6.QtWidgets import QMainWindow

log = logging.getLogger("desktop")

_KEY_IN_TEXT = re.compile(r"ak_([0-9A-Za-z]{4})[0-9A-Za-z]{30}([0-9A-Za-z]{4})")


def _redact(text: str) -> str:
    return _KEY_IN_TEXT.sub(r"ak_\1…\2", text)


class RedactKeys(logging.Filter):
    """Defence in depth: whatever slips into a log record, a full key never reaches the file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        # A traceback repeats the exception's message: format it here, redacted (the formatter reuses exc_text).
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text)
        if record.stack_info:
            record.stack_info = _redact(record.stack_info)
        return True


class NameDatabase(logging.Filter):
    """Each line names the database (the one this process opened last; a URL with `***` for its password): one
    log file is shared by every database, every window and every command."""

    def filter(self, record: logging.LogRecord) -> bool:
        from desktop.core.target import last_opened

        record.database = last_opened() or "no database open"
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(database)s]: %(message)s"


def log_path() -> Path:
    import platformdirs

    return platformdirs.user_log_path(APP_ID, appauthor=False) / f"{APP_ID}.log"


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, 0o600)
    # A log file from an older version (or made by hand) may still be readable by others.
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, 0o600)
    return fd


def _private_log_handler(path: Path) -> logging.Handler:
    """A rotating handler whose every file, the first and each one after a rollover, is 0600."""
    import logging.handlers
    from io import TextIOWrapper

    class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
        def _open(self) -> TextIOWrapper:
            # The stdlib opens with the umask's mode (0644), also for the new file after each rollover.
            stream = open(  # noqa: SIM115 - the handler keeps the stream and closes it
                self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=_private_opener
            )
            assert isinstance(stream, TextIOWrapper)  # a text mode ("a"): what the stdlib's _open returns too
            return stream

    return PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")


def configure_logging() -> None:
    root = logging.getLogger()
    if any(getattr(h, "_apikeys", False) for h in root.handlers):
        return
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler: logging.Handler = _private_log_handler(path)
    except OSError:
        handler = logging.NullHandler()  # an unwritable home must not stop the app
    handler._apikeys = True  # type: ignore[attr-defined]  # our mark on the handler: set up once per process
    handler.addFilter(RedactKeys())
    handler.addFilter(NameDatabase())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # SQLAlchemy and Alembic are chatty at INFO; their warnings still count.
    for name in ("sqlalchemy", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _logging_to_file() -> bool:
    return any(isinstance(h, logging.FileHandler) for h in logging.getLogger().handlers)


def create_window(database: str) -> QMainWindow:
    """Build the main window on `database` (a path or URL) without running the event loop."""
    from desktop.core.store import open_store
    from desktop.ui.window.main_window import MainWindow

    return MainWindow(open_store(database, create=True))


def _run_window(database: str | None, show: str | None = None) -> int:
    import importlib.util

    from desktop.core.target import check_choice

    if importlib.util.find_spec("PySide6") is None:
        # A service install (`pip install .`, docs/service.md) has the commands but not the window's Qt.
        sys.stderr.write(
            f"{APP_ID}: the window needs PySide6, which this installation lacks; install it with "
            f"`pip install '.[gui]'` from the source folder, or run a command ({APP_ID} --help).\n"
        )
        return 3
    from desktop.ui.launcher import run

    try:
        check_choice(database)  # `apikeys --database ""`, or $APIKEYS_DATABASE set but empty: no window, exit 2
    except DomainError as err:
        sys.stderr.write(f"{APP_ID}: {err.message}\n")
        return 2
    status = None
    if show is not None:  # `--show expiring`: what the expiry reminder's click opens
        from desktop.core.query import Query

        try:
            status = Query.parse(status=show).status
        except DomainError as err:
            sys.stderr.write(f"{APP_ID}: --show: {err.message}\n")
            return 2
    # Logging is set up once the window is on screen: nothing is logged before, and it costs ~8 ms.
    return run(database, after_first_paint=configure_logging, status=status)


def _execute(args: Namespace) -> int:
    from desktop import cli

    if args.command == "remind":
        from desktop.remind.command import run as remind

        return remind(args)
    return cli.execute(args)


def _window_only(argv: list[str]) -> tuple[bool, str | None]:
    """(True, database) for the arguments that only open the window: none, or just `--database X`.

    The double-click start: the command line's parser (and the core modules it imports) is then not loaded
    before the window is on screen. Anything else, however spelt, goes through the parser.
    """
    if not argv:
        return True, None
    if len(argv) == 2 and argv[0] == "--database":
        value = argv[1]
    elif len(argv) == 1 and argv[0].startswith("--database="):
        value = argv[0].removeprefix("--database=")
    else:
        return False, None
    if value and not value.startswith("-"):
        return True, value
    return False, None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the application: a CLI command when one is given, else the window."""
    # Before any key can exist in this process: no core file, no ptrace by the same user.
    harden_process()
    argv = list(sys.argv[1:] if argv is None else argv)
    window_only, database = _window_only(argv)
    if window_only:
        return _run_window(database)
    from desktop import cli

    try:
        args = cli.parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors
        return stop.code if isinstance(stop.code, int) else 0
    if args.command is None:
        return _run_window(args.database, args.show)
    configure_logging()
    try:
        return _execute(args)
    except DomainError as err:
        return cli.report(err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`apikeys list | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as err:  # never a traceback for a person; the log has the detail
        log.exception("unexpected error in '%s'", args.command)
        where = f"; details are in {log_path()}" if _logging_to_file() else ""
        sys.stderr.write(f"{cli.PROG}: unexpected internal error ({type(err).__name__}){where}\n")
        return 3
