"""RFC 9457 problem documents: the one place where errors become HTTP answers.

Every error the API returns is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail``, ``instance`` and, for invalid input, ``errors``: a list of ``{"field", "reason"}``
naming each offending field (``body.config.hidden_size``, ``query.limit``, ``csv.y``...).
Services and repositories raise domain errors; the handlers below map them to status codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import DataError as DBAPIDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import authentication_error
from api.responses import FastJSONResponse
from forecaster.errors import ArtifactError, CovariateError, HorizonError, InvalidDataError
from models.errors import (
    ArtifactCorrupted,
    ArtifactNotFound,
    Conflict,
    DatabaseUnavailable,
    NotFound,
)
from models.errors import InvalidInput as StoreInvalidInput

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


class InvalidFieldError(ValueError):
    """The request is well-formed but one of its fields is not acceptable (422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@contextmanager
def field_of_store_errors(field: str) -> Iterator[None]:
    """Turn the store's ``InvalidInput`` raised inside the block into a 422 naming ``field``."""
    try:
        yield
    except StoreInvalidInput as exc:
        raise InvalidFieldError(field, str(exc)) from exc


class ProblemResponse(FastJSONResponse):
    """A JSON response with the problem-document media type."""

    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    """An RFC 9457 problem response; ``title`` is the standard phrase of ``status``."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return ProblemResponse(body, status_code=status, headers=headers)


def field_name(loc: Iterable[int | str]) -> str:
    """A pydantic error location rendered as a dotted field name (``body.series.0.y``)."""
    return ".".join(str(part) for part in loc) or "body"


def validation_errors(errors: Iterable[Any], prefix: Sequence[str] = ()) -> list[dict[str, str]]:
    """Pydantic error dicts as ``{"field", "reason"}`` pairs; ``prefix`` is prepended to locs."""
    return [
        {"field": field_name([*prefix, *err.get("loc", ())]), "reason": str(err.get("msg", ""))}
        for err in errors
    ]


def _unprocessable(request: Request, errors: list[dict[str, str]]) -> ProblemResponse:
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    return problem(422, detail, instance=request.url.path, errors=errors)


async def _request_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    refused = authentication_error(request)
    if refused is not None:  # 401 before any 422: validation says nothing to a stranger
        return await _http_exception(request, refused)
    return _unprocessable(request, validation_errors(exc.errors()))


async def _pydantic_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, ValidationError)
    return _unprocessable(request, validation_errors(exc.errors(), ("body",)))


async def _invalid_field(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, InvalidFieldError)
    return _unprocessable(request, [{"field": exc.field, "reason": exc.reason}])


async def _store_invalid(request: Request, exc: Exception) -> ProblemResponse:
    field = str(getattr(exc, "field", None) or "body")
    return _unprocessable(request, [{"field": field, "reason": str(exc)}])


async def _invalid_data(request: Request, exc: Exception) -> ProblemResponse:
    series = getattr(exc, "series", None)
    reason = str(getattr(exc, "reason", None) or exc)
    field = f"series[{series}]" if series else "series"
    return _unprocessable(request, [{"field": field, "reason": reason}])


async def _covariate(request: Request, exc: Exception) -> ProblemResponse:
    """A refused covariate: the series, the column and the first bad timestamp, by name."""
    assert isinstance(exc, CovariateError)
    where = [f"series {exc.series!r}"] if exc.series else []
    where.append(f"column {exc.column!r}")
    if exc.timestamp is not None:
        where.append(f"at {exc.timestamp.isoformat()}")
    field = f"series[{exc.series}].{exc.column}" if exc.series else f"covariates.{exc.column}"
    return _unprocessable(
        request, [{"field": field, "reason": f"{', '.join(where)}: {exc.detail}"}]
    )


async def _horizon(request: Request, exc: Exception) -> ProblemResponse:
    return _unprocessable(request, [{"field": "body.horizon", "reason": str(exc)}])


async def _not_found(request: Request, exc: Exception) -> ProblemResponse:
    return problem(404, str(exc) or "not found", instance=request.url.path)


async def _conflict(request: Request, exc: Exception) -> ProblemResponse:
    return problem(409, str(exc) or "conflict", instance=request.url.path)


async def _unavailable(request: Request, exc: Exception) -> ProblemResponse:
    logger.warning("database unavailable", extra={"error": str(exc)})
    return problem(
        503,
        "the database is unavailable; retry later",
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )


async def _http_exception(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, detail, instance=request.url.path, headers=headers)


async def _refused_by_database(request: Request, exc: Exception) -> ProblemResponse:
    """A value that passed validation but that the database cannot store (a validation gap)."""
    logger.warning("database refused a value", extra={"path": request.url.path, "error": str(exc)})
    reason = "a value in the request cannot be stored (out of range or an invalid character)"
    return _unprocessable(request, [{"field": "request", "reason": reason}])


async def _artifact_unusable(request: Request, exc: Exception) -> ProblemResponse:
    """A stored model failed verification: refuse to use it, say which, and alert operators."""
    logger.error("stored artifact refused", extra={"path": request.url.path, "error": str(exc)})
    detail = (
        "the model version's stored artifact failed verification and was not used; "
        f"archive the version or move the alias to another one ({exc})"
    )
    return problem(500, detail, instance=request.url.path)


async def _artifact_missing(request: Request, exc: Exception) -> ProblemResponse:
    """A version's artifact is gone from the store: an integrity fault of the server, not a 404."""
    logger.error("stored artifact missing", extra={"path": request.url.path, "error": str(exc)})
    detail = (
        "the model version's artifact is missing from the artifact store; restore the store "
        "from a backup, or archive the version and move its aliases to another one"
    )
    return problem(500, detail, instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    logger.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return problem(500, "internal error; this is a bug", instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping from every error type to its problem document."""
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ValidationError, _pydantic_validation)
    app.add_exception_handler(InvalidFieldError, _invalid_field)
    app.add_exception_handler(StoreInvalidInput, _store_invalid)
    app.add_exception_handler(InvalidDataError, _invalid_data)
    app.add_exception_handler(CovariateError, _covariate)
    app.add_exception_handler(HorizonError, _horizon)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(DBAPIDataError, _refused_by_database)
    app.add_exception_handler(ArtifactCorrupted, _artifact_unusable)
    app.add_exception_handler(ArtifactNotFound, _artifact_missing)
    app.add_exception_handler(ArtifactError, _artifact_unusable)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unexpected)
