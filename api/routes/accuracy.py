"""``GET /v1/models/{model}/accuracy``: live accuracy against actuals, beside the backtest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.accuracy_metrics import drift_of
from api.deps import SessionDep, SettingsDep
from api.errors import InvalidFieldError, field_of_store_errors
from api.schemas.common import ALIAS_PATTERN, ModelName
from api.schemas.forecasts import AccuracyOut, DayFigures, Figures
from models import registry
from models.live_accuracy import backtest_expectation, live_accuracy

router = APIRouter(prefix="/models", tags=["models"])

Bound = Annotated[datetime | None, Query(description="Actuals at or after/before (UTC).")]


@router.get("/{model}/accuracy", response_model=AccuracyOut)
def get_accuracy(
    model: ModelName,
    session: SessionDep,
    settings: SettingsDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    alias: Annotated[str | None, Query(pattern=ALIAS_PATTERN)] = None,
    since: Bound = None,
    until: Bound = None,
) -> AccuracyOut:
    """Live MASE, sMAPE and coverage of a version's scored forecasts (default: the latest
    version), its backtest's figures and the drift flag."""
    if version is not None and alias is not None:
        raise InvalidFieldError("query.alias", "give version or alias, not both")
    target = version if version is not None else alias
    reference = model if target is None else f"{model}@{target}"
    with field_of_store_errors("query"):
        found = registry.resolve_reference(session, reference)
    points, live, by_day = live_accuracy(session, model, found.version, _utc(since), _utc(until))
    expected = backtest_expectation(found)
    return AccuracyOut(
        model=model,
        version=found.version,
        points=points,
        live=Figures(**live),
        backtest=Figures(**expected),
        drift=drift_of(session, settings, model, found.version, expected["mase"]),
        by_day=[DayFigures(**day) for day in by_day],
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
