"""``make test`` on a machine where no PostgreSQL answers: a private throwaway cluster."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "with-postgres"
PROBE = (
    "import os, psycopg; from sqlalchemy.engine import make_url; "
    "url = make_url(os.environ['FORECASTER_TEST_DATABASE_URL']); "
    "conn = psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database); "
    "print(url.port, conn.execute('select 1').fetchone()[0])"
)


@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="no PostgreSQL server binaries"
)
def test_a_private_cluster_serves_the_command_and_is_removed() -> None:
    env = {**os.environ, "FORECASTER_PRIVATE_POSTGRES": "1"}
    env.pop("FORECASTER_TEST_DATABASE_URL", None)
    result = subprocess.run(
        [str(SCRIPT), sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    port, answer = result.stdout.split()
    assert answer == "1"
    assert int(port) != 5432
    folder = re.search(r"cluster in (\S+) on", result.stderr)
    assert folder is not None, result.stderr
    assert not Path(folder.group(1)).exists()  # the cluster's folder is gone


def test_the_command_exit_status_is_kept() -> None:
    env = {**os.environ, "FORECASTER_TEST_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/x"}
    result = subprocess.run(
        [str(SCRIPT), sys.executable, "-c", "raise SystemExit(3)"],
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
