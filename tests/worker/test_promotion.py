"""Champion/challenger promotion: the decision table, the baseline gate on real backtests, the
same timestamps for champion and challenger, and a champion that cannot be loaded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from forecaster import Forecaster
from forecaster.metrics import mase
from models.errors import ArtifactCorrupted
from tests.worker.procs import GOOD, UNTRAINED, noise_frame
from worker import promotion
from worker.promotion import Decision, Evidence, Policy, PromoteSpec, decide, recheck, value


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def winner() -> Forecaster:
    """A model that beats seasonal naive on its backtest (asserted where it matters)."""
    torch.set_num_threads(1)
    return Forecaster(GOOD).fit(noise_frame(), horizon=12)


def E(**fields: Any) -> Evidence:  # noqa: N802 (a table row)
    return Evidence(**{"mase": 0.8, "naive_mase": 1.0, "champion_version": 3, **fields})


@pytest.mark.parametrize(
    ("policy", "evidence", "margin", "promote", "outcome"),
    [
        ("never", E(), 0.0, False, "kept"),
        ("always", E(mase=2.0), 0.0, True, "promoted"),
        ("if_better", E(mase=None), 0.0, False, "not_scored"),
        ("if_better", E(mase=1.1), 0.0, False, "refused_baseline"),
        ("if_better", E(mase=1.0), 0.0, False, "refused_baseline"),  # a tie is no skill
        ("if_better", E(), 0.0, True, "promoted"),  # no champion, beats the baseline
        ("if_better", E(state="broken", note="sha256 differs"), 0.0, True, "promoted"),
        ("if_better", E(mase=1.2, state="broken"), 0.0, False, "refused_baseline"),
        ("if_better", E(state="not_comparable", note="overlap"), 0.0, False, "not_comparable"),
        ("if_better", E(state="scored", challenger=0.9, champion=1.0), 0.0, True, "promoted"),
        ("if_better", E(state="scored", challenger=1.0, champion=1.0), 0.0, False, "kept"),
        ("if_better", E(state="scored", challenger=0.96, champion=1.0), 0.05, False, "kept"),
        ("if_better", E(state="scored", challenger=0.94, champion=1.0), 0.05, True, "promoted"),
        (
            "if_better",
            E(state="scored", challenger=None, champion=1.0),
            0.0,
            False,
            "not_comparable",
        ),
    ],
)
def test_decision_table(
    policy: Policy, evidence: Evidence, margin: float, promote: bool, outcome: str
) -> None:
    decision = decide(policy, evidence, margin)
    assert isinstance(decision, Decision)
    assert (decision.promote, decision.outcome) == (promote, outcome)
    assert decision.reason
    if policy == "if_better" and evidence.mase is not None:
        assert f"{evidence.mase:.4g}" in decision.reason  # the numbers, in words


def test_broken_champion_reason_names_it() -> None:
    decision = decide("if_better", E(state="broken", note="sha256 differs"))
    assert "champion v3" in decision.reason
    assert "sha256 differs" in decision.reason


@pytest.mark.parametrize(
    ("metric", "scores", "expected"),
    [
        ("mase", {"mase": 0.8}, 0.8),
        ("mase", {"mae": 0.8}, None),
        ("mase", {"mase": None}, None),
        ("mase", {"mase": float("nan")}, None),
        ("coverage", {"coverage": 0.9}, None),
        ("unknown", {"unknown": 1.0}, None),
    ],
)
def test_value(metric: str, scores: dict[str, Any], expected: float | None) -> None:
    assert value(metric, scores) == expected


def test_promote_spec_parses_defaults_and_rejects_unknown_policies() -> None:
    spec = PromoteSpec.from_spec({"alias": "production"})
    assert spec == PromoteSpec(alias="production", policy="if_better", metric="mase")
    assert PromoteSpec.from_spec(None) is None
    with pytest.raises(ValueError, match="policy"):
        PromoteSpec.from_spec({"alias": "p", "policy": "sometimes"})


def test_a_version_that_loses_to_seasonal_naive_is_refused() -> None:
    # An untrained network on an almost noiseless daily cycle: seasonal naive is nearly exact.
    frame = noise_frame(noise=0.01, seasonal=3.0)
    loser = Forecaster(UNTRAINED).fit(frame, horizon=12)
    report = loser.backtest_report
    assert report is not None
    ours, naive = report["metrics"]["mase"], report["baselines"]["seasonal_naive"]["mase"]
    assert ours > naive  # first: it does lose on its windows
    record = promotion.evaluate(PromoteSpec(alias="production"), loser, None, frame)
    assert (record["promoted"], record["outcome"]) == (False, "refused_baseline")
    assert record["challenger"]["mase"] == ours
    assert record["challenger"]["seasonal_naive_mase"] == naive
    assert record["challenger"]["skill"] == pytest.approx(1 - ours / naive)
    assert f"{ours:.4g}" in record["decision"]
    assert f"{naive:.4g}" in record["decision"]


def test_a_first_version_that_beats_seasonal_naive_is_promoted(winner: Forecaster) -> None:
    record = promotion.evaluate(PromoteSpec(alias="production"), winner, None, noise_frame())
    assert record["challenger"]["skill"] > 0
    assert (record["promoted"], record["outcome"]) == (True, "promoted")
    assert record["champion"] is None


def test_champion_and_challenger_with_different_horizons_share_timestamps(
    winner: Forecaster,
) -> None:
    frame = noise_frame()
    # The champion saw data up to 24 points before the end, forecasting 8 steps.
    older = frame.groupby("unique_id").head(300 - 24)
    champion = Forecaster(GOOD.model_copy(update={"epochs": 2})).fit(older, horizon=8)
    record = promotion.evaluate(
        PromoteSpec(alias="production"), winner, (1, lambda: champion), frame
    )
    compared = record["champion"]
    assert compared["state"] == "scored"
    assert compared["steps"] == 8  # what both horizons cover
    assert compared["windows"] == record["challenger"]["windows"]  # the challenger's windows
    # Recompute both scores by hand on the first 8 steps after each of the two origins.
    scores: dict[str, list[float]] = {"champion": [], "challenger": []}
    series = {uid: g["y"].to_numpy() for uid, g in frame.groupby("unique_id")}
    for offset in (24, 12):
        history = frame.groupby("unique_id").head(300 - offset)
        for name, model in (("champion", champion), ("challenger", winner)):
            forecast = model.predict(history, horizon=8)
            for uid, y in series.items():
                f = forecast.loc[forecast["unique_id"] == uid, "mean"].to_numpy()
                actual = y[300 - offset : 300 - offset + 8]
                scores[name].append(mase(actual, f, y[: 300 - 24], 24))
    assert compared["score"] == pytest.approx(np.mean(scores["champion"]))
    assert record["challenger"]["score"] == pytest.approx(np.mean(scores["challenger"]))
    assert record["promoted"] is (compared["challenger_score"] < compared["score"])


def test_a_champion_that_trained_on_every_window_is_not_comparable(winner: Forecaster) -> None:
    frame = noise_frame()
    saw_all = GOOD.model_copy(update={"epochs": 1, "backtest_windows": 0})
    champion = Forecaster(saw_all).fit(frame, horizon=12)
    record = promotion.evaluate(
        PromoteSpec(alias="production"), winner, (4, lambda: champion), frame
    )
    assert record["challenger"]["skill"] > 0
    assert record["champion"]["state"] == "not_comparable"
    assert "cut-off" in record["champion"]["reason"]
    assert (record["promoted"], record["outcome"]) == (False, "not_comparable")


def test_a_champion_that_cannot_be_loaded_does_not_block(winner: Forecaster) -> None:
    def broken() -> Forecaster:
        raise ArtifactCorrupted("artifact abc: weights.safetensors does not match its digest")

    record = promotion.evaluate(PromoteSpec(alias="production"), winner, (2, broken), noise_frame())
    assert record["champion"]["state"] == "broken"
    assert (record["promoted"], record["outcome"]) == (True, "promoted")
    assert "champion v2 cannot be used" in record["decision"]
    assert "does not match its digest" in record["decision"]


def test_the_challenger_is_not_scored_twice(
    winner: Forecaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = noise_frame()
    champion = Forecaster(GOOD.model_copy(update={"epochs": 1})).fit(
        frame.groupby("unique_id").head(276), horizon=12
    )
    calls = {"challenger": 0, "champion": 0}
    for name, model in (("challenger", winner), ("champion", champion)):
        real = model.forecast_panel

        def counting(panel: Any, real: Any = real, name: str = name) -> np.ndarray:
            calls[name] += 1
            return real(panel)  # type: ignore[no-any-return]

        monkeypatch.setattr(model, "forecast_panel", counting)
    record = promotion.evaluate(
        PromoteSpec(alias="production"), winner, (1, lambda: champion), frame
    )
    assert record["champion"]["state"] == "scored"
    assert calls == {"challenger": 0, "champion": 2}  # two windows, champion only


def _record(policy: str, promoted: bool, champion: int | None) -> dict[str, Any]:
    return {
        "alias": "production",
        "policy": policy,
        "promoted": promoted,
        "decision": "challenger 0.8 beats champion 0.9",
        "champion": None if champion is None else {"version": champion, "score": 0.9},
        "challenger": {"score": 0.8},
    }


@pytest.mark.parametrize(
    ("policy", "promoted", "champion", "current", "still_promoted"),
    [
        ("if_better", True, 3, 3, True),  # the alias still points at the champion scored
        ("if_better", True, 3, 4, False),  # moved meanwhile: the newer choice wins
        ("if_better", True, None, 2, False),  # created meanwhile
        ("if_better", False, 3, 4, False),  # nothing to withdraw
        ("always", True, 3, 4, True),  # "always" does not depend on the champion
    ],
)
def test_recheck_withdraws_a_promotion_when_the_alias_moved(
    policy: str, promoted: bool, champion: int | None, current: int | None, still_promoted: bool
) -> None:
    record = recheck(_record(policy, promoted, champion), current)
    assert record["promoted"] is still_promoted
    if promoted and not still_promoted:
        assert f"moved to version {current}" in record["decision"]
