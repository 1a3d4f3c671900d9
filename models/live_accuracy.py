"""Live accuracy of a model version from its scored forecast points, beside its backtest.

Live MASE is the mean over scored points of ``|y - f| / scale``, where ``scale`` is the mean
absolute seasonal difference of the series' whole history before the forecast origin (fixed and
logged when the forecast was made, as M4 does). sMAPE is the mean of ``200 |y - f| / (|y| + |f|)``
and each coverage the share of actuals inside the central interval. ``since``/``until`` bound
the actuals' timestamps; ``by_day`` groups by the actual's UTC day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models.live_scoring import INTERVALS
from models.tables import ForecastScore, ModelVersion

Figures = dict[str, Any]


def _filters(
    model: str, version: int, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    where = [
        ForecastScore.model_name == model,
        ForecastScore.version == version,
        ForecastScore.step.is_not(None),
    ]
    if since is not None:
        where.append(ForecastScore.ts >= since)
    if until is not None:
        where.append(ForecastScore.ts <= until)
    return where


def _aggregates() -> list[Any]:
    return [
        func.count(),
        func.avg(ForecastScore.scaled_error),
        func.avg(ForecastScore.smape),
        *(func.avg(getattr(ForecastScore, column)) for column in INTERVALS.values()),
    ]


def _figures(values: tuple[Any, ...]) -> Figures:
    _, mase, smape, *coverage = (None if v is None else float(v) for v in values)
    return {"mase": mase, "smape": smape, "coverage": dict(zip(INTERVALS, coverage, strict=True))}


def live_accuracy(
    session: Session,
    model: str,
    version: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[int, Figures, list[Figures]]:
    """(points, overall figures, figures per day) of the scored points of MODEL@VERSION."""
    where = _filters(model, version, since, until)
    overall = session.execute(select(*_aggregates()).where(*where)).one()
    days = session.execute(
        select(ForecastScore.day, *_aggregates())
        .where(*where)
        .group_by(ForecastScore.day)
        .order_by(ForecastScore.day)
    ).all()
    by_day = [
        {"day": _day(row[0]), "points": int(row[1])} | _figures(tuple(row[1:])) for row in days
    ]
    return int(overall[0]), _figures(tuple(overall)), by_day


def _day(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def window_mase(session: Session, model: str, version: int, window: int) -> float | None:
    """Live MASE over the scored points of the version's last WINDOW scored forecasts."""
    where = _filters(model, version, None, None)
    recent = (
        select(ForecastScore.forecast_id)
        .where(*where)
        .group_by(ForecastScore.forecast_id)
        .order_by(func.max(ForecastScore.forecast_created_at).desc())
        .limit(window)
    )
    value = session.scalar(
        select(func.avg(ForecastScore.scaled_error)).where(
            *where, ForecastScore.forecast_id.in_(recent.scalar_subquery())
        )
    )
    return None if value is None else float(value)


def is_drifting(live_mase: float | None, expected_mase: float | None, ratio: float) -> bool:
    """True when the live MASE exceeds the backtest's promise by more than RATIO."""
    if live_mase is None or expected_mase is None:
        return False
    return live_mase > ratio * expected_mase


def scored_versions(session: Session) -> list[tuple[str, int, float | None]]:
    """(model, version, live MASE) of every version with scored points."""
    rows = session.execute(
        select(
            ForecastScore.model_name, ForecastScore.version, func.avg(ForecastScore.scaled_error)
        )
        .where(ForecastScore.step.is_not(None))
        .group_by(ForecastScore.model_name, ForecastScore.version)
    )
    return [(str(m), int(v), None if x is None else float(x)) for m, v, x in rows]


def backtest_expectation(version: ModelVersion) -> Figures:
    """The accuracy the version's backtest promised: ``{"mase", "smape", "coverage"}``.

    Reads the version's ``backtest`` (``{"metrics": {...}}``, on the row or inside its metrics)
    when it has one, otherwise the metrics stored at registration (``coverage_95`` style keys).
    """
    stored = getattr(version, "backtest", None) or (version.metrics or {}).get("backtest")
    if isinstance(stored, dict) and isinstance(stored.get("metrics"), dict):
        metrics: dict[str, Any] = stored["metrics"]
    else:
        metrics = version.metrics or {}
    coverage = metrics.get("coverage")
    if not isinstance(coverage, dict):
        coverage = {key: metrics.get(f"coverage_{key[2:].ljust(2, '0')}") for key in INTERVALS}
    return {
        "mase": _number(metrics.get("mase")),
        "smape": _number(metrics.get("smape")),
        "coverage": {key: _number(coverage.get(key)) for key in INTERVALS},
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
