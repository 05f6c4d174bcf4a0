"""The --vary sliders in a real JupyterLab and Notebook 7: a slider moved with the
keyboard redraws the table, the windows and the picture without re-running the cell; an
impossible value shows its error in place; the next good value brings the table back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, expect

from .conftest import run_notebook
from .jupyter import JupyterServer, NotebookPage

pytestmark = pytest.mark.browser

CELL = """%%cnn --vary k=1:9
input 8x8x1
k = 3
C1: conv 2 k{k}
S2: maxpool k2 s2
"""


@pytest.fixture(scope="module")
def sliders(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookPage]:
    with run_notebook(
        browser, jupyter_server, request.node, "cnn_sliders.ipynb", "%load_ext cnn_magic", CELL
    ) as nb:
        yield nb


def move(view: Locator, key: str) -> None:
    """One step of the slider with the keyboard, after a click on its handle. The keydown
    is sent to the handle itself: in Notebook 7 a key pressed through the page left the
    value unchanged (JupyterLab moved it either way)."""
    handle = view.locator(".noUi-handle").first
    handle.click()
    handle.dispatch_event("keydown", {"key": key, "bubbles": True})


def test_moving_the_slider_changes_the_table(sliders: NotebookPage) -> None:
    nb = sliders
    view = nb.outputs(1).locator(".cnn-magic-sliders")
    expect(view).to_have_count(1)
    total = view.locator("tr.T").filter(visible=True)  # the table of the chosen rounding
    expect(total).to_contain_text("3×3×2")  # 8 − 3 + 1 = 6, pooled to 3
    count = nb.execution_count(1)
    move(view, "ArrowLeft")  # k = 2: 7, pooled (up) to 4
    expect(view.locator(".widget-readout")).to_have_text("2")
    expect(total).to_contain_text("4×4×2")
    expect(view).to_contain_text("windows with k = 2")
    expect(view.locator('g.cnnm-node[data-layer="C1"]')).to_have_attribute("data-shape", "7×7×2")
    for _ in range(7):  # k = 9 > 8: no network
        move(view, "ArrowRight")
    expect(view.locator(".widget-readout")).to_have_text("9")
    expect(view.locator("pre.cnn-magic-error")).to_contain_text(
        "kernel 9 is larger than the padded input height 8"
    )
    expect(view).to_contain_text("no network with k = 9")
    move(view, "ArrowLeft")  # k = 8: back to a network, 1×1×2
    expect(view.locator("pre.cnn-magic-error")).to_have_count(0)
    expect(total).to_contain_text("1×1×2")
    assert nb.execution_count(1) == count, "the slider re-ran the cell"
