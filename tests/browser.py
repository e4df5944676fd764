"""Browser test harness: the app served by uvicorn on a free port, driven by Debian's Chromium via Playwright.

Playwright's async API runs in pytest-asyncio's session loop (its sync API would hold a running loop and break
every async fixture after it); the server runs in a thread with its own loop.
"""

import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from tradeloom.app import create_app
from tradeloom.net import free_port
from tradeloom.settings import Settings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def live_server(test_settings: Settings) -> Iterator[str]:
    """The real app (its own engine, real commits) on a free local port for the whole session."""
    yield from serve(test_settings)


def serve(settings: Settings) -> Iterator[str]:
    """Serve the app built with ``settings`` until the generator is closed; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
async def browser(test_settings: Settings) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=test_settings.chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies), desktop-sized, preferring Chinese."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    yield await context.new_page()
    await context.close()
