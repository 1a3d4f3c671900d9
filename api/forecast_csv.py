"""``Accept: text/csv`` on ``/v1/forecast``: the forecast as one long CSV table.

The columns are the library's (``unique_id, ds, mean, q0.1, ...``), one row per series and step,
floats written so that they parse back to the same numbers. Scalar facts of the JSON answer
(the model version, a job id, a forecast id) travel as ``Forecaster-*`` headers.
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from forecaster.records import records_frame

CSV_MEDIA_TYPE = "text/csv"
_JSON_RANGES = ("application/json", "application/*", "*/*")
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {
                "schema": {"type": "string"},
                "example": "unique_id,ds,mean,q0.1,q0.9\n"
                "store-1,2024-01-05T00:00:00Z,12.1,10.4,13.9\n",
            }
        },
        "description": "The forecast: JSON, or one long CSV table with `Accept: text/csv`.",
    }
}


def wants_csv(request: Request) -> bool:
    """Whether the Accept header prefers ``text/csv`` to JSON (by quality, then by order)."""
    weights = _accept_weights(request.headers.get("accept", ""))
    csv = weights.get(CSV_MEDIA_TYPE, weights.get("text/*", 0.0))
    json = max((weights.get(media, 0.0) for media in _JSON_RANGES), default=0.0)
    return csv > 0 and csv >= json and CSV_MEDIA_TYPE in weights


def _accept_weights(header: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            weights.setdefault(media.lower(), quality)
    return weights


def csv_answer(response: JSONResponse) -> Response:
    """A 200 JSON forecast answer rendered as CSV; any other answer is returned unchanged."""
    if response.status_code != 200:
        return response
    document: dict[str, Any] = pydantic_core.from_json(bytes(response.body))
    frame = records_frame(document.get("forecasts", []))
    frame["ds"] = frame["ds"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = frame.to_csv(index=False)
    return Response(body, media_type=CSV_MEDIA_TYPE, headers=_headers(document))


def _headers(document: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    model = document.get("model")
    if isinstance(model, dict) and model.get("name"):
        headers["Forecaster-Model"] = f"{model['name']}@{model.get('version')}"
    for key, value in document.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            headers[f"Forecaster-{key.replace('_', '-').title()}"] = str(value)
    return headers
