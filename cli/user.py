"""The user commands, all on ``forecaster.client``: ingest, train, forecast, models, versions, jobs,
promote. They talk to a running service at ``--url`` (``FORECASTER_URL``) with ``--api-key``
(``FORECASTER_API_KEY``); an error answer prints its problem document and exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.tables import Column, emit

Url = Annotated[
    str | None, typer.Option("--url", envvar="FORECASTER_URL", help="The service's base URL.")
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="FORECASTER_API_KEY", help="Bearer key of the service."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Dataset = Annotated[str, typer.Option("--dataset", "-d", help="Dataset name.")]


def _getter(key: str) -> Callable[[dict[str, Any]], Any]:
    """A table column reading ``key``."""
    return lambda item: item.get(key)


_MODELS: list[Column] = [
    ("name", lambda m: m["name"]),
    ("latest", lambda m: m.get("latest_version")),
    ("aliases", lambda m: m.get("aliases")),
    ("created", lambda m: m.get("created_at")),
]
_VERSIONS: list[Column] = [
    ("version", lambda v: v["version"]),
    ("status", lambda v: v["status"]),
    ("horizon", lambda v: v["horizon"]),
    ("freq", lambda v: v["freq"]),
    ("mase", lambda v: (v.get("metrics") or {}).get("mase")),
    ("aliases", lambda v: v.get("aliases")),
    ("created", lambda v: v.get("created_at")),
]
_JOBS: list[Column] = [
    ("id", lambda j: j["id"]),
    ("kind", lambda j: j["kind"]),
    ("model", lambda j: j.get("model")),
    ("status", lambda j: j["status"]),
    ("epoch", lambda j: _epoch(j.get("progress"))),
    ("version", lambda j: j.get("result_version")),
    ("created", lambda j: j.get("created_at")),
]
_INGEST: list[Column] = [
    (key, _getter(key)) for key in ("dataset", "rows", "series", "new_series", "written")
]


def register(app: typer.Typer) -> None:
    """Add the user commands to the ``forecaster`` command."""
    for command in (ingest, train, forecast, models, versions, jobs, promote):
        app.command(rich_help_panel="Use a running service")(command)


@contextmanager
def _client(url: str | None, api_key: str | None) -> Iterator[Any]:
    """A connected client; API errors and unreachable services become a message and exit 1."""
    import httpx

    from forecaster.client import Client, ForecasterAPIError, JobFailedError

    client = Client(url, api_key)
    try:
        yield client
    except ForecasterAPIError as exc:
        typer.echo(f"error: {exc}", err=True)
        for error in exc.errors:
            typer.echo(f"  {error.field}: {error.reason}", err=True)
        raise typer.Exit(1) from exc
    except JobFailedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except httpx.TransportError as exc:
        typer.echo(f"error: cannot reach the service at {client.url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        client.close()


def ingest(
    file: Annotated[
        Path, typer.Argument(help="A CSV or Parquet file: unique_id, ds, y and any covariates.")
    ],
    dataset: Dataset,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Upsert the observations of FILE into a dataset."""
    frame = _read_frame(file)
    with _client(url, api_key) as client:
        emit(client.ingest(dataset, frame), _INGEST, as_json)


def train(
    model: Annotated[str, typer.Argument(help="Model name.")],
    dataset: Dataset,
    horizon: Annotated[int, typer.Option("--horizon", "-h", help="Steps ahead.", min=1)],
    config: Annotated[
        str | None, typer.Option("--config", help='ForecastConfig fields as JSON: {"epochs": 20}.')
    ] = None,
    promote: Annotated[
        str | None, typer.Option("--promote", help="Alias to move when the version is better.")
    ] = None,
    covariates: Annotated[
        str | None,
        typer.Option(
            "--covariates",
            help='Columns the model reads, as JSON: {"future": ["promo"], "static": ["region"], '
            '"categorical": ["region"]}.',
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until it ends.")] = False,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Queue a training job; with --wait, show a progress bar and print the new version."""
    settings = _json_option(config, "--config")
    columns = _json_option(covariates, "--covariates")
    with _client(url, api_key) as client:
        job = client.train(
            model, dataset, horizon, config=settings, promote=promote, covariates=columns
        )
        if not wait:
            emit(job.data, _JOBS, as_json)
            return
        version = job.wait(progress=not as_json)
        emit(client.version(model, version), _VERSIONS, as_json)


def forecast(
    model: Annotated[str, typer.Option("--model", "-m", help="name, name@3 or name@alias.")],
    horizon: Annotated[int, typer.Option("--horizon", "-h", help="Steps ahead.", min=1)],
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="History: CSV or Parquet file.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="History: a stored dataset.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to .csv or .parquet.")
    ] = None,
    quantiles: Annotated[
        str | None, typer.Option("--quantiles", help="Comma-separated, e.g. 0.1,0.9.")
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Forecast from a stored model; CSV on stdout unless --output or a terminal (a table)."""
    if (input_file is None) == (dataset is None):
        raise typer.BadParameter("give the history with either --input FILE or --dataset NAME")
    history = None if input_file is None else _read_frame(input_file)
    levels = None if quantiles is None else [float(q) for q in quantiles.split(",")]
    with _client(url, api_key) as client:
        frame = client.forecast(
            model=model, df=history, dataset=dataset, horizon=horizon, quantiles=levels
        )
    _write_forecast(frame, output, as_json)


def models(url: Url = None, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """List the registered models with their latest version and aliases."""
    with _client(url, api_key) as client:
        emit(client.models(), _MODELS, as_json)


def versions(
    model: Annotated[str, typer.Argument(help="Model name.")],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """List the versions of MODEL with their metrics and aliases."""
    with _client(url, api_key) as client:
        emit(client.versions(model), _VERSIONS, as_json)


def jobs(
    status: Annotated[str | None, typer.Option(help="Only jobs in this status.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model's jobs.")] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest first, with their progress and result version."""
    with _client(url, api_key) as client:
        emit(client.jobs(status=status, model=model), _JOBS, as_json)


def promote(
    model: Annotated[str, typer.Argument(help="Model name.")],
    alias: Annotated[str, typer.Argument(help="Alias, e.g. production.")],
    version: Annotated[int, typer.Argument(help="Version number.", min=1)],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Point ALIAS of MODEL at VERSION (promote or roll back)."""
    with _client(url, api_key) as client:
        answer = client.promote(model, alias, version)
    emit(answer, [(k, _getter(k)) for k in ("model", "alias", "version")], as_json)


def _read_frame(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"unique_id": str})


def _write_forecast(frame: Any, output: Path | None, as_json: bool) -> None:
    if output is not None:
        if output.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(output, index=False)
        else:
            frame.to_csv(output, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
        typer.echo(
            f"{len(frame)} rows, {frame['unique_id'].nunique()} series -> {output}", err=True
        )
    elif as_json:
        typer.echo(frame.to_json(orient="records", date_format="iso", indent=2))
    elif sys.stdout.isatty():
        typer.echo(frame.to_string(index=False))
    else:
        typer.echo(frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"), nl=False)


def _json_option(text: str | None, option: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{option} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{option} must be a JSON object")
    return value


def _epoch(progress: dict[str, Any] | None) -> str | None:
    if not progress:
        return None
    return f"{progress.get('epoch')}/{progress.get('epochs')}"
