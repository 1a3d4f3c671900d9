"""Covariates benchmark: a synthetic demand panel where promotions, prices and holidays carry
most of the signal, fitted with and without them (the same configuration otherwise).

Usage: python bench/covariates.py [--series 300] [--epochs 30] [--budget S] [--no-record]

The panel: ``--series`` daily series over three years plus a 28-day test window, one per
(store, category) pair. Demand = a store level x a category level x a weekly and a yearly
pattern x a price effect (elasticity -2 around the category's reference price; prices change
every few weeks) x a promotion lift (x1.5 to x2.1 by category, promotions in runs of 1-4 days
planned ahead) x holiday effects (German public holidays: x0.35 on the day, x1.3 the day
before), with multiplicative noise. Prices, promotions and holidays are known in advance.

It prints held-out MASE (scaled by each series' in-sample seasonal naive error, m = 7) of the
model with covariates (future: promo, price; static: store, category; holidays: DE) and without
them, beside seasonal naive on the identical windows: (1) the version's own backtest (the last
``backtest_windows`` horizons of the training data, never trained or early-stopped on) and
(2) the 28-day test window after the training data (the model forecasts from the full training
history; future promotions and prices come as a ``future`` frame). Target: with covariates
<= 0.6 x without. Without ``--no-record`` it writes its table to BENCHMARKS.md under
"## Covariates". Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import holidays
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sections import record  # noqa: E402

from forecaster import CovariateSpec, ForecastConfig, Forecaster, HolidaySpec  # noqa: E402
from forecaster.baselines import seasonal_naive  # noqa: E402
from forecaster.metrics import mase  # noqa: E402

HORIZON, SEASON, YEARS = 28, 7, 3
SECTION = "## Covariates"
SPEC = CovariateSpec(
    future=("promo", "price"), static=("store", "category"), categorical=("store", "category")
)
COUNTRY = HolidaySpec(country="DE")


def demand_panel(n_series: int, seed: int = 0) -> pd.DataFrame:
    """The long frame: history and the test window (``y`` observed everywhere)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2021-01-04", periods=YEARS * 364 + HORIZON, freq="D")
    t = np.arange(len(ds))
    calendar = holidays.country_holidays("DE", years=range(2021, 2025))
    on_holiday = np.array([d in calendar for d in ds.date], dtype=float)
    eve = np.r_[on_holiday[1:], 0.0]
    categories = 8
    lift = rng.uniform(1.5, 2.1, categories)
    reference = rng.uniform(2.0, 20.0, categories)
    weekly = rng.normal(0, 0.15, (categories, 7))
    frames = []
    for i in range(n_series):
        store, category = i // categories, i % categories
        level = rng.uniform(20, 200)
        price = _prices(rng, reference[category], len(t))
        promo = _promotions(rng, len(t))
        shape = (1 + weekly[category, ds.day_of_week]) * (1 + 0.2 * np.sin(2 * np.pi * t / 365.25))
        effect = (price / reference[category]) ** -2.0 * np.where(promo > 0, lift[category], 1.0)
        effect *= np.where(on_holiday > 0, 0.35, 1.0) * np.where(eve > 0, 1.3, 1.0)
        noise = rng.lognormal(0.0, 0.05, len(t))
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"store{store}-cat{category}",
                    "ds": ds,
                    "y": level * shape * effect * noise,
                    "promo": promo,
                    "price": price,
                    "store": f"store{store}",
                    "category": f"cat{category}",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _prices(rng: np.random.Generator, reference: float, length: int) -> np.ndarray:
    """A price that changes every 2-8 weeks by up to +-30% around the reference."""
    out = np.empty(length)
    start = 0
    while start < length:
        run = int(rng.integers(14, 57))
        out[start : start + run] = reference * rng.uniform(0.7, 1.3)
        start += run
    return np.round(out, 2)


def _promotions(rng: np.random.Generator, length: int) -> np.ndarray:
    """Promotions in runs of 1-4 days, about one day in eight."""
    out = np.zeros(length)
    for start in np.flatnonzero(rng.random(length) < 0.05):
        out[start : start + int(rng.integers(1, 5))] = 1.0
    return out


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training data (all but the last HORIZON days) and the test window."""
    last = frame["ds"].max() - pd.Timedelta(days=HORIZON)
    return frame[frame["ds"] <= last], frame[frame["ds"] > last]


def test_mase(
    model: Forecaster, train: pd.DataFrame, test: pd.DataFrame, covariates: bool
) -> dict[str, float]:
    """MASE of the model and of seasonal naive on the test window."""
    history = train if covariates else train[["unique_id", "ds", "y"]]
    future = test[["unique_id", "ds", *SPEC.future]] if covariates else None
    forecast = model.predict(history, future=future)
    ours, naive = [], []
    for uid, group in train.groupby("unique_id", sort=True):
        y = test.loc[test["unique_id"] == uid, "y"].to_numpy()
        past = group["y"].to_numpy()
        f = forecast.loc[forecast["unique_id"] == uid, "mean"].to_numpy()
        ours.append(mase(y, f, past, SEASON))
        naive.append(mase(y, seasonal_naive(past, HORIZON, SEASON), past, SEASON))
    return {"model": float(np.mean(ours)), "seasonal_naive": float(np.mean(naive))}


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    frame = demand_panel(args.series)
    train, test = split(frame)
    config = ForecastConfig(
        epochs=args.epochs,
        ensemble=args.ensemble,
        time_budget_s=args.budget,
        patience=args.patience,
        seed=0,
        device=args.device,
    )
    rows = []
    for name, covariates in (("with covariates", True), ("without", False)):
        started = time.monotonic()
        if covariates:
            fitted = Forecaster(config.model_copy(update={"holidays": COUNTRY}))
            model = fitted.fit(train, HORIZON, covariates=SPEC)
        else:
            model = Forecaster(config).fit(train[["unique_id", "ds", "y"]], HORIZON)
        seconds = time.monotonic() - started
        scored = test_mase(model, train, test, covariates)
        backtest = model.backtest_report or {}
        rows.append(
            {
                "model": name,
                "backtest_mase": model.metrics["mase"],
                "backtest_snaive": backtest["baselines"]["seasonal_naive"]["mase"],
                "test_mase": scored["model"],
                "test_snaive": scored["seasonal_naive"],
                "seconds": seconds,
                "epochs": model.epochs_run,
                "params": model.n_params,
                "device": model.device,
            }
        )
        print(rows[-1], flush=True)
    return rows


def table(rows: list[dict[str, object]], args: argparse.Namespace) -> str:
    with_, without = rows[0], rows[1]
    lines = [
        f"{args.series} daily series x {YEARS} years, horizon {HORIZON}, "
        f"epochs {args.epochs}, ensemble {args.ensemble}, budget {args.budget}, "
        f"device {with_['device']}.",
        "",
        "| model | backtest MASE | seasonal naive (same windows) | test MASE | seasonal naive "
        "(test) | fit s | epochs | parameters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['backtest_mase']:.3f} | {r['backtest_snaive']:.3f} | "
            f"{r['test_mase']:.3f} | {r['test_snaive']:.3f} | {r['seconds']:.0f} | "
            f"{r['epochs']} | {r['params']} |"
        )
    ratio_bt = float(with_["backtest_mase"]) / float(without["backtest_mase"])  # type: ignore[arg-type]
    ratio_test = float(with_["test_mase"]) / float(without["test_mase"])  # type: ignore[arg-type]
    lines += ["", f"with / without: backtest {ratio_bt:.2f}, test {ratio_test:.2f} (target <= 0.6)"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=320)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--ensemble", type=int, default=1)
    parser.add_argument("--budget", type=float, default=None, help="Seconds per fit (none).")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-record", action="store_true", help="Do not update BENCHMARKS.md.")
    args = parser.parse_args()
    text = table(run(args), args)
    print(text)
    if not args.no_record:
        record(text, SECTION)


if __name__ == "__main__":
    main()
