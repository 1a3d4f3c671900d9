"""The champion/challenger decision as a table (lower scores are better)."""

from __future__ import annotations

import pytest

from worker.promotion import Decision, Policy, PromoteSpec, badness, decide


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
