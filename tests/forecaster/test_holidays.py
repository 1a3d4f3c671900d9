"""Holiday features: the ``holidays`` package's dates, on each timestamp's local date."""

from __future__ import annotations

from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest

from forecaster import CovariateSpec, Forecaster, HolidaySpec
from forecaster.data import prepare
from forecaster.features import HOLIDAY_REACH, fit_features, holiday_features
from forecaster.windows import pad
from tests.forecaster.conftest import TINY

BRANDENBURG = HolidaySpec(country="DE", subdiv="BB")


def berlin_hours(start: str, end: str) -> pd.DataFrame:
    """An hourly series in local Berlin time (one hour missing in March, one repeated in
    October: regular in UTC)."""
    ds = pd.date_range(
        pd.Timestamp(start, tz="Europe/Berlin"), pd.Timestamp(end, tz="Europe/Berlin"), freq="h"
    )
    return pd.DataFrame({"unique_id": "berlin", "ds": ds, "y": 1.0 + np.arange(len(ds)) % 24})


def _expected(ds: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Is-holiday, days to the next and since the last holiday, from the package directly."""
    calendar = holidays.country_holidays("DE", subdiv="BB", years=range(2023, 2026))
    dates = sorted(calendar)
    local = [stamp.date() for stamp in ds]  # the tz-aware stamps' own dates
    flags = np.array([d in calendar for d in local], dtype=float)
    to_next = np.array([min((h - d).days for h in dates if h >= d) for d in local])
    since = np.array([min((d - h).days for h in dates if h <= d) for d in local])
    return flags, to_next, since


@pytest.mark.parametrize(
    ("start", "end"),
    [("2024-03-27 00:00", "2024-04-03 23:00"), ("2024-10-24 00:00", "2024-11-02 23:00")],
)
def test_hourly_features_follow_the_local_dates_across_dst_changes(start: str, end: str) -> None:
    frame = berlin_hours(start, end)
    panel = prepare(frame)
    assert panel.tz == "Europe/Berlin"
    features = fit_features(panel, CovariateSpec(), BRANDENBURG)
    assert features is not None
    encoded = pad(panel, "none", 0, features).covariates
    assert encoded is not None
    got = encoded.real[0].numpy()
    flags, to_next, since = _expected(frame["ds"])
    # Brandenburg: Good Friday, Easter Sunday (23 hours: the clocks go forward) and Easter
    # Monday; in autumn Reformation Day, four days after the clocks went back.
    assert flags.sum() in (24 + 23 + 24, 24)
    np.testing.assert_array_equal(got[:, 0], flags)
    np.testing.assert_allclose(got[:, 1], np.minimum(to_next, HOLIDAY_REACH) / HOLIDAY_REACH)
    np.testing.assert_allclose(got[:, 2], np.minimum(since, HOLIDAY_REACH) / HOLIDAY_REACH)


def test_local_midnight_is_the_holiday_not_the_utc_date() -> None:
    # Local midnight of Easter Monday 2024 (summer time) is 22:00 UTC on Easter Sunday.
    stamps = pd.DatetimeIndex(["2024-03-31 21:00", "2024-03-31 22:00", "2024-04-01 21:00"])
    got = holiday_features(stamps, HolidaySpec(country="DE"), "Europe/Berlin")
    assert got[:, 0].tolist() == [0.0, 1.0, 1.0]
    naive = holiday_features(stamps, HolidaySpec(country="DE"), None)  # as given
    assert naive[:, 0].tolist() == [0.0, 0.0, 1.0]


def test_a_named_time_zone_reads_naive_stamps_as_utc_and_matches_the_aware_input() -> None:
    frame = berlin_hours("2024-03-27 00:00", "2024-04-03 23:00")
    as_utc = frame.assign(ds=frame["ds"].dt.tz_convert("UTC").dt.tz_localize(None))
    panel = prepare(as_utc)  # naive UTC stamps, as the service stores them
    assert panel.tz is None
    zoned = BRANDENBURG.model_copy(update={"timezone": "Europe/Berlin"})
    features = fit_features(panel, CovariateSpec(), zoned)
    assert features is not None
    encoded = pad(panel, "none", 0, features).covariates
    assert encoded is not None
    flags, to_next, since = _expected(frame["ds"])
    np.testing.assert_array_equal(encoded.real[0].numpy()[:, 0], flags)
    got = encoded.real[0].numpy()
    np.testing.assert_allclose(got[:, 1], np.minimum(to_next, HOLIDAY_REACH) / HOLIDAY_REACH)
    np.testing.assert_allclose(got[:, 2], np.minimum(since, HOLIDAY_REACH) / HOLIDAY_REACH)
    # Without the zone the same naive stamps count by their UTC dates: Good Friday's edges (1 h
    # each side, winter time) and the Easter Sunday-Monday block's (1 h before, 2 h after:
    # summer time) land on the wrong day.
    plain = fit_features(panel, CovariateSpec(), BRANDENBURG)
    assert plain is not None
    utc_flags = pad(panel, "none", 0, plain).covariates
    assert utc_flags is not None
    assert (utc_flags.real[0].numpy()[:, 0] != flags).sum() == 5


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Nowhere'"):
        HolidaySpec(country="DE", timezone="Europe/Nowhere")


def test_horizon_features_need_nothing_from_the_user(tmp_path: Path) -> None:
    frame = berlin_hours("2024-03-01 00:00", "2024-03-29 04:00")  # ends on Good Friday
    config = TINY.model_copy(update={"holidays": BRANDENBURG})
    model = Forecaster(config).fit(frame, horizon=6)
    assert model.features is not None
    assert model.features.tz == "Europe/Berlin"
    forecast = model.predict()
    assert len(forecast) == 6
    assert np.isfinite(forecast["mean"]).all()
    model.save(tmp_path)
    loaded = Forecaster.load(tmp_path)
    assert loaded.config.holidays == BRANDENBURG
    pd.testing.assert_frame_equal(loaded.predict(), forecast)
    pd.testing.assert_frame_equal(loaded.predict(frame), forecast)
