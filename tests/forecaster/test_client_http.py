"""The client's HTTP policy against a real HTTP server that answers what the test scripts:
429/503 are retried after ``Retry-After`` within the bound, problem documents become exceptions.

The service itself sends 503 only when its database is gone and has no rate limit yet, so a
small scripted server (a real socket, real HTTP) is what can produce those answers on demand.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forecaster.client import (
    Client,
    ConflictError,
    FieldError,
    ForecasterAPIError,
    RateLimitError,
    ServerError,
    UnavailableError,
    ValidationError,
)

Answer = tuple[int, dict[str, str], bytes]
PAGE = json.dumps({"items": [{"name": "demand"}], "next_cursor": None}).encode()


class Script:
    """The answers the server gives, in order (the last one repeats), and what it was asked."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []
        self.auth: list[str | None] = []

    def next(self, path: str, auth: str | None) -> Answer:
        self.paths.append(path)
        self.auth.append(auth)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def server() -> Iterator[tuple[str, list[Script]]]:
    """A local HTTP server; put a Script in the list to choose its answers."""
    scripts: list[Script] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = scripts[0].next(self.path, self.headers.get("Authorization"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", scripts
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def _problem(status: int, title: str, **extra: object) -> bytes:
    return json.dumps({"type": "about:blank", "title": title, "status": status, **extra}).encode()


OK: Answer = (200, {"Content-Type": "application/json"}, PAGE)
BUSY: Answer = (503, {"Retry-After": "0"}, _problem(503, "Service Unavailable", detail="later"))
LIMITED: Answer = (429, {"Retry-After": "0.01"}, _problem(429, "Too Many Requests"))


def test_503_and_429_are_retried_until_an_answer(server: tuple[str, list[Script]]) -> None:
    url, scripts = server
    scripts.append(Script(BUSY, LIMITED, BUSY, OK))
    with Client(url, api_key="k", retries=3) as client:
        assert client.models() == [{"name": "demand"}]
    assert len(scripts[0].paths) == 4
    assert set(scripts[0].auth) == {"Bearer k"}


def test_retries_are_bounded_and_then_raise(server: tuple[str, list[Script]]) -> None:
    url, scripts = server
    scripts.append(Script(BUSY))
    with Client(url, retries=2) as client, pytest.raises(UnavailableError) as busy:
        client.models()
    assert len(scripts[0].paths) == 3
    assert (busy.value.status, busy.value.detail, busy.value.retry_after) == (503, "later", 0.0)
    scripts[0] = Script(LIMITED)
    with Client(url, retries=0) as client, pytest.raises(RateLimitError):
        client.models()


def test_a_long_retry_after_is_capped_by_max_wait(server: tuple[str, list[Script]]) -> None:
    url, scripts = server
    slow = (503, {"Retry-After": "3600"}, _problem(503, "Service Unavailable"))
    scripts.append(Script(slow, OK))
    with Client(url, retries=1, max_wait=0.01) as client:
        assert client.models() == [{"name": "demand"}]


@pytest.mark.parametrize(
    ("status", "kind"),
    [(409, ConflictError), (422, ValidationError), (500, ServerError), (418, ForecasterAPIError)],
)
def test_problem_documents_become_their_exception(
    server: tuple[str, list[Script]], status: int, kind: type[ForecasterAPIError]
) -> None:
    url, scripts = server
    errors = [{"field": "body.horizon", "reason": "must be at least 1"}]
    body = _problem(status, "Title", detail="what", instance="/v1/models", errors=errors)
    scripts.append(Script((status, {"Content-Type": "application/problem+json"}, body)))
    with Client(url) as client, pytest.raises(kind) as raised:
        client.models()
    assert type(raised.value) is kind
    assert (raised.value.status, raised.value.title, raised.value.detail) == (
        status,
        "Title",
        "what",
    )
    assert raised.value.errors == [FieldError("body.horizon", "must be at least 1")]
    assert raised.value.instance == "/v1/models"
    assert len(scripts[0].paths) == 1  # not retried


def test_an_error_without_a_problem_document_keeps_the_text(
    server: tuple[str, list[Script]],
) -> None:
    url, scripts = server
    scripts.append(Script((502, {"Content-Type": "text/html"}, b"<h1>bad gateway</h1>")))
    with Client(url) as client, pytest.raises(ServerError) as raised:
        client.models()
    assert raised.value.status == 502
    assert raised.value.detail == "<h1>bad gateway</h1>"


def test_url_and_key_come_from_the_environment(
    server: tuple[str, list[Script]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, scripts = server
    scripts.append(Script(OK))
    monkeypatch.setenv("FORECASTER_URL", url)
    monkeypatch.setenv("FORECASTER_API_KEY", "from-env")
    with Client() as client:
        client.models()
    assert scripts[0].auth == ["Bearer from-env"]
    assert scripts[0].paths == ["/v1/models?limit=500"]
