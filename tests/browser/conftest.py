"""A real browser for tests of web pages: Debian's Chromium, driven by Playwright.

One Chromium process serves the whole session (``browser_endpoint``); each test connects
to it with Playwright's async API and gets a fresh phone-sized page (``phone``), so tests
stay isolated and fast. Screenshots go to $CORRIDOR_SCREENSHOTS (or a temporary folder),
through ``screenshot``. Without /usr/bin/chromium the tests are skipped, saying why;
``.ci/run`` installs it, so CI always runs them. Never ``playwright install``: browsers
are not downloaded, the distribution's Chromium is used."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, PHONE


@pytest.fixture(scope="session")
def browser_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The DevTools address of one headless Chromium for the whole session."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run does it)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_ARGS, "--remote-debugging-port=0", f"--user-data-dir={profile}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    endpoint = ""
    for line in process.stderr:
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            endpoint = found.group(1)
            break
    if not endpoint:
        process.kill()
        raise RuntimeError(f"{CHROMIUM} did not start: it never printed its DevTools address")
    # Keep reading stderr so Chromium never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    try:
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def browser(browser_endpoint: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        connected = await playwright.chromium.connect_over_cdp(browser_endpoint)
        try:
            yield connected
        finally:
            await connected.close()


@pytest.fixture
async def phone(browser: Any) -> AsyncIterator[Any]:
    """A fresh phone-sized page (its own cookies and storage); downloads allowed."""
    context = await browser.new_context(**PHONE, accept_downloads=True)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = os.environ.get("CORRIDOR_SCREENSHOTS") or tempfile.mkdtemp(prefix="corridor-shots-")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(screenshot_dir: Path, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``await screenshot(page, "board")`` saves <dir>/<test name>-board.png and returns the path."""

    async def take(page: Any, name: str, full_page: bool = True) -> Path:
        path = screenshot_dir / f"{request.node.name}-{name}.png"
        await page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
