"""``forecaster healthcheck``: what the worker and scheduler containers' health depends on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FORECASTER = str(Path(sys.executable).parent / "forecaster")


def _run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORECASTER_DATABASE_URL": url}
    return subprocess.run(
        [FORECASTER, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_healthcheck_fails_until_migrated_then_passes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'health.db'}"
    before = _run("healthcheck", url=url)
    assert before.returncode == 1
    assert "forecaster migrate" in before.stderr
    assert _run("migrate", url=url).returncode == 0
    after = _run("healthcheck", url=url)
    assert (after.returncode, after.stdout.strip()) == (0, "ok")


def test_healthcheck_fails_when_the_database_is_unreachable() -> None:
    result = _run("healthcheck", url="postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr


def test_worker_and_scheduler_refuse_a_database_not_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    for command in ("worker", "scheduler"):
        result = _run(command, url=url)
        assert result.returncode == 1, command
        assert "forecaster migrate" in result.stderr, command
