"""Fixtures for the browser tests: one server per front end, one Chromium, pages.

Nothing here skips: if Chromium or a server cannot start, the test fails and
says which and why. On a failure the report gets the server log and the page's
console messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from .jupyter import (
    WAIT_MS,
    App,
    BrowserError,
    JupyterServer,
    NotebookPage,
    ServerError,
    launch_chromium,
    write_notebook,
)

APPS: tuple[App, ...] = ("lab", "notebook")

# expect()'s own default is 5 s; a widget's first render can take longer on a busy CI.
expect.set_options(timeout=WAIT_MS // 2)

# What the failure report should show: titles and how to get the text, read
# only when a report fails, so a server log is as fresh as the failure. Kept on
# the node that owns the page (a test, or a module for a module-scoped page).
DIAGNOSTICS = pytest.StashKey[dict[str, Callable[[], str]]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        # the test's own entries win over its module's (the same server log, say)
        sections: dict[str, Callable[[], str]] = {}
        for node in item.listchain():
            sections.update(node.stash.get(DIAGNOSTICS, {}))
        for title, read in sections.items():
            report.sections.append((title, read() or "(empty)"))


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    try:
        browser = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-home"))
    except BrowserError as exc:
        failure = str(exc)
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


@contextmanager
def open_page(
    browser: Browser, server: JupyterServer, owner: pytest.Item | pytest.Collector, scale: float = 1
) -> Iterator[Page]:
    """A fresh browser context and page; while it is open, a failure of any test
    under ``owner`` reports the page's console and the server log. On leaving,
    the page closes and the server's kernels are shut down; if the code inside
    raised (a module fixture's setup), the diagnostics stay for its report.
    ``scale`` is the device pixel ratio: screenshots are that many times larger."""
    console: list[str] = []
    diagnostics = owner.stash.setdefault(DIAGNOSTICS, {})
    # a module's page and a test's may both be open: the titles tell them apart
    titles = (
        f"browser console ({server.app}, page of {owner.name})",
        f"server log (jupyter {server.app})",
    )
    diagnostics[titles[0]] = lambda: "\n".join(console)
    diagnostics[titles[1]] = server.log
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, device_scale_factor=scale
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    try:
        yield page
    except BaseException:
        raise  # a setup that failed inside: keep the diagnostics for its report
    else:
        for title in titles:
            diagnostics.pop(title, None)
    finally:
        context.close()
        server.shutdown_kernels()


@contextmanager
def run_notebook(
    browser: Browser,
    server: JupyterServer,
    owner: pytest.Item | pytest.Collector,
    name: str,
    *sources: str,
    scale: float = 1,
) -> Iterator[NotebookPage]:
    """The notebook ``name`` of these code cells, written, opened in a page of its own
    (see :func:`open_page`) and run top to bottom: a module's tests share it."""
    write_notebook(server.root_dir / name, *sources)
    with open_page(browser, server, owner, scale=scale) as page:
        yield NotebookPage(page, server, name).open().run_all()


@pytest.fixture
def page(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page of its own for one test."""
    with open_page(browser, jupyter_server, request.node) as page:
        yield page


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where a test puts its screenshots."""
    return tmp_path
