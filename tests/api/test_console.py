"""The console and the API docs are served from the package's own assets, keys or not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.app import create_app
from api.console import STATIC_DIR
from tests.api.conftest import TestClient, make_settings

# Any absolute URL a page could load: src/href attributes, CSS url(), JS import/fetch.
_REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//""")


def _local_only(text: str) -> list[str]:
    return _REMOTE.findall(text)


def test_console_page_and_its_assets_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r"""(?:src|href)="(/console/static/[^"]+)""", page.text)
    assert "/console/static/vendor/uplot/uPlot.iife.min.js" in assets
    assert "/console/static/js/main.js" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert _local_only(page.text) == []


@pytest.mark.parametrize(
    ("path", "asset"),
    [
        ("/docs", "/console/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/console/static/vendor/redoc/redoc.standalone.js"),
    ],
)
def test_api_docs_load_nothing_from_a_cdn(client: TestClient, path: str, asset: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert _local_only(page.text) == []
    assert f'src="{asset}"' in page.text
    assert client.get(asset).status_code == 200
    assert 'spec-url="/openapi.json"' in page.text or 'data-spec="/openapi.json"' in page.text


def test_console_sources_reference_no_other_host() -> None:
    ours = [p for p in STATIC_DIR.rglob("*") if p.suffix in {".js", ".css", ".html"}]
    ours = [p for p in ours if "vendor" not in p.parts]
    assert len(ours) >= 10
    for path in ours:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text, path.name
        assert "https://" not in text, path.name


def test_every_vendored_library_ships_its_licence() -> None:
    libraries = [p for p in (STATIC_DIR / "vendor").iterdir() if p.is_dir()]
    assert {p.name for p in libraries} == {"uplot", "swagger-ui", "redoc"}
    for library in libraries:
        assert (library / "LICENSE").read_text(encoding="utf-8").strip(), library.name
    # ReDoc's bundle loads its badge's logo from a CDN; the vendored copy has it inline.
    redoc = (STATIC_DIR / "vendor" / "redoc" / "redoc.standalone.js").read_text(encoding="utf-8")
    assert '"https://cdn.' not in redoc


def test_with_keys_the_console_loads_but_the_data_needs_a_key(
    api_pg_url: str, artifact_dir: Path
) -> None:
    settings = make_settings(api_pg_url, artifact_dir, api_keys="console-secret")
    with TestClient(create_app(settings)) as keyed:
        assert keyed.get("/").status_code == 200
        assert keyed.get("/console/static/js/api.js").status_code == 200
        assert keyed.get("/docs").status_code == 200
        assert keyed.get("/v1/datasets").status_code == 401
        authorised = {"Authorization": "Bearer console-secret"}
        assert keyed.get("/v1/datasets", headers=authorised).status_code == 200
