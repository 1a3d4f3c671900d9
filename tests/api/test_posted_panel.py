"""api.posted_panel: the shortcut for plainly valid posted series holds exactly what the full
path (history frame, ``recent``, ``Forecaster.prepare``) builds, and declines everything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import sessionmaker

from api.covariate_inputs import posted_frames
from api.forecast_log import ForecastLog, StoredModel, _Arrays, _Entry, _Frames, log_row
from api.forecasting import forecasts_json, panel_forecasts_json, recent
from api.posted_panel import posted_panel
from api.provenance import input_sha256, new_provenance
from api.schemas.forecast import ForecastRequest, SeriesIn
from forecaster.predict import forecast_frame
from models.forecast_payload import Runs, decode
from tests.api.conftest import (
    HORIZON,
    TrainedModel,
    make_settings,
    series_frame,
    series_payload,
)


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
    for runs, y, frame in (
        (fast.history, fast.history_y, history),
        (fast.given, fast.given_y, given),
    ):
        expected = Runs.of(frame)
        assert runs.names.tolist() == expected.names.tolist()
        assert np.array_equal(runs.lengths, expected.lengths)
        assert np.array_equal(runs.ds, expected.ds)
        assert np.array_equal(y, frame["y"].to_numpy())
    for quantiles in (None, [0.1, 0.9]):
        expected_hash = input_sha256(given, HORIZON, quantiles)
        assert fast.input_sha256(HORIZON, quantiles) == expected_hash
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


def test_the_answer_and_log_row_from_the_arrays_are_the_full_paths(
    trained: TrainedModel,
) -> None:
    """The answer and the log's row made from the shortcut's arrays are the ones the full
    path's frames give: the same records, input hash, payload (history given, prediction, MASE
    scales) and targets."""
    model = trained.model
    payload = _payload([200, 40, 96])
    body = ForecastRequest.model_validate(
        {
            "model": "m",
            "horizon": HORIZON,
            "series": payload,
            "quantiles": [0.1, 0.9],
            "dataset": "d",
            "unique_ids": ["x", "y", "z"],
        }
    )
    assert body.series is not None
    fast = posted_panel(body.series, model)
    assert fast is not None
    history, _ = posted_frames(body.series, model.covariates, model.freq, HORIZON)
    given = recent(history, model.min_history)
    forecasts = model.forecast_panel(fast.panel)
    prediction = forecast_frame(
        fast.panel, forecasts, model.levels, model.config.quantiles, HORIZON
    )
    for wanted in (None, [0.1, 0.9]):
        answer = panel_forecasts_json(fast.panel, forecasts, model, HORIZON, wanted)
        assert answer == forecasts_json(prediction, wanted)
    stored = StoredModel("m", 1, "0" * 64, model.season)
    log = ForecastLog(sessionmaker(), make_settings("sqlite://", Path("."), forecast_log=False))
    fast_fields = log.record_posted(body, stored, fast, forecasts, model)
    full_fields = log.record(body, stored, history, given, prediction)
    assert fast_fields["input_sha256"] == full_fields["input_sha256"]
    arrays = _Arrays(fast, forecasts, model.levels, model.config.quantiles)
    frames = _Frames(history, given, prediction)
    fast_row, full_row = (
        log_row(_Entry(new_provenance("m", 1, "0" * 64, "h"), body, model.season, forecast))
        for forecast in (arrays, frames)
    )
    assert [t.unique_id for t in fast_row.targets] == ["x", "y", "z"]
    for a, b in zip(fast_row.targets, full_row.targets, strict=True):
        assert (a.row, a.unique_id, a.first_ts, a.last_ts, a.remaining) == (
            b.row,
            b.unique_id,
            b.first_ts,
            b.last_ts,
            b.remaining,
        )
    assert fast_row.n_series == full_row.n_series == 3
    fast_payload, full_payload = decode(fast_row.payload), decode(full_row.payload)
    pd.testing.assert_frame_equal(fast_payload.history, full_payload.history)
    pd.testing.assert_frame_equal(fast_payload.prediction, full_payload.prediction)
    assert fast_payload.scale is not None
    assert full_payload.scale is not None
    assert np.array_equal(fast_payload.scale, full_payload.scale)
    assert np.isfinite(fast_payload.scale).all()
