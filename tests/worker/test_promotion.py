"""The champion/challenger decision as a table (lower scores are better)."""

from __future__ import annotations

from typing import Any

import pytest

from worker.promotion import Decision, Policy, PromoteSpec, badness, decide, recheck


@pytest.mark.parametrize(
    ("policy", "challenger", "champion", "margin", "promote"),
    [
        ("never", 0.1, 1.0, 0.0, False),
        ("never", 0.1, None, 0.0, False),
        ("always", 9.0, 1.0, 0.0, True),
        ("always", None, 1.0, 0.0, True),
        ("if_better", 0.9, 1.0, 0.0, True),
        ("if_better", 1.0, 1.0, 0.0, False),  # a tie keeps the champion
        ("if_better", 1.1, 1.0, 0.0, False),
        ("if_better", 0.96, 1.0, 0.05, False),  # better, but not by the margin
        ("if_better", 0.94, 1.0, 0.05, True),
        ("if_better", 0.5, None, 0.0, True),  # no champion to beat
        ("if_better", None, 1.0, 0.0, False),  # an unscorable challenger never wins
        ("if_better", None, None, 0.0, False),
    ],
)
def test_decision_table(
    policy: Policy,
    challenger: float | None,
    champion: float | None,
    margin: float,
    promote: bool,
) -> None:
    decision = decide(policy, challenger, champion, margin)
    assert isinstance(decision, Decision)
    assert decision.promote is promote
    assert decision.reason


@pytest.mark.parametrize(
    ("metric", "scores", "expected"),
    [
        ("mase", {"mase": 0.8}, 0.8),
        ("mase", {"mae": 0.8}, None),
        ("mase", {"mase": float("nan")}, None),
        ("coverage_95", {"coverage_95": 0.9}, pytest.approx(0.05)),
        ("unknown", {"unknown": 1.0}, None),
    ],
)
def test_badness(metric: str, scores: dict[str, float], expected: object) -> None:
    assert badness(metric, scores) == expected


def test_promote_spec_parses_defaults_and_rejects_unknown_policies() -> None:
    spec = PromoteSpec.from_spec({"alias": "production"})
    assert spec == PromoteSpec(alias="production", policy="if_better", metric="mase")
    assert PromoteSpec.from_spec(None) is None
    with pytest.raises(ValueError, match="policy"):
        PromoteSpec.from_spec({"alias": "p", "policy": "sometimes"})


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
