"""Champion/challenger promotion: whether a newly trained version takes over an alias.

The decision itself is a pure function (``decide``) of the ``Evidence``; ``evaluate`` gathers it:
- the challenger's own backtest (computed once, in ``fit``, on windows it never trained or
  early-stopped on) against seasonal naive on the identical windows: the baseline gate;
- the champion (the alias's current version) forecasting the challenger's windows with its
  stored network, no retraining, only where every point lies after the champion's own training
  cut-off and only the steps both horizons cover. The challenger's stored forecasts are cut to
  the same windows and steps, so both are scored on identical timestamps.
A champion whose artifact cannot be loaded is no obstacle (it could not serve either); a healthy
champion that cannot be scored on such points makes the decision ``not_comparable``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from forecaster import Forecaster, backtest
from forecaster.backtest import Evaluation, unseen_points
from forecaster.errors import ArtifactError, ForecasterError
from models.errors import StoreError
from models.job_specs import PromoteSpec as PromoteSpec  # the one typed spec, re-exported

log = logging.getLogger(__name__)

Policy = Literal["never", "always", "if_better"]
POLICIES: tuple[Policy, ...] = ("never", "always", "if_better")
# Metrics a promotion may compare; smaller is better for each.
LOWER_IS_BETTER = frozenset({"mae", "rmse", "smape", "mase", "msis", "pinball"})
ChampionState = Literal["none", "broken", "not_comparable", "scored"]


@dataclass(frozen=True)
class Decision:
    """Whether to move the alias, the outcome's name and why, in words."""

    promote: bool
    reason: str
    outcome: str = ""


@dataclass(frozen=True)
class Evidence:
    """What a decision rests on. ``mase``/``naive_mase``: the challenger's backtest and seasonal
    naive on the same windows; ``challenger``/``champion``: ``metric`` on the points both
    forecast (when ``state`` is "scored"); ``note``: why a champion is broken or not comparable."""

    mase: float | None = None
    naive_mase: float | None = None
    state: ChampionState = "none"
    challenger: float | None = None
    champion: float | None = None
    champion_version: int | None = None
    note: str = ""
    metric: str = "mase"

    @property
    def skill(self) -> float | None:
        """1 - MASE / MASE(seasonal naive), None where undefined."""
        if self.mase is None or not self.naive_mase:
            return None
        return 1.0 - self.mase / self.naive_mase


def value(metric: str, scores: dict[str, Any] | None) -> float | None:
    """``metric`` from a metrics dict, if it is a finite lower-is-better number."""
    found = (scores or {}).get(metric)
    if metric not in LOWER_IS_BETTER or not isinstance(found, int | float):
        return None
    return float(found) if math.isfinite(found) else None


def decide(policy: Policy, evidence: Evidence, min_improvement: float = 0.0) -> Decision:
    """The promotion decision.

    ``if_better`` promotes only a challenger that beats seasonal naive on MASE on its backtest
    windows (skill > 0) and, when a comparable champion exists, beats it on the chosen metric
    by ``min_improvement`` (a fraction of the champion's score; a tie keeps the champion).
    """
    if policy == "never":
        return Decision(False, "policy is never", "kept")
    if policy == "always":
        return Decision(True, "policy is always", "promoted")
    e, skill = evidence, evidence.skill
    if skill is None:
        reason = "the challenger has no backtest MASE to judge it by (backtest_windows is 0?)"
        return Decision(False, reason, "not_scored")
    gate = f"MASE {e.mase:.4g} vs seasonal naive {e.naive_mase:.4g} (skill {skill:.3g})"
    if skill <= 0:
        return Decision(
            False, f"challenger does not beat seasonal naive: {gate}", "refused_baseline"
        )
    if e.state == "none":
        return Decision(True, f"no champion; challenger beats seasonal naive: {gate}", "promoted")
    champion = f"champion v{e.champion_version}"
    if e.state == "broken":
        reason = f"{champion} cannot be used ({e.note}), so it is no obstacle; challenger {gate}"
        return Decision(True, reason, "promoted")
    if e.state == "not_comparable" or e.challenger is None or e.champion is None:
        reason = f"not_comparable: {e.note or 'no score'}; challenger {gate}"
        return Decision(False, reason, "not_comparable")
    threshold = e.champion - abs(e.champion) * min_improvement
    versus = f"{e.metric} {e.challenger:.6g} vs {champion} {e.champion:.6g} on the same points"
    if e.challenger < threshold:
        return Decision(True, f"challenger beats {champion}: {versus}; {gate}", "promoted")
    return Decision(False, f"challenger does not beat {champion}: {versus}; {gate}", "kept")


def evaluate(
    promote: PromoteSpec,
    challenger: Forecaster,
    champion: tuple[int, Callable[[], Forecaster]] | None,
    df: pd.DataFrame,
) -> dict[str, Any]:
    """The promotion record of ``challenger`` (fitted on ``df``) against the champion (version,
    loader): every number compared, the outcome and the reason; ``promoted`` says whether the
    alias moves. The challenger is not forecast again: its backtest is reused."""
    report = challenger.backtest_report
    own = _own(challenger, promote.metric)
    evidence = Evidence(
        mase=value("mase", report and report["metrics"]),
        naive_mase=value("mase", report and report["baselines"]["seasonal_naive"]),
        metric=promote.metric,
    )
    compared: dict[str, Any] | None = None
    if champion is not None and promote.policy == "if_better":
        evidence, compared = _against_champion(evidence, champion, challenger, df)
    elif champion is not None:
        compared = {"version": champion[0]}
    decision = decide(promote.policy, evidence, promote.min_improvement)
    return {
        "alias": promote.alias,
        "policy": promote.policy,
        "metric": promote.metric,
        "min_improvement": promote.min_improvement,
        "challenger": {**own, "score": evidence.challenger if compared else own["score"]},
        "champion": compared,
        "promoted": decision.promote,
        "outcome": decision.outcome,
        "decision": decision.reason,
    }


def _own(challenger: Forecaster, metric: str) -> dict[str, Any]:
    report = challenger.backtest_report
    if report is None:
        return {"backtest_windows": 0, "score": None}
    return {
        "backtest_windows": len(report["windows"]),
        "windows": [w["cutoff"] for w in report["windows"]],
        "steps": report["steps"],
        "score": value(metric, report["metrics"]),
        "mase": report["metrics"]["mase"],
        "seasonal_naive_mase": report["baselines"]["seasonal_naive"]["mase"],
        "skill": report["skill"]["mase"],
    }


def _against_champion(
    evidence: Evidence,
    champion: tuple[int, Callable[[], Forecaster]],
    challenger: Forecaster,
    df: pd.DataFrame,
) -> tuple[Evidence, dict[str, Any]]:
    version, load = champion
    base = {"champion_version": version}
    try:
        model = load()
    except (ArtifactError, StoreError, OSError) as exc:
        log.warning("champion cannot be loaded", extra={"version": version, "error": str(exc)})
        note = f"its artifact cannot be loaded: {exc}"
        record = {"version": version, "state": "broken", "reason": note, "score": None}
        return _with(evidence, base, state="broken", note=note), record
    try:
        scored = _score_champion(model, challenger, df, evidence.metric)
    except (ForecasterError, ValueError) as exc:
        scored = {"state": "not_comparable", "reason": f"champion cannot forecast this data: {exc}"}
    record = {"version": version, **scored}
    note = str(scored.get("reason", ""))
    fields = {"challenger": scored.get("challenger_score"), "champion": scored.get("score")}
    return _with(evidence, base, state=scored["state"], note=note, **fields), record


def _with(evidence: Evidence, base: dict[str, Any], **fields: Any) -> Evidence:
    return Evidence(**{**evidence.__dict__, **base, **fields})


def _score_champion(
    champion: Forecaster, challenger: Forecaster, df: pd.DataFrame, metric: str
) -> dict[str, Any]:
    """The champion's and the challenger's ``metric`` on the challenger's windows that lie
    wholly after the champion's training cut-off, over the steps both forecast."""
    mine = challenger.evaluation
    if mine is None:
        return {"state": "not_comparable", "reason": "the challenger has no backtest windows"}
    panel = champion.prepare(champion_frame(champion, df), horizon=0)
    unseen = unseen_points(panel, champion.cutoffs)
    usable = [w for w, offset in enumerate(mine.offsets) if bool((unseen >= offset).all())]
    if not usable:
        cutoff = max(champion.cutoffs.values()).isoformat()
        reason = f"every challenger window overlaps the champion's training data (cut-off {cutoff})"
        return {"state": "not_comparable", "reason": reason}
    steps = min(champion.horizon, mine.actual.shape[2])
    offsets = [mine.offsets[w] for w in usable]
    theirs = backtest.evaluate(champion, panel, offsets, steps=steps, scale=mine.scale)
    ours = mine.subset(usable, steps)
    return {"state": "scored", **_scores(theirs, ours, metric)}


def champion_frame(champion: Forecaster, df: pd.DataFrame) -> pd.DataFrame:
    """The challenger's training frame as the champion reads it: only the covariate columns
    it was trained with (a KeyError when the frame lacks one: not comparable), and no future
    rows for a champion without covariates."""
    columns = list(champion.covariates.columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"the data has none of the champion's covariate {missing[0]!r}")
    if not columns:
        return df.loc[df["y"].notna(), ["unique_id", "ds", "y"]]
    return df[["unique_id", "ds", "y", *columns]]


def _scores(theirs: Evaluation, ours: Evaluation, metric: str) -> dict[str, Any]:
    champion, challenger = theirs.report(), ours.report()
    return {
        "windows": list(ours.cutoffs),
        "steps": int(ours.actual.shape[2]),
        "points": int(ours.actual.size),
        "score": value(metric, champion["metrics"]),
        "challenger_score": value(metric, challenger["metrics"]),
        "seasonal_naive_score": value(metric, challenger["baselines"]["seasonal_naive"]),
    }


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
    return {**record, "promoted": False, "outcome": "kept", "decision": reason}
