"""Scoring logged forecasts against the actuals that arrived after them, exactly once.

A pass finds forecast points whose actual is now stored (targets with points left, joined to
the observations in their time range) and that have no score yet, computes each point's errors
from the logged payload, and inserts the scores with ``ON CONFLICT DO NOTHING``: the primary key
``(forecast_id, row, ts)`` is the claim, so any number of processes may score at once and a point
still counts once. Each target's ``remaining`` drops by the scores it really inserted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from models.dialects import insert_for
from models.forecast_payload import ForecastPayload, decode
from models.tables import (
    Dataset,
    ForecastRecord,
    ForecastScore,
    ForecastTarget,
    Observation,
    Series,
)

# The central intervals live accuracy reports: score column and the quantiles that bound them.
INTERVALS = {"0.8": "in_80", "0.95": "in_95"}
BOUNDS = {"in_80": ("q0.1", "q0.9"), "in_95": ("q0.025", "q0.975")}


@dataclass(frozen=True)
class Actual:
    """One stored actual that falls in a logged forecast's range and has no score yet."""

    forecast_id: str
    row: int
    ts: datetime
    value: float


def pending_actuals(session: Session, dataset: str | None, limit: int) -> list[Actual]:
    """Up to LIMIT unscored actuals of logged forecasts (of DATASET only, when given)."""
    target = ForecastTarget
    scored = exists().where(
        ForecastScore.forecast_id == target.forecast_id,
        ForecastScore.row == target.row,
        ForecastScore.ts == Observation.ts,
    )
    stmt = (
        select(target.forecast_id, target.row, Observation.ts, Observation.value)
        .join(Dataset, Dataset.name == target.dataset)
        .join(Series, and_(Series.dataset_id == Dataset.id, Series.unique_id == target.unique_id))
        .join(
            Observation,
            and_(
                Observation.series_id == Series.id,
                Observation.ts >= target.first_ts,
                Observation.ts <= target.last_ts,
            ),
        )
        .where(target.remaining > 0, ~scored)
        .order_by(target.forecast_id, target.row, Observation.ts)
        .limit(limit)
    )
    if dataset is not None:
        stmt = stmt.where(target.dataset == dataset)
    return [Actual(str(f), int(r), ts, float(v)) for f, r, ts, v in session.execute(stmt)]


def score_pending(session: Session, dataset: str | None = None, limit: int = 20_000) -> int:
    """Score up to LIMIT pending points; the number of points looked at (LIMIT: maybe more)."""
    actuals = pending_actuals(session, dataset, limit)
    by_forecast: dict[str, list[Actual]] = {}
    for actual in actuals:
        by_forecast.setdefault(actual.forecast_id, []).append(actual)
    for forecast_id, points in by_forecast.items():
        record = session.get(ForecastRecord, _record_id(session, forecast_id))
        if record is not None:
            _insert_scores(session, record, points)
    return len(actuals)


def _record_id(session: Session, forecast_id: str) -> int | None:
    return session.scalar(
        select(ForecastRecord.id).where(ForecastRecord.forecast_id == forecast_id)
    )


def _insert_scores(session: Session, record: ForecastRecord, points: Sequence[Actual]) -> None:
    grid = _Grid(decode(record.payload))
    rows = [_score(record, grid, point) for point in points]
    stmt = insert_for(session, ForecastScore).on_conflict_do_nothing()
    inserted = session.execute(stmt.returning(ForecastScore.row, ForecastScore.step), rows).all()
    per_row = Counter(int(row) for row, step in inserted if step is not None)
    for row, count in per_row.items():
        session.execute(
            update(ForecastTarget)
            .where(ForecastTarget.forecast_id == record.forecast_id, ForecastTarget.row == row)
            .values(remaining=ForecastTarget.remaining - count)
        )


class _Grid:
    """A logged prediction indexed by series row (first-seen order) and timestamp."""

    def __init__(self, payload: ForecastPayload) -> None:
        prediction = payload.prediction
        codes, _ = pd.factorize(prediction["unique_id"], sort=False)
        self.codes = codes
        self.ds = prediction["ds"].to_numpy(dtype="datetime64[ns]")
        self.mean = prediction["mean"].to_numpy(dtype=np.float64)
        self.bounds = {
            column: (prediction[lo].to_numpy(np.float64), prediction[hi].to_numpy(np.float64))
            for column, (lo, hi) in BOUNDS.items()
            if lo in prediction.columns and hi in prediction.columns
        }
        self.scale = payload.scale

    def index(self, row: int, ts: datetime) -> tuple[int, int] | None:
        """(frame index, 1-based step) of series ROW at TS; None when TS is off its grid."""
        stamp = np.datetime64(ts.astimezone(UTC).replace(tzinfo=None), "ns")
        # Series come in contiguous blocks (codes ascend), each block's ds ascending.
        lo, hi = np.searchsorted(self.codes, row), np.searchsorted(self.codes, row, "right")
        at = lo + int(np.searchsorted(self.ds[lo:hi], stamp))
        if at >= hi or self.ds[at] != stamp:
            return None
        return int(at), int(at - lo) + 1


def _score(record: ForecastRecord, grid: _Grid, point: Actual) -> dict[str, Any]:
    """The score row of one actual: errors against the logged forecast of its step."""
    row: dict[str, Any] = {
        "forecast_id": record.forecast_id,
        "row": point.row,
        "ts": point.ts,
        "model_name": record.model_name,
        "version": record.version,
        "forecast_created_at": record.created_at,
        "day": point.ts.astimezone(UTC).date(),
    }
    found = grid.index(point.row, point.ts)
    if found is None:
        return row | dict.fromkeys(("step", "abs_error", "scaled_error", "smape", "in_80", "in_95"))
    index, step = found
    y, f = point.value, float(grid.mean[index])
    scale = float(grid.scale[point.row]) if grid.scale is not None else float("nan")
    denominator = abs(y) + abs(f)
    inside = dict.fromkeys(BOUNDS) | {
        column: float(lo[index] <= y <= hi[index]) for column, (lo, hi) in grid.bounds.items()
    }
    return (
        row
        | {
            "step": step,
            "abs_error": abs(y - f),
            "scaled_error": abs(y - f) / scale if np.isfinite(scale) and scale > 0 else None,
            "smape": 200.0 * abs(y - f) / denominator if denominator > 0 else 0.0,
        }
        | inside
    )
