"""Pure ASGI middleware: the request-body size limit and the per-request log line and metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

logger = logging.getLogger("api.requests")

REQUEST_ID_HEADER = "x-request-id"
# A client-supplied request id is echoed only when it is short and harmless in a log line.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")

RequestObserver = Callable[[str, str, int, float], None]


# NUL may not be stored in PostgreSQL text or JSONB; JSON can carry it only as an escape.
_NUL_MARKERS = (b"\x00", b"\\u0000")
_NUL_IN_URL = re.compile(rb"%00|\x00")
# Binary bodies hold NUL bytes by nature; their decoders check the text they carry (api.parquet).
_BINARY_MEDIA = (b"application/vnd.apache.parquet",)


class RequestGuardMiddleware:
    """Refuses what no route can accept before anything parses it: bodies over ``max_bytes``
    (413) and NUL characters in the path, the query or the body (422).

    A declared ``Content-Length`` over the limit is refused without reading; otherwise the body is
    read chunk by chunk (chunked transfer included) and refused as soon as the count passes the
    limit. An accepted body is replayed to the application unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._refuse_size(scope, receive, send)
            return
        if _NUL_IN_URL.search(scope.get("raw_path") or b"") or _NUL_IN_URL.search(
            scope.get("query_string", b"")
        ):
            await _refuse_nul(scope, receive, send, "url")
            return
        messages: list[Message] = []
        total = 0
        tail = b""
        scan_nul = not _is_binary(scope)
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await self._refuse_size(scope, receive, send)
                return
            if scan_nul and any(marker in tail + chunk for marker in _NUL_MARKERS):
                await _refuse_nul(scope, receive, send, "body")
                return
            tail = chunk[-5:]
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse_size(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than the limit of {self.max_bytes} bytes"
        response = problem(413, detail, instance=scope.get("path"), headers={"Connection": "close"})
        await response(scope, receive, send)


async def _refuse_nul(scope: Scope, receive: Receive, send: Send, field: str) -> None:
    reason = "NUL characters are not allowed"
    response = problem(
        422,
        f"{field}: {reason}",
        instance=scope.get("path"),
        errors=[{"field": field, "reason": reason}],
    )
    await response(scope, receive, send)


def _is_binary(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() in _BINARY_MEDIA
    return False


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class RequestContextMiddleware:
    """Assigns a request id, then logs one structured line and records metrics per request.

    ``X-Request-ID`` from the client is honoured when it is safe, otherwise a new one is made; it
    is returned in the response and put in ``scope["state"]["request_id"]``.
    """

    def __init__(self, app: ASGIApp, observe: RequestObserver | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, request_id, status, time.perf_counter() - start)

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route = route_template(scope)
        logger.info(
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "request_id": request_id,
            },
        )
        if self.observe is not None:
            self.observe(scope["method"], route, status, seconds)


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/v1/jobs/{job_id}``), or a fixed label if none.

    FastAPI keeps included routers nested, so the matched route's ``path_format`` is relative to
    its router (``/jobs/{job_id}``); the router prefixes carry no parameters, so they are the
    request path's leading segments.
    """
    route_format = getattr(scope.get("route"), "path_format", None)
    if not isinstance(route_format, str):
        return "<unmatched>"
    segments = str(scope.get("path", "")).split("/")
    keep = max(len(segments) - route_format.count("/"), 0)
    return "/".join(segments[:keep]) + route_format


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex
