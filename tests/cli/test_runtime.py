"""Process-wide runtime choices: torch threads per kind of process, the API's GC thresholds."""

from __future__ import annotations

import gc

import pytest

from cli.runtime import API_GC_THRESHOLDS, configure_api_gc, torch_threads
from models.settings import Settings


@pytest.mark.parametrize(
    ("configured", "omp", "api_only", "expected"),
    [
        (None, None, True, 1),  # an API-only process: one thread per request
        (None, None, False, None),  # a training process: torch's default
        (None, "2", True, None),  # OMP_NUM_THREADS is respected
        (4, None, True, 4),  # an explicit setting wins
        (3, "2", False, 3),
    ],
)
def test_torch_threads(
    monkeypatch: pytest.MonkeyPatch,
    configured: int | None,
    omp: str | None,
    api_only: bool,
    expected: int | None,
) -> None:
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    settings = Settings(torch_threads=configured)
    assert torch_threads(settings, api_only=api_only) == expected


def test_api_processes_collect_garbage_less_often() -> None:
    before = gc.get_threshold()
    try:
        configure_api_gc()
        assert gc.get_threshold() == API_GC_THRESHOLDS
        assert API_GC_THRESHOLDS[0] > before[0]
    finally:
        gc.set_threshold(*before)
