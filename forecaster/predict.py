"""Inference: batched forecasts of the last window of every series, and the output frame."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from forecaster.calendar import fixed_step_ns, future_index, parse_freq
from forecaster.config import quantile_column
from forecaster.data import Panel
from forecaster.ensemble import combine
from forecaster.features import CovariateTensors, FeatureSpec
from forecaster.nets import NetSpec, QuantileRNN
from forecaster.windows import (
    Padded,
    calendar_features,
    from_model_space,
    pad,
    scale,
    unscale,
    window_scale,
)

# Series per forward pass: bounds the recurrence's working memory. At 1,024 the 3 members'
# passes made ~100 MB of temporaries, at 256 a quarter, in the same time (8,192 series).
PREDICT_CHUNK = 256
# A series' numbers must not depend on what shares its forward pass (the micro-batching API
# relies on that). Two CPU kernel paths would break it: matrix kernels take another path, which
# sums in another order, for fewer than 8 rows (measured: 1-7 rows differ in the last bits from
# the same rows in a larger pass, with the default-shaped GRU at 1 and 2 threads), and
# element-wise kernels (softplus, exp...) may compute the tail of a tensor that does not fill
# their last vector chunk with other code. Every forward therefore runs at least MIN_ROWS rows
# and a multiple of ROW_MULTIPLE (repeats of the first row). A multiple of 32 was the bound
# before: it cost a one-series request ~2.3 ms of its ~6.4 ms forward pass, and 8 gives the
# same numbers bit for bit (tests/forecaster/test_predict.py checks both claims).
ROW_MULTIPLE = 8
MIN_ROWS = 8  # the fewest rows of a forward pass


@torch.inference_mode()  # no autograd bookkeeping per op: ~20% of a small forward pass
def forecast_panel(
    nets: list[QuantileRNN],
    spec: NetSpec,
    panel: Panel,
    device: torch.device,
    features: FeatureSpec | None = None,
    finish: Callable[[np.ndarray, Panel], np.ndarray] | None = None,
) -> np.ndarray:
    """Quantile forecasts [S, horizon, Q] (original scale) from the last lookback of each series;
    members are combined by their mean. Series go through in chunks of PREDICT_CHUNK, so the
    working memory beyond the result is bounded however many series there are. With
    ``features``, the future-known covariates come from each series' future rows (steps beyond
    them repeat the last known row; callers check the steps they return, see
    ``Panel.require_future``). ``finish`` post-processes each chunk's forecasts per series
    (given them and the chunk's series, their last lookback) before they are stored."""
    tail = panel.tail(spec.lookback)
    out = np.empty((len(tail.ids), spec.horizon, len(spec.levels)), dtype=np.float64)
    for i in range(0, len(tail.ids), PREDICT_CHUNK):
        part = tail.take(slice(i, i + PREDICT_CHUNK))
        data = pad(part, spec.transform, spec.lookback, features, spec.horizon)
        raw = _forecast_chunk(nets, spec, data, device)
        out[i : i + PREDICT_CHUNK] = raw if finish is None else finish(raw, part)
    return out


def _forecast_chunk(
    nets: list[QuantileRNN], spec: NetSpec, data: Padded, device: torch.device
) -> np.ndarray:
    rows = len(data.values)
    # [B, L], B >= MIN_ROWS and a multiple of ROW_MULTIPLE: every padded row is exactly the
    # lookback; batches are padded so a series' numbers do not depend on what shares the pass.
    padded = max(MIN_ROWS, -(-rows // ROW_MULTIPLE) * ROW_MULTIPLE)
    x = _at_least(data.values[:, -spec.lookback :], padded)
    phases = _at_least(data.phases, padded)
    starts = torch.zeros(len(x), dtype=torch.long)
    cal = calendar_features(phases, starts, spec.periods, spec.lookback, spec.patch)
    loc, spread = window_scale(x, spec.season, spec.transform == "log")
    z = scale(x, loc, spread).to(device)
    covariates = _covariates_at_least(data.covariates, padded)
    if covariates is not None:
        covariates = covariates.to(device)
    members = [_evaluating(net)(z, cal.to(device), covariates).float().cpu() for net in nets]
    forecast = from_model_space(unscale(combine(members), loc, spread), spec.transform)
    if spec.transform == "none":
        forecast = _clamp_nonnegative(forecast, x)
    return forecast[:rows].double().numpy()


def _evaluating(net: QuantileRNN) -> QuantileRNN:
    """NET in eval mode; ``eval()`` walks every submodule (~0.1 ms a member): only when needed."""
    return net.eval() if net.training else net


def _at_least(rows: torch.Tensor, count: int) -> torch.Tensor:
    """``rows`` [B, ...] extended to ``count`` rows by repeating its first row (B >= 1)."""
    missing = count - len(rows)
    if missing <= 0:
        return rows
    return torch.cat([rows, rows[:1].expand(missing, *rows.shape[1:])])


def _covariates_at_least(
    covariates: CovariateTensors | None, count: int
) -> CovariateTensors | None:
    if covariates is None:
        return None
    return CovariateTensors(
        _at_least(covariates.real, count),
        _at_least(covariates.cats, count),
        _at_least(covariates.static_real, count),
        _at_least(covariates.static_cats, count),
    )


def _clamp_nonnegative(forecast: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A window without negative values (counts, loads, sales) gets no negative forecast."""
    nonnegative = (x >= 0).all(dim=1)[:, None, None]  # [B, 1, 1]
    return torch.where(nonnegative, forecast.clamp(min=0.0), forecast)


def future_stamps(panel: Panel, horizon: int) -> np.ndarray:
    """The next ``horizon`` timestamps of every series, flattened (datetime64[ns])."""
    step = fixed_step_ns(parse_freq(panel.freq))
    if step is not None:  # fixed step: index arithmetic
        ends = np.array([s.value for s in panel.starts]) + (panel.lengths - 1) * step
        grid = ends[:, None] + step * np.arange(1, horizon + 1)[None, :]  # [S, h] ns
        return grid.reshape(-1).astype("datetime64[ns]")
    stamps = [future_index(panel.last(i), panel.freq, horizon) for i in range(len(panel.ids))]
    return np.concatenate([d.values.astype("datetime64[ns]") for d in stamps])


def forecast_frame(
    panel: Panel,
    forecasts: np.ndarray,
    levels: tuple[float, ...],
    quantiles: tuple[float, ...],
    horizon: int,
) -> pd.DataFrame:
    """The long output frame: unique_id, ds (continuing each series' grid), mean, q<level>..."""
    columns: dict[str, np.ndarray] = {
        "unique_id": np.repeat(np.array(panel.ids, dtype=object), horizon),
        "ds": future_stamps(panel, horizon),
    }
    for name, level in output_levels(levels, quantiles).items():
        columns[name] = forecasts[:, :horizon, level].reshape(-1)
    return pd.DataFrame(columns)  # built once: adding columns one by one costs more


def output_levels(levels: tuple[float, ...], quantiles: tuple[float, ...]) -> dict[str, int]:
    """The value columns of the output frame (``mean``, then ``q<level>`` per quantile), each
    mapped to its index among the network's ``levels``."""
    return {
        "mean": levels.index(0.5),
        **{quantile_column(q): levels.index(q) for q in quantiles},
    }
