"""Content-addressed artifact store on the local filesystem.

An artifact is a flat directory (``manifest.json`` and the files it describes, e.g.
``weights.safetensors``) stored at ``<root>/<sha256>``, where sha256 is the digest of
``manifest.json``'s bytes: the digest ``Forecaster.save`` returns. Beside the files the store
keeps an index of every file's size and sha256, checked on each :meth:`ArtifactStore.open`.
Writes go to a temporary directory under the root and are renamed into place, so a reader
never sees a half-written artifact. Only validated 64-hex digests reach the filesystem.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from models.errors import ArtifactCorrupted, ArtifactNotFound, InvalidInput

MANIFEST = "manifest.json"
INDEX = ".store-index.json"
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact lives, its address (sha256 of manifest.json) and its size in bytes."""

    uri: str
    sha256: str
    size: int


@dataclass(frozen=True)
class FileRecord:
    """Size and sha256 of one stored file."""

    size: int
    sha256: str


def validate_sha256(value: str) -> str:
    """VALUE when it is a lowercase 64-hex sha256 digest; InvalidInput otherwise."""
    if not isinstance(value, str) or not SHA256_PATTERN.fullmatch(value):
        raise InvalidInput("an artifact digest is 64 lowercase hexadecimal characters")
    return value


def _hash_file(path: Path) -> FileRecord:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileRecord(size=size, sha256=digest.hexdigest())


class ArtifactStore:
    """Artifacts under ROOT, one directory per sha256 of manifest.json."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, src_dir: Path) -> StoredArtifact:
        """Store the artifact in SRC_DIR (idempotent: the same manifest maps to the same place)."""
        files = _artifact_files(Path(src_dir))
        digest = _hash_file(Path(src_dir) / MANIFEST).sha256
        final = self._path(digest)
        if final.is_dir():
            try:
                return self._describe(digest, self._verify(final, digest))
            except ArtifactCorrupted:
                self._quarantine(final)
        staged = self._stage(Path(src_dir), files, digest)
        try:
            os.rename(staged, final)
        except OSError:  # a concurrent put of the same artifact won the rename
            shutil.rmtree(staged, ignore_errors=True)
        _fsync_dir(self.root)
        return self._describe(digest, self._verify(final, digest))

    def open(self, sha256: str) -> Path:
        """The directory of artifact SHA256, after checking every file against the index."""
        final = self._path(validate_sha256(sha256))
        if not final.is_dir():
            raise ArtifactNotFound(f"no artifact {sha256}")
        self._verify(final, sha256)
        return final

    def exists(self, sha256: str) -> bool:
        """True when an artifact is stored under SHA256 (not verified)."""
        return self._path(validate_sha256(sha256)).is_dir()

    def _path(self, sha256: str) -> Path:
        return self.root / validate_sha256(sha256)

    def _describe(self, digest: str, records: dict[str, FileRecord]) -> StoredArtifact:
        size = sum(record.size for record in records.values())
        return StoredArtifact(uri=self._path(digest).resolve().as_uri(), sha256=digest, size=size)

    def _stage(self, src: Path, files: list[str], digest: str) -> Path:
        staged = self.root / ".tmp" / uuid.uuid4().hex
        staged.mkdir(parents=True)
        try:
            records = {name: _copy_file(src / name, staged / name) for name in files}
            if records[MANIFEST].sha256 != digest:
                raise ArtifactCorrupted("manifest.json changed while it was being stored")
            index = {name: vars(record) for name, record in records.items()}
            _write_synced(staged / INDEX, json.dumps({"files": index}, sort_keys=True).encode())
            _fsync_dir(staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return staged

    def _verify(self, directory: Path, digest: str) -> dict[str, FileRecord]:
        records = _read_index(directory)
        present = {path.name for path in directory.iterdir()} - {INDEX}
        if present != set(records) or MANIFEST not in records:
            raise ArtifactCorrupted(f"artifact {digest}: files differ from the index")
        if records[MANIFEST].sha256 != digest:
            raise ArtifactCorrupted(f"artifact {digest}: index does not match its address")
        for name, expected in records.items():
            if _hash_file(directory / name) != expected:
                raise ArtifactCorrupted(f"artifact {digest}: {name} does not match its digest")
        return records

    def _quarantine(self, directory: Path) -> None:
        target = self.root / ".corrupt" / f"{directory.name}-{uuid.uuid4().hex[:8]}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(directory, target)


def _artifact_files(src: Path) -> list[str]:
    """The file names of an artifact directory: flat, regular files, manifest.json among them."""
    if not src.is_dir():
        raise InvalidInput(f"{src} is not a directory")
    names = []
    for path in sorted(src.iterdir()):
        if path.is_symlink() or not path.is_file():
            raise InvalidInput(f"artifact entries must be regular files: {path.name}")
        if path.name == INDEX:
            raise InvalidInput(f"{INDEX} is reserved by the store")
        names.append(path.name)
    if MANIFEST not in names:
        raise InvalidInput(f"an artifact needs a {MANIFEST}")
    return names


def _read_index(directory: Path) -> dict[str, FileRecord]:
    try:
        raw = json.loads((directory / INDEX).read_bytes())
        return {name: FileRecord(**record) for name, record in raw["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArtifactCorrupted(f"artifact {directory.name}: unreadable index") from exc


def _copy_file(src: Path, dst: Path) -> FileRecord:
    digest = hashlib.sha256()
    size = 0
    with src.open("rb") as reader, dst.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return FileRecord(size=size, sha256=digest.hexdigest())


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
