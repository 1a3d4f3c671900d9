"""Artifacts: ``weights.safetensors`` + ``manifest.json``; loading never executes code.

The manifest records the weights file's sha256 and size; ``load`` refuses a file that differs,
an unreadable manifest and an unknown format version.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from forecaster.errors import ArtifactError

FORMAT = "forecaster-model"
FORMAT_VERSION = 1
WEIGHTS = "weights.safetensors"
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Artifact:
    """What a saved model holds: named tensors and a JSON-ready manifest body."""

    tensors: dict[str, torch.Tensor]
    manifest: dict[str, Any]


def write(directory: Path, artifact: Artifact) -> str:
    """Write the artifact into ``directory``; return the sha256 hex digest of manifest.json."""
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS
    tensors = {k: v.detach().cpu().contiguous() for k, v in artifact.tensors.items()}
    save_file(tensors, str(weights))
    body = dict(artifact.manifest)
    body["format"], body["format_version"] = FORMAT, FORMAT_VERSION
    body["weights"] = {"file": WEIGHTS, "sha256": _sha256(weights), "size": weights.stat().st_size}
    data = json.dumps(_finite(body), sort_keys=True, indent=2, allow_nan=False).encode()
    (directory / MANIFEST).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read(directory: Path) -> Artifact:
    """Read and verify an artifact; raise ArtifactError when anything is off."""
    manifest = _read_manifest(directory / MANIFEST)
    weights = directory / WEIGHTS
    expected = manifest.get("weights")
    if not isinstance(expected, dict) or not weights.is_file():
        raise ArtifactError(f"{weights} is missing or not described by the manifest")
    if weights.stat().st_size != expected.get("size"):
        raise ArtifactError(f"{weights} is truncated or altered: size differs from the manifest")
    if _sha256(weights) != expected.get("sha256"):
        raise ArtifactError(f"{weights} was tampered with: sha256 differs from the manifest")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError) as exc:
        raise ArtifactError(f"{weights} cannot be read: {exc}") from exc
    return Artifact(tensors, manifest)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ArtifactError(f"{path} is missing")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"{path} is too large to be a manifest")
    try:
        manifest = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path} is not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        version = manifest.get("format_version")
        raise ArtifactError(
            f"unknown format version {version!r}; this build reads {FORMAT_VERSION}"
        )
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _finite(value: Any) -> Any:
    """JSON has no NaN/inf: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
