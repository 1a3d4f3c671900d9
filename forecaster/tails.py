"""The training series' last lookback (and their future rows), kept in the artifact's tensors so
``predict()`` without data works after ``load``; categories are stored as vocabulary codes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from forecaster.covariates import CovariateValues
from forecaster.data import Panel
from forecaster.features import FeatureSpec, codes

UNKNOWN = "\x00unknown"  # a category outside the vocabulary (NUL never comes in an id or value)


def save_tail(tail: Panel, features: FeatureSpec | None) -> dict[str, torch.Tensor]:
    """The tensors of ``tail``: values, and its covariates when it has them."""
    tensors = {"tail.values": torch.from_numpy(np.stack(tail.values))}
    values = tail.covariates
    if values is None or features is None:
        return tensors
    rows = np.array([values.rows(i) for i in range(len(tail.ids))], dtype=np.int64)
    spec = values.spec
    real = np.full((len(rows), int(rows.max()), len(spec.real_dynamic)), np.nan)
    cats = np.full((len(rows), int(rows.max()), len(spec.cat_dynamic)), -1, dtype=np.int64)
    for i, count in enumerate(rows):
        real[i, :count] = values.real[i]
        for j, name in enumerate(spec.cat_dynamic):
            column = values.cats[i][:, j]
            cats[i, :count, j] = np.where(column == None, -1, codes(column, features.vocab[name]))  # noqa: E711
    static = [
        codes(values.static_cats[:, j], features.vocab[c]) for j, c in enumerate(spec.cat_static)
    ]
    tensors.update(
        {
            "tail.rows": torch.from_numpy(rows),
            "tail.real": torch.from_numpy(real),
            "tail.cats": torch.from_numpy(cats),
            "tail.static_real": torch.from_numpy(values.static_real.astype(np.float64)),
            "tail.static_cats": torch.from_numpy(
                np.stack(static, axis=1) if static else np.zeros((len(rows), 0), dtype=np.int64)
            ),
        }
    )
    return tensors


def load_tail(
    tensors: dict[str, torch.Tensor], body: dict[str, Any], features: FeatureSpec | None
) -> Panel:
    """The inverse of ``save_tail`` (``body``: the manifest)."""
    values = tensors["tail.values"].double().numpy()
    starts = tuple(pd.Timestamp(s) for s in body["series"]["tail_starts"])
    tz = body["series"].get("tz")
    panel = Panel(tuple(body["series"]["ids"]), tuple(values), starts, str(body["freq"]), tz=tz)
    if features is None or "tail.rows" not in tensors:
        return panel
    spec = features.covariates
    rows = tensors["tail.rows"].numpy()
    real = tensors["tail.real"].numpy()
    cats = tensors["tail.cats"].numpy()
    names = [_names(features.vocab[c]) for c in spec.cat_dynamic]
    static = tensors["tail.static_cats"].numpy()
    static_names = [_names(features.vocab[c]) for c in spec.cat_static]
    covariates = CovariateValues(
        spec,
        tuple(real[i, :count] for i, count in enumerate(rows)),
        tuple(_decode(cats[i, :count], names) for i, count in enumerate(rows)),
        tensors["tail.static_real"].double().numpy(),
        _decode(static, static_names),
    )
    return Panel(panel.ids, panel.values, starts, panel.freq, covariates, tz)


def _names(vocab: tuple[str, ...]) -> np.ndarray:
    """Code -> category: -1 (no value) -> None, 0 -> UNKNOWN, k -> vocab[k - 1]."""
    return np.array([None, UNKNOWN, *vocab], dtype=object)


def _decode(codes_: np.ndarray, names: list[np.ndarray]) -> np.ndarray:
    out = np.empty(codes_.shape, dtype=object)
    for j, lookup in enumerate(names):
        out[..., j] = lookup[codes_[..., j] + 1]
    return out
