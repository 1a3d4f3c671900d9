"""Dependencies of the routes, as ``Annotated`` aliases (``SessionDep``, ``SettingsDep``...).

Everything a route needs lives on the app (``app.state.services``, built by ``create_app``), so
two apps in one process (tests) never share an engine, a cache or a metrics registry.
``get_session`` owns the request's session: it commits when the route returns and rolls back when
it raises, before the response is sent. Dependencies that only read attributes are ``async``:
FastAPI runs a plain ``def`` dependency in the thread pool, a thread hop per dependency per
request (each waiting for the interpreter lock behind a computing request, under load).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.batching import MicroBatcher
from api.forecast_log import ForecastLog
from api.live_scorer import LiveScorer
from api.metrics import ApiMetrics
from api.model_cache import ModelCache
from models.db import session_scope
from models.settings import Settings

ReadinessCheck = Callable[[Engine], bool]


@dataclass(frozen=True)
class Services:
    """The long-lived objects of one app instance."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    model_cache: ModelCache
    metrics: ApiMetrics
    at_head: ReadinessCheck | None
    forecast_log: ForecastLog
    scorer: LiveScorer
    batcher: MicroBatcher


async def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    """The app's settings."""
    return services.settings


async def get_session_factory(services: ServicesDep) -> sessionmaker[Session]:
    """The app's session factory, for routes that manage several short transactions."""
    return services.session_factory


async def get_model_cache(services: ServicesDep) -> ModelCache:
    """The app's cache of loaded models."""
    return services.model_cache


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A session for one request: commit when the route returns, roll back when it raises."""
    with session_scope(services.session_factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
ModelCacheDep = Annotated[ModelCache, Depends(get_model_cache)]
