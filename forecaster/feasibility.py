"""What training asks of the data, checkable before any work is queued.

``Forecaster.fit`` raises the same errors, but only after a job was queued and claimed; a
service checks with these at submission, so a request that can never train is refused at once.
"""

from __future__ import annotations

import pandas as pd

from forecaster.calendar import future_index, seasonality
from forecaster.data import FillPolicy, Panel, prepare
from forecaster.errors import HorizonError, InvalidDataError
from forecaster.windows import min_lookback


def points_needed(freq: str, horizon: int, backtest_windows: int = 0) -> int:
    """The fewest points each series needs to train for ``horizon`` steps at ``freq``, with
    ``backtest_windows`` horizons held out at its end for the version's backtest."""
    if horizon < 1:
        raise HorizonError(f"horizon must be an integer >= 1, got {horizon!r}")
    return min_lookback(seasonality(freq).season, horizon) + (1 + backtest_windows) * horizon


def check_length(
    series: str, points: int, freq: str, horizon: int, backtest_windows: int = 0
) -> None:
    """InvalidDataError naming ``series`` when it is too short to train for ``horizon``."""
    needed = points_needed(freq, horizon, backtest_windows)
    if points < needed:
        why = ""
        if backtest_windows:
            held_out = backtest_windows * horizon
            why = (
                f" ({needed - held_out} to train and validate + {held_out} held out for "
                f"backtest_windows={backtest_windows}; 0 uses every point)"
            )
        raise InvalidDataError(
            f"{points} points; training with horizon {horizon} at frequency {freq!r} "
            f"needs at least {needed}{why}",
            series,
        )


def check_future(last: pd.Timestamp, freq: str, horizon: int) -> None:
    """HorizonError when ``horizon`` steps after ``last`` leave the representable range."""
    future_index(last, freq, horizon)


def check_trainable(
    df: pd.DataFrame,
    horizon: int,
    freq: str | None = None,
    fill: FillPolicy = "interpolate",
    backtest_windows: int = 0,
) -> Panel:
    """The prepared panel of ``df`` when it can train for ``horizon``; else what fit would raise
    about the data (InvalidDataError naming the series, or HorizonError)."""
    panel = prepare(df, freq, fill)
    shortest = int(panel.lengths.argmin())
    check_length(
        panel.ids[shortest], int(panel.lengths[shortest]), panel.freq, horizon, backtest_windows
    )
    check_future(max(panel.last(i) for i in range(len(panel.ids))), panel.freq, horizon)
    return panel
