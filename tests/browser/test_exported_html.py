"""nbconvert's HTML of a notebook with ``%%cnn`` cells, opened in Chromium from a file.

The notebook is run by nbclient (with and without its widget state stored, as
``jupyter nbconvert --execute`` and a saved notebook give) and exported with the lab
template. Offline, as here, the widgets' CDN script cannot load: the static outputs carry
the tables and the pictures, and their toggles, collapsible blocks and a layer's windows
work with no kernel and no script.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from networks import LENET5, POOL9
from playwright.sync_api import Browser, Page, Route, expect

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CELLS = ("%load_ext cnn_magic", f"%%cnn\n{LENET5}", f"%%cnn\n{POOL9}", "%cnn --example resnet50")
LENET, POOL, RESNET = 1, 2, 3


def exported(tmp_path: Path, store_widget_state: bool) -> Path:
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in CELLS])
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        store_widget_state=store_widget_state,
        resources={"metadata": {"path": str(REPO)}},
    ).execute()
    assert ("widgets" in nb.metadata) == store_widget_state
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    path = tmp_path / "exported.html"
    path.write_text(body, encoding="utf-8")
    return path


def offline(route: Route) -> None:
    """Only the file itself loads; the widgets' CDN script fails as it does offline."""
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def open_file(browser: Browser, path: Path) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", offline)
    page.goto(path.as_uri())
    return page


def cell(page: Page, n: int):
    return page.locator(".jp-Cell.jp-CodeCell").nth(n)


def view(page: Page, n: int):
    return cell(page, n).locator(".cnn-magic").filter(visible=True)


def click(page: Page, n: int, text: str) -> None:
    label = view(page, n).locator(".ctl label").filter(has_text=re.compile(f"^{text}$"))
    label.click()
    expect(page.locator(f"#{label.get_attribute('for')}")).to_be_checked()


def total(page: Page, n: int) -> list[str]:
    table = view(page, n).locator("table").filter(visible=True)
    return table.locator("tr.T td").all_inner_texts()


@pytest.mark.parametrize("store_widget_state", [True, False], ids=["with-state", "without-state"])
def test_toggles_work_in_the_exported_html(
    browser: Browser, tmp_path: Path, store_widget_state: bool
) -> None:
    page = open_file(browser, exported(tmp_path, store_widget_state))
    try:
        for n in (LENET, POOL, RESNET):
            expect(view(page, n)).to_have_count(1)  # the static table; the widget's is hidden
            expect(view(page, n).locator("table").filter(visible=True)).to_have_count(1)
            outputs = cell(page, n).locator(".jp-OutputArea-child").filter(visible=True)
            expect(outputs).to_have_count(1)
        expect(page.get_by_text("Error displaying widget")).to_have_count(0)

        assert total(page, LENET)[6:8] == ["61,706", "833,040"]
        click(page, LENET, "MACs")
        assert total(page, LENET)[6:8] == ["61,706", "416,520"]
        click(page, LENET, "exact")
        assert total(page, LENET)[6:8] == ["61,706", "833,040"]
        assert view(page, LENET).locator("th").filter(visible=True).nth(7).inner_text() == (
            "exact FLOPs"
        )

        rows = view(page, POOL).locator("tbody tr").filter(visible=True)
        expect(rows.first).to_contain_text("5×5×1", use_inner_text=True)
        click(page, POOL, "floor")
        expect(rows.first).to_contain_text("4×4×1", use_inner_text=True)
        expect(view(page, POOL).locator("tr.changed").filter(visible=True)).to_have_count(1)

        rows = view(page, RESNET).locator("tbody tr").filter(visible=True)
        collapsed = rows.count()
        click(page, RESNET, "all")
        assert rows.count() > collapsed
        click(page, RESNET, "2")
        expect(rows).to_have_count(collapsed)
    finally:
        page.close()


def shown_name(page: Page, n: int, name: str):
    """A layer's name in the table shown: the label that selects its windows."""
    table = view(page, n).locator("table").filter(visible=True)
    return table.locator("label.wl").filter(has_text=re.compile(f"^{name}$"))


def test_a_click_on_a_layer_shows_its_windows_in_the_exported_html(
    browser: Browser, tmp_path: Path, artifacts: Path
) -> None:
    page = open_file(browser, exported(tmp_path, store_widget_state=False))
    try:
        shown = view(page, POOL).locator(".cnnm-wp:visible")
        expect(shown).to_have_count(0)
        shown_name(page, POOL, "pool1").click()
        expect(shown).to_have_count(1)
        expect(shown).to_contain_text("9 cells, k2 s2, ceil → 5 outputs")  # textbook
        expect(shown.locator("g.cnnm-win")).to_have_count(5)
        click(page, POOL, "floor")  # the rounding toggle redraws them
        expect(shown).to_contain_text("9 cells, k2 s2, floor → 4 outputs")
        expect(shown.locator("rect.cnnm-uncovered")).to_have_count(1)  # pixel 8
        network = view(page, POOL).locator(".cnnm-np:visible")
        expect(network.locator('g[data-layer="pool1"]')).to_have_attribute("data-shape", "4×4×1")
        view(page, POOL).locator(".cnnm-wclose").click()
        expect(shown).to_have_count(0)
        # LeNet-5's C1, and its picture drawn open under the table
        shown_name(page, LENET, "C1").click()
        expect(view(page, LENET).locator(".cnnm-wp:visible")).to_contain_text("32 cells, k5")
        expect(view(page, LENET).locator(".cnnm-np:visible svg")).to_be_visible()
        # ResNet-50 names the windows it leaves out
        expect(view(page, RESNET).locator(".cnnm-left-out")).to_contain_text(
            "net.layers[i].windows_svg()"
        )
        shot = artifacts / "exported-windows.png"
        view(page, LENET).screenshot(path=str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        print(shot)
    finally:
        page.close()
