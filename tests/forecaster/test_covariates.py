"""Covariate specs and the covariate columns of long frames: what is read, what is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import CovariateError, CovariateSpec, HolidaySpec, InvalidDataError
from forecaster.data import concat_panels, prepare, with_future

SPEC = CovariateSpec(
    future=("promo", "weather"),
    past=("visits",),
    static=("store", "size"),
    categorical=("weather", "store"),
)


def covariate_frame(n_series: int = 2, length: int = 30, ahead: int = 5) -> pd.DataFrame:
    """Daily series with every kind of covariate and ``ahead`` future rows (y missing)."""
    frames = []
    for i in range(n_series):
        t = np.arange(length + ahead)
        y = 10.0 + i + np.sin(t)
        y[length:] = np.nan
        visits = (t % 3).astype(float)
        visits[length:] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2024-01-01", periods=length + ahead, freq="D"),
                    "y": y,
                    "promo": (t % 7 == 3).astype(float),
                    "weather": np.where(t % 2 == 0, "sun", "rain"),
                    "visits": visits,
                    "store": f"store{i}",
                    "size": 100.0 * (i + 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_spec_groups_columns_by_kind_and_is_falsy_when_empty() -> None:
    assert SPEC.real_dynamic == ("promo", "visits")
    assert SPEC.cat_dynamic == ("weather",)
    assert SPEC.real_static == ("size",)
    assert SPEC.cat_static == ("store",)
    assert SPEC.columns == ("promo", "weather", "visits", "store", "size")
    assert SPEC
    assert not CovariateSpec()
    assert CovariateSpec().empty


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"future": ("y",)}, "'y' cannot be a covariate"),
        ({"static": ("unique_id",)}, "'unique_id' cannot be a covariate"),
        ({"future": ("a",), "past": ("a",)}, "'a' is named more than once"),
        ({"future": ("a",), "categorical": ("b",)}, "categorical column 'b' is not named"),
        ({"future": ("a", "a")}, "'a' is named more than once"),
        ({"future": ("",)}, "empty"),
    ],
)
def test_spec_refuses_bad_names(fields: dict[str, tuple[str, ...]], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        CovariateSpec(**fields)


def test_holiday_spec_is_checked_against_the_holidays_package() -> None:
    assert HolidaySpec(country="DE", subdiv="BY").subdiv == "BY"
    with pytest.raises(ValueError, match="unknown holiday country 'XX'"):
        HolidaySpec(country="XX")
    with pytest.raises(ValueError, match="unknown subdivision 'ZZ' of 'DE'"):
        HolidaySpec(country="DE", subdiv="ZZ")


def test_prepare_aligns_covariates_with_points_and_keeps_future_rows() -> None:
    frame = covariate_frame()
    panel = prepare(frame.sample(frac=1.0, random_state=0), covariates=SPEC)  # any row order
    values = panel.covariates
    assert values is not None
    assert list(panel.lengths) == [30, 30]
    assert panel.future_rows(0) == 5
    first = frame[frame["unique_id"] == "s0"]
    np.testing.assert_array_equal(values.real[0][:, 0], first["promo"].to_numpy())
    np.testing.assert_array_equal(values.real[0][:30, 1], first["visits"].to_numpy()[:30])
    assert np.isnan(values.real[0][30:, 1]).all()  # past-only: not read ahead
    assert list(values.cats[0][:3, 0]) == ["sun", "rain", "sun"]
    assert values.static_real[:, 0].tolist() == [100.0, 200.0]
    assert values.static_cats[:, 0].tolist() == ["store0", "store1"]


def test_cut_turns_points_into_future_rows_and_tail_keeps_them() -> None:
    panel = prepare(covariate_frame(), covariates=SPEC)
    cut = panel.cut(10)
    assert cut.future_rows(0) == 15
    tail = cut.tail(8)
    assert tail.future_rows(1) == 15
    assert tail.covariates is not None
    assert tail.starts[0] == pd.Timestamp("2024-01-13")
    np.testing.assert_array_equal(tail.covariates.real[0], panel.covariates.real[0][12:])  # type: ignore[union-attr]


def test_concat_panels_joins_series_and_their_covariates() -> None:
    a = prepare(covariate_frame(n_series=2), covariates=SPEC)
    b = prepare(covariate_frame(n_series=1).assign(unique_id="z"), covariates=SPEC)
    both = concat_panels([a, b])
    assert both.ids == ("s0", "s1", "z")
    assert both.covariates is not None
    assert both.covariates.static_cats[:, 0].tolist() == ["store0", "store1", "store0"]
    np.testing.assert_array_equal(both.covariates.real[2], b.covariates.real[0])  # type: ignore[union-attr]


def test_future_frame_replaces_the_future_rows() -> None:
    panel = prepare(covariate_frame(), covariates=SPEC)
    future = pd.DataFrame(
        {
            "unique_id": "s1",
            "ds": pd.date_range("2024-01-29", periods=9, freq="D"),  # 2 old days are ignored
            "promo": 5.0,
            "weather": "snow",
        }
    )
    updated = with_future(panel, future)
    assert updated.covariates is not None
    assert updated.future_rows(1) == 7
    assert updated.future_rows(0) == 5
    assert updated.covariates.real[1][30:, 0].tolist() == [5.0] * 7
    assert updated.covariates.real[1][29, 0] == panel.covariates.real[1][29, 0]  # type: ignore[union-attr]
    assert set(updated.covariates.cats[1][30:, 0]) == {"snow"}


def test_trailing_missing_y_rows_are_future_rows_even_without_covariates() -> None:
    frame = covariate_frame()[["unique_id", "ds", "y"]]
    panel = prepare(frame)
    assert list(panel.lengths) == [30, 30]
    assert panel.covariates is None


def test_missing_y_inside_the_history_is_still_refused() -> None:
    frame = covariate_frame()
    frame.loc[3, "y"] = np.nan
    with pytest.raises(InvalidDataError, match="NaN"):
        prepare(frame, covariates=SPEC)


def _error(frame: pd.DataFrame, spec: CovariateSpec = SPEC) -> CovariateError:
    with pytest.raises(CovariateError) as caught:
        prepare(frame, covariates=spec).require_future(5)
    return caught.value


def _named(error: CovariateError, series: str | None, column: str, stamp: str | None) -> None:
    assert (error.series, error.column) == (series, column)
    assert error.timestamp == (None if stamp is None else pd.Timestamp(stamp))
    text = str(error)
    assert f"column {column!r}" in text
    if series is not None:
        assert f"series {series!r}" in text
    if stamp is not None:
        assert pd.Timestamp(stamp).isoformat() in text


def test_a_missing_named_column_is_named() -> None:
    _named(_error(covariate_frame().drop(columns=["size"])), None, "size", None)


def test_an_unnamed_column_is_named() -> None:
    _named(_error(covariate_frame().assign(extra=1.0)), None, "extra", None)


def test_a_non_numeric_value_names_series_column_and_timestamp() -> None:
    frame = covariate_frame()
    frame["promo"] = frame["promo"].astype(object)
    frame.loc[(frame["unique_id"] == "s1") & (frame["ds"] == "2024-01-09"), "promo"] = "two"
    error = _error(frame)
    _named(error, "s1", "promo", "2024-01-09")
    assert "non-numeric value 'two'" in str(error)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_history_names_the_first_bad_timestamp(bad: float) -> None:
    frame = covariate_frame()
    where = frame["unique_id"] == "s0"
    frame.loc[where & frame["ds"].isin(pd.to_datetime(["2024-01-20", "2024-01-07"])), "visits"] = (
        bad
    )
    _named(_error(frame), "s0", "visits", "2024-01-07")


def test_nan_in_a_future_row_names_its_timestamp() -> None:
    frame = covariate_frame()
    frame.loc[(frame["unique_id"] == "s1") & (frame["ds"] == "2024-02-02"), "promo"] = np.nan
    _named(_error(frame), "s1", "promo", "2024-02-02")


def test_a_missing_category_names_its_timestamp() -> None:
    frame = covariate_frame()
    frame.loc[(frame["unique_id"] == "s0") & (frame["ds"] == "2024-01-03"), "weather"] = None
    _named(_error(frame), "s0", "weather", "2024-01-03")


def test_future_values_missing_for_a_horizon_step_name_the_first_step() -> None:
    frame = covariate_frame()
    gone = (frame["unique_id"] == "s1") & (frame["ds"] >= "2024-02-02")  # steps 3-5
    error = _error(frame[~gone])
    _named(error, "s1", "promo", "2024-02-02")
    assert "horizon step 3 of 5" in str(error)


def test_a_gap_in_the_future_rows_counts_as_the_missing_step() -> None:
    frame = covariate_frame()
    hole = (frame["unique_id"] == "s0") & (frame["ds"] == "2024-02-01")
    _named(_error(frame[~hole]), "s0", "promo", "2024-02-01")


def test_a_static_column_that_varies_names_where_it_changes() -> None:
    frame = covariate_frame()
    frame.loc[(frame["unique_id"] == "s1") & (frame["ds"] >= "2024-01-15"), "size"] = 7.0
    error = _error(frame)
    _named(error, "s1", "size", "2024-01-15")
    assert "constant within a series" in str(error)


def test_timestamps_of_tz_aware_frames_are_named_in_their_own_zone() -> None:
    frame = covariate_frame()
    frame["ds"] = frame["ds"].dt.tz_localize("Europe/Berlin")
    frame.loc[(frame["unique_id"] == "s0") & (frame["ds"].dt.day == 5), "promo"] = np.nan
    error = _error(frame)
    assert error.timestamp == pd.Timestamp("2024-01-05", tz="Europe/Berlin")


def test_a_future_frame_for_an_unknown_series_is_refused() -> None:
    panel = prepare(covariate_frame(), covariates=SPEC)
    future = pd.DataFrame(
        {"unique_id": "nope", "ds": [pd.Timestamp("2024-01-31")], "promo": 1.0, "weather": "sun"}
    )
    with pytest.raises(CovariateError) as caught:
        with_future(panel, future)
    assert (caught.value.series, caught.value.column) == ("nope", "unique_id")


def test_frames_without_their_key_columns_are_refused_by_name() -> None:
    with pytest.raises(InvalidDataError, match="missing column"):
        prepare(covariate_frame().drop(columns=["y"]), covariates=SPEC)
    panel = prepare(covariate_frame(), covariates=SPEC)
    future = pd.DataFrame({"unique_id": ["s0"], "promo": [1.0], "weather": ["sun"]})
    with pytest.raises(InvalidDataError, match="missing column"):
        with_future(panel, future)


def test_panels_of_different_time_zones_or_specs_are_not_concatenated() -> None:
    a = prepare(covariate_frame(), covariates=SPEC)
    berlin = covariate_frame()
    berlin["ds"] = berlin["ds"].dt.tz_localize("Europe/Berlin")
    with pytest.raises(ValueError, match="time zones"):
        concat_panels([a, prepare(berlin, covariates=SPEC)])
    plain = prepare(covariate_frame()[["unique_id", "ds", "y"]])
    with pytest.raises(ValueError, match="with and without covariates"):
        concat_panels([a, plain])
