"""Browser tests: Playwright's sync API runs its own event loop in this thread, so the
pytest-jupyter loop fixtures (autouse, meant for in-process servers) are replaced here."""

import asyncio

import pytest


@pytest.fixture
def jp_asyncio_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def jp_server_cleanup():
    yield


@pytest.fixture(scope="package")
def browser():
    from browser_support import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; its console errors are in `page.console.errors`; a screenshot of
    the final state is kept in test-artifacts/ for every test."""
    from browser_support import ConsoleLog, screenshot

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.console = ConsoleLog()
    page.console.attach(page)
    yield page
    try:
        screenshot(page, request.node.name)
    finally:
        context.close()
