"""Artifacts: a round trip gives identical forecasts; bad or foreign artifacts are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from forecaster import ArtifactError, ForecastConfig, Forecaster
from forecaster.artifact import MANIFEST, WEIGHTS

from .conftest import seasonal_frame


@pytest.fixture(scope="module")
def saved(tiny_model: Forecaster, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("artifact") / "model"
    return directory, tiny_model.save(directory)


def _copy(saved: tuple[Path, str], tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(saved[0], target)
    return target


def test_save_writes_two_files_and_returns_the_manifest_digest(saved: tuple[Path, str]) -> None:
    import hashlib

    directory, digest = saved
    assert sorted(p.name for p in directory.iterdir()) == [MANIFEST, WEIGHTS]
    assert hashlib.sha256((directory / MANIFEST).read_bytes()).hexdigest() == digest
    manifest = json.loads((directory / MANIFEST).read_text())
    assert manifest["format_version"] == 1
    assert manifest["weights"]["size"] == (directory / WEIGHTS).stat().st_size
    assert manifest["freq"] == "h"
    assert manifest["config"]["hidden_size"] == 8
    assert {"spec", "data_summary", "library_versions", "metrics"} <= set(manifest)


def test_load_gives_identical_forecasts(tiny_model: Forecaster, saved: tuple[Path, str]) -> None:
    loaded = Forecaster.load(saved[0])
    pd.testing.assert_frame_equal(loaded.predict(), tiny_model.predict())
    history = seasonal_frame(seed=9)
    pd.testing.assert_frame_equal(loaded.predict(history, 4), tiny_model.predict(history, 4))
    assert loaded.config == tiny_model.config
    assert loaded.metrics == tiny_model.metrics
    for name in ("horizon", "freq", "n_params", "epochs_run", "min_history", "data_summary"):
        assert getattr(loaded, name) == getattr(tiny_model, name)


def test_saving_twice_gives_the_same_digest(tiny_model: Forecaster, tmp_path: Path) -> None:
    assert tiny_model.save(tmp_path / "a") == tiny_model.save(tmp_path / "b")


def test_tampered_weights_are_refused(saved: tuple[Path, str], tmp_path: Path) -> None:
    directory = _copy(saved, tmp_path)
    data = bytearray((directory / WEIGHTS).read_bytes())
    data[-5] ^= 0xFF
    (directory / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="tampered"):
        Forecaster.load(directory)


def test_truncated_weights_are_refused(saved: tuple[Path, str], tmp_path: Path) -> None:
    directory = _copy(saved, tmp_path)
    data = (directory / WEIGHTS).read_bytes()
    (directory / WEIGHTS).write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="truncated"):
        Forecaster.load(directory)


def test_unknown_format_version_is_refused(saved: tuple[Path, str], tmp_path: Path) -> None:
    directory = _copy(saved, tmp_path)
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["format_version"] = 99
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="unknown format version 99"):
        Forecaster.load(directory)


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"format": "other"}'])
def test_unreadable_manifest_is_refused(
    saved: tuple[Path, str], tmp_path: Path, content: bytes
) -> None:
    directory = _copy(saved, tmp_path)
    (directory / MANIFEST).write_bytes(content)
    with pytest.raises(ArtifactError):
        Forecaster.load(directory)


def test_missing_files_are_refused(saved: tuple[Path, str], tmp_path: Path) -> None:
    directory = _copy(saved, tmp_path)
    (directory / WEIGHTS).unlink()
    with pytest.raises(ArtifactError, match="missing"):
        Forecaster.load(directory)
    with pytest.raises(ArtifactError, match="missing"):
        Forecaster.load(tmp_path / "nowhere")


def test_inconsistent_manifest_is_refused(saved: tuple[Path, str], tmp_path: Path) -> None:
    directory = _copy(saved, tmp_path)
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["spec"]["hidden_size"] = 9  # weights no longer fit the described network
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="inconsistent"):
        Forecaster.load(directory)


def test_no_pickle_on_any_load_path() -> None:
    core = Path(__file__).resolve().parents[2] / "forecaster"
    source = "\n".join(p.read_text() for p in core.rglob("*.py"))
    for forbidden in ("torch.load", "import pickle", "pickle.load", "weights_only"):
        assert forbidden not in source


def test_ensemble_round_trip(tmp_path: Path) -> None:
    config = ForecastConfig(
        hidden_size=4,
        num_layers=1,
        lookback=24,
        epochs=1,
        ensemble=2,
        time_budget_s=None,
        device="cpu",
        batch_size=16,
    )
    model = Forecaster(config).fit(seasonal_frame(n_series=2), horizon=3)
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(), model.predict())
