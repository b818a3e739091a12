"""docs/service.md's ASGI middleware, run as printed on a real database, and the async API it stands on.

The middleware is driven as an ASGI server drives it (scope, receive, send), on SQLite and on PostgreSQL. On
PostgreSQL a table lock held by another session keeps a check waiting inside the server: the event loop must
go on serving meanwhile (here, it is the loop that lets the lock go; a loop blocked by the check could not).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from desktop.core import keys
from desktop.core.errors import InvalidInput
from desktop.core.store import KeyStore
from desktop.core.values import Verdict
from tests.helpers import REPO, Secret
from tests.pg import PgCluster

SERVICE = (REPO / "docs" / "service.md").read_text(encoding="utf-8")


def asgi_snippet() -> str:
    block = re.search(r"<!-- asgi-snippet:start -->\n```python\n(.*?)```\n<!-- asgi-snippet:end -->", SERVICE, re.S)
    assert block, "docs/service.md lost its ASGI snippet"
    return block.group(1)


def load(monkeypatch: pytest.MonkeyPatch, database: str) -> dict[str, Any]:
    monkeypatch.setenv("APIKEYS_DATABASE", database)
    namespace: dict[str, Any] = {}
    exec(compile(asgi_snippet(), "docs/service.md", "exec"), namespace)
    return namespace


async def hello(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    body = f"hello #{scope['state']['api_key_id']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def request(app: Callable[..., Any], authorization: str | None) -> tuple[int, dict[bytes, bytes], bytes]:
    headers = [] if authorization is None else [(b"authorization", authorization.encode("latin-1"))]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "client": ("127.0.0.1", 5000)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


@pytest.fixture
def sqlite_keys(db_path: Path) -> Iterator[dict[str, Secret]]:
    with KeyStore.open(str(db_path), create=True) as admin:
        reader = admin.create("reader", scopes=["orders:read"])
        other = admin.create("other", scopes=["billing:read"])
        off = admin.create("off")
        admin.set_active(off.record.id, False)
        yield {"reader": Secret(reader.key), "other": Secret(other.key), "off": Secret(off.key)}


def test_asgi_snippet_guards_an_app(
    db_path: Path, sqlite_keys: dict[str, Secret], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    service = load(monkeypatch, str(db_path))
    try:
        guarded = service["require_api_key"](hello, "orders:read")

        async def scenario() -> list[tuple[int, dict[bytes, bytes], bytes]]:
            return [
                await request(guarded, f"Bearer {sqlite_keys['reader']}"),
                await request(guarded, f"bEaReR {sqlite_keys['reader']}"),
                await request(guarded, f"Bearer {sqlite_keys['other']}"),
                await request(guarded, f"Bearer {sqlite_keys['off']}"),
                await request(guarded, f"Bearer {keys.generate()}"),
                await request(guarded, "Bearer ak_nonsense"),
                await request(guarded, f"Basic {sqlite_keys['reader']}"),
                await request(guarded, None),
            ]

        answers = asyncio.run(scenario())
    finally:
        service["store"].close()
    with KeyStore.open(str(db_path)) as admin:
        reader_id = next(r.id for r in admin.all() if r.description == "reader")
    ok = (200, {b"content-type": b"text/plain"}, f"hello #{reader_id}".encode())
    refused = (401, {b"content-type": b"text/plain", b"www-authenticate": b"Bearer"}, b"Unauthorized\n")
    forbidden = (
        403,
        {b"content-type": b"text/plain", b"www-authenticate": b'Bearer error="insufficient_scope"'},
        b"Forbidden\n",
    )
    assert answers == [ok, ok, forbidden, refused, refused, refused, refused, refused]
    assert all(key not in caplog.text and key[3:20] not in caplog.text for key in sqlite_keys.values())


def test_asgi_snippet_answers_503_when_the_database_cannot_be_used(
    db_path: Path, sqlite_keys: dict[str, Secret], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = load(monkeypatch, str(db_path))
    try:
        monkeypatch.setenv("APIKEYS_MAX_CONNECTIONS", "lots")  # read when the first check starts its threads
        answer = asyncio.run(request(service["require_api_key"](hello), f"Bearer {sqlite_keys['reader']}"))
    finally:
        service["store"].close()
    assert answer == (503, {b"content-type": b"text/plain", b"retry-after": b"30"}, b"Service unavailable\n")


def test_the_async_api_answers_as_the_blocking_one(db_path: Path, sqlite_keys: dict[str, Secret]) -> None:
    with KeyStore.open(str(db_path)) as store:

        async def scenario() -> list[object]:
            return [
                await store.averify(sqlite_keys["reader"]),
                await store.averify(sqlite_keys["off"]),
                await store.averify("ak_nonsense"),
                (await store.acheck(sqlite_keys["other"], ["orders:read"])).verdict,
                (await store.acheck(sqlite_keys["reader"], ("orders:read",))).scopes,
            ]

        assert asyncio.run(scenario()) == [
            Verdict.VALID,
            Verdict.INACTIVE,
            Verdict.MALFORMED,
            Verdict.FORBIDDEN,
            ("orders:read",),
        ]
        with pytest.raises(InvalidInput, match="Invalid scope 'Bad scope'"):
            asyncio.run(store.acheck("ak_nonsense", ["Bad scope"]))


def _waiting_on_the_lock(cluster: PgCluster, name: str) -> bool:
    rows = cluster.execute(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND wait_event_type = 'Lock'", name
    )
    return rows == [(1,)]


def test_asgi_snippet_never_holds_up_the_event_loop(pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_cluster.new_database()
    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    with KeyStore.open(url) as admin:
        key = Secret(admin.create("async").key)
        assert admin.verify(key) is Verdict.VALID  # its use recorded: the check below only reads
    service = load(monkeypatch, url)
    holder = psycopg.connect(host=str(pg_cluster.socket), user="postgres", dbname=name)
    try:
        holder.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")

        def until_the_check_waits() -> None:  # a guard against a hang, not a measurement
            deadline = time.monotonic() + 60
            while not _waiting_on_the_lock(pg_cluster, name):
                assert time.monotonic() < deadline, "the check never reached the server"
                time.sleep(0.02)

        async def scenario() -> tuple[int, dict[bytes, bytes], bytes]:
            answer = asyncio.create_task(request(service["require_api_key"](hello), f"Bearer {key}"))
            # The loop runs this while the check waits in the server; then it lets the lock go.
            await asyncio.to_thread(until_the_check_waits)
            await asyncio.to_thread(holder.rollback)
            return await answer

        status, _, body = asyncio.run(scenario())
    finally:
        holder.close()
        service["store"].close()
    assert (status, body[:7]) == (200, b"hello #")
