"""Prometheus metrics of one app instance, in a registry of its own.

Request counters and latency histograms are labelled by method, route *template* and status (so
a path parameter never creates a new series); job counts and queue depth are read from the
database at scrape time by a collector, so every API replica reports the same, current figures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from models.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")

JobCounter = Callable[[], "JobFigures"]


class JobFigures(NamedTuple):
    """What the job gauges show: counts by status and the jobs due but not yet claimed."""

    by_status: Mapping[str, int]
    due: int


class JobsCollector(Collector):
    """Gauges of jobs by status and of queue depth, counted when Prometheus scrapes."""

    def __init__(self, count_jobs: JobCounter) -> None:
        self.count_jobs = count_jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the job gauges; nothing when the database cannot be read right now."""
        try:
            figures = self.count_jobs()
        except (DatabaseUnavailable, SQLAlchemyError) as exc:  # a scrape must not fail on the DB
            logger.warning("job metrics unavailable", extra={"error": str(exc)})
            return
        counts = figures.by_status
        by_status = GaugeMetricFamily(
            "forecaster_jobs", "Jobs in the database by status.", labels=["status"]
        )
        for status in sorted(set(JOB_STATUSES) | set(counts)):
            by_status.add_metric([status], float(counts.get(status, 0)))
        yield by_status
        yield GaugeMetricFamily(
            "forecaster_queue_depth", "Queued jobs due now, not yet claimed.", value=figures.due
        )
        yield GaugeMetricFamily(
            "forecaster_jobs_running", "Jobs claimed by a worker.", value=counts.get("running", 0)
        )


class ApiMetrics:
    """The metrics of one app: a fresh ``CollectorRegistry`` so apps never share state."""

    def __init__(self, count_jobs: JobCounter | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "forecaster_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "forecaster_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_cache = Counter(
            "forecaster_model_cache_lookups",
            "Model cache lookups by result (hit or miss).",
            ["result"],
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "forecaster_forecast_batch_requests",
            "Requests answered by one micro-batched forward pass.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_series = Histogram(
            "forecaster_forecast_batch_series",
            "Series in one micro-batched forward pass.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        if count_jobs is not None:
            self.registry.register(JobsCollector(count_jobs))

    def observe_batch(self, requests: int, series: int) -> None:
        """Record the size of one forward pass of the micro-batcher."""
        self.batch_requests.observe(requests)
        self.batch_series.observe(series)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request and record its latency."""
        labels = {"method": method, "route": route, "status": str(status)}
        self.requests.labels(**labels).inc()
        self.latency.labels(**labels).observe(seconds)
