"""The client's HTTP session: base URL, bearer key, bounded retries of 429 and 503.

A 429 or 503 answer is retried up to ``retries`` times, each after the server's
``Retry-After`` (capped at ``max_wait`` seconds; a short backoff when there is none). Every other
error answer raises at once; the last answer of an exhausted retry raises too.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from forecaster.client.errors import error_from_response, retry_after_seconds

RETRY_STATUSES = frozenset({429, 503})
DEFAULT_BACKOFF = 0.5


class Session:
    """One ``httpx.Client`` with the service's base URL and key, and the retry policy."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        timeout: float,
        retries: int,
        max_wait: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.retries = retries
        self.max_wait = max_wait

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying 429/503 within the bound; raise ``ForecasterAPIError`` on an error."""
        for attempt in range(self.retries + 1):
            response = self.http.request(method, path, **kwargs)
            if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                break
            wait = retry_after_seconds(response)
            time.sleep(min(DEFAULT_BACKOFF * 2**attempt if wait is None else wait, self.max_wait))
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request`` and decode the JSON answer (None for 204)."""
        response = self.request(method, path, **kwargs)
        return None if response.status_code == 204 else response.json()

    def pages(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a paginated list, following ``next_cursor`` to the last page."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        query.setdefault("limit", 500)
        items: list[dict[str, Any]] = []
        while True:
            page = self.json("GET", path, params=query)
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            query["cursor"] = page["next_cursor"]

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
