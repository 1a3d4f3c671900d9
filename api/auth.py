"""Bearer-key authentication for the ``/v1`` routes.

When ``settings.api_key_set`` is empty (the embedded loopback default) every request passes.
Otherwise a request needs ``Authorization: Bearer <key>`` with one of the configured keys; the
comparison is constant-time and always runs over every key, so timing reveals nothing.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="One of the keys in FORECASTER_API_KEYS.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="forecaster"'}


def key_matches(candidate: str, keys: frozenset[str]) -> bool:
    """Whether ``candidate`` is one of ``keys``, compared in constant time against each."""
    given = candidate.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode())
    return matched


def require_api_key(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    """Refuse the request with 401 unless auth is off or it carries a configured key."""
    keys: frozenset[str] = request.app.state.settings.api_key_set
    if not keys:
        return
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing Authorization: Bearer <key> header", headers=_CHALLENGE)
    if not key_matches(credentials.credentials, keys):
        raise HTTPException(401, "the API key is not valid", headers=_CHALLENGE)


async def api_key_guard(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """``require_api_key`` as the ``/v1`` routes' dependency: async, so FastAPI calls it in the
    event loop instead of sending it to the thread pool (it only compares strings)."""
    require_api_key(request, credentials)


def authentication_error(request: Request) -> HTTPException | None:
    """The 401 a ``/v1`` request would get, or None: for errors raised before dependencies run.

    FastAPI decodes a JSON body before it resolves dependencies, so a malformed body would be
    answered 422 ahead of the key check; the error handlers ask this first, so nothing about
    the API's validation is disclosed to a caller without a key.
    """
    if not request.url.path.startswith("/v1"):
        return None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    credentials = (
        HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip()) if token else None
    )
    try:
        require_api_key(request, credentials)
    except HTTPException as exc:
        return exc
    return None
