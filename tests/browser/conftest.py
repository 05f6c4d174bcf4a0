"""Fixtures for the browser tests: one server per front end, one Chromium, a page per test.

Nothing here skips: if Chromium or a server cannot start, the test fails and
says which and why. On a failure the report gets the server log and the page's
console messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, Playwright, expect, sync_playwright

from .jupyter import (
    CHROMIUM,
    CHROMIUM_ARGS,
    WAIT_MS,
    App,
    JupyterServer,
    ServerError,
    browser_env,
)

APPS: tuple[App, ...] = ("lab", "notebook")

# expect()'s own default is 5 s; a widget's first render can take longer on a busy CI.
expect.set_options(timeout=WAIT_MS // 2)

# What the failure report should show: titles and how to get the text, read
# only when a report fails, so a server log is as fresh as the failure.
DIAGNOSTICS = pytest.StashKey[dict[str, Callable[[], str]]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for title, read in item.stash.get(DIAGNOSTICS, {}).items():
            report.sections.append((title, read() or "(empty)"))


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    home = tmp_path_factory.mktemp("chromium-home")
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env=browser_env(home),
        )
    except Error as exc:
        failure = f"Chromium could not start ({CHROMIUM}): {exc}"
    else:
        failure = ""
    if failure:  # outside the except block, so the report doesn't show it twice
        pytest.fail(failure, pytrace=False)
    yield browser
    browser.close()


@pytest.fixture(scope="session", params=APPS)
def jupyter_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    """A running ``jupyter lab`` or ``jupyter notebook``, shared by the session.

    Session scoped and parametrised: pytest groups the tests by front end and
    stops one server before it starts the other.
    """
    app: App = request.param
    server = JupyterServer(app, tmp_path_factory.mktemp(f"jupyter-{app}"))
    try:
        server.start()
    except ServerError as exc:
        failure = f"Jupyter server could not start: {exc}"
    else:
        failure = ""
    if failure:
        pytest.fail(failure, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context and page; its console goes into the failure report."""
    console: list[str] = []
    diagnostics = request.node.stash.setdefault(DIAGNOSTICS, {})
    diagnostics[f"browser console ({jupyter_server.app})"] = lambda: "\n".join(console)
    diagnostics[f"server log (jupyter {jupyter_server.app})"] = jupyter_server.log
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    try:
        yield page
    finally:
        context.close()
        jupyter_server.shutdown_kernels()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where a test puts its screenshots."""
    return tmp_path
