"""The application factory: ``create_app(settings)`` builds one self-contained FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.accuracy_metrics import LiveAccuracyCollector
from api.auth import api_key_guard
from api.batching import MicroBatcher
from api.console import install_console
from api.deps import ReadinessCheck, Services
from api.errors import install_error_handlers
from api.forecast_log import ForecastLog
from api.live_scorer import LiveScorer
from api.media import require_media_type
from api.metrics import ApiMetrics, JobCounter, JobFigures
from api.middleware import RequestContextMiddleware, RequestGuardMiddleware
from api.model_cache import ModelCache, artifact_loader
from api.openapi import install_body_schemas
from api.responses import FastJSONResponse
from api.routes.accuracy import router as accuracy_router
from api.routes.datasets import router as datasets_router
from api.routes.forecast import router as forecast_router
from api.routes.forecasts import router as forecasts_router
from api.routes.health import router as health_router
from api.routes.jobs import router as jobs_router
from api.routes.models import router as models_router
from api.routes.schedules import router as schedules_router
from api.routes.series import router as series_router
from api.schemas.common import Problem
from api.schemas.datasets import ObservationsIn
from api.schemas.forecast import ForecastRequest
from models import jobs as job_store
from models.artifacts import ArtifactStore
from models.db import make_engine, make_session_factory
from models.settings import Settings

API_DESCRIPTION = (
    "Multi-step forecasts with prediction intervals from recurrent networks trained on your "
    "series. Errors are RFC 9457 problem documents (application/problem+json). NUL characters "
    "are refused anywhere in a request (422); request bodies are JSON unless a route says "
    "otherwise (415)."
)
_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    "4XX": {"model": Problem, "description": "Client error (problem document)."},
    "5XX": {"model": Problem, "description": "Server fault (problem document)."},
}


def create_app(
    settings: Settings, *, at_head: ReadinessCheck | None = None, engine: Engine | None = None
) -> FastAPI:
    """A FastAPI app serving ``settings``' database and artifact store.

    ``at_head`` (``migrations.runner.is_at_head``, passed by the CLI, which may import
    migrations) makes ``/readyz`` check the schema version too. ``engine`` lets a caller share
    one; by default the app makes its own and disposes of it on shutdown.
    """
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    services = _services(settings, engine, at_head)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.forecast_log.start()
        services.scorer.start()
        yield
        services.scorer.stop()
        services.forecast_log.stop()
        if own_engine:
            engine.dispose()

    app = FastAPI(
        title="Forecaster",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        responses=_ERROR_RESPONSES,
        default_response_class=FastJSONResponse,
        docs_url=None,  # served from local assets by install_console
        redoc_url=None,
    )
    app.state.services = services
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(_v1_router())
    install_body_schemas(app, [ObservationsIn, ForecastRequest])
    install_console(app)
    app.add_middleware(RequestGuardMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware, observe=services.metrics.observe_request)
    return app


def _v1_router() -> APIRouter:
    guards = [Depends(api_key_guard), Depends(require_media_type)]  # 401 before 415
    v1 = APIRouter(prefix="/v1", dependencies=guards)
    routers = (datasets_router, series_router, models_router, jobs_router, schedules_router)
    for router in (*routers, forecast_router, forecasts_router, accuracy_router):
        v1.include_router(router)
    return v1


def _services(settings: Settings, engine: Engine, at_head: ReadinessCheck | None) -> Services:
    factory = make_session_factory(engine)
    metrics = ApiMetrics(count_jobs=_job_counter(factory))
    cache = ModelCache(
        artifact_loader(ArtifactStore(settings.artifact_dir)),
        settings.model_cache_size,
        on_lookup=lambda hit: metrics.model_cache.labels(result="hit" if hit else "miss").inc(),
    )
    metrics.registry.register(LiveAccuracyCollector(factory, settings))
    batcher = MicroBatcher(
        settings.batch_wait_ms / 1000,
        settings.batch_max_series,
        on_batch=metrics.observe_batch,
        slots=settings.api_compute_slots,
    )
    forecast_log = ForecastLog(factory, settings, gate=batcher.background_slot)
    scorer = LiveScorer(factory, forecast_log)
    return Services(
        settings, engine, factory, cache, metrics, at_head, forecast_log, scorer, batcher
    )


def _job_counter(factory: sessionmaker[Session]) -> JobCounter:
    def count() -> JobFigures:
        with factory() as session:
            return JobFigures(job_store.count_by_status(session), job_store.queue_depth(session))

    return count
