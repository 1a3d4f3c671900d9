"""Datasets and observations: bulk upsert and read-back as the long frame the core expects.

Timestamps are stored as timezone-aware UTC (``timestamptz`` on PostgreSQL). On the way in,
naive ``ds`` values are taken as UTC and aware ones converted to UTC (kept to the microsecond);
on the way out ``ds`` is tz-naive UTC ``datetime64[ns]``. Values are float64 and must be finite.

PostgreSQL writes go through binary COPY into a temporary table, then ``INSERT ... SELECT ...
ON CONFLICT DO UPDATE`` per batch; reads come back through binary COPY. SQLite uses batched
``INSERT ... ON CONFLICT DO UPDATE`` executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import covariate_io, covariates, observation_io
from models.dialects import insert_for
from models.errors import Conflict, InvalidInput, NotFound
from models.names import validate_name
from models.pagination import DEFAULT_LIMIT, Page, paginate
from models.tables import (
    CovariateValue,
    Dataset,
    Job,
    ModelAlias,
    ModelVersion,
    Observation,
    RegisteredModel,
    Schedule,
    Series,
)

COLUMNS = ("unique_id", "ds", "y")
MAX_UNIQUE_ID_LENGTH = 200
# The store converts typed columns; content (text timestamps, numbers as text) is the core's
# validator's to check: forecaster.frames.validate_long_frame, which the API's ingest calls.
_FIRST = "check the frame with forecaster.frames.validate_long_frame first"


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert did: input sizes, series created, and rows inserted or changed."""

    dataset: str
    series: int
    new_series: int
    rows: int
    written: int
    future_rows: int = 0
    covariate_values: int = 0


@dataclass(frozen=True)
class DatasetSummary:
    """Size and time span of a dataset (first/last are None when it holds no observations)."""

    name: str
    series: int
    observations: int
    first_ds: datetime | None
    last_ds: datetime | None
    created_at: datetime


def upsert_observations(session: Session, dataset: str, df: pd.DataFrame) -> UpsertResult:
    """Insert or update DF's rows (columns unique_id, ds, y, and covariates) in DATASET.

    The whole frame is validated before the first write; a (unique_id, ds) already stored gets
    the new value. Every other column is a covariate (``models.covariates``); a row with an
    empty ``y`` after its series' last observation holds future covariate values, and stores
    no observation. Raises InvalidInput naming the first bad series and the problem.
    """
    validate_name(dataset, "dataset name")
    rows = prepare_frame(df)
    dataset_id = _ensure_dataset(session, dataset)
    ids, created = _ensure_series(session, dataset_id, rows.names)
    series_id = np.array([ids[name] for name in rows.names], dtype=np.int64)[rows.codes]
    where = covariates.RowNamer(np.array(rows.names, dtype=object), rows.codes, rows.ts_us)
    coded = covariates.code_columns(session, dataset_id, df, rows.covariates, where)
    future = _future_rows(session, rows, series_id, created, coded, where)
    fresh_ids = np.fromiter(created, dtype=np.int64, count=len(created))
    observed = ~future
    written = _write_observations(session, series_id[observed], rows, observed, fresh_ids)
    values = _write_covariates(session, series_id, rows.ts_us, coded, fresh_ids)
    return UpsertResult(
        dataset, len(rows.names), len(created), len(rows.codes), written, int(future.sum()), values
    )


def _write_observations(
    session: Session, series_id: np.ndarray, rows: PreparedRows, keep: np.ndarray, fresh: np.ndarray
) -> int:
    # Sorted by key: index insertions go in order, and concurrent writers lock in one order.
    order = np.lexsort((rows.ts_us[keep], series_id))
    series_id, ts_us, value = series_id[order], rows.ts_us[keep][order], rows.value[keep][order]
    new = np.isin(series_id, fresh)
    written = observation_io.insert_new(session, series_id[new], ts_us[new], value[new])
    return written + observation_io.write(session, series_id[~new], ts_us[~new], value[~new])


def _write_covariates(
    session: Session,
    series_id: np.ndarray,
    ts_us: np.ndarray,
    coded: list[covariates.CodedColumn],
    fresh: np.ndarray,
) -> int:
    """Every present cell of CODED as one row (series, ts, column, value), sorted by key."""
    if not coded:
        return 0
    values = np.stack([c.values for c in coded], axis=1)  # [rows, columns]
    row, col = np.nonzero(~np.isnan(values))
    column_ids = np.array([c.column_id for c in coded], dtype=np.int64)
    sid, ts, cid, value = series_id[row], ts_us[row], column_ids[col], values[row, col]
    order = np.lexsort((cid, ts, sid))
    sid, ts, cid, value = sid[order], ts[order], cid[order], value[order]
    new = np.isin(sid, fresh)
    written = covariate_io.insert_new(session, sid[new], ts[new], cid[new], value[new])
    return written + covariate_io.write(session, sid[~new], ts[~new], cid[~new], value[~new])


def _future_rows(
    session: Session,
    rows: PreparedRows,
    series_id: np.ndarray,
    created: set[int],
    coded: list[covariates.CodedColumn],
    where: covariates.RowNamer,
) -> np.ndarray:
    """Which rows hold future values (an empty y); InvalidInput for an empty y that is not
    after its series' last observation (stored or in this ingest), or holds no covariate."""
    empty = np.isnan(rows.value)
    if not empty.any():
        return empty
    present = np.zeros(len(empty), dtype=bool)
    for column in coded:
        present |= ~np.isnan(column.values)
    bare = empty & ~present
    if bare.any():
        raise InvalidInput(
            f"{where(int(np.argmax(bare)))}: y must be a finite number (an empty y is allowed "
            "only in rows that hold covariate values, after the series' last observation)"
        )
    stored = series_stats(session, sorted(set(np.unique(series_id).tolist()) - created))
    last = pd.Series({sid: int(pd.Timestamp(s[2]).value // 1000) for sid, s in stored.items()})
    batch = pd.Series(rows.ts_us[~empty]).groupby(series_id[~empty]).max()
    last = pd.concat([last, batch]).groupby(level=0).max()
    limit = last.reindex(series_id).to_numpy(dtype=np.float64)  # NaN: no observation at all
    inside = empty & ~(rows.ts_us > limit)
    if inside.any():
        row = int(np.argmax(inside))
        if np.isnan(limit[row]):
            raise InvalidInput(
                f"{where(row)}: y is empty and the series has no observation; future rows "
                "follow a history"
            )
        stamp = pd.Timestamp(int(limit[row]), unit="us").isoformat()
        raise InvalidInput(
            f"column 'y', {where(row)}: y is empty inside the history (the last observation "
            f"is at {stamp}); only rows after it may leave y empty (future values)"
        )
    return empty


@dataclass(frozen=True)
class PreparedRows:
    """A validated frame: series names, each row's index into them, UTC microseconds, values."""

    names: list[str]
    codes: np.ndarray
    ts_us: np.ndarray
    value: np.ndarray  # NaN: an empty y (a future row when the row holds covariates)
    covariates: list[str]


def prepare_frame(df: pd.DataFrame) -> PreparedRows:
    """DF (unique_id, ds, y) split into storage arrays; InvalidInput names the problem.

    DF's content is expected checked by ``forecaster.frames.validate_long_frame`` (the API's
    ingest does): ``ds`` must be datetime64 and ``y`` numeric, neither is parsed from text here.
    What the store's invariants need is still guarded, cheaply on typed arrays: ids, no missing
    timestamps, no infinite values and no repeated key (one upsert cannot write a row twice).
    An empty (NaN) y is allowed only where the frame has covariate columns; the upsert decides
    whether such a row is a future row.
    """
    missing = [column for column in COLUMNS if column not in df.columns]
    if missing:
        raise InvalidInput(f"missing column(s) {missing}; expected {list(COLUMNS)}")
    if df.empty:
        raise InvalidInput("no observations to store")
    codes, uniques = pd.factorize(df["unique_id"], use_na_sentinel=True)
    if (codes < 0).any():
        raise InvalidInput("unique_id has missing values")
    names = [str(name) for name in uniques]
    _check_names(names)
    label = np.array(names, dtype=object)
    ts_us = _to_utc_micros(df["ds"], label, codes)
    names_of_covariates = covariates.covariate_names(df.columns)
    value = _to_values(df["y"], label, codes, allow_empty=bool(names_of_covariates))
    duplicated = pd.DataFrame({"code": codes, "ts": ts_us}).duplicated().to_numpy()
    if duplicated.any():
        raise _invalid_at(label, codes, duplicated, "duplicate timestamps")
    return PreparedRows(names, codes, ts_us, value, names_of_covariates)


def _check_names(names: list[str]) -> None:
    for name in names:
        if not 0 < len(name) <= MAX_UNIQUE_ID_LENGTH:
            raise InvalidInput(f"series {name[:50]!r}: unique_id must have 1-200 characters")
    if len(set(names)) != len(names):
        raise InvalidInput("unique_id values collide once converted to text")


def _to_utc_micros(ds: pd.Series, label: np.ndarray, codes: np.ndarray) -> np.ndarray:
    if not pd.api.types.is_datetime64_any_dtype(ds.dtype):
        raise InvalidInput(f"ds holds values that are not timestamps (dtype {ds.dtype}); {_FIRST}")
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_convert(None)  # aware: to naive UTC
    missing = ds.isna().to_numpy()
    if missing.any():
        raise _invalid_at(label, codes, missing, "missing timestamps")
    return ds.to_numpy().astype("datetime64[us]").astype(np.int64)


def _to_values(
    y: pd.Series, label: np.ndarray, codes: np.ndarray, *, allow_empty: bool
) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        raise InvalidInput(f"y holds values that are not numbers (dtype {y.dtype}); {_FIRST}")
    values = y.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values) | (np.isnan(values) if allow_empty else False)
    if not finite.all():
        raise _invalid_at(label, codes, ~finite, "y must be finite (no NaN or infinity)")
    return values


def _invalid_at(
    label: np.ndarray, codes: np.ndarray, mask: np.ndarray, reason: str
) -> InvalidInput:
    first = label[codes[np.flatnonzero(mask)[0]]]
    return InvalidInput(f"series {first!r}: {reason}")


def read_observations(
    session: Session,
    dataset: str,
    unique_ids: Sequence[str] | None = None,
    start: datetime | str | pd.Timestamp | None = None,
    end: datetime | str | pd.Timestamp | None = None,
    last: int | None = None,
) -> pd.DataFrame:
    """DATASET as a long frame (unique_id, ds tz-naive UTC datetime64[ns], y float64).

    Optionally only UNIQUE_IDS (NotFound names any that are absent), only
    ``start <= ds <= end`` (naive bounds are UTC), and only each series' LAST most recent
    points (selected by the database, so a long history is never read to be trimmed).
    Sorted by unique_id, then ds.
    """
    if last is not None and last < 1:
        raise InvalidInput("last must be at least 1")
    dataset_id = get_dataset(session, dataset).id
    ids = series_ids(session, dataset_id, unique_ids)
    names = sorted(ids)
    id_array = np.array([ids[name] for name in names], dtype=np.int64)
    series_id, ts_us, value = observation_io.read(
        session, id_array, _to_utc(start), _to_utc(end), last
    )
    return _long_frame(names, id_array, series_id, ts_us, value)


def series_spans(
    session: Session, dataset: str, unique_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per series of DATASET (or of UNIQUE_IDS): ``points``, ``first`` and ``last`` timestamps
    (tz-naive UTC), from one grouped query; series without observations are left out."""
    dataset_id = get_dataset(session, dataset).id
    ids = series_ids(session, dataset_id, unique_ids)
    names = {series_id: name for name, series_id in ids.items()}
    stats = series_stats(session, list(names))
    frame = pd.DataFrame(
        {
            "unique_id": [names[sid] for sid in stats],
            "points": [s[0] for s in stats.values()],
            "first": pd.to_datetime([s[1] for s in stats.values()], utc=True).tz_localize(None),
            "last": pd.to_datetime([s[2] for s in stats.values()], utc=True).tz_localize(None),
        }
    )
    return frame.sort_values("unique_id", ignore_index=True)


def series_stats(
    session: Session, series_ids: Sequence[int]
) -> dict[int, tuple[int, datetime, datetime]]:
    """Per series id with observations: (points, first ts, last ts), from one grouped query."""
    if not series_ids:
        return {}
    rows = session.execute(
        select(
            Observation.series_id,
            func.count(),
            func.min(Observation.ts),
            func.max(Observation.ts),
        )
        .where(Observation.series_id.in_(list(series_ids)))
        .group_by(Observation.series_id)
    )
    return {int(sid): (int(count), first, last) for sid, count, first, last in rows}


def _long_frame(
    names: list[str],
    id_array: np.ndarray,
    series_id: np.ndarray,
    ts_us: np.ndarray,
    value: np.ndarray,
) -> pd.DataFrame:
    # Rows arrive unordered: sort by (rank of the series name, ts).
    order_of_id = np.argsort(id_array)
    rank = order_of_id[np.searchsorted(id_array, series_id, sorter=order_of_id)]
    order = np.lexsort((ts_us, rank))
    labels = np.array(names, dtype=object)[rank[order]]
    ds = ts_us[order].astype("datetime64[us]").astype("datetime64[ns]")
    return pd.DataFrame({"unique_id": labels, "ds": ds, "y": value[order]})


def _to_utc(value: datetime | str | pd.Timestamp | None) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"invalid time bound {value!r}") from exc
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def get_dataset(session: Session, name: str) -> Dataset:
    """The dataset called NAME; NotFound otherwise."""
    found = session.scalar(select(Dataset).where(Dataset.name == name))
    if found is None:
        raise NotFound(f"dataset {name!r} not found")
    return found


def list_datasets(
    session: Session, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Dataset]:
    """Datasets, newest first."""
    return paginate(
        session, select(Dataset), Dataset.created_at, Dataset.id, limit=limit, cursor=cursor
    )


def get_dataset_summary(session: Session, name: str) -> DatasetSummary:
    """Series count, observation count and time span of the dataset NAME."""
    (summary,) = summarize_datasets(session, [get_dataset(session, name)])
    return summary


def summarize_datasets(session: Session, datasets: Sequence[Dataset]) -> list[DatasetSummary]:
    """The summaries of DATASETS, in their order, from two grouped queries (not two per dataset)."""
    ids = [d.id for d in datasets]
    series = dict(
        session.execute(
            select(Series.dataset_id, func.count())
            .where(Series.dataset_id.in_(ids))
            .group_by(Series.dataset_id)
        ).all()
    )
    stats = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                Series.dataset_id, func.count(), func.min(Observation.ts), func.max(Observation.ts)
            )
            .join(Series, Series.id == Observation.series_id)
            .where(Series.dataset_id.in_(ids))
            .group_by(Series.dataset_id)
        )
    }
    return [
        DatasetSummary(
            name=d.name,
            series=int(series.get(d.id, 0)),
            observations=int(stats[d.id][0]) if d.id in stats else 0,
            first_ds=stats[d.id][1] if d.id in stats else None,
            last_ds=stats[d.id][2] if d.id in stats else None,
            created_at=d.created_at,
        )
        for d in datasets
    ]


def dependents(session: Session, name: str) -> list[str]:
    """What relies on the dataset NAME: schedules that train on it, and aliases that serve a
    version trained on it (``schedule 3``, ``model m@production``)."""
    uses = Job.spec["dataset"].as_string() == name
    schedules = session.scalars(
        select(Schedule.id).where(Schedule.spec["dataset"].as_string() == name)
    ).all()
    aliases = session.execute(
        select(RegisteredModel.name, ModelAlias.alias)
        .join(ModelAlias, ModelAlias.model_id == RegisteredModel.id)
        .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .join(Job, Job.id == ModelVersion.job_id)
        .where(uses)
        .order_by(RegisteredModel.name, ModelAlias.alias)
    ).all()
    return [f"schedule {i}" for i in sorted(schedules)] + [f"model {m}@{a}" for m, a in aliases]


def delete_dataset(session: Session, name: str, *, force: bool = False) -> None:
    """Delete the dataset NAME with its series and observations (the database cascades).

    Conflict naming them while schedules or aliases depend on it, unless FORCE.
    """
    dataset = session.scalar(select(Dataset).where(Dataset.name == name).with_for_update())
    if dataset is None:
        raise NotFound(f"dataset {name!r} not found")
    if not force:
        needed_by = dependents(session, name)
        if needed_by:
            raise Conflict(
                f"dataset {name!r} is used by {', '.join(needed_by[:10])}; "
                "delete those first or pass force=true"
            )
    series = select(Series.id).where(Series.dataset_id == dataset.id).scalar_subquery()
    session.execute(delete(Observation).where(Observation.series_id.in_(series)))
    session.execute(delete(CovariateValue).where(CovariateValue.series_id.in_(series)))
    session.delete(dataset)
    session.flush()


def _ensure_dataset(session: Session, name: str) -> int:
    """The dataset's id, created if missing, key-share locked so it cannot be deleted under us."""
    stmt = insert_for(session, Dataset).values(name=name).on_conflict_do_nothing()
    session.execute(stmt)
    locked = select(Dataset.id).where(Dataset.name == name)
    dataset_id = session.scalar(locked.with_for_update(read=True, key_share=True))
    if dataset_id is None:
        raise Conflict(f"dataset {name!r} was deleted concurrently; retry")
    return int(dataset_id)


def _ensure_series(
    session: Session, dataset_id: int, names: list[str]
) -> tuple[dict[str, int], set[int]]:
    """Ids of every series of the dataset, and the ids of those this call created."""
    existing = series_ids(session, dataset_id)
    missing = [{"dataset_id": dataset_id, "unique_id": n} for n in names if n not in existing]
    if not missing:
        return existing, set()
    stmt = insert_for(session, Series).on_conflict_do_nothing().returning(Series.id)
    created = {int(row[0]) for row in session.connection().execute(stmt, missing)}
    return series_ids(session, dataset_id), created


def series_ids(
    session: Session, dataset_id: int, unique_ids: Sequence[str] | None = None
) -> dict[str, int]:
    """{unique_id: series id} of the dataset, or of only UNIQUE_IDS (NotFound names the first
    few that the dataset does not have)."""
    rows = session.execute(
        select(Series.unique_id, Series.id).where(Series.dataset_id == dataset_id)
    )
    ids = {str(unique_id): int(series_id) for unique_id, series_id in rows}
    if unique_ids is None:
        return ids
    missing = sorted(set(unique_ids) - ids.keys())
    if missing:
        raise NotFound(f"series not in the dataset: {missing[:5]}")
    return {name: ids[name] for name in set(unique_ids)}
