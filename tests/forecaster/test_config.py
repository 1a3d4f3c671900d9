"""ForecastConfig: defaults, every field's validation, quantile column names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from forecaster import DEFAULT_QUANTILES, ForecastConfig, quantile_column
from forecaster.config import model_levels


def test_defaults_give_median_and_80_95_intervals() -> None:
    config = ForecastConfig()
    assert config.quantiles == (0.025, 0.1, 0.5, 0.9, 0.975) == DEFAULT_QUANTILES
    assert config.cell == "gru"
    assert config.lookback is None
    assert config.ensemble >= 1
    assert config.time_budget_s is not None


def test_config_is_frozen_and_refuses_unknown_fields() -> None:
    config = ForecastConfig()
    with pytest.raises(ValidationError):
        config.hidden_size = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ForecastConfig(hidden=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cell", "transformer"),
        ("hidden_size", 0),
        ("hidden_size", 10_000),
        ("num_layers", 0),
        ("num_layers", 9),
        ("dropout", -0.1),
        ("dropout", 1.0),
        ("dropout", float("nan")),
        ("bidirectional", "sometimes"),
        ("lookback", 1),
        ("lookback", 10**6),
        ("quantiles", ()),
        ("quantiles", (0.0, 0.5)),
        ("quantiles", (0.5, 1.0)),
        ("quantiles", (0.1, 0.1)),
        ("quantiles", (float("nan"),)),
        ("epochs", 0),
        ("batch_size", 0),
        ("learning_rate", 0.0),
        ("learning_rate", 2.0),
        ("learning_rate", float("inf")),
        ("patience", 0),
        ("seed", -1),
        ("ensemble", 0),
        ("ensemble", 65),
        ("device", "tpu"),
        ("time_budget_s", 0.0),
        ("time_budget_s", float("inf")),
        ("fill", "bfill"),
    ],
)
def test_every_field_is_validated(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        ForecastConfig(**{field: value})
    assert field in str(info.value)


def test_quantiles_are_sorted_and_the_median_is_always_modelled() -> None:
    config = ForecastConfig(quantiles=(0.9, 0.1))
    assert config.quantiles == (0.1, 0.9)
    assert model_levels(config.quantiles) == (0.1, 0.5, 0.9)


def test_round_trips_through_json() -> None:
    config = ForecastConfig(cell="lstm", lookback=48, time_budget_s=None)
    assert ForecastConfig.model_validate(config.model_dump(mode="json")) == config


@pytest.mark.parametrize(
    ("q", "name"), [(0.1, "q0.1"), (0.025, "q0.025"), (0.5, "q0.5"), (0.975, "q0.975")]
)
def test_quantile_column(q: float, name: str) -> None:
    assert quantile_column(q) == name
