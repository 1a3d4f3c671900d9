"""``forecaster serve``: uvicorn running the API, with inline workers and the scheduler.

The inline workers and the scheduler are threads around uvicorn: they start before it serves and
are stopped (and joined, within the shutdown grace) after uvicorn returns on SIGTERM/SIGINT.
The service refuses to start on a database that is not at the migration head.

With ``processes > 1`` the API runs in that many uvicorn worker processes on one port, each on its
own ``SO_REUSEPORT`` socket so the kernel spreads connections between them (``cli.balanced``;
each with its own app: model cache, micro-batcher, engine); this process supervises them
(restarting one that dies) and runs the inline workers and the scheduler once, not per process.
The API processes read their settings from the environment (``app_from_environment``).
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from api.app import create_app
from cli.balanced import SocketPerProcess, reuse_port_sockets, reuse_port_supported
from cli.database import StartupError, check_database
from cli.logs import configure_logging
from cli.runtime import configure_api_gc, configure_torch_threads
from migrations.runner import is_at_head
from models.settings import Settings, get_settings
from worker.process import new_worker_id
from worker.runner import Worker
from worker.scheduler import Scheduler

logger = logging.getLogger(__name__)


@contextmanager
def background_threads(
    settings: Settings, *, workers_inline: int, with_scheduler: bool
) -> Iterator[threading.Event]:
    """Run ``workers_inline`` Worker threads and maybe a Scheduler thread until the block ends."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=Worker(settings, worker_id=new_worker_id("inline")).run,
            args=(stop,),
            name=f"worker-{i}",
        )
        for i in range(workers_inline)
    ]
    if with_scheduler:
        threads.append(
            threading.Thread(target=Scheduler(settings).run, args=(stop,), name="scheduler")
        )
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=settings.shutdown_grace_seconds + 5)
            if thread.is_alive():
                logger.warning("thread did not stop in time", extra={"thread": thread.name})


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to serve beyond loopback without API keys: auth is off only on the laptop default."""
    if settings.api_key_set or _is_loopback(host):
        return
    raise StartupError(
        f"refusing to serve on {host} without API keys; set FORECASTER_API_KEYS (or bind 127.0.0.1)"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_service(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers_inline: int,
    with_scheduler: bool,
    processes: int = 1,
) -> None:
    """Serve the API on ``host:port`` until SIGTERM/SIGINT; exit 1 if the database is not ready.

    ``processes`` > 1 serves from that many API processes (see the module docstring).
    """
    try:
        check_exposure(settings, host)
        check_database(settings)
    except StartupError as exc:
        logger.error("refusing to start: %s", exc)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    configure_torch_threads(settings, api_only=workers_inline == 0)
    configure_api_gc()
    with background_threads(settings, workers_inline=workers_inline, with_scheduler=with_scheduler):
        logger.info(
            "serving",
            extra={
                "host": host,
                "port": port,
                "processes": processes,
                "workers_inline": workers_inline,
                "scheduler": with_scheduler,
            },
        )
        if processes == 1:
            app = create_app(settings, at_head=is_at_head)
            uvicorn.Server(_uvicorn_config(app, host, port)).run()
        else:
            config = _uvicorn_config(f"{__name__}:app_from_environment", host, port, processes)
            if reuse_port_supported() and port != 0:  # the kernel spreads the connections
                SocketPerProcess(config, reuse_port_sockets(config, processes)).run()
            else:
                Multiprocess(config, sockets=[config.bind_socket()]).run()


def _uvicorn_config(app: FastAPI | str, host: str, port: int, processes: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=processes,
        factory=isinstance(app, str),
        log_config=None,
        access_log=False,
    )


def app_from_environment() -> FastAPI:
    """The app of one API process started by ``serve --processes N``: settings, logging and
    torch threads from the environment, as in the supervising process."""
    settings = get_settings()
    configure_logging(settings)
    configure_torch_threads(settings, api_only=True)
    configure_api_gc()
    return create_app(settings, at_head=is_at_head)
