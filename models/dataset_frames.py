"""A dataset read back with its covariates: the long frame training and forecasting take.

``read_frame`` joins each series' observations with the covariate columns asked for: rows of
the history carry their values, and rows with covariate values after the series' last
observation come back with ``y`` NaN (future rows). Covariate values inside the history where
``y`` is missing are left out (the core fills gaps of ``y`` by its policy), and so are values
before a series' first observation read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from models import covariate_io
from models.covariates import ColumnInfo, column_infos, columns_of, decode
from models.datasets import get_dataset, read_observations, series_ids
from models.errors import InvalidInput
from models.tables import CovariateValue, Observation, Series


def dataset_columns(session: Session, dataset: str) -> list[ColumnInfo]:
    """The covariate columns of DATASET (name, kind, labels), in the order first ingested."""
    return column_infos(session, get_dataset(session, dataset).id)


def read_frame(
    session: Session,
    dataset: str,
    unique_ids: Sequence[str] | None = None,
    columns: Sequence[str] = (),
    *,
    last: int | None = None,
    static: Sequence[str] = (),
) -> pd.DataFrame:
    """``unique_id, ds, y`` and COLUMNS of DATASET (as ``read_observations``, plus the future
    rows), sorted by unique_id then ds. With LAST, only each series' LAST observations and
    what follows them. STATIC columns hold one value per series, spread over its rows.
    InvalidInput names a column the dataset does not have."""
    history = read_observations(session, dataset, unique_ids=unique_ids, last=last)
    if not columns:
        return history
    dataset_id = get_dataset(session, dataset).id
    infos = {info.name: info for info in column_infos(session, dataset_id)}
    unknown = [name for name in columns if name not in infos]
    if unknown:
        have = ", ".join(infos) or "none"
        raise InvalidInput(f"the dataset has no column {unknown[0]!r} (its covariates: {have})")
    ids = series_ids(session, dataset_id, unique_ids)
    start = history["ds"].min() if last is not None and len(history) else None
    wide = _covariates(session, ids, [infos[name] for name in columns], start, dataset_id)
    return _join(history, wide, list(columns), static)


def _covariates(
    session: Session,
    ids: dict[str, int],
    infos: list[ColumnInfo],
    start: pd.Timestamp | None,
    dataset_id: int,
) -> pd.DataFrame:
    """The values of INFOS as a wide frame (unique_id, ds, one column each)."""
    rows = columns_of(session, dataset_id)
    column_ids = np.array([rows[info.name].id for info in infos], dtype=np.int64)
    series_ids = np.array(sorted(ids.values()), dtype=np.int64)
    bound = None if start is None else start.tz_localize("UTC").to_pydatetime()
    sid, ts_us, cid, value = covariate_io.read(session, series_ids, column_ids, bound)
    long = pd.DataFrame({"sid": sid, "ts": ts_us, "cid": cid, "value": value})
    wide = long.pivot(index=["sid", "ts"], columns="cid", values="value")
    wide = wide.reindex(columns=column_ids)
    names = {series_id: name for name, series_id in ids.items()}
    index = wide.index.to_frame(index=False)
    out = pd.DataFrame(
        {
            "unique_id": index["sid"].map(names).to_numpy(dtype=object),
            "ds": index["ts"].to_numpy().astype("datetime64[us]").astype("datetime64[ns]"),
        }
    )
    for info, column_id in zip(infos, column_ids, strict=True):
        out[info.name] = decode(wide[column_id].to_numpy(dtype=np.float64), info)
    return out


def _join(
    history: pd.DataFrame, wide: pd.DataFrame, columns: list[str], static: Sequence[str]
) -> pd.DataFrame:
    frame = history.merge(wide, on=["unique_id", "ds"], how="outer", sort=False)
    frame = frame.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
    observed = frame["y"].notna()
    span = frame.loc[observed].groupby("unique_id")["ds"].agg(["min", "max"])
    first = frame["unique_id"].map(span["min"])
    last = frame["unique_id"].map(span["max"])
    keep = observed | ((frame["ds"] > last) & first.notna())
    frame = frame.loc[keep].reset_index(drop=True)
    for name in static:
        frame[name] = frame.groupby("unique_id")[name].transform("first")
    return frame[["unique_id", "ds", "y", *columns]]


def covariate_coverage(
    session: Session, dataset: str, unique_ids: Sequence[str] | None, columns: Sequence[str]
) -> pd.DataFrame:
    """Per series and column of DATASET: ``values`` on observed timestamps and how many
    ``distinct`` ones, from one grouped join (pairs without any value are left out)."""
    dataset_id = get_dataset(session, dataset).id
    rows = columns_of(session, dataset_id)
    ids = {rows[name].id: name for name in columns if name in rows}
    stmt = (
        select(
            Series.unique_id,
            CovariateValue.column_id,
            func.count(),
            func.count(distinct(CovariateValue.value)),
        )
        .join(Observation, Observation.series_id == Series.id)
        .join(
            CovariateValue,
            (CovariateValue.series_id == Observation.series_id)
            & (CovariateValue.ts == Observation.ts),
        )
        .where(Series.dataset_id == dataset_id, CovariateValue.column_id.in_(list(ids)))
        .group_by(Series.unique_id, CovariateValue.column_id)
    )
    if unique_ids is not None:
        stmt = stmt.where(Series.unique_id.in_(list(unique_ids)))
    found = session.execute(stmt).all()
    return pd.DataFrame(
        {
            "unique_id": [str(r[0]) for r in found],
            "column": [ids[int(r[1])] for r in found],
            "values": [int(r[2]) for r in found],
            "distinct": [int(r[3]) for r in found],
        }
    )
