"""Service settings, read from the environment (prefix ``FORECASTER_``).

They live in ``models/`` because every service process (API, worker, scheduler) depends on the
store, while the ML core (``forecaster/``) stays free of them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_WAIT_SECONDS = 600.0  # the most POST /v1/forecast may wait; its schema states the same bound


class Settings(BaseSettings):
    """Every setting of the service; README's configuration reference documents each one."""

    model_config = SettingsConfigDict(env_prefix="FORECASTER_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///./forecaster.db",
        description="SQLAlchemy URL; postgresql+psycopg://... in production.",
    )
    artifact_dir: Path = Field(
        default=Path("./artifacts"), description="Root of the content-addressed artifact store."
    )
    api_keys: str = Field(
        default="",
        description="Comma-separated API keys; when set, every /v1 route needs a Bearer key.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="Training device for workers: auto picks CUDA when present."
    )
    worker_concurrency: int = Field(default=1, ge=1, description="Jobs one worker runs at once.")
    # --- instant forecasts (posted series, no model): their lane, deadline and waits ---
    worker_forecast_slots: int = Field(
        default=1,
        ge=0,
        description="Extra slots per worker that run only forecast jobs (the forecast lane).",
    )
    forecast_poll_seconds: float = Field(
        default=0.05, gt=0, description="How often an idle forecast-lane slot looks for jobs."
    )
    worker_train_nice: int = Field(
        default=5,  # a third of the CPU weight: on shared machines more starves training
        ge=0,
        le=19,
        description="Nice increment of training job threads, so forecast jobs get the cores.",
    )
    forecast_deadline_seconds: float = Field(
        default=8.0,
        gt=0,
        description=(
            "POST /v1/forecast without a model: default deadline_s, after which the baseline "
            "answers (200, fallback reason deadline)."
        ),
    )
    lease_seconds: float = Field(
        default=60.0, gt=0, description="How long a claimed job stays leased without a heartbeat."
    )
    max_attempts: int = Field(default=3, ge=1, description="Attempts before a job is failed.")
    retry_backoff_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Wait before a failed job's first retry (doubles each time).",
    )
    retry_backoff_max_seconds: float = Field(
        default=600.0, ge=0, description="Longest wait between two attempts of a failed job."
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for queued jobs."
    )
    scheduler_poll_seconds: float = Field(
        default=5.0, gt=0, description="How often the scheduler looks for due schedules."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="On SIGTERM, how long a worker may finish its job before releasing it.",
    )
    max_request_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, description="Largest request body accepted (413 above)."
    )
    model_cache_size: int = Field(
        default=16, ge=1, description="Loaded models kept in the API's LRU cache."
    )
    batch_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=10_000,
        description=(
            "How long the first forecast request for a model version waits for others to share "
            "its forward pass (0: only requests that arrive while the model is busy share); "
            "skipped while the previous batch of that model had one request."
        ),
    )
    batch_max_series: int = Field(
        default=256,
        ge=1,
        description="Series in one micro-batched forward pass at most; a full batch runs at once.",
    )
    api_compute_slots: int = Field(
        default=1,
        ge=1,
        description=(
            "Forecast requests doing CPU work (parsing, preparing, the forward pass, the answer) "
            "at once in one API process; the others wait without taking the GIL from them. Scale "
            "with --processes, one per core, rather than with this."
        ),
    )
    forecast_wait_seconds: float = Field(
        default=MAX_WAIT_SECONDS,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description=(
            "Upper bound on how long POST /v1/forecast may wait (wait_seconds and deadline_s "
            "above it are refused with 422, never cut silently)."
        ),
    )
    torch_threads: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Intra-op threads torch uses per process. Unset: 1 in an API process without inline "
            "workers (requests run side by side instead), torch's default elsewhere."
        ),
    )
    forecast_log: bool = Field(
        default=True, description="Log every stored-model forecast (input, answer, provenance)."
    )
    forecast_log_retention_days: float = Field(
        default=30.0, gt=0, description="Logged forecasts and their scores are kept this long."
    )
    drift_window: int = Field(
        default=100, ge=1, description="Drift compares the live MASE of this many last forecasts."
    )
    drift_ratio: float = Field(
        default=1.5, gt=0, description="Drift: live MASE above this multiple of the backtest's."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    log_format: Literal["text", "json"] = Field(default="text", description="Log line format.")

    @property
    def api_key_set(self) -> frozenset[str]:
        """The configured API keys, blanks dropped."""
        return frozenset(key.strip() for key in self.api_keys.split(",") if key.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
