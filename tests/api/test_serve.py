"""cli.serve: the service refuses an unready database and an exposed address without keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.serve import run_service
from tests.api.conftest import make_settings


def test_refuses_to_start_before_migrations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'blank.db'}", tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        run_service(settings, host="127.0.0.1", port=1, workers_inline=0, with_scheduler=False)
    assert exit_info.value.code == 1
    assert "not at the migration head; run `forecaster migrate` first" in capsys.readouterr().err


def test_refuses_an_unreachable_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with pytest.raises(SystemExit):
        run_service(
            make_settings(url, tmp_path),
            host="127.0.0.1",
            port=1,
            workers_inline=0,
            with_scheduler=False,
        )
    assert "cannot reach the database" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.org"])
def test_refuses_a_public_address_without_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'blank.db'}", tmp_path)
    with pytest.raises(SystemExit):
        run_service(settings, host=host, port=1, workers_inline=0, with_scheduler=False)
    assert "without API keys" in capsys.readouterr().err
