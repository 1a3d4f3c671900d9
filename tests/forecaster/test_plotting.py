"""``forecaster.plot``: the fan chart's bands, lines and dots are the data they were given."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

import forecaster
from forecaster.plotting import central_bands

matplotlib.use("Agg")


def _history() -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=48, freq="h")
    return pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(48.0) + i})
            for i, uid in enumerate("ab")
        ]
    )


def _forecast() -> pd.DataFrame:
    ds = pd.date_range("2024-01-03", periods=6, freq="h")
    mean = np.linspace(50, 55, 6)
    frames = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": ds,
                "mean": mean + i,
                "q0.025": mean + i - 4,
                "q0.1": mean + i - 2,
                "q0.5": mean + i,
                "q0.9": mean + i + 2,
                "q0.975": mean + i + 4,
            }
        )
        for i, uid in enumerate("ab")
    ]
    return pd.concat(frames, ignore_index=True)


def test_central_bands_pair_the_quantiles_widest_first() -> None:
    bands = central_bands(_forecast())
    assert bands == [(0.95, "q0.025", "q0.975"), (0.8, "q0.1", "q0.9")]


def test_fan_chart_draws_history_bands_median_and_actuals() -> None:
    actuals = _forecast()[["unique_id", "ds"]].assign(y=7.0)
    figure = forecaster.plot(_history(), _forecast(), actuals=actuals)
    axes = figure.get_axes()
    assert [ax.get_title(loc="left") for ax in axes] == ["a", "b"]
    history_line, median_line = axes[1].get_lines()
    assert history_line.get_ydata().tolist() == (np.arange(18.0, 48.0) + 1).tolist()  # 5 horizons
    assert median_line.get_ydata().tolist() == (np.linspace(50, 55, 6) + 1).tolist()
    bands = axes[1].collections[:2]
    upper_95 = bands[0].get_paths()[0].vertices[:, 1].max()
    assert upper_95 == pytest.approx(55 + 1 + 4)
    assert axes[1].collections[2].get_offsets()[:, 1].tolist() == [7.0] * 6
    everything = forecaster.plot(_history(), _forecast(), history_points=1000)
    assert len(everything.get_axes()[0].get_lines()[0].get_ydata()) == 48
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert labels == ["history", "95% interval", "80% interval", "forecast", "actuals"]


def test_the_core_and_the_client_load_without_matplotlib_or_torch() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import forecaster, forecaster.client\n"
        "assert 'torch' not in sys.modules\n"
        "try:\n"
        "    forecaster.plot(None, None)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'forecaster[plot]'" in result.stdout
