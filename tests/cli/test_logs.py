"""Structured log lines: JSON carries every ``extra`` field; text appends them."""

from __future__ import annotations

import json
import logging

from cli.logs import JsonFormatter, TextFormatter


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "api.request", "levelno": logging.INFO, "levelname": "INFO", "msg": "request"}
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_extras() -> None:
    line = JsonFormatter().format(_record(method="GET", path="/v1/jobs", status=200, job_id=7))
    payload = json.loads(line)
    assert payload["message"] == "request"
    assert payload["level"] == "INFO"
    assert (payload["method"], payload["path"], payload["status"], payload["job_id"]) == (
        "GET",
        "/v1/jobs",
        200,
        7,
    )
    assert payload["time"].endswith("+00:00")


def test_text_lines_append_extras() -> None:
    line = TextFormatter().format(_record(job_id=7, model="demand"))
    assert line.endswith("request job_id=7 model=demand")


def test_uvicorn_colour_copies_of_messages_are_dropped() -> None:
    record = _record(color_message="\x1b[36mrequest\x1b[0m", job_id=7)
    assert "color_message" not in json.loads(JsonFormatter().format(record))
    assert TextFormatter().format(record).endswith("request job_id=7")
