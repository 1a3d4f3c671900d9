"""API test fixtures: migrated databases, apps on them, and a tiny trained, registered model.

One migrated PostgreSQL database (and one SQLite file) serves every API test of the session;
tests stay independent by naming their datasets and models uniquely (``unique_name``).
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from starlette.exceptions import StarletteDeprecationWarning

from api.app import create_app
from forecaster import ForecastConfig, Forecaster
from migrations.runner import is_at_head, upgrade
from models import registry
from models.artifacts import ArtifactStore
from models.db import make_engine, make_session_factory, session_scope
from models.settings import Settings

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package (not installed); httpx still works for the tests.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

HORIZON = 6
TINY = ForecastConfig(
    hidden_size=4, num_layers=1, epochs=1, ensemble=1, device="cpu", batch_size=64, lookback=24
)


def series_frame(n_series: int = 3, points: int = 96, start: str = "2024-01-01") -> pd.DataFrame:
    """Hourly daily-seasonal series s0..s{n-1} in long format."""
    rng = np.random.default_rng(0)
    ds = pd.date_range(start, periods=points, freq="h")
    season = np.sin(np.arange(points) * 2 * np.pi / 24)
    frames = [
        pd.DataFrame(
            {"unique_id": f"s{i}", "ds": ds, "y": 10.0 + i + season + rng.normal(0, 0.1, points)}
        )
        for i in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


def series_payload(frame: pd.DataFrame) -> list[dict[str, object]]:
    """A long frame as the ``series`` list of a forecast request."""
    return [
        {
            "unique_id": uid,
            "ds": [ts.isoformat() for ts in group["ds"]],
            "y": group["y"].tolist(),
        }
        for uid, group in frame.groupby("unique_id", sort=True)
    ]


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names no other test uses: ``unique_name("ds")`` -> ``ds-1a2b3c4d``."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def api_pg_url(migrated_postgres_url: str) -> str:
    """The session's migrated PostgreSQL database (beside the session's empty one)."""
    return migrated_postgres_url


@pytest.fixture(scope="session")
def api_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file of the API tests, migrated to head."""
    url = f"sqlite:///{tmp_path_factory.mktemp('api-sqlite') / 'api.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The artifact store root shared by the session's apps."""
    return tmp_path_factory.mktemp("artifacts")


def make_settings(url: str, artifact_dir: Path, **overrides: object) -> Settings:
    """Settings for a test app (no keys, small limits unless overridden)."""
    values: dict[str, object] = {
        "database_url": url,
        "artifact_dir": artifact_dir,
        "api_keys": "",
        "forecast_wait_seconds": 2.0,
        "device": "cpu",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on the migrated PostgreSQL and SQLite databases."""
    fixture = "api_pg_url" if request.param == "postgresql" else "api_sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def client(api_pg_url: str, artifact_dir: Path) -> Iterator[TestClient]:
    """A client of an app on the migrated PostgreSQL database."""
    app = create_app(make_settings(api_pg_url, artifact_dir), at_head=is_at_head)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def any_client(db_url: str, artifact_dir: Path) -> Iterator[TestClient]:
    """A client of an app, once on PostgreSQL and once on SQLite."""
    app = create_app(make_settings(db_url, artifact_dir), at_head=is_at_head)
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class TrainedModel:
    """A tiny fitted model, its history and its stored artifact's digest."""

    model: Forecaster
    history: pd.DataFrame
    sha256: str
    size: int
    uri: str


@pytest.fixture(scope="session")
def trained(artifact_dir: Path) -> TrainedModel:
    """A tiny model trained once per session and stored in the artifact store."""
    torch.manual_seed(0)
    history = series_frame()
    model = Forecaster(TINY).fit(history, horizon=HORIZON)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        stored = ArtifactStore(artifact_dir).put(Path(tmp))
    return TrainedModel(model, history, stored.sha256, stored.size, stored.uri)


def register(url: str, name: str, trained: TrainedModel, alias: str | None = None) -> int:
    """Register ``trained`` as the next version of ``name`` in the database at ``url``."""
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            version = registry.register_version(
                session,
                name,
                horizon=HORIZON,
                freq=trained.model.freq,
                config=trained.model.config.model_dump(mode="json"),
                metrics={"mase": 1.0},
                backtest=trained.model.backtest_report,
                data_summary={"series": 3},
                artifact_uri=trained.uri,
                artifact_sha256=trained.sha256,
                artifact_size=trained.size,
                device="cpu",
                train_seconds=1.0,
                library_versions={"torch": torch.__version__},
            )
            number = version.version
            if alias is not None:
                registry.set_alias(session, name, alias, number)
    finally:
        engine.dispose()
    return number
