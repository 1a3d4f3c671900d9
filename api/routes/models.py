"""Registered models: train, list, versions, aliases, archive."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from sqlalchemy.orm import Session

from api.backtesting import run_backtest
from api.deps import ServicesDep, SessionDep, SettingsDep
from api.errors import field_of_store_errors
from api.jobs import enqueue_training, job_out
from api.schemas.common import (
    AliasName,
    Cursor,
    Limit,
    ModelName,
    Page,
    Problem,
    VersionNumber,
)
from api.schemas.jobs import JobOut
from api.schemas.models import (
    AliasIn,
    AliasOut,
    BacktestIn,
    BacktestOut,
    BacktestRunOut,
    ModelOut,
    TrainSpec,
    VersionOut,
)
from models import registry
from models.errors import NotFound
from models.tables import ModelVersion, RegisteredModel

router = APIRouter(prefix="/models", tags=["models"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Repeat a request safely: the same key returns the job created the first time.",
    ),
]


@router.post("/{model}/train", status_code=202, response_model=JobOut)
def train(
    model: ModelName,
    body: TrainSpec,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """Queue a training job; 202 with the job and ``Location: /v1/jobs/{id}``."""
    job, replayed = enqueue_training(session, settings, model, body, idempotency_key)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return job_out(job)


@router.get("", response_model=Page[ModelOut])
def list_models(session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> Page[ModelOut]:
    """Registered models, newest first."""
    with field_of_store_errors("query.cursor"):
        page = registry.list_models(session, limit=limit, cursor=cursor)
    return Page(items=[_model_out(session, m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/{model}", response_model=ModelOut)
def get_model(model: ModelName, session: SessionDep) -> ModelOut:
    """A registered model with its latest version and aliases."""
    return _model_out(session, registry.get_model(session, model))


@router.get("/{model}/versions", response_model=Page[VersionOut])
def list_versions(
    model: ModelName, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[VersionOut]:
    """Versions of a model (ready and archived), newest first."""
    with field_of_store_errors("query.cursor"):
        page = registry.list_versions(session, model, limit=limit, cursor=cursor)
    aliases = _aliases_by_version(session, model)
    items = [version_out(model, v, aliases.get(v.version, [])) for v in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/{model}/versions/{version}", response_model=VersionOut)
def get_version(model: ModelName, version: VersionNumber, session: SessionDep) -> VersionOut:
    """Everything stored about one version: config, metrics, data summary, artifact digest."""
    found = registry.get_version(session, model, version)
    return version_out(model, found, _aliases_by_version(session, model).get(version, []))


@router.post(
    "/{model}/versions/{version}/backtest",
    response_model=BacktestRunOut,
    responses={409: {"model": Problem, "description": "No window after the training cut-off."}},
)
def backtest_version(
    model: ModelName, version: VersionNumber, body: BacktestIn, services: ServicesDep
) -> BacktestRunOut:
    """Score a stored version on up to ``n_windows`` horizons at the end of a dataset that lie
    after its training cut-off, beside naive and seasonal naive (synchronous, no retraining)."""
    return run_backtest(services, model, version, body)


@router.post("/{model}/versions/{version}/archive", response_model=VersionOut)
def archive_version(model: ModelName, version: VersionNumber, session: SessionDep) -> VersionOut:
    """Archive a version (kept, but no longer served as the latest); 409 while aliased."""
    return version_out(model, registry.archive_version(session, model, version), [])


@router.post("/{model}/versions/{version}/unarchive", response_model=VersionOut)
def unarchive_version(model: ModelName, version: VersionNumber, session: SessionDep) -> VersionOut:
    """Restore an archived version: ready again, served as the latest if it is the newest."""
    restored = registry.unarchive_version(session, model, version)
    return version_out(model, restored, _aliases_by_version(session, model).get(version, []))


@router.put("/{model}/aliases/{alias}", response_model=AliasOut)
def set_alias(model: ModelName, alias: AliasName, body: AliasIn, session: SessionDep) -> AliasOut:
    """Point ``alias`` at a version (create or move it): this is how a version is promoted."""
    with field_of_store_errors("path.alias"):
        registry.set_alias(session, model, alias, body.version)
    return AliasOut(model=model, alias=alias, version=body.version)


@router.delete("/{model}/aliases/{alias}", status_code=204, response_class=Response)
def delete_alias(model: ModelName, alias: AliasName, session: SessionDep) -> Response:
    """Remove an alias."""
    registry.delete_alias(session, model, alias)
    return Response(status_code=204)


def _model_out(session: Session, model: RegisteredModel) -> ModelOut:
    try:
        latest: int | None = registry.latest_version(session, model.name).version
    except NotFound:
        latest = None
    return ModelOut(
        name=model.name,
        description=model.description,
        created_at=model.created_at,
        latest_version=latest,
        aliases=registry.list_aliases(session, model.name),
    )


def _aliases_by_version(session: Session, model: str) -> dict[int, list[str]]:
    by_version: dict[int, list[str]] = {}
    for alias, version in registry.list_aliases(session, model).items():
        by_version.setdefault(version, []).append(alias)
    return by_version


def version_out(model: str, version: ModelVersion, aliases: list[str]) -> VersionOut:
    """A stored version as the API schema."""
    return VersionOut(
        model=model,
        version=version.version,
        status=str(version.status),
        horizon=version.horizon,
        freq=version.freq,
        config=version.config,
        metrics=version.metrics,
        backtest=_backtest_out(version.backtest),
        data_summary=version.data_summary,
        artifact_sha256=version.artifact_sha256,
        artifact_size=version.artifact_size,
        device=version.device,
        train_seconds=version.train_seconds,
        library_versions=version.library_versions,
        job_id=version.job_id,
        promotion=version.promotion,
        description=version.description,
        tags=version.tags,
        covariates=version.covariates,
        aliases=sorted(aliases),
        created_at=version.created_at,
    )


def _backtest_out(stored: dict[str, Any] | None) -> BacktestOut | None:
    """The stored backtest JSON as its schema (lax: JSON numbers are stored as they came)."""
    return None if stored is None else BacktestOut.model_validate(stored, strict=False)
