"""With API keys on, the console asks for a key once and shows nothing without it; the API
docs (Swagger UI, ReDoc) render from the package's own assets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Served, serve, watch
from tests.conftest import postgres_database

pytestmark = pytest.mark.slow
KEY = "browser-test-key"


@pytest.fixture(scope="module")
def keyed(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A service that needs ``Authorization: Bearer browser-test-key``."""
    with postgres_database(postgres_url, "forecaster_browser") as url:
        yield from serve(url, tmp_path_factory.mktemp("keyed"), FORECASTER_API_KEYS=KEY)


def test_the_console_asks_for_a_key_once_and_sends_it(browser: Browser, keyed: Served) -> None:
    watched = watch(browser, keyed.url)
    page = watched.page
    page.goto(f"{keyed.url}/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("table.datasets")).to_have_count(0)  # nothing shown without a key
    page.fill("#key-input", "wrong-key")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#key-error")).to_be_visible()  # refused: asked again, saying so
    page.fill("#key-input", KEY)
    page.click("#key-form button[type=submit]")
    expect(dialog).to_be_hidden()
    expect(page.locator("#dataset-list")).to_contain_text("No dataset yet")
    page.click("#nav a[href='#/jobs']")
    expect(page.locator("#job-list")).to_contain_text("No job.")
    expect(dialog).to_be_hidden()  # asked once: later pages reuse the key
    sent = page.evaluate("sessionStorage.getItem('forecaster.apiKey')")
    assert sent == KEY
    assert watched.foreign_requests() == []
    assert watched.page_errors == []
    # Only the browser's own log lines of the two refused (401) attempts.
    assert set(watched.console_errors) <= {
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    }


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/docs", ".opblock-tag"), ("/redoc", "h1:has-text('Forecaster')")],
)
def test_api_docs_render_without_internet(
    browser: Browser, keyed: Served, path: str, rendered: str
) -> None:
    watched = watch(browser, keyed.url)
    watched.page.goto(f"{keyed.url}{path}")
    expect(watched.page.locator(rendered).first).to_be_visible(timeout=20_000)
    assert watched.foreign_requests() == []
    assert watched.console_errors == []
    assert watched.page_errors == []
