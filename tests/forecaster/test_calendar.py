"""Future timestamps stay inside the representable range (no wrap to 1677)."""

from __future__ import annotations

import pandas as pd
import pytest

from forecaster.calendar import future_index
from forecaster.errors import HorizonError


def test_future_index_follows_the_last_timestamp() -> None:
    index = future_index(pd.Timestamp("2024-01-31"), "D", 3)
    assert list(index) == list(pd.date_range("2024-02-01", periods=3, freq="D"))


@pytest.mark.parametrize(
    ("last", "freq", "horizon"), [("2262-04-09", "D", 5), ("2262-01-01", "MS", 4)]
)
def test_a_horizon_past_2262_is_refused(last: str, freq: str, horizon: int) -> None:
    with pytest.raises(HorizonError, match="2262-04-11"):
        future_index(pd.Timestamp(last), freq, horizon)


def test_a_horizon_ending_just_inside_the_range_is_kept() -> None:
    index = future_index(pd.Timestamp("2262-04-09"), "D", 2)
    assert index[-1] == pd.Timestamp("2262-04-11")
