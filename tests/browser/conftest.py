"""Browser tests: headless Chromium (Debian's package) driven by Playwright against a real
service (``forecaster serve`` and ``forecaster worker`` processes on a fresh PostgreSQL database).

They skip, saying why, only when no Chromium is installed (``apt-get install chromium``;
``.ci/run`` installs it). ``playwright install`` is never needed: the system browser is used.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from tests.conftest import free_port, postgres_database

ROOT = Path(__file__).resolve().parents[2]
CLI = str(ROOT / ".venv" / "bin" / "forecaster")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium_executable() -> str | None:
    """The system Chromium: ``FORECASTER_CHROMIUM`` or the first browser on PATH."""
    configured = os.environ.get("FORECASTER_CHROMIUM")
    if configured:
        return configured
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium installed (apt-get install chromium, or set FORECASTER_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@dataclass
class Served:
    """A running service: its URL, environment and processes."""

    url: str
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def output(self) -> str:
        """What the processes logged, for failure messages."""
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs.glob("*.log"))

    def start(self, name: str, *args: str) -> None:
        """Start ``forecaster ARGS`` in the background."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [CLI, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append(process)

    def stop(self) -> None:
        """SIGTERM every process, then kill what is left."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def serve(db_url: str, directory: Path, **env: str) -> Iterator[Served]:
    """Migrate DB_URL, start the API and one worker process, yield when ready, stop after."""
    port = free_port()
    environment = {
        **os.environ,
        "FORECASTER_DATABASE_URL": db_url,
        "FORECASTER_ARTIFACT_DIR": str(directory / "artifacts"),
        "FORECASTER_DEVICE": "cpu",
        "FORECASTER_WORKER_POLL_SECONDS": "0.2",
        "FORECASTER_SHUTDOWN_GRACE_SECONDS": "5",
        "OMP_NUM_THREADS": "1",
        **env,
    }
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    served = Served(f"http://127.0.0.1:{port}", environment, logs)
    migrate = subprocess.run([CLI, "migrate"], env=environment, capture_output=True, check=False)
    assert migrate.returncode == 0, migrate.stderr
    served.start("serve", "serve", "--workers-inline", "0", "--port", str(port))
    served.start("worker", "worker")
    try:
        _wait_ready(served)
        yield served
    finally:
        served.stop()


def _wait_ready(served: Served) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{served.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the service did not become ready\n{served.output()}")


@pytest.fixture(scope="module")
def service(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A service without API keys on its own PostgreSQL database, shared by a module's tests."""
    with postgres_database(postgres_url, "forecaster_browser") as url:
        yield from serve(url, tmp_path_factory.mktemp("served"))


@dataclass
class Watched:
    """Everything a page did that a test checks afterwards."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests that went to any host but the service's own."""
        return [url for url in self.requests if _origin(url) not in (self.origin, "data:", "blob:")]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{parts.netloc}"


def watch(browser: Browser, base_url: str) -> Watched:
    """A fresh page whose requests, console errors and script errors are recorded."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watched = Watched(page, _origin(base_url))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    page.on("console", on_console)
    page.on("request", on_request)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    return watched
