"""``Client``: the service from Python, with DataFrames in and out.

>>> from forecaster.client import Client
>>> fc = Client("http://127.0.0.1:8000")            # or FORECASTER_URL / FORECASTER_API_KEY
>>> fc.ingest("demand", df)                         # df: unique_id, ds, y
>>> version = fc.train("demand", "demand", horizon=24).wait()
>>> fc.forecast(model="demand", dataset="demand", horizon=24)   # unique_id, ds, mean, q0.1, ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd

from forecaster.client import frames
from forecaster.client.errors import PayloadTooLargeError
from forecaster.client.http import Session
from forecaster.client.jobs import Job
from forecaster.records import records_frame

DEFAULT_URL = "http://127.0.0.1:8000"
INGEST_ROWS = 500_000  # Parquet chunk: a few MB, far under the 32 MiB default body limit
FORECAST_POINTS = 200_000  # history points per forecast request (JSON, ~10 MB)
MIN_SPLIT_ROWS = 1_000


class Client:
    """A client of one Forecaster service (sync, thread-safe as ``httpx.Client`` is).

    ``url`` and ``api_key`` default to ``FORECASTER_URL`` (else http://127.0.0.1:8000) and
    ``FORECASTER_API_KEY``. Errors raise ``ForecasterAPIError`` subclasses; 429 and 503 are
    retried ``retries`` times after the server's ``Retry-After`` (at most ``max_wait`` s each).
    Frames go in requests of at most ``ingest_rows`` rows (Parquet) or ``forecast_points``
    history points (whole series); a chunk the service still finds too large (413) is halved.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        retries: int = 3,
        max_wait: float = 30.0,
        ingest_rows: int = INGEST_ROWS,
        forecast_points: int = FORECAST_POINTS,
    ) -> None:
        self.url = url or os.environ.get("FORECASTER_URL") or DEFAULT_URL
        key = api_key if api_key is not None else os.environ.get("FORECASTER_API_KEY")
        self.session = Session(
            self.url, key or None, timeout=timeout, retries=retries, max_wait=max_wait
        )
        self.ingest_rows = ingest_rows
        self.forecast_points = forecast_points

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self.session.close()

    # ----- data -----------------------------------------------------------------------------
    def ingest(self, dataset: str, df: pd.DataFrame) -> dict[str, Any]:
        """Upsert a long ``unique_id, ds, y`` frame into ``dataset`` (Parquet, in chunks).

        Every other column is a covariate (numbers or text); rows with an empty ``y`` after a
        series' last observation hold its future values. Returns what was stored: ``dataset,
        rows, series, new_series, written`` (and ``future_rows, covariate_values``).
        """
        frame = frames.long_frame(df)
        totals = {"dataset": dataset, "rows": 0, "new_series": 0, "written": 0}
        for chunk in frames.row_chunks(frame, self.ingest_rows):
            for answer in self._ingest_chunk(dataset, chunk):
                for key in ("rows", "new_series", "written", "future_rows", "covariate_values"):
                    if key in answer:
                        totals[key] = totals.get(key, 0) + answer[key]
        return {**totals, "series": int(frame["unique_id"].astype(str).nunique())}

    def _ingest_chunk(self, dataset: str, chunk: pd.DataFrame) -> list[dict[str, Any]]:
        """One Parquet request; halves the chunk when the service says it is too large."""
        try:
            body = frames.parquet_bytes(chunk)
            headers = {"Content-Type": frames.PARQUET_MEDIA_TYPE}
            path = f"/v1/datasets/{_segment(dataset)}/observations"
            return [self.session.json("PUT", path, content=body, headers=headers)]
        except PayloadTooLargeError:
            if len(chunk) < 2 * MIN_SPLIT_ROWS:
                raise
            half = len(chunk) // 2
            return [
                *self._ingest_chunk(dataset, chunk.iloc[:half]),
                *self._ingest_chunk(dataset, chunk.iloc[half:]),
            ]

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset with its size (series, points, first and last ds), newest first."""
        return self.session.pages("/v1/datasets")

    # ----- training and models --------------------------------------------------------------
    def train(
        self,
        model: str,
        dataset: str,
        horizon: int,
        config: Mapping[str, Any] | None = None,
        promote: Mapping[str, Any] | str | None = None,
        covariates: Mapping[str, Sequence[str]] | None = None,
        **spec: Any,
    ) -> Job:
        """Queue a training job; ``.wait()`` on the answer returns the new version.

        ``config`` takes ForecastConfig fields (``holidays={"country": "DE"}`` among them);
        ``promote`` an alias name (policy ``if_better``) or ``{"alias", "policy", "metric",
        "min_improvement"}``; ``covariates`` the dataset columns the model reads, by kind
        (``{"future": [...], "past": [...], "static": [...], "categorical": [...]}``). Other
        keyword arguments (``freq``, ``unique_ids``, ``description``, ``tags``) go into the
        request as they are.
        """
        body: dict[str, Any] = {"dataset": dataset, "horizon": horizon, **spec}
        if config is not None:
            body["config"] = dict(config)
        if covariates is not None:
            body["covariates"] = {kind: list(names) for kind, names in covariates.items()}
        if promote is not None:
            body["promote"] = {"alias": promote} if isinstance(promote, str) else dict(promote)
        data = self.session.json("POST", f"/v1/models/{_segment(model)}/train", json=body)
        return Job(self.session, data)

    def job(self, job_id: int) -> Job:
        """A job by id."""
        return Job(self.session, self.session.json("GET", f"/v1/jobs/{int(job_id)}"))

    def jobs(
        self, status: str | None = None, model: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Jobs, newest first, optionally only one status, model or kind."""
        return self.session.pages("/v1/jobs", {"status": status, "model": model, "kind": kind})

    def models(self) -> list[dict[str, Any]]:
        """Registered models with their latest version and aliases, newest first."""
        return self.session.pages("/v1/models")

    def versions(self, model: str) -> list[dict[str, Any]]:
        """Every version of ``model`` with config, metrics and aliases, newest first."""
        return self.session.pages(f"/v1/models/{_segment(model)}/versions")

    def version(self, model: str, version: int) -> dict[str, Any]:
        """Everything stored about one version."""
        path = f"/v1/models/{_segment(model)}/versions/{int(version)}"
        result: dict[str, Any] = self.session.json("GET", path)
        return result

    def promote(self, model: str, alias: str, version: int) -> dict[str, Any]:
        """Point ``alias`` (e.g. ``production``) at ``version``: promote or roll back."""
        path = f"/v1/models/{_segment(model)}/aliases/{_segment(alias)}"
        result: dict[str, Any] = self.session.json("PUT", path, json={"version": int(version)})
        return result

    # ----- forecasts ------------------------------------------------------------------------
    def forecast(
        self,
        model: str | None = None,
        df: pd.DataFrame | None = None,
        dataset: str | None = None,
        horizon: int | None = None,
        quantiles: list[float] | None = None,
        future: pd.DataFrame | None = None,
        static: Sequence[str] = (),
        **options: Any,
    ) -> pd.DataFrame:
        """Forecast ``horizon`` steps after each series: ``unique_id, ds, mean, q0.1, ...``.

        The history is ``df`` (a long frame, sent in chunks of whole series) or the stored
        ``dataset``. With a model trained on covariates, ``df``'s other columns are sent as
        covariates (``static`` names the ones with one value per series) and the horizon's
        future-known values come from ``future`` (``unique_id, ds`` and columns) or else from
        ``df``'s rows with an empty ``y``; a dataset forecast takes the dataset's future rows
        unless ``future`` is given. ``model`` is ``"name"``, ``"name@3"`` or ``"name@alias"``;
        without one the service trains on ``df`` through a job (``config``, ``freq``,
        ``wait_seconds`` in ``options``), and the client waits for it. ``frame.attrs["model"]``
        names the version (``attrs["job_id"]`` the job without a model);
        ``frame.attrs["forecast_ids"]`` holds the ids the service logged them under, if it does.
        """
        if horizon is None:
            raise TypeError("forecast() needs horizon")
        if (df is None) == (dataset is None):
            raise TypeError("forecast() needs the history: either df or dataset")
        body = {"model": model, "horizon": horizon, "quantiles": quantiles, **options}
        body = {k: v for k, v in body.items() if v is not None}
        if dataset is not None:
            if future is not None:
                body["future"] = frames.future_payload(future)
            answers = [self._forecast_request({**body, "dataset": dataset})]
        else:
            assert df is not None
            # Without a model one job trains on all the series, so they go in one request.
            points = self.forecast_points if model is not None else max(len(df), 1)
            chunks = frames.series_chunks(frames.long_frame(df), points)
            answers = [
                self._forecast_request(
                    {**body, "series": frames.series_payload(chunk, static, _part(future, chunk))}
                )
                for chunk in chunks
            ]
        result = records_frame([record for answer in answers for record in answer["forecasts"]])
        result.attrs["model"] = answers[0].get("model")
        result.attrs["job_id"] = answers[0].get("job_id")
        result.attrs["forecast_ids"] = [a["forecast_id"] for a in answers if "forecast_id" in a]
        return result

    def _forecast_request(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.request("POST", "/v1/forecast", json=body)
        answer: dict[str, Any] = response.json()
        if response.status_code == 202:  # still training on the posted series
            job = Job(self.session, answer)
            job.wait(progress=False)
            answer = {"model": None, "job_id": job.id, **(job.result or {})}
        return answer

    # ----- schedules, backtests, accuracy ---------------------------------------------------
    def schedules(self) -> list[dict[str, Any]]:
        """Retraining schedules with their next run times, newest first."""
        return self.session.pages("/v1/schedules")

    def schedule(
        self, model: str, cron: str, train: Mapping[str, Any], timezone: str = "UTC"
    ) -> dict[str, Any]:
        """Retrain ``model`` with ``train`` (dataset, horizon, ...) at each ``cron`` time."""
        body = {"model": model, "cron": cron, "timezone": timezone, "train": dict(train)}
        result: dict[str, Any] = self.session.json("POST", "/v1/schedules", json=body)
        return result

    def backtest(
        self, model: str, version: int, dataset: str, n_windows: int = 2
    ) -> dict[str, Any]:
        """Score a stored version on ``dataset``'s windows after its training cut-off.

        Returns the backtest document (windows, metrics, by_step, baselines, skill); when the
        service runs it as a job, the client waits for the job and returns its result.
        """
        path = f"/v1/models/{_segment(model)}/versions/{int(version)}/backtest"
        body = {"dataset": dataset, "n_windows": n_windows}
        response = self.session.request("POST", path, json=body)
        answer: dict[str, Any] = response.json()
        if response.status_code == 202:
            job = Job(self.session, answer)
            job.wait(progress=False)
            return job.result or {}
        return answer

    def accuracy(
        self,
        model: str,
        version: int | None = None,
        alias: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        """Live accuracy of a version against the actuals, beside its backtest, with drift."""
        params = {"version": version, "alias": alias, "since": since, "until": until}
        query = {k: v for k, v in params.items() if v is not None}
        path = f"/v1/models/{_segment(model)}/accuracy"
        result: dict[str, Any] = self.session.json("GET", path, params=query)
        return result


def _part(future: pd.DataFrame | None, chunk: pd.DataFrame) -> pd.DataFrame | None:
    """The rows of FUTURE for the series of CHUNK."""
    if future is None:
        return None
    return future[future["unique_id"].astype(str).isin(chunk["unique_id"].astype(str))]


def _segment(value: str) -> str:
    """A path segment, percent-encoded (names cannot smuggle ``/`` or ``?`` into the URL)."""
    return quote(str(value), safe="")
