"""What `apikeys serve` is told, checked before anything listens: address, socket, TLS, token."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import InvalidInput
from desktop.core.presentation import shorten, shown

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
_LISTEN = re.compile(r"\[(?P<v6>[0-9A-Fa-f:.]+)\]:(?P<port6>[0-9]{1,5})|(?P<host>[^:\s\[\]]+):(?P<port>[0-9]{1,5})")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Where and how to listen, and which database to answer from. Picklable: a worker process gets a copy."""

    database: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    socket: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    token_file: Path | None = None

    @property
    def where(self) -> str:
        if self.socket is not None:
            return f"unix:{self.socket}"
        scheme = "https" if self.tls_cert else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def parse_listen(text: str) -> tuple[str, int]:
    found = _LISTEN.fullmatch(text.strip())
    port = int((found.group("port6") or found.group("port")) if found else 0)
    if found is None or not 1 <= port <= 65535:
        raise InvalidInput(f"--listen must be HOST:PORT (e.g. 127.0.0.1:8787), not '{shown(shorten(text, 60))}'.")
    return found.group("v6") or found.group("host"), port


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def _readable(option: str, path: str) -> Path:
    file = Path(path).expanduser()
    try:
        with file.open("rb") as handle:
            handle.read(1)
    except OSError as err:
        raise InvalidInput(f"Cannot read {option} {shown(path)} ({err.strerror}).") from None
    return file.resolve()


def read_token(path: Path) -> bytes:
    """The bearer token: the file's first line, without surrounding whitespace."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise InvalidInput(f"Cannot read --token-file {shown(str(path))} ({reason}).") from None
    token = (text.splitlines() or [""])[0].strip()
    if not token:
        raise InvalidInput(
            f"--token-file {shown(str(path))} is empty: put the token callers present on its first line."
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        raise InvalidInput(f"--token-file {shown(str(path))}: the token must be printable ASCII without spaces.")
    return token.encode()


def serve_options(
    database: str,
    *,
    listen: str | None,
    socket: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    insecure_http: bool,
    token_file: str | None,
) -> ServeOptions:
    """The options checked as a whole; InvalidInput (exit 2) names the first problem."""
    if listen is not None and socket is not None:
        raise InvalidInput("Give --listen or --socket, not both.")
    if (tls_cert is None) != (tls_key is None):
        raise InvalidInput("--tls-cert and --tls-key go together: give both, or neither.")
    host, port = parse_listen(listen) if listen is not None else (DEFAULT_HOST, DEFAULT_PORT)
    if socket is None and tls_cert is None and not insecure_http and not is_loopback(host):
        raise InvalidInput(
            f"--listen {shown(shorten(listen or '', 60))} is reachable from other machines: give --tls-cert and "
            "--tls-key, or --insecure-http to serve plain HTTP there all the same (e.g. behind a TLS proxy)."
        )
    token = None
    if token_file is not None:
        token = _readable("--token-file", token_file)
        read_token(token)
    return ServeOptions(
        database=database,
        host=host,
        port=port,
        socket=None if socket is None else Path(socket).expanduser().resolve(),
        tls_cert=None if tls_cert is None else _readable("--tls-cert", tls_cert),
        tls_key=None if tls_key is None else _readable("--tls-key", tls_key),
        token_file=token,
    )
