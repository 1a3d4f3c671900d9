"""The README's walk-through, executed top to bottom as written against a served instance."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "forecaster")
README = (ROOT / "README.md").read_text()
pytestmark = pytest.mark.slow

# Each curl fails the script on an HTTP error, so a command that stopped working is caught.
PRELUDE = 'set -euo pipefail\ncurl() { command curl -fsS "$@"; }\n'


def walkthrough() -> str:
    """The shell blocks of the README's walk-through, in order, as one script."""
    section = README[README.index("## Walk-through") : README.index("## Command line")]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) >= 7
    return "\n".join(blocks)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``make run`` in a fresh folder: migrate the SQLite default, serve with one inline worker."""
    port = free_port()
    env = {
        **os.environ,
        "FORECASTER_DATABASE_URL": f"sqlite:///{tmp_path / 'forecaster.db'}",
        "FORECASTER_ARTIFACT_DIR": str(tmp_path / "artifacts"),
        "FORECASTER_API_KEYS": "",
    }
    subprocess.run([CLI, "migrate"], env=env, cwd=tmp_path, check=True, timeout=120)
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [CLI, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=60)


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not become ready")


def test_the_walkthrough_runs_top_to_bottom(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, env = served
    script = walkthrough().replace("B=http://127.0.0.1:8000", f"B={base}", 1)
    path = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"  # the user commands
    result = subprocess.run(
        ["bash", "-c", PRELUDE + script],
        env={**env, "PATH": path},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    log = (tmp_path / "serve.log").read_text()[-3000:]
    assert result.returncode == 0, f"{result.stderr[-3000:]}\n--- serve\n{log}"
    job = httpx.get(f"{base}/v1/jobs/1").json()
    assert job["status"] == "succeeded"
    assert job["promotion"]["promoted"] is True
    assert httpx.get(f"{base}/v1/schedules/1").json()["enabled"] is False
    assert result.stdout.count('"forecasts"') == 5  # 3 forecasts, the logged one, its replay
    assert (tmp_path / "forecast.csv").stat().st_size > 0  # and the user command's
