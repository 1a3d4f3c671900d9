"""``forecaster.plot``: the fan chart of a forecast, as the console draws it, with matplotlib.

History as a line, the median forecast (``mean``) as a line, each central interval the quantile
columns form (``q0.025``/``q0.975`` is the 95% band, ``q0.1``/``q0.9`` the 80% band) as a shaded
band, darker for narrower ones, and the actuals that arrived after the forecast as dots.
matplotlib is an optional extra (``pip install forecaster[plot]``), imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_SERIES = 6
HORIZONS_OF_HISTORY = 5  # the default view: the forecast beside five horizons of history
BAND_COLOR = "tab:blue"


def central_bands(forecast: pd.DataFrame) -> list[tuple[float, str, str]]:
    """``(coverage, lower column, upper column)`` of each central interval, widest first."""
    quantiles = {float(c[1:]): c for c in forecast.columns if c.startswith("q")}
    bands = [
        (round(hi - lo, 6), quantiles[lo], quantiles[hi])
        for lo in quantiles
        for hi in quantiles
        if lo < 0.5 < hi and abs(lo + hi - 1.0) < 1e-9
    ]
    return sorted(bands, reverse=True)


def plot(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    actuals: pd.DataFrame | None = None,
    *,
    unique_ids: list[str] | None = None,
    history_points: int | None = None,
) -> Figure:
    """One panel per series (the first ``MAX_SERIES`` unless ``unique_ids`` names them).

    ``history`` and ``actuals`` are long ``unique_id, ds, y`` frames; ``forecast`` is what
    ``Forecaster.predict`` or ``Client.forecast`` return. ``history_points`` is how many of each
    series' last points are drawn (default: five times the horizon, so the forecast is legible).
    Returns the matplotlib Figure (shown inline in a notebook).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "forecaster.plot needs matplotlib: pip install 'forecaster[plot]'"
        ) from exc
    ids = unique_ids or list(dict.fromkeys(forecast["unique_id"].astype(str)))[:MAX_SERIES]
    figure, axes = plt.subplots(len(ids), 1, figsize=(10, 2.6 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        _panel(ax, uid, history, forecast, actuals, history_points)
    figure.tight_layout()
    return figure


def _panel(
    ax: Any,
    uid: str,
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    actuals: pd.DataFrame | None,
    history_points: int | None,
) -> None:
    ahead = _rows(forecast, uid)
    past = _rows(history, uid).tail(history_points or HORIZONS_OF_HISTORY * max(len(ahead), 1))
    ax.plot(past["ds"], past["y"], color="black", linewidth=1, label="history")
    bands = central_bands(ahead)
    for i, (coverage, lower, upper) in enumerate(bands):
        alpha = 0.15 + 0.2 * i / max(len(bands) - 1, 1)
        label = f"{coverage:.0%} interval"
        ax.fill_between(
            ahead["ds"], ahead[lower], ahead[upper], color=BAND_COLOR, alpha=alpha, label=label
        )
    ax.plot(ahead["ds"], ahead["mean"], color=BAND_COLOR, linewidth=1.5, label="forecast")
    if actuals is not None:
        seen = _rows(actuals, uid)
        ax.scatter(seen["ds"], seen["y"], color="tab:red", s=10, zorder=3, label="actuals")
    ax.set_title(uid, loc="left")
    ax.legend(loc="upper left", fontsize="small", ncols=3)


def _rows(frame: pd.DataFrame, uid: str) -> pd.DataFrame:
    rows = frame[frame["unique_id"].astype(str) == uid]
    stamps = pd.to_datetime(rows["ds"], utc=True, format="ISO8601").dt.tz_localize(None)
    return rows.assign(ds=stamps).sort_values("ds", kind="stable")
