"""Backtesting a stored version on a dataset: only windows after its training cut-off.

Synchronous and read-only: one short read transaction (the version and the dataset), then the
cached model forecasts ``n_windows`` origins of every series in batches, outside any
transaction. The work is bounded by the dataset's size and ``n_windows`` (at most 20).
"""

from __future__ import annotations

from api.deps import Services
from api.errors import InvalidFieldError, field_of_store_errors
from api.schemas.models import BacktestIn, BacktestRunOut
from forecaster import NoHeldOutDataError
from models import registry
from models.dataset_frames import read_frame
from models.errors import Conflict


def run_backtest(services: Services, model: str, version: int, body: BacktestIn) -> BacktestRunOut:
    """The version's backtest on ``body.dataset``; Conflict (409) naming the cut-off when not
    one window of points it never trained on fits."""
    with services.session_factory() as session:  # closed without commit: read-only
        sha256 = registry.get_version(session, model, version).artifact_sha256
        forecaster = services.model_cache.get(sha256)
        spec = forecaster.covariates
        with field_of_store_errors("body.dataset"):
            history = read_frame(session, body.dataset, None, spec.columns, static=spec.static)
    if history.empty:
        raise InvalidFieldError("body.dataset", "the dataset has no observations")
    try:
        report = forecaster.backtest(history, body.n_windows)
    except NoHeldOutDataError as exc:
        raise Conflict(
            f"{exc}: version {version} trained on every point of {body.dataset!r} up to "
            f"{exc.cutoff}; add newer observations to backtest it"
        ) from exc
    return BacktestRunOut.model_validate(  # lax: the report's timestamps are ISO strings
        {**report, "model": model, "version": version, "dataset": body.dataset}, strict=False
    )
