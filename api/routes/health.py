"""Liveness, readiness and Prometheus metrics; open even when API keys are configured."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ServicesDep
from api.errors import problem
from api.schemas.common import HealthOut
from models.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up and serving HTTP."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=HealthOut,
    responses={503: {"description": "Database unreachable or not at the migration head."}},
)
def readyz(services: ServicesDep) -> HealthOut | Response:
    """The database answers and its schema is at the migration head."""
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        at_head = services.at_head(services.engine) if services.at_head else True
    except (DatabaseUnavailable, SQLAlchemyError) as exc:
        # The route is open: the host, driver and error text go to the log, not the answer.
        log.warning("readiness check failed", extra={"error": str(exc)})
        return problem(503, "the database is unreachable", instance="/readyz")
    if not at_head:
        return problem(503, "the database is not at the migration head", instance="/readyz")
    return HealthOut(status="ready")


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(services: ServicesDep) -> Response:
    """Prometheus exposition of this app's registry."""
    body = generate_latest(services.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
