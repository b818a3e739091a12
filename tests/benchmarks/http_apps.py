"""The WSGI services the HTTP rows drive, each on granian as `apikeys serve` runs it (one worker, the same threads).

    python -m tests.benchmarks.http_apps constant|snippet|baseline PORT

- constant: answers any request with a fixed verify answer (the floor of `apikeys serve`: the server library
  alone, no store).
- snippet: the WSGI middleware of docs/service.md, as printed, guarding a one-line app (the Python API inside a
  real service); the database is $APIKEYS_DATABASE, as the snippet reads it.
- baseline: the 10-line `sqlite3` middleware of docs/performance.md, as printed, guarding the same app.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from tests.benchmarks.core_bench import REPO

KINDS = ("constant", "snippet", "baseline")
#: What `apikeys serve` answers for a valid key without scopes (its key_id aside): the constant floor's body.
CONSTANT = b'{"valid":true,"verdict":"valid","key_id":1,"scopes":[],"remaining":null,"ratelimit":null}'
HELLO = b"hello\n"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def docs_block(document: str, marker: str) -> str:
    """The Python block between `<!-- marker:start -->` and `<!-- marker:end -->` in a file under docs/."""
    text = (REPO / "docs" / document).read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker}:start -->\n```python\n(.*?)```\n<!-- {marker}:end -->", text, re.S)
    if found is None:
        raise RuntimeError(f"docs/{document} lost its {marker} block")
    return found.group(1)


def constant(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)  # the body is read, as the service reads it
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(CONSTANT)))])
    return [CONSTANT]


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
    return [HELLO]


def load(kind: str, _target: str = "") -> WsgiApp:
    """In granian's worker: the application of that kind."""
    if kind == "constant":
        return constant
    document, marker = {"snippet": ("service.md", "service-snippet"), "baseline": ("performance.md", "wsgi-baseline")}[
        kind
    ]
    namespace: dict[str, Any] = {"__name__": f"bench_{kind}"}
    exec(compile(docs_block(document, marker), f"docs/{document}", "exec"), namespace)
    guarded: WsgiApp = namespace["require_api_key"](hello)
    return guarded


def serve(kind: str, port: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    from desktop.serve.server import THREADS

    load(kind)  # a broken block fails here, in one line, not in the worker
    server = Granian(
        "tests.benchmarks.http_apps:constant",  # for granian's own messages; the application comes from load()
        address="127.0.0.1",
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=THREADS,
        log_level=LogLevels.warning,
        log_access=False,
    )
    server.serve(target_loader=functools.partial(load, kind), wrap_loader=False)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS or not sys.argv[2].isdigit():
        sys.exit(f"usage: python -m tests.benchmarks.http_apps {'|'.join(KINDS)} PORT")
    serve(sys.argv[1], int(sys.argv[2]))
