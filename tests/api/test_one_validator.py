"""The API's ingest refuses bad content through the core's one validator of long frames."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from forecaster.errors import InvalidFrameError
from forecaster.frames import validate_long_frame
from tests.api.conftest import TestClient


@pytest.mark.parametrize(
    "body",
    [
        "unique_id,ds,y\na,2024-01-01,1\na,2024-01-02,abc\n",
        "unique_id,ds,y\na,2024-01-01,1\nb,2024-01-01,inf\n",
        "unique_id,ds,y\na,2024-01-01,1\na,yesterday,2\n",
        "unique_id,ds,y\na,2024-01-01,1\na,2300-01-01,2\n",
    ],
)
def test_a_bad_csv_is_refused_for_the_reason_the_library_gives(
    client: TestClient, body: str
) -> None:
    frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    with pytest.raises(InvalidFrameError) as info:
        validate_long_frame(frame, iso_only=True)
    refused = info.value
    response = client.put(
        "/v1/datasets/never-stored/observations",
        content=body.encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    error = response.json()["errors"][0]  # type: ignore[attr-defined]
    assert error["field"] == f"csv.{refused.column}"
    if refused.row is None:  # no row to name: the library's words as they are
        assert error["reason"] == refused.reason
    else:
        assert error["reason"].startswith(f"row {refused.row}: {refused.value!r} ")
    assert client.get("/v1/datasets/never-stored").status_code == 404
