"""Freed memory handed back to the operating system between the stages of a large fit.

Two allocators keep what a program frees for its next allocations instead of returning it: glibc's
malloc (numpy's and torch's buffers below the mmap threshold, Python objects) and Arrow's
memory pool (mimalloc; pandas' string columns, ``forecaster.frames.series_codes``). Both count
in the process's resident set until reused. At 20,000 series x 500 points (bench/scale.py,
"Memory at scale") Arrow's pool held 136 MB freed while the caller built its frame, and each
stage of ``fit`` left tens of MB behind that the next stage's peak stacked on. ``release``
returns both at the boundaries; it costs milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Callable
from functools import cache

import pyarrow as pa


def release() -> None:
    """Return memory freed so far to the operating system (Arrow's pool, then glibc's heap;
    a no-op where the C library is not glibc)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None on another C library (macOS, musl, Windows)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
