"""Prometheus gauges of live accuracy, read from the database at scrape time.

``forecaster_live_mase{model,version}``: live MASE over every scored point of the version;
``forecaster_drift{model,version}``: 1 when the live MASE of its last ``FORECASTER_DRIFT_WINDOW``
scored forecasts exceeds ``FORECASTER_DRIFT_RATIO`` times its backtest MASE, else 0. Every API
replica reports the same figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import registry
from models.errors import NotFound, StoreError
from models.live_accuracy import backtest_expectation, is_drifting, scored_versions, window_mase
from models.settings import Settings

logger = logging.getLogger(__name__)


def drift_of(
    session: Session, settings: Settings, model: str, version: int, expected: float | None
) -> bool:
    """MODEL@VERSION's drift flag: the live MASE of its last ``drift_window`` scored forecasts
    above ``drift_ratio`` times EXPECTED (the backtest MASE; no flag without one)."""
    live = window_mase(session, model, version, settings.drift_window)
    return is_drifting(live, expected, settings.drift_ratio)


def _expected_mase(session: Session, model: str, version: int) -> float | None:
    try:
        found = registry.get_version(session, model, version)
    except NotFound:
        return None
    mase: float | None = backtest_expectation(found)["mase"]
    return mase


class LiveAccuracyCollector(Collector):
    """The live-accuracy gauges, one series per scored model version."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield both gauges; nothing when the database cannot be read right now."""
        labels = ["model", "version"]
        mase = GaugeMetricFamily(
            "forecaster_live_mase", "Live MASE of scored forecasts.", labels=labels
        )
        drift = GaugeMetricFamily(
            "forecaster_drift", "1 when live MASE exceeds the backtest's promise.", labels=labels
        )
        try:
            with self.factory() as session:
                for model, version, live in scored_versions(session):
                    if live is not None:
                        mase.add_metric([model, str(version)], live)
                    expected = _expected_mase(session, model, version)
                    flag = drift_of(session, self.settings, model, version, expected)
                    drift.add_metric([model, str(version)], float(flag))
        except (SQLAlchemyError, StoreError) as exc:  # a scrape must not fail on the DB
            logger.warning("live accuracy metrics unavailable", extra={"error": str(exc)})
            return
        yield mase
        yield drift
