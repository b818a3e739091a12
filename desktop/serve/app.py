"""The verify service as a WSGI application: POST /v1/keys/verify, GET /healthz, GET /metrics.

The key travels only in the request body: no path, log line or metric label ever holds it. Every answer is
JSON, every error one line: {"error": "..."}.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from desktop.core import keys
from desktop.core.errors import DomainError, InvalidInput

if TYPE_CHECKING:
    from desktop.core.store import KeyStore

log = logging.getLogger(__name__)

VERIFY_PATH = "/v1/keys/verify"
#: Request bodies above this many bytes are refused (413) unread.
MAX_BODY = 4096
Environ = dict[str, Any]
StartResponse = Callable[..., Any]

_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    411: "411 Length Required",
    413: "413 Content Too Large",
    503: "503 Service Unavailable",
}
_BAD_BODY = 'the body must be a JSON object: {"key": "...", "scopes": ["..."] (optional), "cost": 1 (optional)}'


class Metrics:
    """Verifications by verdict and their latency, in a registry of this application's own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

        # The *_created series say when the process started counting: noise here.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

        self.registry = CollectorRegistry()
        self.verifications = Counter(
            "apikeys_verifications", "Verify requests answered, by verdict", ["verdict"], registry=self.registry
        )
        self.latency = Histogram(
            "apikeys_verify_seconds",
            "Time to answer a verify request, from its body read to its answer",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5),
            registry=self.registry,
        )
        self.unavailable = Counter(
            "apikeys_verify_unavailable",
            "Verify requests answered 503: the database could not answer",
            registry=self.registry,
        )
        self._by_verdict: dict[str, Any] = {}

    def counted(self, verdict: str) -> None:
        counter = self._by_verdict.get(verdict)
        if counter is None:
            counter = self._by_verdict[verdict] = self.verifications.labels(verdict)
        counter.inc()

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


#: Built once: json.dumps/loads with any argument build a new encoder or decoder per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode


def _json(start_response: StartResponse, status: int, body: dict[str, Any], *extra: tuple[str, str]) -> list[bytes]:
    data = _encode(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *extra]
    start_response(_STATUS[status], headers)
    return [data]


def _error(start_response: StartResponse, status: int, message: str, *extra: tuple[str, str]) -> list[bytes]:
    return _json(start_response, status, {"error": message}, *extra)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_request(body: bytes) -> tuple[str, tuple[str, ...], int]:
    """(key, scopes, cost) from a verify body; InvalidInput says what is wrong, without repeating the body."""
    try:
        data = _decode(body.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        where = f" (line {err.lineno} column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise InvalidInput(f"the body is not JSON{where}; {_BAD_BODY}") from None
    except RecursionError:
        raise InvalidInput(f"the body is nested too deeply; {_BAD_BODY}") from None
    if not isinstance(data, dict):
        raise InvalidInput(_BAD_BODY)
    key = data.get("key")
    if not isinstance(key, str):
        raise InvalidInput('"key" must be a string; ' + _BAD_BODY)
    scopes = data.get("scopes")
    if scopes is None:
        scopes = []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise InvalidInput('"scopes" must be a list of strings')
    cost = data.get("cost", 1)
    if cost is None:
        cost = 1
    if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
        raise InvalidInput('"cost" must be a whole number, 0 or more')
    return key, tuple(scopes), cost


class VerifyService:
    """The WSGI callable. Thread-safe: the store is, and the rest is read-only or prometheus_client's."""

    def __init__(self, store: KeyStore, *, token: bytes | None = None, metrics: Metrics | None = None) -> None:
        self.store = store
        self._token = token
        self.metrics = metrics or Metrics()
        # A well-formed key no database holds: /healthz asks for it, so the answer needs a real lookup.
        self._probe = keys.generate()
        self._failing = False

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == VERIFY_PATH:
            if method != "POST":
                return _error(start_response, 405, f"{VERIFY_PATH} takes POST", ("Allow", "POST"))
            if not self._authorized(environ):
                return self._challenge(start_response)
            return self._verify(environ, start_response)
        if path == "/healthz":
            if method not in ("GET", "HEAD"):
                return _error(start_response, 405, "/healthz takes GET", ("Allow", "GET, HEAD"))
            return self._health(start_response)
        if path == "/metrics":
            if method not in ("GET", "HEAD"):
                return _error(start_response, 405, "/metrics takes GET", ("Allow", "GET, HEAD"))
            if not self._authorized(environ):
                return self._challenge(start_response)
            data, content_type = self.metrics.exposition()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data)))])
            return [data]
        return _error(start_response, 404, f"no such path; verify keys with POST {VERIFY_PATH}")

    # -- the parts --

    def _authorized(self, environ: Environ) -> bool:
        if self._token is None:
            return True
        scheme, _, presented = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        # Schemes are case-insensitive (RFC 9110 §11.1); the comparison takes the same time however it differs.
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self._token)

    @staticmethod
    def _challenge(start_response: StartResponse) -> list[bytes]:
        return _error(
            start_response, 401, "this service needs Authorization: Bearer <token>", ("WWW-Authenticate", "Bearer")
        )

    def _read_body(self, environ: Environ) -> bytes | int:
        """The body, or the status that refuses it (413 over MAX_BODY, 400 for a bad length)."""
        length_text = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length_text:
            try:
                length = int(length_text)
            except ValueError:
                return 400
            if length > MAX_BODY:
                return 413
            return bytes(stream.read(length))
        body = bytes(stream.read(MAX_BODY + 1))
        return 413 if len(body) > MAX_BODY else body

    def _verify(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        body = self._read_body(environ)
        if body == 413:
            return _error(start_response, 413, f"the body is over {MAX_BODY} bytes")
        if isinstance(body, int):
            return _error(start_response, 400, "the Content-Length header is not a number")
        started = time.perf_counter()
        try:
            key, scopes, cost = parse_request(body)
            result = self.store.check(key, scopes, cost=cost)
        except InvalidInput as err:
            return _error(start_response, 400, err.message)
        except DomainError as err:
            return self._unavailable(start_response, err)
        self.metrics.latency.observe(time.perf_counter() - started)
        verdict = result.verdict.value
        self.metrics.counted(verdict)
        if self._failing:
            self._answering_again()
        state = result.ratelimit
        extra: tuple[tuple[str, str], ...] = ()
        if result.retry_at is not None:  # RFC 9110's Retry-After, in whole seconds
            wait = (result.retry_at - datetime.now(UTC)).total_seconds()
            extra = (("Retry-After", str(max(1, math.ceil(wait)))),)
        return _json(
            start_response,
            200,
            {
                "valid": result.ok,
                "verdict": verdict,
                "key_id": result.key_id,
                "scopes": list(result.scopes),
                "remaining": result.remaining,
                "ratelimit": None
                if state is None
                else {"limit": state.limit, "remaining": state.remaining, "reset": _iso(state.reset)},
            },
            *extra,
        )

    def _cannot_answer(self, err: DomainError) -> None:
        if not self._failing:  # once per outage, not once per request
            self._failing = True
            log.error("cannot check keys: %s", err.message)

    def _answering_again(self) -> None:
        self._failing = False
        log.warning("the database answers again")

    def _unavailable(self, start_response: StartResponse, err: DomainError) -> list[bytes]:
        self.metrics.unavailable.inc()
        self._cannot_answer(err)
        return _error(start_response, 503, "the key database cannot answer now; try again", ("Retry-After", "5"))

    def _health(self, start_response: StartResponse) -> list[bytes]:
        try:
            self.store.verify(self._probe)
        except DomainError as err:
            self._cannot_answer(err)
            return _json(start_response, 503, {"status": "unavailable"}, ("Retry-After", "5"))
        if self._failing:
            self._answering_again()
        return _json(start_response, 200, {"status": "ok"})
