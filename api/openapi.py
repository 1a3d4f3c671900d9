"""OpenAPI for routes that read their body themselves (CSV or JSON ingest, fast forecast parse).

Such routes declare their body with ``request_body(...)``, which points at
``#/components/schemas/<Model>``; ``install_body_schemas`` adds those models (and the models
they use) to the generated document, so every ``$ref`` resolves. It also declares every error
answer as what it is: an ``application/problem+json`` ``Problem`` document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}}
# FastAPI's own 422 schemas, replaced by Problem everywhere.
_UNUSED = ("HTTPValidationError", "ValidationError")


def request_body(model: type[BaseModel], **extra_media: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON body of ``model`` (plus other media types)."""
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}
    }
    content.update({media.replace("_", "/"): spec for media, spec in extra_media.items()})
    return {"requestBody": {"required": True, "content": content}}


def install_body_schemas(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Make ``app.openapi()`` include ``models`` and their sub-models as components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template=REF_TEMPLATE)
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas[model.__name__] = schema
        declare_problem_responses(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def declare_problem_responses(document: dict[str, Any]) -> None:
    """Every 4xx/5xx response of ``document`` as ``application/problem+json`` with ``Problem``."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if str(code)[0] in "45":
                    response["content"] = dict(_PROBLEM_CONTENT)
    schemas = document.get("components", {}).get("schemas", {})
    for name in _UNUSED:
        schemas.pop(name, None)
