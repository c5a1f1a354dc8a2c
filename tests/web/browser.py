"""Headless Chromium, for tests that look at the web view as a person does.

Playwright drives Debian's own Chromium (``apt-get install chromium``): Playwright's browser
builds are never downloaded. Each test gets a fresh browser and page; at the end of the test,
passed or failed, the page is saved as ``test-artefacts/screenshots/<test>.png``, and a test
saves more with ``save_screenshot`` at the moments worth looking at.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screenshots"
# Long enough for a page of the served app, short enough that a missing element fails fast.
TIMEOUT_MS = 10_000


async def save_screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``test-artefacts/screenshots/<name>.png``; returns the file."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')}.png"
    await page.screenshot(path=path, full_page=True)
    return path


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Debian's chromium is not installed: apt-get install chromium"
    # CI installs it (.ci/run): a missing browser there is a broken install, not a skip.
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser_page(request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A new page in a headless Chromium of its own; screenshotted when the test ends."""
    _require_chromium()
    async with async_playwright() as playwright:
        # CI runs as root, where Chromium refuses to start sandboxed.
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
            try:
                await save_screenshot(page, request.node.name)
            except PlaywrightError as exc:
                # The page may have gone with what the test was about; its error says more.
                print(f"no screenshot of {request.node.name}: {exc}")
        finally:
            await browser.close()
