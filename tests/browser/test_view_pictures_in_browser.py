"""The pictures in the live %%cnn view, in a real JupyterLab and Notebook 7: a click on a
layer's name shows its windows under the table, the rounding toggle redraws them, and
the network's picture follows the rounding."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .conftest import run_notebook
from .jupyter import JupyterServer, NotebookPage, is_png

pytestmark = pytest.mark.browser

CELL = "%%cnn\ninput 13x13x4\nC1: conv 4 k3 p1\nP1: maxpool k2 s2\nfc 10"
SHOWN = ".cnnm-wp:visible"
SCREENSHOT_DIR = os.environ.get("CNN_MAGIC_SCREENSHOT_DIR")


@pytest.fixture(scope="module")
def view(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookPage]:
    with run_notebook(
        browser,
        jupyter_server,
        request.node,
        "cnn_view_pictures.ipynb",
        "%load_ext cnn_magic",
        CELL,
    ) as nb:
        yield nb


def test_a_click_on_a_row_shows_its_windows(view: NotebookPage, artifacts: Path) -> None:
    nb = view
    live = nb.view(1)
    count = nb.execution_count(1)
    expect(live.locator(SHOWN)).to_have_count(0)
    nb.table(1).locator("label.wl", has_text="P1").click()  # in the table shown
    shown = live.locator(SHOWN)
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("13 cells, k2 s2, ceil → 7 outputs")  # textbook
    expect(shown.locator("g.cnnm-win")).to_have_count(7)
    expect(live.locator(".cnnm-wn:visible")).to_have_text("P1 · maxpool k2 s2")
    nb.click_toggle("floor", 1)  # the rounding toggle redraws the windows
    expect(shown).to_contain_text("13 cells, k2 s2, floor → 6 outputs")
    expect(shown.locator("g.cnnm-win")).to_have_count(6)
    expect(shown.locator("rect.cnnm-uncovered")).to_have_count(1)  # pixel 12
    shot = nb.screenshot(nb.view(1), artifacts / f"view-{nb.server.app}.png", margin=4)
    assert is_png(shot)
    if SCREENSHOT_DIR and nb.server.app == "lab":
        target = Path(SCREENSHOT_DIR) / "pictures" / "view-windows.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    network = live.locator(".cnnm-np:visible")
    expect(network.locator('g[data-layer="P1"]')).to_have_attribute("data-shape", "6×6×4")
    live.locator(".cnnm-wclose").click()
    expect(live.locator(SHOWN)).to_have_count(0)
    nb.click_toggle("textbook", 1)
    expect(network.locator('g[data-layer="P1"]')).to_have_attribute("data-shape", "7×7×4")
    assert nb.execution_count(1) == count, "a click re-ran the cell"
