"""BENCHMARKS.md sections: each bench script replaces its own section and leaves the rest alone."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def record(text: str, section: str) -> None:
    """Replace (or add) ``section`` (its ``## ...`` heading line) of BENCHMARKS.md with ``text``."""
    current = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    block = f"{section}\n\n{text.strip()}\n\n"
    found = pattern.search(current)
    updated = pattern.sub(lambda _: block, current) if found else current.rstrip() + "\n\n" + block
    BENCHMARKS.write_text(updated.rstrip() + "\n")
