"""Errors of the Python client: every problem document (RFC 9457) becomes a ``ForecasterAPIError``.

The subclass tells the kind (``NotFoundError`` for 404, ``ValidationError`` for 422...), so a
caller catches what it can handle; ``errors`` lists the fields the server named, with reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class FieldError:
    """One field the server refused, and why (``body.horizon``: "must be at least 1")."""

    field: str
    reason: str


class ForecasterAPIError(Exception):
    """The service answered with an error: ``status``, ``title``, ``detail`` and field errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[FieldError] | None = None,
        *,
        instance: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.instance = instance
        self.retry_after = retry_after


class AuthenticationError(ForecasterAPIError):
    """401: no API key, or a key the service does not know (set ``FORECASTER_API_KEY``)."""


class NotFoundError(ForecasterAPIError):
    """404: the dataset, model, version, alias or job does not exist."""


class ConflictError(ForecasterAPIError):
    """409: the request conflicts with the current state (an aliased version, a finished job)."""


class GoneError(ForecasterAPIError):
    """410: the resource existed but is gone (a deleted artifact)."""


class PayloadTooLargeError(ForecasterAPIError):
    """413: the body is over the service's size limit (the client splits frames to avoid it)."""


class UnsupportedMediaTypeError(ForecasterAPIError):
    """415: the body's Content-Type is not one the route reads."""


class ValidationError(ForecasterAPIError):
    """400 or 422: invalid input; ``errors`` names each field and the reason."""


class RateLimitError(ForecasterAPIError):
    """429: too many requests, still refused after the client's bounded retries."""


class UnavailableError(ForecasterAPIError):
    """503: the service (or its database) is unavailable, still after the bounded retries."""


class ServerError(ForecasterAPIError):
    """5xx: a fault of the service (a bug worth reporting)."""


class JobFailedError(Exception):
    """A job the client waited for ended ``failed`` or ``cancelled``; ``job`` is its last state."""

    def __init__(self, job: dict[str, Any]) -> None:
        reason = job.get("error") or job["status"]
        super().__init__(f"job {job['id']} {job['status']}: {reason}")
        self.job = job


_BY_STATUS: dict[int, type[ForecasterAPIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: ValidationError,
    429: RateLimitError,
    503: UnavailableError,
}


def error_from_response(response: httpx.Response) -> ForecasterAPIError:
    """The exception for an error answer, read from its problem document when it has one."""
    status = response.status_code
    body = _json_object(response)
    errors = [
        FieldError(str(e.get("field", "")), str(e.get("reason", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ForecasterAPIError)
    return kind(
        status,
        str(body.get("title") or response.reason_phrase or "error"),
        str(body.get("detail") or ("" if body else response.text[:500])),
        errors,
        instance=body.get("instance"),
        retry_after=retry_after_seconds(response),
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (a number of seconds; an HTTP date is read as 1 s)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 1.0


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
