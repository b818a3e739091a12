"""The README's service snippet runs as printed, against a real database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from desktop.core.store import KeyStore
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def snippet() -> str:
    block = re.search(
        r"<!-- service-snippet:start -->\n```python\n(.*?)```\n<!-- service-snippet:end -->", README, re.S
    )
    assert block, "README lost its service snippet"
    return block.group(1)


def call(app: Callable[..., Iterable[bytes]], authorization: str | None) -> tuple[str, bytes]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    return status[0], body


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split()[:2] for line in first_block] == [["make", "run"], ["make", "test"]]


def test_service_snippet_guards_an_app(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIKEYS_DATABASE", str(db_path))
    with KeyStore.open(str(db_path), create=True) as admin:
        good = admin.create("service").key
        off = admin.create("switched off")
        admin.set_active(off.record.id, False)

    namespace: dict[str, Any] = {}
    exec(compile(snippet(), "README.md", "exec"), namespace)

    def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    app = namespace["require_api_key"](hello)
    try:
        assert call(app, f"Bearer {good}") == ("200 OK", b"hello")
        assert call(app, f"Bearer {off.key}") == ("401 Unauthorized", b"API key inactive\n")
        assert call(app, "Bearer ak_nonsense") == ("401 Unauthorized", b"API key malformed\n")
        assert call(app, None)[0] == "401 Unauthorized"
    finally:
        namespace["store"].close()
    with KeyStore.open(str(db_path), create=True) as admin:
        assert admin.all()[-1].last_used_at is not None
