"""The harness fails loudly: a browser or server that cannot start is named, with why.

These start no real Jupyter: a fake server command and a Chromium path that does
not exist stand in for the two ways a CI machine breaks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from .jupyter import BrowserError, JupyterServer, ServerError, launch_chromium

pytestmark = pytest.mark.browser


def fake_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> JupyterServer:
    server = JupyterServer("lab", tmp_path)
    monkeypatch.setattr(server, "command", lambda: [sys.executable, "-c", code])
    return server


def test_a_server_that_exits_is_named_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fake_server(tmp_path, monkeypatch, "print('bad option --frob'); raise SystemExit(3)")
    with pytest.raises(ServerError, match=r"(?s)jupyter lab exited with code 3.*bad option --frob"):
        server.start(timeout=30)


def test_a_server_that_never_answers_is_stopped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "import time; print('starting', flush=True); time.sleep(60)"
    server = fake_server(tmp_path, monkeypatch, code)
    with pytest.raises(ServerError, match=r"(?s)did not answer /api/status within 1 s.*starting"):
        server.start(timeout=1)
    assert server.proc is None  # stopped, not left running


def test_a_missing_chromium_is_named(playwright: Playwright, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-chromium")
    with pytest.raises(BrowserError, match=rf"Chromium could not start \({missing}\): .+"):
        launch_chromium(playwright, tmp_path / "home", executable=missing)
