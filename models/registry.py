"""The model registry: registered models, gap-free numbered versions, aliases, references.

A reference is ``name`` (the newest ready version), ``name@3`` (version 3) or ``name@alias``.
Version numbers are gap-free under concurrency: registration locks the model's row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are single-writer) before it
computes ``max(version) + 1``, and ``unique(model_id, version)`` backs that up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from sqlalchemy import BindParameter, Row, Select, bindparam, delete, func, select
from sqlalchemy.orm import Session

from models.dialects import insert_for
from models.errors import Conflict, InvalidInput, NotFound
from models.names import validate_alias, validate_name
from models.pagination import DEFAULT_LIMIT, Page, paginate
from models.tables import ModelAlias, ModelVersion, RegisteredModel, VersionStatus

# A select of versions (whole rows or some columns), refined by the query builders below.
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
Value = str | int | BindParameter[Any]  # a value, or a parameter bound when executed
AnySelect = Select[*tuple[Any, ...]]

# Columns a caller may set on a new version (the registry owns id, model_id, version, created_at).
VERSION_FIELDS = frozenset(
    {
        "status",
        "horizon",
        "freq",
        "config",
        "metrics",
        "backtest",
        "data_summary",
        "artifact_uri",
        "artifact_sha256",
        "artifact_size",
        "device",
        "train_seconds",
        "library_versions",
        "job_id",
        "promotion",
        "description",
        "tags",
        "covariates",
    }
)


def register_version(
    session: Session, model_name: str, *, model_description: str | None = None, **fields: Any
) -> ModelVersion:
    """Add the next version of MODEL_NAME (creating the model); FIELDS are ModelVersion columns."""
    unknown = set(fields) - VERSION_FIELDS
    if unknown:
        raise InvalidInput(f"unknown version field(s): {sorted(unknown)}")
    model = _lock_model(session, validate_name(model_name, "model name"), model_description)
    latest = session.scalar(
        select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id)
    )
    version = ModelVersion(model_id=model.id, version=(latest or 0) + 1, **fields)
    session.add(version)
    session.flush()
    return version


def _lock_model(session: Session, name: str, description: str | None) -> RegisteredModel:
    """The model row, created if missing, locked until the transaction ends."""
    stmt = insert_for(session, RegisteredModel).values(name=name, description=description)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
    model = session.scalar(
        select(RegisteredModel)
        .where(RegisteredModel.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if model is None:  # deleted between the two statements
        raise Conflict(f"model {name!r} was deleted concurrently")
    return model


def _lock_existing_model(session: Session, name: str) -> RegisteredModel:
    """The model row NAME, locked until the transaction ends; NotFound otherwise.

    Every change to aliases and version status takes this lock first, so two of them on one
    model run one after the other: a concurrent first ``set_alias`` waits and then moves the
    alias instead of violating its key, and an archive cannot slip past an alias being set.
    """
    model = session.scalar(
        select(RegisteredModel)
        .where(RegisteredModel.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if model is None:
        raise NotFound(f"model {name!r} not found")
    return model


def get_model(session: Session, name: str) -> RegisteredModel:
    """The registered model NAME; NotFound otherwise."""
    model = session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))
    if model is None:
        raise NotFound(f"model {name!r} not found")
    return model


def list_models(
    session: Session, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[RegisteredModel]:
    """Registered models, newest first."""
    stmt = select(RegisteredModel)
    return paginate(
        session, stmt, RegisteredModel.created_at, RegisteredModel.id, limit=limit, cursor=cursor
    )


def list_versions(
    session: Session,
    model_name: str,
    *,
    status: VersionStatus | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ModelVersion]:
    """Versions of MODEL_NAME, newest first, optionally only those with STATUS."""
    stmt = select(ModelVersion).where(ModelVersion.model_id == get_model(session, model_name).id)
    if status is not None:
        stmt = stmt.where(ModelVersion.status == status)
    return paginate(
        session, stmt, ModelVersion.created_at, ModelVersion.id, limit=limit, cursor=cursor
    )


def get_version(session: Session, model_name: str, version: int) -> ModelVersion:
    """Version VERSION of MODEL_NAME (any status); NotFound otherwise."""
    found = session.scalar(_numbered(select(ModelVersion), model_name, version))
    if found is None:
        raise NotFound(f"model {model_name!r} has no version {version}")
    return found


def latest_version(session: Session, model_name: str) -> ModelVersion:
    """The newest ready version of MODEL_NAME; NotFound when it has none.

    One query (every forecast by bare name runs it); the model is looked up on its own only to
    say which of the two is missing."""
    found = session.scalar(_latest(select(ModelVersion), model_name))
    if found is None:
        _no_ready_version(session, model_name)
    return found


def _no_ready_version(session: Session, model_name: str) -> NoReturn:
    get_model(session, model_name)  # NotFound naming the model when there is none
    raise NotFound(f"model {model_name!r} has no ready version")


def _numbered(query: Query, model_name: Value, version: Value) -> Query:
    return query.join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id).where(
        RegisteredModel.name == model_name, ModelVersion.version == version
    )


def _latest(query: Query, model_name: Value) -> Query:
    return (
        query.join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
        .where(RegisteredModel.name == model_name, ModelVersion.status == VersionStatus.READY)
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )


def _aliased(query: Query, model_name: Value, alias: Value) -> Query:
    return (
        query.join(ModelAlias, ModelAlias.version_id == ModelVersion.id)
        .join(RegisteredModel, RegisteredModel.id == ModelAlias.model_id)
        .where(RegisteredModel.name == model_name, ModelAlias.alias == alias)
    )


def parse_reference(reference: str) -> tuple[str, int | str | None]:
    """Split ``name``, ``name@3``, ``name@alias`` into (name, 3 | "alias" | None)."""
    name, sep, target = reference.partition("@")
    validate_name(name, "model name")
    if not sep:
        return name, None
    if target.isdigit():
        return name, int(target)
    return name, validate_alias(target)


@dataclass(frozen=True)
class _Lookups:
    """The three statements that resolve a reference, built once with parameters ``name`` and
    ``target``: building them was a third of a forecast's lookup time."""

    latest: AnySelect
    numbered: AnySelect
    aliased: AnySelect

    @classmethod
    def of(cls, query: AnySelect) -> _Lookups:
        name: BindParameter[str] = bindparam("name")
        target: BindParameter[Any] = bindparam("target")
        return cls(
            _latest(query, name), _numbered(query, name, target), _aliased(query, name, target)
        )


@dataclass(frozen=True)
class ServedVersion:
    """What answering a forecast needs of a version: three columns, none of the JSON ones."""

    version: int
    horizon: int
    artifact_sha256: str


_VERSIONS = _Lookups.of(select(ModelVersion))
_SERVED = _Lookups.of(
    select(ModelVersion.version, ModelVersion.horizon, ModelVersion.artifact_sha256)
)


def resolve_reference(session: Session, reference: str) -> ModelVersion:
    """The one version REFERENCE names (``name`` = newest ready version); NotFound otherwise."""
    version: ModelVersion = _resolved(session, reference, _VERSIONS)[0]
    return version


def resolve_served(session: Session, reference: str) -> ServedVersion:
    """``resolve_reference`` for the forecast hot path: the same version, the same NotFound,
    without loading the version's JSON columns (config, metrics, backtest...: decoding them
    was half of the lookup's CPU time)."""
    row = _resolved(session, reference, _SERVED)
    return ServedVersion(row.version, row.horizon, row.artifact_sha256)


def _resolved(session: Session, reference: str, lookups: _Lookups) -> Row[Any]:
    """The first row of LOOKUPS' query for the version REFERENCE names; NotFound naming the
    model, the version or the alias that is missing."""
    name, target = parse_reference(reference)
    if target is None:
        row = session.execute(lookups.latest, {"name": name}).first()
        if row is None:
            _no_ready_version(session, name)
    elif isinstance(target, int):
        row = session.execute(lookups.numbered, {"name": name, "target": target}).first()
        if row is None:
            raise NotFound(f"model {name!r} has no version {target}")
    else:
        row = session.execute(lookups.aliased, {"name": name, "target": target}).first()
        if row is None:
            raise NotFound(f"model {name!r} has no alias {target!r}")
    return row


def list_aliases(session: Session, model_name: str) -> dict[str, int]:
    """The aliases of MODEL_NAME, each mapped to its version number."""
    rows = session.execute(
        select(ModelAlias.alias, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .where(ModelAlias.model_id == get_model(session, model_name).id)
        .order_by(ModelAlias.alias)
    )
    return {str(alias): int(version) for alias, version in rows}


def set_alias(session: Session, model_name: str, alias: str, version: int) -> ModelAlias:
    """Point ALIAS of MODEL_NAME at VERSION (creating or moving it); archived versions refused."""
    validate_alias(alias)
    _lock_existing_model(session, model_name)
    target = get_version(session, model_name, version)
    if target.status != VersionStatus.READY:
        raise Conflict(f"version {version} of {model_name!r} is {target.status}, not ready")
    existing = session.get(ModelAlias, (target.model_id, alias), with_for_update=True)
    if existing is None:
        existing = ModelAlias(model_id=target.model_id, alias=alias, version_id=target.id)
        session.add(existing)
    else:
        existing.version_id = target.id
    session.flush()
    return existing


def delete_alias(session: Session, model_name: str, alias: str) -> None:
    """Remove ALIAS from MODEL_NAME; NotFound when it does not exist."""
    model = get_model(session, model_name)
    result = session.execute(
        delete(ModelAlias).where(ModelAlias.model_id == model.id, ModelAlias.alias == alias)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"model {model_name!r} has no alias {alias!r}")


def archive_version(session: Session, model_name: str, version: int) -> ModelVersion:
    """Mark VERSION archived (row and metadata kept); Conflict while an alias points at it."""
    _lock_existing_model(session, model_name)
    target = get_version(session, model_name, version)
    aliases = session.scalars(
        select(ModelAlias.alias).where(ModelAlias.version_id == target.id)
    ).all()
    if aliases:
        raise Conflict(f"version {version} of {model_name!r} is aliased as {sorted(aliases)}")
    target.status = VersionStatus.ARCHIVED
    session.flush()
    return target


def unarchive_version(session: Session, model_name: str, version: int) -> ModelVersion:
    """Make an archived VERSION ready again (servable, aliasable); a ready one is unchanged."""
    _lock_existing_model(session, model_name)
    target = get_version(session, model_name, version)
    target.status = VersionStatus.READY
    session.flush()
    return target
