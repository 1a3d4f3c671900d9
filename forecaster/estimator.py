"""The public estimator: ``Forecaster.fit / predict / score / save / load``."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydantic
import torch

from forecaster import artifact, calibration, heap
from forecaster.backtest import Evaluation, evaluate, held_out_offsets, own_offsets, summary
from forecaster.baselines import shrink_to_baseline
from forecaster.calendar import seasonality
from forecaster.calibration import Calibration
from forecaster.config import ForecastConfig, model_levels
from forecaster.covariates import CovariateSpec
from forecaster.data import Panel, prepare, with_future
from forecaster.ensemble import fit_members
from forecaster.errors import (
    ArtifactError,
    ForecasterError,
    HorizonError,
    InvalidDataError,
    NotFittedError,
)
from forecaster.feasibility import check_length
from forecaster.features import FeatureSpec, fit_features
from forecaster.nets import NetSpec, QuantileRNN, count_parameters
from forecaster.predict import forecast_frame, forecast_panel
from forecaster.progress import StderrProgress
from forecaster.tails import load_tail, save_tail
from forecaster.threads import recurrence_work, training_threads
from forecaster.train import EpochProgress, Hooks
from forecaster.windows import choose_lookback, choose_patch, min_lookback, pad

_LIBRARIES = ("torch", "numpy", "pandas", "safetensors", "pydantic", "holidays")
SHORT_QUANTILE = 0.1  # the default lookback fits series from this length quantile upwards


class Forecaster:
    """A global recurrent forecaster with quantile intervals (see ForecastConfig for the knobs).

    >>> model = Forecaster().fit(df, horizon=24)          # df: unique_id, ds, y
    >>> model.predict()                                  # unique_id, ds, mean, q0.025, ...
    """

    def __init__(self, config: ForecastConfig | None = None) -> None:
        self.config = config if config is not None else ForecastConfig()
        self.horizon = 0
        self.freq = ""
        self.metrics: dict[str, Any] = {}
        self.data_summary: dict[str, Any] = {}
        self.n_params = 0
        self.device = ""
        self.train_seconds = 0.0
        self.epochs_run = 0
        self.library_versions: dict[str, str] = {}
        self.min_history = 0
        self._nets: list[QuantileRNN] = []
        self._spec: NetSpec | None = None
        self._tail: Panel | None = None
        self.covariates = CovariateSpec()  # the columns the model reads besides y
        self.features: FeatureSpec | None = None  # their scaling, vocabularies and holidays
        self.backtest_report: dict[str, Any] | None = None
        self.evaluation: Evaluation | None = None  # the backtest's raw forecasts (not saved)
        self.calibration = Calibration()
        self.cutoffs: dict[str, pd.Timestamp] = {}  # per series: the last point it trained on

    # ----- training -------------------------------------------------------------------------
    def fit(
        self,
        df: pd.DataFrame,
        horizon: int,
        freq: str | None = None,
        progress: Callable[[EpochProgress], None] | bool | None = None,
        should_stop: Callable[[], bool] | None = None,
        covariates: CovariateSpec | None = None,
    ) -> Forecaster:
        """Train on a long ``unique_id, ds, y`` frame to forecast ``horizon`` steps ahead.

        ``covariates`` names the frame's other columns (future-known, past-only, static; any
        column it does not name is refused). Rows whose ``y`` is missing after a series' last
        observation hold future values; they stay with the model for ``predict()``.

        The last ``backtest_windows`` x ``horizon`` points of every series are held out: no
        training target, no early stopping, no choice of the network reads them. They are the
        version's backtest; the network forecasts from the latest history all the same.
        ``progress``: a callback per epoch, or True for a progress line on stderr.
        Raises HorizonError, InvalidDataError (naming the series; CovariateError naming the
        column and timestamp too) and TrainingCancelled.
        """
        _check_horizon(horizon)
        started = time.monotonic()
        self.covariates = covariates if covariates is not None else CovariateSpec()
        # Freed memory goes back to the system at each stage's end, before the next one's peak
        # stacks on it (forecaster.heap): here, what the caller freed building its frame.
        heap.release()
        panel = prepare(df, freq, self.config.fill, self.covariates)
        heap.release()
        train = _training_part(self.config, panel, horizon)
        features = fit_features(train, self.covariates, self.config.holidays)
        spec = _plan(self.config, train, horizon, features)
        device = resolve_device(self.config.device)
        bar = StderrProgress(self.config.time_budget_s) if progress is True else None
        callback = bar if bar is not None else progress if callable(progress) else None
        hooks = Hooks(callback, should_stop, started)
        data = pad(train, spec.transform, spec.lookback + 2 * horizon, features)
        with training_threads(_step_work(self.config, spec)):
            nets, epochs = fit_members(data, spec, self.config, device, hooks)
        del data  # the padded panel: not needed by what follows
        heap.release()
        if bar is not None:
            bar.close(time.monotonic() - started)
        self._install(nets, spec, panel.tail(spec.lookback), device, features)
        self.calibration = self._calibrate(train)
        heap.release()
        self.cutoffs = {uid: train.last(i) for i, uid in enumerate(train.ids)}
        self.epochs_run = epochs
        self.data_summary = panel.summary()
        self.train_seconds = time.monotonic() - started
        if self.config.backtest_windows:
            offsets = own_offsets(horizon, self.config.backtest_windows)
            self.evaluation = evaluate(self, panel, offsets)
            heap.release()
            self.backtest_report = self.evaluation.report()
            self.metrics = summary(self.backtest_report)
        return self

    def _calibrate(self, train: Panel) -> Calibration:
        """Conformal factors from the validation window (the last horizon of ``train``)."""
        spec = self._fitted()
        history = train.cut(spec.horizon)
        raw = forecast_panel(self._nets, spec, history, torch.device(self.device), self.features)
        actual = np.stack([v[len(v) - spec.horizon :] for v in train.values])
        return calibration.fit(actual, raw, spec.levels)

    def _install(
        self,
        nets: list[QuantileRNN],
        spec: NetSpec,
        tail: Panel,
        device: torch.device,
        features: FeatureSpec | None,
    ) -> None:
        self._nets, self._spec, self._tail, self.features = nets, spec, tail, features
        if features is not None:
            self.covariates = features.covariates
        self.horizon, self.freq, self.min_history = spec.horizon, tail.freq, spec.lookback
        self.device = str(device)
        self.n_params = sum(count_parameters(n) for n in nets)
        self.library_versions = library_versions()

    # ----- inference ------------------------------------------------------------------------
    def predict(
        self,
        df: pd.DataFrame | None = None,
        horizon: int | None = None,
        future: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` steps (default: the trained horizon) after each series of ``df``
        (default: the training data). Returns unique_id, ds, mean and one column per quantile.

        Future-known covariates come from ``future`` (a long frame ``unique_id, ds`` and the
        future columns; it wins) or else from the future rows of ``df`` (or of the training
        frame); a missing step is a CovariateError naming its timestamp."""
        spec = self._fitted()
        steps = spec.horizon if horizon is None else horizon
        _check_horizon(steps)
        if steps > spec.horizon:
            raise HorizonError(f"horizon {steps} exceeds the trained horizon {spec.horizon}")
        if df is None:
            assert self._tail is not None
            panel = self._tail if future is None else with_future(self._tail, future)
            panel.require_future(steps)
        else:
            panel = self.prepare(df, future, steps)
        forecasts = self.forecast_panel(panel)
        return forecast_frame(panel, forecasts, spec.levels, self.config.quantiles, steps)

    def prepare(
        self, df: pd.DataFrame, future: pd.DataFrame | None = None, horizon: int | None = None
    ) -> Panel:
        """Validate ``df`` (and ``future``, see ``predict``) against the trained frequency, the
        covariates and the history the model needs; future-known covariates must cover
        ``horizon`` steps (default: the trained horizon; 0: none, as a backtest inside the
        data needs)."""
        spec = self._fitted()
        panel = prepare(df, self.freq, self.config.fill, self.covariates)
        _require_length(panel, min_points(spec), "prediction")
        if future is not None:
            panel = with_future(panel, future)
        panel.require_future(spec.horizon if horizon is None else horizon)
        return panel

    def forecast_panel(self, panel: Panel) -> np.ndarray:
        """Calibrated quantile forecasts [series, horizon, levels] in the data's scale, with
        the seasonal naive's averaged in where ``baseline_weight`` says so (several requests'
        panels: ``forecaster.data.concat_panels``)."""
        spec = self._fitted()
        _require_length(panel, min_points(spec), "prediction")
        device = torch.device(self.device)
        return forecast_panel(self._nets, spec, panel, device, self.features, self._finish)

    def _finish(self, raw: np.ndarray, tail: Panel) -> np.ndarray:
        """Calibrated RAW forecasts of TAIL's series, shrunk towards the seasonal naive's (one
        chunk of series at a time: every step is per series)."""
        spec = self._fitted()
        out = self.calibration.apply(raw, spec.levels)
        weight = self.config.baseline_weight
        # The baseline reads what the network reads (the lookback), as the API passes no more.
        return shrink_to_baseline(out, tail.values, spec.season, spec.levels, weight)

    def backtest(self, df: pd.DataFrame, n_windows: int | None = None) -> dict[str, Any]:
        """Score this version on up to ``n_windows`` (default: ``backtest_windows``) horizons at
        the end of ``df`` that lie after its training cut-off, beside naive and seasonal naive
        on the same windows (no retraining). Raises NoHeldOutDataError, naming the cut-off,
        when not one window of new points fits."""
        self._fitted()
        panel = self.prepare(df, horizon=0)
        n = n_windows if n_windows is not None else max(self.config.backtest_windows, 1)
        offsets = held_out_offsets(panel, self.cutoffs, self.horizon, n, self.min_points)
        report = evaluate(self, panel, offsets).report()
        report["training_cutoff"] = max(self.cutoffs.values()).isoformat()
        return report

    def score(self, df: pd.DataFrame, n_windows: int = 1) -> dict[str, Any]:
        """Headline metrics (as ``metrics``) over the last ``n_windows`` horizons of ``df``,
        whether or not the model trained on them: for data known to be new. ``backtest``
        guards the cut-off."""
        self._fitted()
        panel = self.prepare(df, horizon=0)
        return summary(evaluate(self, panel, own_offsets(self.horizon, n_windows)).report())

    @property
    def levels(self) -> tuple[float, ...]:
        """Quantile levels the network emits (the configured ones plus the median)."""
        return self._fitted().levels

    @property
    def min_points(self) -> int:
        """The fewest points per series predict accepts (it pads them up to ``min_history``)."""
        return min_points(self._fitted())

    @property
    def transform(self) -> str:
        """``log`` when the training data was strictly positive (modelled in log space)."""
        return self._fitted().transform

    @property
    def season(self) -> int:
        """The season length (in steps) of the trained frequency; MASE scales by it."""
        return self._fitted().season

    def _fitted(self) -> NetSpec:
        if self._spec is None:
            raise NotFittedError("call fit() or Forecaster.load() first")
        return self._spec

    # ----- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> str:
        """Write weights.safetensors + manifest.json; return the manifest's sha256 hex digest."""
        spec = self._fitted()
        assert self._tail is not None
        tensors = {
            f"member{i}.{k}": v for i, n in enumerate(self._nets) for k, v in n.state_dict().items()
        }
        tensors.update(save_tail(self._tail, self.features))
        manifest = {
            "config": self.config.model_dump(mode="json"),
            "spec": spec.to_json(),
            "members": len(self._nets),
            "horizon": self.horizon,
            "freq": self.freq,
            "series": {
                "ids": list(self._tail.ids),
                "tail_starts": [s.isoformat() for s in self._tail.starts],
                "tz": self._tail.tz,
            },
            "features": None if self.features is None else self.features.to_json(),
            "data_summary": self.data_summary,
            "metrics": self.metrics,
            "backtest": self.backtest_report,
            "calibration": self.calibration.to_json(),
            "training_cutoff": {
                "rule": "the last backtest_windows x horizon points of each series were held "
                "out of training targets and early stopping",
                "held_out_points": self.config.backtest_windows * self.horizon,
                "cutoffs": [self.cutoffs[uid].isoformat() for uid in self._tail.ids],
            },
            "n_params": self.n_params,
            "device": self.device,
            "train_seconds": self.train_seconds,
            "epochs_run": self.epochs_run,
            "library_versions": self.library_versions,
            "min_history": self.min_history,
        }
        return artifact.write(Path(directory), artifact.Artifact(tensors, manifest))

    @classmethod
    def load(cls, directory: Path, device: str = "cpu") -> Forecaster:
        """Load a saved model onto ``device``; raise ArtifactError on tampered, truncated or
        unknown-version artifacts. Never unpickles anything."""
        saved = artifact.read(Path(directory))
        try:
            return cls._rebuild(saved, resolve_device(device))
        except (KeyError, TypeError, ValueError, RuntimeError, pydantic.ValidationError) as exc:
            raise ArtifactError(f"{directory}: inconsistent artifact: {exc}") from exc

    @classmethod
    def _rebuild(cls, saved: artifact.Artifact, device: torch.device) -> Forecaster:
        body = saved.manifest
        model = cls(ForecastConfig.model_validate(body["config"]))
        spec = NetSpec.from_json(body["spec"])
        nets = []
        for i in range(int(body["members"])):
            net = QuantileRNN(spec)
            prefix = f"member{i}."
            state = {k[len(prefix) :]: v for k, v in saved.tensors.items() if k.startswith(prefix)}
            net.load_state_dict(state, strict=True)
            nets.append(net.to(device).eval())
        saved_features = body.get("features")
        features = None if saved_features is None else FeatureSpec.from_json(saved_features)
        tail = load_tail(saved.tensors, body, features)
        model._install(nets, spec, tail, device, features)
        for name in ("metrics", "data_summary", "train_seconds", "epochs_run", "library_versions"):
            setattr(model, name, body[name])
        model.device = str(device)
        model.backtest_report = body.get("backtest")
        model.calibration = Calibration.from_json(body.get("calibration"))
        model.cutoffs = _cutoffs(body, tail)
        return model


def _cutoffs(body: dict[str, Any], tail: Panel) -> dict[str, pd.Timestamp]:
    """Per series, the last point the version trained on; an artifact from before held-out
    backtests trained on everything up to its tail's end."""
    saved = (body.get("training_cutoff") or {}).get("cutoffs")
    if saved is None:
        return {uid: tail.last(i) for i, uid in enumerate(tail.ids)}
    return {uid: pd.Timestamp(s) for uid, s in zip(tail.ids, saved, strict=True)}


def _training_part(config: ForecastConfig, panel: Panel, horizon: int) -> Panel:
    """Every series without its last ``backtest_windows`` x ``horizon`` points (its backtest);
    each must keep a minimal input and the validation horizon."""
    for uid, length in zip(panel.ids, panel.lengths, strict=True):
        check_length(uid, int(length), panel.freq, horizon, config.backtest_windows)
    return panel.cut(config.backtest_windows * horizon)


def _check_horizon(horizon: int) -> None:
    if not isinstance(horizon, int | np.integer) or isinstance(horizon, bool) or horizon < 1:
        raise HorizonError(f"horizon must be an integer >= 1, got {horizon!r}")


def _require_length(panel: Panel, needed: int, purpose: str) -> None:
    for uid, length in zip(panel.ids, panel.lengths, strict=True):
        if length < needed:
            raise InvalidDataError(f"{length} points; {purpose} needs at least {needed}", uid)


def _plan(
    config: ForecastConfig, panel: Panel, horizon: int, features: FeatureSpec | None = None
) -> NetSpec:
    """The network's geometry from the config, the frequency, the horizon, the data and its
    covariate features."""
    seasons = seasonality(panel.freq)
    floor = min_lookback(seasons.season, horizon)
    # Every series needs a minimal input and its validation horizon; shorter windows are padded.
    _require_length(panel, floor + horizon, f"training (horizon {horizon})")
    # Capped by the 10th-percentile series, not the shortest: one short series must not shrink
    # every window; series shorter than lookback + 2 x horizon are padded on the left.
    short = int(np.quantile(panel.lengths, SHORT_QUANTILE, method="lower"))
    room = short - 2 * horizon
    if config.lookback is not None:
        lookback = config.lookback
    else:
        lookback = choose_lookback(seasons.season, seasons.long_season, horizon, room)
    return NetSpec(
        cell=config.cell,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout=config.dropout,
        bidirectional=config.bidirectional,
        lookback=lookback,
        patch=choose_patch(lookback, seasons.season, config.encoder_steps),
        season=seasons.season,
        horizon=horizon,
        levels=model_levels(config.quantiles),
        periods=seasons.periods,
        transform="log" if all(float(v.min()) > 0 for v in panel.values) else "none",
        **(features.net_dims() if features is not None else {}),
    )


def min_points(spec: NetSpec) -> int:
    """The fewest points a series may have at prediction; up to the lookback it is padded."""
    return min(spec.lookback, min_lookback(spec.season, spec.horizon))


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ForecasterError("device 'cuda' requested but CUDA is not available")
    return torch.device(name)


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        versions[name] = metadata.version(name)
    return versions


def _step_work(config: ForecastConfig, spec: NetSpec) -> float:
    """Multiply-adds of one training step's recurrence (``forecaster.threads``)."""
    directions = 2 if spec.bidirectional else 1
    steps = spec.lookback // spec.patch
    return recurrence_work(config.batch_size, steps, spec.hidden_size, spec.num_layers, directions)
