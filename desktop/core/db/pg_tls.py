"""Which TLS mode a PostgreSQL connection uses when nobody chose one: verified, for any host beyond this machine.

libpq's own default, `sslmode=prefer`, lets a network attacker strip TLS unnoticed. For a host that is not a
Unix socket or the loopback interface, the app asks for `verify-full` (encrypted, the certificate checked
against the trusted roots and the host name) unless the URL, `PGSSLMODE` or the service file sets a mode; the
trusted roots are the system's (`sslrootcert=system`) unless a root certificate is named or libpq's own
`~/.postgresql/root.crt` exists. A weaker mode set on purpose is honoured, and said once: the connection is then
not verified.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

#: The default for a host beyond this machine.
VERIFIED = "verify-full"


@dataclass(frozen=True)
class TlsChoice:
    #: The sslmode to add to the connection parameters, None when the URL, environment or service sets one.
    default: str | None
    #: The sslrootcert to add with it (`system`), None to leave libpq's default.
    rootcert: str | None
    #: One line to say once when the connection to a remote host is not verified; None otherwise.
    warning: str | None


def _values(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def service_settings(name: str | None, env: Mapping[str, str]) -> dict[str, str]:
    """The settings of service `name` as libpq reads them: the user's service file first, then the system's."""
    if not name:
        return {}
    files = [Path(env["PGSERVICEFILE"])] if env.get("PGSERVICEFILE") else [Path.home() / ".pg_service.conf"]
    if env.get("PGSYSCONFDIR"):
        files.append(Path(env["PGSYSCONFDIR"]) / "pg_service.conf")
    for path in files:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeDecodeError):
            continue  # libpq will say what is wrong with it
        if parser.has_section(name):
            return {key.lower(): value.strip() for key, value in parser.items(name)}
    return {}


def is_local(host: str) -> bool:
    """A Unix socket (a folder, or an abstract one), or a name or address of the loopback interface."""
    host = host.strip()
    if not host or host.startswith(("/", "@")) or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def choose(url: URL, location: str, env: Mapping[str, str] | None = None) -> TlsChoice:
    """The TLS mode for `url`, from what it, the environment and its service file say (no network involved)."""
    env = os.environ if env is None else env
    query = url.query
    service = (_values(query.get("service")) or [env.get("PGSERVICE", "")])[-1]
    settings = service_settings(service, env)
    # As libpq: a `host` in the query replaces the URL's; `hostaddr` is where it connects, `host` the name it
    # checks. Either beyond this machine makes the connection remote.
    hosts = [
        *(_values(query.get("host")) or ([url.host] if url.host else [])),
        *_values(query.get("hostaddr")),
    ]
    if not hosts:
        # libpq's order: the connection string, then the service file, then the environment.
        hosts = [settings.get("host") or settings.get("hostaddr") or env.get("PGHOST") or ""]
    remote = any(not is_local(h) for entry in hosts for h in entry.split(","))
    modes = _values(query.get("sslmode"))
    mode = modes[-1] if modes else settings.get("sslmode") or env.get("PGSSLMODE")
    if not remote:
        return TlsChoice(None, None, None)
    if not mode:
        named = query.get("sslrootcert") or settings.get("sslrootcert") or env.get("PGSSLROOTCERT")
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
        own = (home / ".postgresql" / "root.crt").exists()
        return TlsChoice(VERIFIED, None if named or own else "system", None)
    if mode == VERIFIED:
        return TlsChoice(None, None, None)
    if mode == "verify-ca":
        return TlsChoice(
            None,
            None,
            "The connection is not fully verified (sslmode=verify-ca checks the certificate's CA, not that it was "
            f"issued to this server). Use sslmode={VERIFIED}. Server: {location}",
        )
    return TlsChoice(
        None,
        None,
        f"The connection is not verified (sslmode={mode}): someone on the network could read or change what it "
        f"carries. Use sslmode={VERIFIED} with the server's CA (sslrootcert=…). Server: {location}",
    )
