"""The content-addressed artifact store: addressing, atomic puts, verification on open."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from models.artifacts import INDEX, ArtifactStore
from models.errors import ArtifactCorrupted, ArtifactNotFound, InvalidInput

WEIGHTS = bytes(range(256)) * 64


def make_artifact(directory: Path, marker: str = "v1") -> str:
    """An artifact directory like Forecaster.save writes; returns its manifest's sha256."""
    directory.mkdir(parents=True)
    (directory / "weights.safetensors").write_bytes(WEIGHTS)
    manifest = json.dumps(
        {
            "format_version": 1,
            "marker": marker,
            "weights_sha256": hashlib.sha256(WEIGHTS).hexdigest(),
        }
    ).encode()
    (directory / "manifest.json").write_bytes(manifest)
    return hashlib.sha256(manifest).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store")


def test_put_addresses_by_manifest_digest_and_open_returns_the_files(
    store: ArtifactStore, tmp_path: Path
) -> None:
    digest = make_artifact(tmp_path / "src")
    stored = store.put(tmp_path / "src")
    assert stored.sha256 == digest
    assert stored.size == len(WEIGHTS) + (tmp_path / "src" / "manifest.json").stat().st_size
    opened = store.open(digest)
    assert opened == store.root / digest
    assert stored.uri == opened.resolve().as_uri()
    assert (opened / "weights.safetensors").read_bytes() == WEIGHTS
    assert not any((store.root / ".tmp").iterdir())
    assert store.exists(digest)


def test_put_is_idempotent(store: ArtifactStore, tmp_path: Path) -> None:
    make_artifact(tmp_path / "a")
    make_artifact(tmp_path / "b")
    assert store.put(tmp_path / "a") == store.put(tmp_path / "b")
    other = make_artifact(tmp_path / "c", marker="v2")
    assert store.put(tmp_path / "c").sha256 == other


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "weights.safetensors").write_bytes(WEIGHTS[:-1]),  # truncated
        lambda d: (d / "weights.safetensors").write_bytes(b"\xff" + WEIGHTS[1:]),  # tampered
        lambda d: (d / "manifest.json").write_bytes(b"{}"),
        lambda d: (d / "weights.safetensors").unlink(),
        lambda d: (d / "extra.bin").write_bytes(b"x"),
        lambda d: (d / INDEX).write_text("not json"),
    ],
    ids=["truncated", "tampered", "manifest", "missing", "extra", "index"],
)
def test_open_detects_damage(store: ArtifactStore, tmp_path: Path, damage: object) -> None:
    digest = make_artifact(tmp_path / "src")
    store.put(tmp_path / "src")
    damage(store.root / digest)  # type: ignore[operator]
    with pytest.raises(ArtifactCorrupted):
        store.open(digest)


def test_put_replaces_a_corrupted_copy(store: ArtifactStore, tmp_path: Path) -> None:
    digest = make_artifact(tmp_path / "src")
    store.put(tmp_path / "src")
    (store.root / digest / "weights.safetensors").write_bytes(b"bad")
    store.put(tmp_path / "src")
    assert (store.open(digest) / "weights.safetensors").read_bytes() == WEIGHTS


@pytest.mark.parametrize(
    "digest", ["../../etc/passwd", "A" * 64, "a" * 63, "g" * 64, "/" + "a" * 63, ""]
)
def test_only_hex_digests_reach_the_filesystem(store: ArtifactStore, digest: str) -> None:
    with pytest.raises(InvalidInput, match="64"):
        store.open(digest)


def test_unknown_digest_is_not_found(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound):
        store.open("0" * 64)


def test_bad_sources_are_refused(store: ArtifactStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="manifest"):
        store.put(tmp_path / "empty")
    make_artifact(tmp_path / "nested")
    (tmp_path / "nested" / "sub").mkdir()
    with pytest.raises(InvalidInput, match="regular files"):
        store.put(tmp_path / "nested")
