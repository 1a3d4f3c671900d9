"""Output of the user commands: aligned text tables on a terminal, JSON with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import typer

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def emit(
    items: Sequence[dict[str, Any]] | dict[str, Any], columns: list[Column], as_json: bool
) -> None:
    """Print ``items`` as JSON (all fields) or as a table of ``columns`` (header, getter)."""
    if as_json:
        typer.echo(json.dumps(items, indent=2, default=str))
        return
    rows = [items] if isinstance(items, dict) else list(items)
    typer.echo(
        table(
            [header for header, _ in columns], [[_cell(get(r)) for _, get in columns] for r in rows]
        )
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns two spaces apart, a header line and a rule."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    rule = ["-" * width for width in widths]
    return "\n".join([line(headers), line(rule), *(line(row) for row in rows)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    text = str(value)
    return text[:19].replace("T", " ") if _looks_like_time(text) else text


def _looks_like_time(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[10] == "T"
