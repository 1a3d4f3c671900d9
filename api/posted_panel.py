"""Posted series straight to the core's ``Panel``: the common case without pandas validation.

A stored-model forecast of posted series used to build a long frame, trim it (``recent``) and
validate it (``Forecaster.prepare``: the one validator of long frames, a sort check, the grid):
about 4.5 ms of CPU for one series of 200 points, more than the forward pass. When the posted
series are plainly valid (no covariates, distinct ids in sorted order, finite values, every
series on the model's fixed step without a gap and long enough) the checks are a few numpy
comparisons, and the Panel is built from the parsed lists directly. Anything else (gaps,
unsorted or repeated ids, NaN, tz-aware stamps, a calendar frequency, covariates...) returns
None and takes the full path, which gives the same answers and words every error.

No frame is built at all: the answer, the input hash and the forecast log's row are made from
the arrays (``models.forecast_payload.Runs``), which hold the rows the full path's frames hold
(same series order, timestamps and values), so answers, ``input_sha256`` and the forecast log
do not change; tests compare both paths. Frames cost more than the checks: each holds dozens of
objects that the garbage collector then scans, in pauses that every request of the process waits
through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, pairwise

import numpy as np
import pandas as pd

from api.forecasting import last_rows
from api.provenance import runs_input_sha256
from api.schemas.forecast import SeriesIn
from forecaster import Forecaster
from forecaster.calendar import fixed_step_ns, parse_freq
from forecaster.data import Panel
from models.forecast_payload import Runs


@dataclass(frozen=True)
class PostedPanel:
    """The posted series (``history``: runs and values ``history_y``), the part of them
    ``given`` to the network (runs and ``given_y``), and its Panel."""

    history: Runs
    history_y: np.ndarray
    given: Runs
    given_y: np.ndarray
    panel: Panel

    def input_sha256(self, horizon: int, quantiles: Sequence[float] | None) -> str:
        """The answer's ``input_sha256``: ``api.provenance.input_sha256`` of the given frame."""
        return runs_input_sha256(self.given, self.given_y, horizon, quantiles)


def posted_panel(series: Sequence[SeriesIn], model: Forecaster) -> PostedPanel | None:
    """SERIES as ``model`` reads them, or None when the full path must check them."""
    step = fixed_step_ns(parse_freq(model.freq))
    if step is None or model.covariates or not _plain(series):
        return None
    lengths = np.array([len(s.ds) for s in series], dtype=np.int64)
    if lengths.min() < max(model.min_points, 2) or any(len(s.y) != len(s.ds) for s in series):
        return None
    values = np.fromiter(chain.from_iterable(s.y for s in series), np.float64, int(lengths.sum()))
    if not np.isfinite(values).all():
        return None
    try:  # an aware stamp makes the index aware, or (mixed with naive ones) fails
        stamps = pd.DatetimeIndex(list(chain.from_iterable(s.ds for s in series)))
        ds = stamps.astype("datetime64[ns]").asi8
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError, TypeError):
        return None
    if stamps.tz is not None:  # the full path converts to UTC
        return None
    ends = np.cumsum(lengths)
    inside = np.ones(len(ds) - 1, dtype=bool)
    inside[ends[:-1] - 1] = False  # steps between two series are not steps
    if not np.all((np.diff(ds) == step) | ~inside):
        return None
    return _built(series, lengths, values, ds, model)


def _plain(series: Sequence[SeriesIn]) -> bool:
    """No covariates; distinct ids without NUL in ascending order."""
    ids = [s.unique_id for s in series]
    if any(s.covariates or s.static or s.future for s in series):
        return False
    return not any(a >= b for a, b in pairwise(ids)) and not any("\x00" in i for i in ids)


def _built(
    series: Sequence[SeriesIn],
    lengths: np.ndarray,
    values: np.ndarray,
    ds: np.ndarray,
    model: Forecaster,
) -> PostedPanel:
    """The runs and the Panel of checked SERIES, trimmed as ``api.forecasting.recent`` trims
    them (each to the model's history, unless all of them together have no more rows than
    that many per series), with the same row selection."""
    names = [s.unique_id for s in series]
    history = Runs(np.array(names, dtype=object), lengths, ds)
    ends = np.cumsum(lengths)
    if lengths.sum() <= model.min_history * len(series):
        keep, given, given_y = lengths, history, values
    else:
        keep = np.minimum(lengths, model.min_history)
        rows = last_rows(ends - lengths, ends, model.min_history)
        given, given_y = Runs(history.names, keep, ds[rows]), values[rows]
    parts = tuple(values[end - k : end] for end, k in zip(ends, keep, strict=True))
    firsts = pd.DatetimeIndex(ds[ends - keep].view("datetime64[ns]"))
    panel = Panel(tuple(names), parts, tuple(firsts), parse_freq(model.freq).freqstr)
    return PostedPanel(history, values, given, given_y, panel)
