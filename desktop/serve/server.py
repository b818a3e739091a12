"""Runs the verify service on granian: one worker process that opens the store, answers, and closes it on SIGTERM.

granian (Rust HTTP, WSGI on a pool of Python threads) was measured against uvicorn, granian's ASGI mode and
waitress (docs/service.md has the figures).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Iterable

from desktop.core.errors import DomainError
from desktop.serve.options import ServeOptions, read_token

log = logging.getLogger(__name__)

#: Python threads answering requests in the worker (more wait in granian's queue, not in the database): verify is
#: mostly Python work under one GIL, so a few per core; granian itself warns above 2 per core + 1.
THREADS = min(8, 2 * (os.cpu_count() or 1) + 1)


def build_app(options: ServeOptions) -> Callable[..., Iterable[bytes]]:
    """In the worker process: the store and the application; the store is closed as the worker exits."""
    from multiprocessing import util

    from desktop.core.store import open_store
    from desktop.serve.app import VerifyService

    store = open_store(options.database)
    token = None if options.token_file is None else read_token(options.token_file)
    # granian's worker is a multiprocessing.Process: it ends with os._exit(), which skips atexit but runs these,
    # once the server has stopped taking requests and finished those in flight.
    util.Finalize(store, store.close, exitpriority=10)
    return VerifyService(store, token=token)


def _stderr_logging() -> None:
    """The service's own lines (database lost, back) on stderr too: the journal under systemd."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("apikeys serve: %(levelname)s %(message)s"))
    for name in ("desktop.serve", "desktop.core"):
        logging.getLogger(name).addHandler(handler)


def _check_free(options: ServeOptions) -> None:
    """Refuse, in one line, an address or socket that is taken; a socket file left by a killed server goes."""
    import errno
    import socket
    import stat

    path = options.socket
    if path is not None:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return
        except OSError as err:
            raise DomainError(f"Cannot listen on {path} ({err.strerror}).") from None
        if not stat.S_ISSOCK(mode):
            raise DomainError(f"Cannot listen on {path}: a file that is not a socket is there.")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(path))
            except ConnectionRefusedError:
                path.unlink()  # nobody answers there: a stale socket of a server that was killed
                return
            except OSError as err:
                raise DomainError(f"Cannot listen on {path} ({err.strerror}).") from None
        raise DomainError(f"Cannot listen on {path}: another server answers there.")
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((options.host, options.port))
        except OSError as err:
            taken = " (another server uses it)" if err.errno == errno.EADDRINUSE else f" ({err.strerror})"
            raise DomainError(f"Cannot listen on {options.where}{taken}.") from None


def run(options: ServeOptions) -> int:
    """Serve until SIGTERM or SIGINT; 0 after a clean stop. A database that cannot be opened raises first."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    from desktop.core.store import open_store

    # Open once before listening, so a wrong path or URL is one line and exit 3, not a worker that keeps dying.
    with open_store(options.database):
        pass
    _check_free(options)
    _stderr_logging()
    if options.token_file is not None and options.token_file.stat().st_mode & 0o077:
        log.warning(
            "--token-file %s can be read by other users; make it readable by this one only (chmod 600)",
            options.token_file,
        )
    server = Granian(
        "desktop.serve.app:VerifyService",  # for granian's own messages; the application comes from build_app
        address=options.host,
        port=options.port,
        uds=options.socket,
        uds_permissions=0o660 if options.socket is not None else None,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=THREADS,
        log_level=LogLevels.warning,
        log_access=False,  # an access log would be one line per request; the key is never in the URL anyway
        ssl_cert=options.tls_cert,
        ssl_key=options.tls_key,
        workers_kill_timeout=30,
    )
    sys.stderr.write(f"apikeys serve: answering on {options.where} (Ctrl+C or SIGTERM stops)\n")
    sys.stderr.flush()
    try:
        server.serve(target_loader=functools.partial(build_app, options), wrap_loader=False)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except RuntimeError as err:  # granian's own refusals (a socket taken meanwhile...), as one line
        raise DomainError(f"Cannot serve on {options.where}: {str(err).splitlines()[0]}.") from None
    return 0
