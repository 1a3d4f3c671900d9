"""OpenAPI for routes that read their body themselves (CSV or JSON ingest, fast forecast parse).

Such routes declare their body with ``request_body(...)``, which points at
``#/components/schemas/<Model>``; ``install_body_schemas`` adds those models (and the models
they use) to the generated document, so every ``$ref`` resolves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"


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
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
