"""Champion/challenger promotion: whether a newly trained version takes over an alias.

The decision itself is a pure function (``decide``); ``evaluate`` gathers its inputs by
backtesting the challenger and the alias's current version on the same most recent windows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from forecaster import Forecaster
from forecaster.errors import ForecasterError
from models.job_specs import PromoteSpec as PromoteSpec  # the one typed spec, re-exported

log = logging.getLogger(__name__)

Policy = Literal["never", "always", "if_better"]
POLICIES: tuple[Policy, ...] = ("never", "always", "if_better")
# Metrics where smaller is better; coverage is judged by its distance to the nominal level.
LOWER_IS_BETTER = frozenset({"mae", "rmse", "smape", "mase", "msis"})
BACKTEST_WINDOWS = 1


@dataclass(frozen=True)
class Decision:
    """Whether to move the alias, and why."""

    promote: bool
    reason: str


def badness(metric: str, scores: dict[str, Any]) -> float | None:
    """The score to minimise for ``metric`` (None when it is missing or not finite)."""
    value = scores.get(metric)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if metric in LOWER_IS_BETTER:
        return float(value)
    if metric.startswith("coverage_"):
        return abs(float(value) - int(metric.removeprefix("coverage_")) / 100)
    return None


def decide(
    policy: Policy,
    challenger: float | None,
    champion: float | None,
    min_improvement: float = 0.0,
) -> Decision:
    """The promotion decision from two scores where lower is better.

    With ``if_better`` the challenger must beat the champion by ``min_improvement``, a fraction
    of the champion's score (0.05 = at least 5% better); a tie keeps the champion. A challenger
    that cannot be scored never wins; a champion that cannot be scored (absent, or unable to
    forecast this data) is no obstacle.
    """
    if policy == "never":
        return Decision(False, "policy is never")
    if policy == "always":
        return Decision(True, "policy is always")
    if challenger is None:
        return Decision(False, "challenger could not be scored")
    if champion is None:
        return Decision(True, "no champion score to beat")
    threshold = champion - abs(champion) * min_improvement
    if challenger < threshold:
        return Decision(True, f"challenger {challenger:.6g} beats champion {champion:.6g}")
    return Decision(False, f"challenger {challenger:.6g} does not beat champion {champion:.6g}")


def backtest(model: Forecaster, df: pd.DataFrame, metric: str) -> tuple[float | None, str | None]:
    """The model's ``metric`` on the most recent windows of ``df`` (or why it has none)."""
    try:
        scores = model.score(df, n_windows=BACKTEST_WINDOWS)
    except (ForecasterError, ValueError) as exc:
        return None, str(exc)
    value = badness(metric, scores)
    return value, None if value is not None else f"metric {metric!r} not available"


def evaluate(
    promote: PromoteSpec,
    challenger: Forecaster,
    champion: tuple[int, Callable[[], Forecaster]] | None,
    df: pd.DataFrame,
) -> dict[str, Any]:
    """Backtest challenger and champion (version, loader) and return the promotion record.

    The record is what the job and the new version store in their ``promotion`` column; its
    ``promoted`` key says whether the alias moves.
    """
    record: dict[str, Any] = {
        "alias": promote.alias,
        "policy": promote.policy,
        "metric": promote.metric,
        "min_improvement": promote.min_improvement,
        "backtest_windows": BACKTEST_WINDOWS,
        "challenger": None,
        "champion": None,
    }
    challenger_score = champion_score = None
    if promote.policy == "if_better":
        challenger_score, error = backtest(challenger, df, promote.metric)
        record["challenger"] = {"score": challenger_score, "error": error}
        if champion is not None:
            champion_score, error = _score_champion(champion[1], df, promote.metric)
            record["champion"] = {"version": champion[0], "score": champion_score, "error": error}
    elif champion is not None:
        record["champion"] = {"version": champion[0]}
    decision = decide(promote.policy, challenger_score, champion_score, promote.min_improvement)
    record.update(promoted=decision.promote, decision=decision.reason)
    return record


def _score_champion(
    load: Callable[[], Forecaster], df: pd.DataFrame, metric: str
) -> tuple[float | None, str | None]:
    try:
        model = load()
    except (ForecasterError, OSError, ValueError) as exc:
        log.warning("champion could not be loaded", extra={"error": str(exc)})
        return None, f"champion could not be loaded: {exc}"
    return backtest(model, df, metric)


def recheck(record: dict[str, Any], current: int | None) -> dict[str, Any]:
    """The record, with the promotion withdrawn if the alias moved since it was decided.

    ``current`` is the version the alias points at now (read under the model's lock, in the
    transaction that would move it). With ``if_better`` the decision holds only against the
    champion it was scored against; a human or another job that moved the alias meanwhile wins.
    """
    evaluated = (record.get("champion") or {}).get("version")
    if not record["promoted"] or record["policy"] != "if_better" or current == evaluated:
        return record
    reason = f"the alias moved to version {current} during training; champion not re-scored"
    return {**record, "promoted": False, "decision": reason}
