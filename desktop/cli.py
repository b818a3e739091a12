"""The command line over the core: create, list, verify, activate, deactivate, delete, seed, grant, and the key
lifecycle: rename, roll, scopes, log."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from desktop import APP_ID, __version__
from desktop.cli_limits import add_limit_command, add_limit_options, limit_input, limits_command, print_verdict
from desktop.cli_output import list_records, print_table
from desktop.core.clock import SYSTEM_CLOCK, Clock
from desktop.core.errors import CHOOSE_ANOTHER, DatabaseMissing, DomainError, InvalidInput, KeyNotFound
from desktop.core.lifecycle import validate_scopes
from desktop.core.operations import Operation
from desktop.core.presentation import describe_key, done_text, shorten, shown
from desktop.core.target import ENV_VAR, check_choice
from desktop.core.validation import parse_expiry, parse_key_id, validate_description, validate_expiry
from desktop.core.values import KeyRecord, Verdict, VerifyResult

if TYPE_CHECKING:
    from collections.abc import Callable

    # Imported by the commands that open a database: the window's start-up pays for every module imported here.
    from desktop.core.query import Query
    from desktop.core.store import KeyStore

PROG = APP_ID
SEED_MAX = 10_000_000
#: `seed --usage` at most (counted verifies).
USAGE_MAX = 10_000_000_000


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        # argparse quotes the argument it refused: escaped, so a control character in argv is never obeyed.
        self.exit(2, f"{PROG}: {shown(message)}. Run '{PROG} --help' for usage.\n")


def _add_database(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--database",
        metavar="X",
        default=default,
        help="database file path or SQLAlchemy URL (default: $APIKEYS_DATABASE, else keys.db in the user data folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="API Key Manager. Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_database(parser, None)
    parser.add_argument(
        "--show",
        metavar="STATUS",
        help="open the window showing only these keys: active, inactive, expired, expiring or unused",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _add_database(sub, argparse.SUPPRESS)
        return sub

    def key_command(name: str, help_text: str) -> argparse.ArgumentParser:
        """A command on one key, named by its ID."""
        sub = command(name, help_text)
        sub.add_argument("id", metavar="ID", help="the key's ID, as `apikeys list` shows")
        return sub

    create = command("create", "generate a key and print it (shown only this once)")
    create.add_argument("--description", required=True, help="what the key is for (1-256 characters)")
    create.add_argument("--expires", metavar="YYYY-MM-DD", help="last day the key is valid (default: never)")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="S",
        help="a scope the key grants (repeatable; e.g. billing:read)",
    )
    add_limit_options(create)
    listing = command("list", "list keys, newest first (or as --search, --status and --sort say)")
    listing.add_argument(
        "--search",
        metavar="TEXT",
        help="case-insensitive part of a description or of a scope (billing finds read:billing), a masked key or "
        "its start (ak_7Gq2), or a full key",
    )
    listing.add_argument("--status", metavar="STATUS", help="active, inactive, expired, expiring or unused")
    listing.add_argument(
        "--sort", metavar="ORDER", help="created (newest first, the default), expires, last-used or description"
    )
    listing.add_argument("--reverse", action="store_true", help="the whole order reversed")
    listing.add_argument("--limit", metavar="N", help="only the first N keys in that order")
    output = listing.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON array")
    output.add_argument("--csv", action="store_true", help="print CSV: a header row, then one row per key")
    listing.add_argument(
        "--bom", action="store_true", help="with --csv: UTF-8 with a byte order mark, as spreadsheets (Excel) read it"
    )
    expiring = command("expiring", "list active keys expiring soon, soonest first; exit 1 when there are any")
    expiring.add_argument(
        "--within",
        metavar="Nd",
        default="7d",
        help=f"how far ahead to look, in days (default 7d, at most {WITHIN_MAX}d)",
    )
    expiring.add_argument("--json", action="store_true", help="print a JSON array (the same objects as list --json)")
    remind = command("remind", "the desktop reminder of keys about to expire (run daily by a systemd user timer)")
    switch = remind.add_mutually_exclusive_group()
    switch.add_argument("--on", action="store_true", help="turn reminders on (for --database, if given)")
    switch.add_argument("--off", action="store_true", help="turn reminders off")
    switch.add_argument("--status", action="store_true", help="say whether reminders are on, and for which database")
    switch.add_argument("--dry-run", action="store_true", help="print the notification instead of showing it")
    remind.add_argument(
        "--wait", metavar="SECONDS", default=None, help="how long the notification can be clicked (default 3600)"
    )
    verify = command("verify", "check a key; prints valid or why not (e.g. expired, forbidden, rate_limited)")
    verify.add_argument(
        "--scope", action="append", default=[], metavar="S", help="a scope the key must have (repeatable; all required)"
    )
    verify.add_argument("--json", action="store_true", help="print one JSON object: verdict, id, scopes")
    verify.add_argument(
        "key",
        metavar="KEY",
        nargs="?",
        default="-",
        help="omit it (or give -) to read the key from standard input, or type it unseen at a prompt; "
        "an argument is visible to other local users and kept in shell history",
    )
    for name, text in (("activate", "activate a key"), ("deactivate", "deactivate a key"), ("delete", "delete a key")):
        key_command(name, text)
    rename = key_command("rename", "give a key a new description")
    rename.add_argument("--description", required=True, help="what the key is for (1-256 characters)")
    roll = key_command("roll", "replace a key with a new one (printed once); the old one works until the grace ends")
    roll.add_argument(
        "--grace",
        default="24h",
        metavar="now|Nm|Nh|Nd",
        help="how long the old key keeps working (default 24h, at most 30d)",
    )
    scopes = key_command("scopes", "set a key's scopes (the whole list; none clears it)")
    scopes.add_argument("scopes", metavar="S", nargs="*", help="a scope, e.g. billing:read")
    add_limit_command(command)
    log_cmd = command("log", "the audit log: who changed which key when, newest first")
    log_cmd.add_argument("--key", metavar="ID", help="only this key's events (also once it was deleted)")
    log_cmd.add_argument("--limit", metavar="N", default="100", help="at most N events (default 100)")
    log_cmd.add_argument("--json", action="store_true", help="print a JSON array")
    seed = command("seed", "add demo keys (their descriptions start with [demo]), or remove them all")
    seeding = seed.add_mutually_exclusive_group(required=True)
    seeding.add_argument("--count", metavar="N", help="how many demo keys to add")
    seeding.add_argument(
        "--remove", action="store_true", help="delete every demo key (and its usage counts), and nothing else"
    )
    seed.add_argument(
        "--usage",
        metavar="M",
        help="with --count: also M counted verifies of them over the last 35 days (few keys get most)",
    )
    seed.add_argument("--yes", action="store_true", help="seed the default database without asking")
    grant = command("grant", "give a PostgreSQL role the rights to verify or to manage keys (run as the owner)")
    grant.add_argument("role", metavar="ROLE", help="an existing role on the database server")
    kind = grant.add_mutually_exclusive_group(required=True)
    kind.add_argument("--verifier", action="store_true", help="verify keys only (apikeys verify, apikeys_verify())")
    kind.add_argument("--manager", action="store_true", help="what the window and the command line need")
    _add_serve(command("serve", "answer verify requests over HTTP (POST /v1/keys/verify); docs/service.md"))
    return parser


def _add_serve(serve: argparse.ArgumentParser) -> None:
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (default 127.0.0.1:8787)")
    where.add_argument("--socket", metavar="PATH", help="listen on this Unix socket instead (mode 0660)")
    serve.add_argument("--token-file", metavar="F", help="callers must send Authorization: Bearer <F's first line>")
    serve.add_argument("--tls-cert", metavar="C", help="serve HTTPS with this certificate chain (PEM)")
    serve.add_argument("--tls-key", metavar="K", help="and this private key (PEM, PKCS#8)")
    serve.add_argument("--insecure-http", action="store_true", help="allow plain HTTP on a non-loopback --listen")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _read_key(arg: str) -> str:
    """The presented key, surrounding whitespace ignored wherever it came from."""
    if arg != "-":
        return arg.strip()
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        # getpass turns the terminal's echo off, so the key never shows on screen or in a recording.
        return getpass.getpass("API key (not shown): ").strip()
    if sys.stdin is None:
        return ""
    # A key is 41 characters; read a bounded amount so a huge input cannot exhaust memory.
    return sys.stdin.read(4096).strip()


LIST_LIMIT_MAX = 1_000_000_000
#: `apikeys expiring --within` at most, in days.
WITHIN_MAX = 3650


def parse_within(text: str) -> timedelta:
    """`7d` (or `7`): that many days; InvalidInput names the form."""
    match = re.fullmatch(r"([0-9]{1,4})d?", text.strip().lower())
    if match is None or not 1 <= int(match.group(1)) <= WITHIN_MAX:
        raise InvalidInput(
            f"--within must be a number of days from 1d to {WITHIN_MAX}d, not '{shown(shorten(text, 40))}'."
        )
    return timedelta(days=int(match.group(1)))


def _list_limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"[0-9]{1,10}", text.strip()) or not 1 <= int(text) <= LIST_LIMIT_MAX:
        raise InvalidInput(
            f"--limit must be a whole number from 1 to {LIST_LIMIT_MAX:,}, not '{shown(shorten(text, 40))}'."
        )
    return int(text)


def _limit_fields(store: KeyStore, args: argparse.Namespace) -> Callable[[KeyRecord | None], dict[str, Any]] | None:
    """For `--json` and `--csv`: each key's limits (rate, credits, refill), read once before the keys stream."""
    if not (args.json or getattr(args, "csv", False)):
        return None
    from desktop.cli_limits import limit_fields

    limits = store.all_limits()  # the limited keys only: a few
    return lambda r: limit_fields(None if r is None else limits.get(r.id))


def _list(
    store: KeyStore, query: Query, limit: int | None, args: argparse.Namespace, out: TextIO, now: datetime
) -> None:
    records = store.find(query, limit=limit)
    if args.json or args.csv:
        list_records(records, args, out, now, _limit_fields(store, args))
        return
    empty = None if query.is_plain else "No keys match.\n"
    print_table(records, out, now, empty)


def _expiring(store: KeyStore, query: Query, args: argparse.Namespace, out: TextIO, now: datetime) -> int:
    """`list --status expiring --sort expires`, any window; 1 when a key expires within it (for cron and CI)."""
    args.csv = False
    records = list(store.find(query))
    if args.json:
        list_records(records, args, out, now, _limit_fields(store, args))
    else:
        days = query.expiring_within.days
        print_table(records, out, now, f"No active key expires within {days} day{'s' if days != 1 else ''}.\n")
    return 1 if records else 0


def _positive_count(text: str) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or not 1 <= int(text) <= SEED_MAX:
        raise InvalidInput(f"--count must be a whole number from 1 to {SEED_MAX:,}, not '{text}'.")
    return int(text)


def _usage_count(text: str | None) -> int:
    if text is None:
        return 0
    if not re.fullmatch(r"[0-9]{1,10}", text.strip()) or not 0 <= int(text) <= USAGE_MAX:
        raise InvalidInput(f"--usage must be a whole number from 0 to {USAGE_MAX:,}, not '{text}'.")
    return int(text)


def _serve(args: argparse.Namespace) -> int:
    from desktop.core.target import resolve_target
    from desktop.serve.options import serve_options

    options = serve_options(
        resolve_target(args.database),
        listen=args.listen,
        socket=args.socket,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure_http=args.insecure_http,
        token_file=args.token_file,
    )
    try:
        from desktop.serve.server import run
    except ModuleNotFoundError as err:  # a base install: the server is the `serve` extra
        raise DomainError(f"apikeys serve needs {err.name}: pip install '.[serve]' (docs/service.md).") from None
    return run(options)


def _open(args: argparse.Namespace, clock: Clock, *, create: bool) -> KeyStore:
    """The store for a command; a missing database says where its path came from and what to do."""
    from desktop.core.store import open_store

    try:
        # Only create and seed may create a missing database: a mistyped path must not become an empty one.
        store = open_store(args.database, clock, create=create)
    except DatabaseMissing as err:
        source = "--database" if args.database else f"${ENV_VAR}" if os.environ.get(ENV_VAR, "").strip() else None
        if source is None:
            message = (
                f"No database yet at {err.path}; nothing was created. Create one with `{PROG} create --description "
                f"TEXT`, or choose another with --database or ${ENV_VAR}."
            )
        else:
            message = (
                f"No database at {err.path} (from {source}); nothing was created. Check the path, or run "
                f"`{PROG} create` to start a new database there."
            )
        raise DatabaseMissing(err.path, message) from None
    if store.warning:  # e.g. a server connection whose TLS is not verified: said once, on stderr
        print(f"{PROG}: warning: {store.warning}", file=sys.stderr)
    return store


def execute(args: argparse.Namespace, out: TextIO | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """Run one command; returns the exit status. DomainErrors are the caller's to print."""
    out = out or sys.stdout
    command = args.command
    check_choice(args.database)  # an empty --database or $APIKEYS_DATABASE: exit 2 before anything is opened
    # Validate what needs no database before opening (or creating) one: bad input is exit 2 whatever the file.
    if command == "create":
        description = validate_description(args.description)
        expires_on = parse_expiry(args.expires) if args.expires else None
        validate_expiry(expires_on, clock.today())
        scopes = validate_scopes(args.scope)
        limits = limit_input(args)
    elif command in ("limit", "usage"):
        run_later = limits_command(args)  # validated before anything is opened
    elif command in ("activate", "deactivate", "delete"):
        key_id = parse_key_id(args.id)
    elif command in ("rename", "roll", "scopes", "log"):
        from desktop.cli_commands import _lifecycle_input

        given = _lifecycle_input(command, args)
    elif command == "seed" and not args.remove:
        from desktop.cli_commands import confirm_default_seed

        count = _positive_count(args.count)
        usage = _usage_count(args.usage)
        confirm_default_seed(args, count)
    elif command == "seed" and args.usage is not None:
        raise InvalidInput("--usage goes with --count: `apikeys seed --count N --usage M` adds keys and their use.")
    elif command == "list":
        from desktop.core.query import Query

        query = Query.parse(args.search, args.status, args.sort, args.reverse)
        limit = _list_limit(args.limit)
        if args.bom and not args.csv:
            raise InvalidInput("--bom goes with --csv: `apikeys list --csv --bom` writes CSV for spreadsheets.")
    elif command == "expiring":
        from desktop.core.query import Filter, Query, Sort

        query = Query(status=Filter.EXPIRING, sort=Sort.EXPIRES, expiring_within=parse_within(args.within))
    elif command == "grant":
        from desktop.core.store_admin import require_server
        from desktop.core.target import resolve_target

        require_server(resolve_target(args.database))  # grant is for server roles: refused before opening anything
    elif command == "serve":
        return _serve(args)
    elif command == "verify":
        required = validate_scopes(args.scope)
        key = _read_key(args.key)
        from desktop.core import keys  # hashlib and secrets: not for the window's start-up

        if not keys.is_well_formed(key):
            print_verdict(VerifyResult(Verdict.MALFORMED), args.json, out)
            return 1

    seeding = command == "seed" and not args.remove
    with _open(args, clock, create=command == "create" or seeding) as store:
        if command == "create":
            out.write(store.create(description, expires_on, scopes=scopes, **limits).key + "\n")
        elif command in ("limit", "usage"):
            run_later(store, out)
        elif command == "list":
            _list(store, query, limit, args, out, clock.now())
        elif command == "expiring":
            return _expiring(store, query, args, out, clock.now())
        elif command == "verify":
            result = store.check(key, required)
            print_verdict(result, args.json, out)
            return 0 if result.verdict is Verdict.VALID else 1
        elif command in ("rename", "roll", "scopes", "log"):
            from desktop.cli_commands import _lifecycle

            _lifecycle(store, command, args, out, given)
        elif command in ("activate", "deactivate"):
            active = command == "activate"
            current = store.get(key_id)  # KeyNotFound: exit 1
            if current.active == active:
                # Nothing to do: no write, no event, and no "Deactivated" for a key that already was.
                state = "active" if active else "inactive"
                out.write(f"Key {describe_key(current)} is already {state}; nothing was changed.\n")
            else:  # the same words as the window's status bar
                out.write(done_text(Operation.toggling(active), store.set_active(key_id, active)) + "\n")
        elif command == "delete":
            record = store.get(key_id)  # to say what was deleted; KeyNotFound here is the same exit 1
            store.delete(key_id)
            out.write(done_text(Operation.DELETE, record) + "\n")
        elif command == "seed":
            from desktop.cli_commands import _seed, remove_demo_keys

            if args.remove:
                remove_demo_keys(store, out)
            else:
                _seed(store, count, clock.now(), usage)
                # One line when done, whatever stdout is (a terminal, a pipe, a file).
                used = f" and {usage:,} counted verifies of them" if usage else ""
                out.write(f"Added {count:,} demo key{'s' if count != 1 else ''}{used} to {store.location}.\n")
        elif command == "grant":
            from desktop.core.store_admin import grant

            out.write(grant(store, args.role, manager=args.manager) + "\n")
    return 0


#: Exit statuses by kind of error, the first match wins (the README's exit code table).
EXIT_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 2),
    (KeyNotFound, 1),
    (DomainError, 3),  # the database cannot be used, or is not safe to use
)


def exit_status(err: DomainError) -> int:
    return next(status for kind, status in EXIT_STATUS if isinstance(err, kind))


def report(err: DomainError) -> int:
    """Print `err` as one line on stderr, in the command line's words; its exit status."""
    message = err.message.replace(CHOOSE_ANOTHER, f"choose another with --database or ${ENV_VAR}")
    # One line whatever the message quotes (an argument, a path, a server's words): controls shown escaped.
    sys.stderr.write(f"{PROG}: {shown(message)}\n")
    return exit_status(err)
