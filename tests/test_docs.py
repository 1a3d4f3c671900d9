"""The README's promises that can drift from the code: settings and CLI commands."""

from __future__ import annotations

from pathlib import Path

import typer.main

from cli.main import app
from models.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        f"FORECASTER_{name.upper()}"
        for name in Settings.model_fields
        if f"`FORECASTER_{name.upper()}`" not in README
    ]
    assert not missing, f"README lacks {missing}"


def test_every_cli_command_is_documented() -> None:
    group = typer.main.get_command(app)
    for name in group.commands:  # type: ignore[attr-defined]
        assert f"`forecaster {name}" in README, name


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:1500]
    assert "make run" in head
    assert "make test" in head
