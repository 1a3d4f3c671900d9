"""Freed memory handed back between fit's stages: a no-op where the C library is not glibc."""

from __future__ import annotations

import platform

import pytest

from forecaster import heap


def test_release_runs_whatever_the_platform() -> None:
    heap.release()
    heap.release()  # nothing left to hand back: still fine


def test_no_trim_outside_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    heap._malloc_trim.cache_clear()
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    try:
        assert heap._malloc_trim() is None
        heap.release()
    finally:
        heap._malloc_trim.cache_clear()
