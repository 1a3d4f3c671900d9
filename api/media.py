"""Which request media types a route accepts: one small table, extended by routes that read
other formats (CSV and Parquet ingest).

Every ``/v1`` route with a body takes JSON (``application/json`` or a ``+json`` type) unless the
table lists more for it; anything else is a 415 before the body is read. This also closes the
cross-site way to start work with a form or ``text/plain`` post when auth is off.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

JSON = "application/json"
CSV = frozenset({"text/csv", "application/csv"})
PARQUET = frozenset({"application/vnd.apache.parquet"})

# Route name (its endpoint function's name) -> media types it accepts besides JSON.
EXTRA_MEDIA_TYPES: dict[str, frozenset[str]] = {
    "put_observations": CSV | PARQUET,
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def media_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a Content-Type header ("" when absent)."""
    return (content_type or "").split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """Whether ``media`` is JSON (``application/json`` or ``application/<x>+json``)."""
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def accepted_media_types(route_name: str) -> frozenset[str]:
    """The non-JSON media types the route named ``route_name`` accepts."""
    return EXTRA_MEDIA_TYPES.get(route_name, frozenset())


async def require_media_type(request: Request) -> None:
    """415 unless a request body is JSON or a type its route lists; body-less requests pass."""
    if request.method not in _BODY_METHODS:
        return
    media = media_type(request.headers.get("content-type"))
    if media == "":
        if _has_body(request):
            raise HTTPException(415, "a request body needs a Content-Type: application/json")
        return
    extra = accepted_media_types(str(getattr(request.scope.get("route"), "name", "")))
    if is_json(media) or media in extra:
        return
    offered = ", ".join([JSON, *sorted(extra)])
    raise HTTPException(415, f"unsupported media type {media!r}; use {offered}")


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers
