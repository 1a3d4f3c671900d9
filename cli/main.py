"""The ``forecaster`` command: serve, worker, scheduler, migrate; and the user commands (cli.user).

This is the composition root: the only place that wires the API, the worker and the store together.
Imports of the heavy parts happen inside each command so ``forecaster --help`` stays fast.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning, so training, the API
# and anything else on the machine do not steal each other's cores (several times faster when
# cores are shared, as with `serve`'s inline workers). An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer

from cli.logs import configure_logging
from cli.user import register as register_user_commands
from models.settings import get_settings

app = typer.Typer(help="Forecaster: a time-series forecasting service.", no_args_is_help=True)
register_user_commands(app)


@app.command()
def migrate(revision: str = typer.Option("head", help="Alembic revision to upgrade to.")) -> None:
    """Bring the configured database's schema to REVISION (default: head)."""
    from migrations.runner import upgrade

    settings = get_settings()
    configure_logging(settings)
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    workers_inline: int = typer.Option(
        1, "--workers-inline", min=0, help="Training workers run inside this process (0 = none)."
    ),
    scheduler: bool = typer.Option(True, help="Run the retraining scheduler in this process."),
    processes: int = typer.Option(
        1,
        "--processes",
        min=1,
        envvar="FORECASTER_API_PROCESSES",
        help="API processes sharing the port, each with its own model cache (about one per core).",
    ),
) -> None:
    """Run the HTTP API, with inline workers and the scheduler (the embedded mode)."""
    from cli.serve import run_service

    settings = get_settings()
    configure_logging(settings)
    run_service(
        settings,
        host=host,
        port=port,
        workers_inline=workers_inline,
        with_scheduler=scheduler,
        processes=processes,
    )


@app.command()
def worker() -> None:
    """Claim and run training jobs until SIGTERM (one worker per GPU)."""
    from cli.database import exit_unless_ready
    from cli.runtime import configure_torch_threads
    from worker.runner import run_worker_process

    settings = get_settings()
    configure_logging(settings)
    exit_unless_ready(settings)
    configure_torch_threads(settings, api_only=False)
    run_worker_process(settings)


@app.command("scheduler")
def scheduler_command() -> None:
    """Enqueue a training job at each due time of every enabled schedule, until SIGTERM."""
    from cli.database import exit_unless_ready
    from worker.scheduler import run_scheduler_process

    settings = get_settings()
    configure_logging(settings)
    exit_unless_ready(settings)
    run_scheduler_process(settings)


@app.command()
def healthcheck() -> None:
    """Exit 0 when the database answers and its schema is at head, 1 otherwise (for containers)."""
    from cli.database import StartupError, check_database

    try:
        check_database(get_settings())
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo("ok")
