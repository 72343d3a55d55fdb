"""A headless Chromium for the sandbox's browser tests, and the sandbox served in-process.

The distribution's Chromium (/usr/bin/chromium; `.ci/run` installs it) driven by the Python
`playwright` package, whose wheel ships the driver: nothing is downloaded at test time.
Without Chromium the tests skip and say why. (Meant to merge with tests/browser/conftest.py.)"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from corridor_dev.sandbox.run import listen
from corridor_dev.sandbox.session import Sandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1600, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SCREENSHOTS = Path(
    os.environ.get("CORRIDOR_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


__all__ = ["desktop_page", "phone_page", "sandbox_browser", "sandbox_server"]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sandbox_browser() -> AsyncIterator[Any]:
    _require_chromium()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[dev]'")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox_server() -> AsyncIterator[tuple[Sandbox, str]]:
    """A fresh sandbox on a free port of 127.0.0.1, as `corridor sandbox --port 0` serves it."""
    sandbox = Sandbox()
    await sandbox.start()
    runner, url = await listen(sandbox, 0)
    try:
        yield sandbox, url
    finally:
        await runner.cleanup()
        await sandbox.stop()


async def _page(browser: Any, options: dict[str, Any]) -> AsyncIterator[Any]:
    context = await browser.new_context(**options)
    page = await context.new_page()
    page.set_default_timeout(90_000)  # a busy 2-core machine; a wait, not a time limit
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert errors == [], f"the page threw: {errors}"


@pytest_asyncio.fixture(loop_scope="session")
async def desktop_page(sandbox_browser: Any) -> AsyncIterator[Any]:
    async for page in _page(sandbox_browser, DESKTOP):
        yield page


@pytest_asyncio.fixture(loop_scope="session")
async def phone_page(sandbox_browser: Any) -> AsyncIterator[Any]:
    async for page in _page(sandbox_browser, PHONE):
        yield page


async def screenshot(page: Any, name: str) -> Path:
    """Saved under test-artifacts/ (or $CORRIDOR_SCREENSHOTS); Playwright creates the folder."""
    path = SCREENSHOTS / f"sandbox-{name}.png"
    await page.screenshot(path=str(path))
    return path
