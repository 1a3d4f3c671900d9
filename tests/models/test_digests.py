"""Frame digests: every covariate value counts, and frames without covariates hash as before."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from api.provenance import input_sha256
from models.digests import data_sha256


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": ["a", "a", "b"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"]),
            "y": [1.0, 2.0, np.nan],
            "promo": [0.0, 1.0, 1.0],
            "region": ["north", "north", None],
        }
    )


def test_a_single_covariate_value_changes_the_data_hash() -> None:
    base = data_sha256(_frame())
    assert data_sha256(_frame()) == base
    assert data_sha256(_frame().assign(promo=[0.0, 1.0, 0.0])) != base
    assert data_sha256(_frame().assign(region=["north", "south", None])) != base
    assert data_sha256(_frame().rename(columns={"promo": "price"})) != base
    assert data_sha256(_frame().drop(columns="region")) != base


def test_an_input_without_covariates_hashes_as_before_covariates_existed() -> None:
    frame = _frame()[["unique_id", "ds", "y"]].fillna(3.0)
    header = {"horizon": 2, "quantiles": [0.1, 0.9], "series": ["a", "b"]}
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    digest.update(np.array([2, 1], dtype="<i8").tobytes())
    digest.update(frame["ds"].to_numpy(dtype="datetime64[ns]").view(np.int64).astype("<i8"))
    digest.update(frame["y"].to_numpy(dtype="<f8").tobytes())
    assert input_sha256(frame, 2, [0.1, 0.9]) == digest.hexdigest()
    future = pd.DataFrame({"unique_id": ["a"], "ds": pd.to_datetime(["2024-01-03"]), "promo": [1]})
    with_future = input_sha256(frame, 2, [0.1, 0.9], future)
    assert with_future != digest.hexdigest()
    assert input_sha256(frame, 2, [0.1, 0.9], future.assign(promo=[0])) != with_future
