"""Micro-batched forecasts: batched answers equal unbatched ones bit for bit, one bad request
fails alone, and requests for different model versions never share a forward pass.

Batches are made deterministic by size, not by time: with a long wait and a cap of exactly the
series sent, the batch runs when its last member joins.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import torch

from api.app import create_app
from api.batching import MicroBatcher
from forecaster import Forecaster
from forecaster.data import prepare
from models import registry
from models.artifacts import ArtifactStore
from models.db import make_engine, make_session_factory, session_scope
from models.settings import Settings
from tests.api.conftest import (
    HORIZON,
    TINY,
    TrainedModel,
    make_settings,
    register,
    series_frame,
    series_payload,
)

ARCHIVE_AFTER = 6  # alias moves before version 2 is archived
LONG_WAIT_MS = 10_000.0  # never reached: every batch below closes when its cap is met


def _series(request: int, points: int = 48) -> list[dict[str, object]]:
    """One series per request, different for every request (level, phase and start)."""
    frame = series_frame(1, points + request, start=f"2024-02-{1 + request % 20:02d}")
    frame["y"] = frame["y"] * (1 + 0.1 * request) + request
    frame["unique_id"] = f"r{request}"
    return series_payload(frame.iloc[request:])


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """As a served API process runs by default (cli.runtime.torch_threads): one intra-op thread.
    With several, a loaded machine can change how a large matmul is split, and so its last bits,
    between the solo and the batched passes being compared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """The apps here run without lifespan (in-process ASGI), so what the lifespan would stop
    (the forecast log's writer thread) is stopped here and their engines closed."""
    yield
    while _APPS:
        services = _APPS.pop().state.services
        services.forecast_log.stop()
        services.engine.dispose()


_APPS: list[Any] = []


def _app(settings: Settings) -> Any:
    app = create_app(settings)
    _APPS.append(app)
    return app


async def _post_all(app: Any, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await asyncio.gather(*(client.post("/v1/forecast", json=b) for b in bodies))


def _post_each(app: Any, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async def one_by_one() -> list[httpx.Response]:
        return [(await _post_all(app, [body]))[0] for body in bodies]

    return asyncio.run(one_by_one())


@pytest.fixture(scope="module")
def other(artifact_dir: Path) -> TrainedModel:
    """A second tiny model with other weights (another seed), stored beside ``trained``."""
    torch.manual_seed(1)
    history = series_frame()
    model = Forecaster(TINY.model_copy(update={"seed": 1})).fit(history, horizon=HORIZON)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        stored = ArtifactStore(artifact_dir).put(Path(tmp))
    return TrainedModel(model, history, stored.sha256, stored.size, stored.uri)


def test_concurrent_answers_equal_sequential_answers_exactly(
    api_pg_url: str, artifact_dir: Path, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("mb")
    register(api_pg_url, name, trained)
    bodies = [{"model": name, "horizon": HORIZON, "series": _series(i)} for i in range(12)]
    alone = _app(make_settings(api_pg_url, artifact_dir, batch_max_series=1))
    together = _app(
        make_settings(
            api_pg_url, artifact_dir, batch_wait_ms=LONG_WAIT_MS, batch_max_series=len(bodies)
        )
    )
    sequential = _post_each(alone, bodies)
    concurrent = asyncio.run(_post_all(together, bodies))
    assert [r.status_code for r in sequential + concurrent] == [200] * 24
    assert {r.headers["x-batch-requests"] for r in sequential} == {"1"}
    assert {r.headers["x-batch-requests"] for r in concurrent} == {"12"}
    for one, batched in zip(sequential, concurrent, strict=True):
        assert _answer(batched) == _answer(one)  # every number identical, not just close
        assert float(batched.headers["x-queue-ms"]) >= 0
        assert float(batched.headers["x-compute-ms"]) > 0
        assert "queue_ms;dur=" in batched.headers["server-timing"]


def test_a_bad_request_in_a_batch_fails_alone(
    api_pg_url: str, artifact_dir: Path, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("mb")
    register(api_pg_url, name, trained)
    good = [{"model": name, "horizon": HORIZON, "series": _series(i)} for i in range(5)]
    short = [{"unique_id": "short", "ds": ["2024-01-01T00:00:00", "2024-01-01T01:00:00"]}]
    short[0]["y"] = [1.0, 2.0]
    bad = {"model": name, "horizon": HORIZON, "series": short}
    app = _app(
        make_settings(api_pg_url, artifact_dir, batch_wait_ms=LONG_WAIT_MS, batch_max_series=5)
    )
    responses = asyncio.run(_post_all(app, [*good[:2], bad, *good[2:]]))
    assert responses[2].status_code == 422
    assert responses[2].headers["content-type"] == "application/problem+json"
    assert "short" in responses[2].text
    answered = [r for i, r in enumerate(responses) if i != 2]
    assert [r.status_code for r in answered] == [200] * 5
    assert {r.headers["x-batch-requests"] for r in answered} == {"5"}
    alone = _app(make_settings(api_pg_url, artifact_dir, batch_max_series=1))
    assert [_answer(r) for r in answered] == [_answer(r) for r in _post_each(alone, good)]


def test_a_failing_shared_pass_is_retried_request_by_request(trained: TrainedModel) -> None:
    """A panel the core refuses only inside the pass (too short) fails alone; others succeed."""
    model = trained.model
    good = [model.prepare(pd.DataFrame(_frame(i))) for i in range(3)]
    short = prepare(pd.DataFrame(_frame(9)).iloc[-4:], model.freq)  # no length check here
    batcher = MicroBatcher(wait_s=LONG_WAIT_MS / 1000, max_series=4)
    results: dict[int, Any] = {}

    def submit(i: int, panel: Any) -> None:
        try:
            results[i] = batcher.forecast("same", model, panel)[0]
        except ValueError as exc:
            results[i] = exc

    _together([lambda i=i, p=p: submit(i, p) for i, p in enumerate([*good, short])])
    assert isinstance(results[3], ValueError)
    for i, panel in enumerate(good):
        assert np.array_equal(results[i], model.forecast_panel(panel))


def test_requests_holding_the_one_compute_slot_still_share_a_batch(trained: TrainedModel) -> None:
    """Each caller holds the process's only slot while it prepares; waiting for its batch lends
    the slot out, so the others get in and join (holding it would leave a batch of one, or
    never fill one)."""
    model = trained.model
    panels = [model.prepare(pd.DataFrame(_frame(i))) for i in range(4)]
    batcher = MicroBatcher(wait_s=LONG_WAIT_MS / 1000, max_series=len(panels), slots=1)
    sizes: dict[int, int] = {}
    answers: dict[int, np.ndarray] = {}

    def submit(i: int) -> None:
        with batcher.slot():
            answers[i], timing = batcher.forecast("same", model, panels[i])
        sizes[i] = timing.requests

    _together([lambda i=i: submit(i) for i in range(len(panels))])
    assert sizes == {i: len(panels) for i in range(len(panels))}
    for i, panel in enumerate(panels):
        assert np.array_equal(answers[i], model.forecast_panel(panel))


def test_versions_never_mix_under_eviction_and_alias_moves(
    api_pg_url: str,
    artifact_dir: Path,
    trained: TrainedModel,
    other: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("mb")
    register(api_pg_url, name, trained, alias="production")
    register(api_pg_url, name, other)
    refs = ("@1", "@2", "@production", "")
    series = [_series(i) for i in range(8)]
    bodies = [
        {"model": f"{name}{ref}", "horizon": HORIZON, "series": s} for s in series for ref in refs
    ]
    alone = _app(make_settings(api_pg_url, artifact_dir, batch_max_series=1))
    expected = {
        (version, i): r.json()["forecasts"]
        for version in (1, 2)
        for i, r in enumerate(
            _post_each(
                alone,
                [{"model": f"{name}@{version}", "horizon": HORIZON, "series": s} for s in series],
            )
        )
    }
    app = _app(
        make_settings(
            api_pg_url, artifact_dir, model_cache_size=1, batch_wait_ms=5.0, batch_max_series=64
        )
    )
    with _moving_versions(api_pg_url, name):
        responses = asyncio.run(_post_all(app, bodies))
    assert [r.status_code for r in responses] == [200] * len(bodies)
    for i, response in enumerate(responses):
        version = response.json()["model"]["version"]
        assert response.json()["forecasts"] == expected[(version, i // len(refs))]
    assert expected[(1, 0)] != expected[(2, 0)]  # the two versions really answer differently


def _frame(i: int) -> dict[str, Any]:
    frame = series_frame(1, 40 + i)
    return {"unique_id": f"p{i}", "ds": frame["ds"], "y": frame["y"] + i}


def _together(actions: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=action) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


class _moving_versions:  # noqa: N801 - reads as the context manager it is
    """Move ``production`` between versions 1 and 2 until the block ends; after a few moves,
    archive version 2, so the bare name too resolves to another version midway."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._flip)

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def _flip(self) -> None:
        engine = make_engine(self.url)
        factory = make_session_factory(engine)
        moves = 0
        while not self.stop.is_set():
            moves += 1
            with session_scope(factory) as session:
                target = 1 if moves % 2 or moves >= ARCHIVE_AFTER else 2
                registry.set_alias(session, self.name, "production", target)
                if moves == ARCHIVE_AFTER:
                    registry.archive_version(session, self.name, 2)
            self.stop.wait(0.005)
        engine.dispose()


def _answer(response: Any) -> dict[str, Any]:
    """The answer without its provenance (a new forecast id and time for every request)."""
    provenance = {"forecast_id", "created_at"}
    return {k: v for k, v in response.json().items() if k not in provenance}
