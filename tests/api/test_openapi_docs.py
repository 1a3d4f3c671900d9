"""The OpenAPI document is complete enough to write a client from: every request body has an
example, every field a description, and every error is declared as a problem document."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from api.errors import PROBLEM_MEDIA_TYPE
from models.settings import Settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The generated document (no database is touched to build it)."""
    app = create_app(Settings(database_url="sqlite:///:memory:", api_keys=""))
    spec: dict[str, Any] = app.openapi()
    return spec


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{name} {media}"
        for name, operation in _operations(document)
        for media, spec in operation.get("requestBody", {}).get("content", {}).items()
        if not ({"example", "examples"} & set(spec))
        and "examples" not in _resolve(document, spec.get("schema", {}))
    ]
    assert not missing, missing
    bodies = [name for name, operation in _operations(document) if "requestBody" in operation]
    assert len(bodies) >= 6  # ingest, train, alias, schedule create/patch, forecast


def test_every_field_has_a_description(document: dict[str, Any]) -> None:
    missing = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert not missing, missing


def test_errors_are_declared_as_problem_documents(document: dict[str, Any]) -> None:
    wrong = [
        f"{name} {status} {media}"
        for name, operation in _operations(document)
        for status, response in operation["responses"].items()
        if str(status)[0] in "45"
        for media in response.get("content", {})
        if media != PROBLEM_MEDIA_TYPE
    ]
    assert not wrong, wrong
    forecast = document["paths"]["/v1/forecast"]["post"]["responses"]
    assert forecast["4XX"]["content"][PROBLEM_MEDIA_TYPE]["schema"]["$ref"].endswith("/Problem")


def test_formats_are_declared(document: dict[str, Any]) -> None:
    ingest = document["paths"]["/v1/datasets/{dataset}/observations"]["put"]["requestBody"]
    assert {"application/json", "text/csv", "application/vnd.apache.parquet"} <= set(
        ingest["content"]
    )
    forecast = document["paths"]["/v1/forecast"]["post"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(forecast)
