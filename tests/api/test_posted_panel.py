"""api.posted_panel: the shortcut for plainly valid posted series builds exactly what the full
path (history frame, ``recent``, ``Forecaster.prepare``) builds, and declines everything else."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from api.covariate_inputs import posted_frames
from api.forecasting import recent
from api.posted_panel import posted_panel
from api.provenance import input_sha256
from api.schemas.forecast import ForecastRequest, SeriesIn
from tests.api.conftest import HORIZON, TrainedModel, series_frame, series_payload


def _series(payload: list[dict[str, Any]]) -> list[SeriesIn]:
    body = {"model": "m", "horizon": HORIZON, "series": payload}
    series = ForecastRequest.model_validate(body).series
    assert series is not None
    return series


def _payload(lengths: list[int]) -> list[dict[str, Any]]:
    frame = series_frame(len(lengths), max(lengths))
    parts = [
        g.iloc[len(g) - n :] for n, (_, g) in zip(lengths, frame.groupby("unique_id"), strict=False)
    ]
    return series_payload(pd.concat(parts, ignore_index=True))


@pytest.mark.parametrize(
    "lengths",
    [[96], [96, 96, 96], [96, 40, 70], [200, 30, 50], [300, 250], [30]],
    ids=["one", "equal", "short", "long-and-short", "all-long", "minimal"],
)
def test_plain_series_give_the_full_paths_panel_frames_and_answers(
    trained: TrainedModel, lengths: list[int]
) -> None:
    model = trained.model
    series = _series(_payload(lengths))
    fast = posted_panel(series, model)
    assert fast is not None
    history, _ = posted_frames(series, model.covariates, model.freq, HORIZON)
    given = recent(history, model.min_history)
    panel = model.prepare(given, None, HORIZON)
    pd.testing.assert_frame_equal(fast.history, history)
    pd.testing.assert_frame_equal(fast.given, given)
    assert input_sha256(fast.given, HORIZON, None) == input_sha256(given, HORIZON, None)
    assert fast.panel.ids == panel.ids
    assert fast.panel.starts == panel.starts
    assert (fast.panel.freq, fast.panel.tz, fast.panel.covariates) == (panel.freq, None, None)
    assert all(np.array_equal(a, b) for a, b in zip(fast.panel.values, panel.values, strict=True))
    assert np.array_equal(model.forecast_panel(fast.panel), model.forecast_panel(panel))


def _with(payload: list[dict[str, Any]], index: int, **changes: Any) -> list[dict[str, Any]]:
    changed = [dict(item) for item in payload]
    changed[index].update(changes)
    return changed


def _declined() -> list[list[dict[str, Any]]]:
    payload = _payload([96, 96])
    first = payload[0]
    ds, y = list(first["ds"]), list(first["y"])
    return [
        _with(payload, 0, ds=ds[:10] + ds[11:], y=y[:10] + y[11:]),  # a gap: filled or refused
        _with(payload, 0, ds=[*ds[:-1], ds[-2]]),  # a repeated timestamp
        _with(payload, 0, ds=[d + "+02:00" for d in ds]),  # tz-aware: converted by the full path
        _with(payload, 0, ds=[*ds[:-1], ds[-1] + "Z"]),  # naive and aware mixed
        [payload[1], payload[0]],  # ids out of order: the full path sorts them
        _with(payload, 0, ds=ds[-5:], y=y[-5:]),  # too short: the full path words the error
        _with(payload, 0, covariates={"promo": [0.0] * len(ds)}),  # covariates: full path
    ]


@pytest.mark.parametrize("payload", _declined())
def test_anything_but_plain_series_takes_the_full_path(
    trained: TrainedModel, payload: list[dict[str, Any]]
) -> None:
    assert posted_panel(_series(payload), trained.model) is None
