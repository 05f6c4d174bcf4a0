"""The ``%%cnn`` view in a real JupyterLab and a real Notebook 7, in headless Chromium.

Each front end runs a notebook written here (LeNet-5, a pooling layer whose shape
depends on the rounding, ResNet-50, and a mistake), then saves it, signs it and
reopens it, and runs the first tutorial as a student opens it. What is checked is what
a user sees: one table per cell (the live widget while the kernel runs, the saved
table after), toggles that switch in the browser without the kernel, blocks that
collapse and expand, readable colours in the light and the dark theme, and a mistake
shown as one short message with a caret and no traceback.

``CNN_MAGIC_SCREENSHOT_DIR=docs`` saves the README's pictures there.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from networks import LENET5, POOL9
from playwright.sync_api import Browser, Page, expect

from cnn_magic.conventions import CONVENTION_TEXT, ROUNDING_TEXT

from .conftest import open_page, run_notebook
from .jupyter import (
    VIEW,
    WAIT_MS,
    JupyterServer,
    NotebookPage,
    is_png,
    png_size,
    trust,
    write_notebook,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
FIRST_TUTORIAL = REPO / "notebooks" / "01_feature_map_sizes.ipynb"
SCREENSHOT_DIR = os.environ.get("CNN_MAGIC_SCREENSHOT_DIR")
# Device pixels per CSS pixel: the view is about 850 CSS pixels wide in JupyterLab,
# so its screenshot is about 1,060 pixels wide, sharp enough for the README.
SCALE = 1.25
MARGIN = 4  # CSS pixels of page around the view

# 9 = 2·4 + 1: textbook rounding (pooling up) gives 5×5, floor 4×4.
LENET5_CELL, POOL9_CELL = f"%%cnn\n{LENET5}", f"%%cnn\n{POOL9}"
RESNET50_CELL = "%cnn --example resnet50"
# Last, since a cell that raises stops "run all"; line 3 counting the %%cnn line.
MISTAKE = "%%cnn\ninput 32x32x1\ncnov 6 k5\n"
CELLS = ("%load_ext cnn_magic", LENET5_CELL, POOL9_CELL, RESNET50_CELL, MISTAKE)
LENET_CELL, POOL_CELL, RESNET_CELL, MISTAKE_CELL = 1, 2, 3, 4
VIEW_CELLS = (LENET_CELL, POOL_CELL, RESNET_CELL)

LIVE = ".cnn-magic-view .cnn-magic-live"
STATIC = ".cnn-magic-static"
CHANGED_SHAPE = "tr.changed td.sh"
# What a Python traceback leaves in an output: its title, IPython's frame headers
# and arrows, and colour (ANSI escapes become ansi-* classes in the DOM).
TRACEBACK_SIGNS = ("Traceback", "Cell In[", "---->", 'File "', "site-packages")
ANSI = '[class*="ansi-"]'
MIN_CONTRAST = 4.5  # WCAG AA for normal text


@pytest.fixture(scope="module")
def cells(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookPage]:
    """The notebook written here, run once per front end and shared by the tests below,
    each of which leaves the toggles as it found them."""
    with run_notebook(
        browser, jupyter_server, request.node, "cnn_cells.ipynb", *CELLS, scale=SCALE
    ) as nb:
        yield nb


def total(nb: NotebookPage, cell: int) -> list[str]:
    """The cells of the shown table's total row."""
    return nb.table(cell).locator("tr.T td").all_inner_texts()


def test_each_cell_shows_one_live_table(cells: NotebookPage) -> None:
    nb = cells
    for cell in VIEW_CELLS:
        # the static output is in the page but hidden; the live widget's view is shown
        expect(nb.outputs(cell).locator(STATIC)).to_have_count(1)
        expect(nb.outputs(cell).locator(STATIC)).to_be_hidden()
        expect(nb.outputs(cell).locator(LIVE)).to_be_visible()
        expect(nb.view(cell)).to_have_count(1)
        expect(nb.table(cell)).to_have_count(1)
    expect(nb.page.locator(".jp-Notebook")).not_to_contain_text(
        "Error displaying widget", use_inner_text=True
    )
    nb_view = nb.view(LENET_CELL)
    expect(nb_view).to_contain_text("61,706 params · 833,040 FLOPs", use_inner_text=True)
    assert total(nb, LENET_CELL)[6:8] == ["61,706", "833,040"]
    names = nb.table(LENET_CELL).locator("tr.L td:first-child").all_inner_texts()
    assert names == ["C1", "S2", "C3", "S4", "C5", "F6", "F7"]


def test_toggles_switch_in_the_browser(cells: NotebookPage) -> None:
    nb = cells
    count = nb.execution_count(LENET_CELL)
    view = nb.view(LENET_CELL)
    nb.click_toggle("MACs", LENET_CELL)
    expect(nb.table(LENET_CELL).locator("tr.T")).to_contain_text("416,520", use_inner_text=True)
    expect(view).to_contain_text("61,706 params · 416,520 MACs", use_inner_text=True)
    assert nb.table(LENET_CELL).locator("th").nth(7).inner_text() == "MACs"
    # the conventions: one line, the full sentence a click away
    summary = view.locator("details.nt summary")
    expect(summary).to_contain_text(
        "MACs · totals count conv, deconv and fc layers only", use_inner_text=True
    )
    sentence = view.locator("details.nt").get_by_text(CONVENTION_TEXT["macs"])
    expect(sentence).to_be_hidden()
    summary.click()
    expect(sentence).to_be_visible()
    summary.click()
    nb.click_toggle("FLOPs", LENET_CELL)
    expect(nb.table(LENET_CELL).locator("tr.T")).to_contain_text("833,040", use_inner_text=True)
    assert nb.execution_count(LENET_CELL) == count, "the click re-ran the cell"


def test_floor_marks_the_rows_whose_shapes_changed(cells: NotebookPage) -> None:
    nb = cells
    expect(nb.rows(POOL_CELL).first).to_contain_text("5×5×1", use_inner_text=True)
    expect(nb.table(POOL_CELL).locator("tr.changed")).to_have_count(0)
    nb.click_toggle("floor", POOL_CELL)
    expect(nb.rows(POOL_CELL).first).to_contain_text("4×4×1", use_inner_text=True)
    expect(nb.table(POOL_CELL).locator("tr.changed")).to_have_count(1)
    expect(nb.table(POOL_CELL).locator(CHANGED_SHAPE).last).not_to_have_css(
        "background-color", "rgba(0, 0, 0, 0)"
    )
    view = nb.view(POOL_CELL)
    expect(view).to_contain_text(
        "1 layer with shapes that differ from textbook rounding", use_inner_text=True
    )
    view.locator("details.nt summary").click()
    expect(view).to_contain_text(ROUNDING_TEXT["floor"], use_inner_text=True)
    view.locator("details.nt summary").click()
    nb.click_toggle("textbook", POOL_CELL)
    expect(nb.rows(POOL_CELL).first).to_contain_text("5×5×1", use_inner_text=True)


def test_resnet50_blocks_collapse_and_expand(cells: NotebookPage) -> None:
    nb = cells
    rows = nb.rows(RESNET_CELL)
    collapsed = rows.count()
    # depth 2: the stem, layer1 … layer4 with their bottlenecks as one row each, the head
    stages = nb.table(RESNET_CELL).locator("tr.B").filter(visible=True)
    names = [name.strip() for name in stages.locator("td:first-child").all_inner_texts()]
    assert [n for n in names if n.startswith("layer")] == [f"layer{i}:" for i in (1, 2, 3, 4)]
    layer1 = stages.filter(has_text="layer1:")
    expect(layer1).to_contain_text("215,808", use_inner_text=True)  # torchinfo's subtotal
    bottleneck = stages.filter(has_text="residual1:")
    expect(bottleneck).to_contain_text("75,008", use_inner_text=True)  # its params
    bottleneck.locator("label").click()
    # conv, bn, conv, bn, conv, bn, the shortcut's conv and bn, the add
    expect(rows).to_have_count(collapsed + 9)
    bottleneck.locator("label").click()
    expect(rows).to_have_count(collapsed)
    nb.click_toggle("all", RESNET_CELL)
    expanded = rows.count()
    assert expanded > 150 and collapsed < expanded / 2, (collapsed, expanded)
    nb.click_toggle("1", RESNET_CELL)
    assert rows.count() < collapsed
    nb.click_toggle("2", RESNET_CELL)
    expect(rows).to_have_count(collapsed)
    # the header row stays in view while the table scrolls
    scroller = nb.view(RESNET_CELL).locator(".sc").filter(visible=True)
    nb.click_toggle("all", RESNET_CELL)
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    header = nb.table(RESNET_CELL).locator("thead th").first
    box, frame = header.bounding_box(), scroller.bounding_box()
    assert box and frame and abs(box["y"] - frame["y"]) < 2, (box, frame)
    scroller.evaluate("el => { el.scrollTop = 0; }")
    nb.click_toggle("2", RESNET_CELL)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_readable_in_both_themes(cells: NotebookPage, dark: bool, artifacts: Path) -> None:
    nb = cells
    nb.set_theme(dark)
    try:
        nb.click_toggle("floor", POOL_CELL)
        checks = {
            "changed row": nb.table(POOL_CELL).locator(CHANGED_SHAPE).last,
            "conventions line": nb.view(POOL_CELL).locator("details.nt summary"),
            "changed caption": nb.view(POOL_CELL).locator(".cap").filter(visible=True),
            "block row": nb.table(RESNET_CELL).locator("tr.B td").first,
            "chosen toggle": nb.label("floor", POOL_CELL),
            "other toggle": nb.label("ceil", POOL_CELL),
        }
        ratios = {name: nb.contrast(where) for name, where in checks.items()}
        low = {name: round(r, 2) for name, r in ratios.items() if r < MIN_CONTRAST}
        assert not low, (
            f"contrast below {MIN_CONTRAST}:1 in the {'dark' if dark else 'light'} theme: {low}"
        )
        theme = "dark" if dark else "light"
        for state in ("collapsed", "expanded"):
            if state == "expanded":
                nb.click_toggle("all", RESNET_CELL)
            shot = nb.screenshot(
                nb.view(RESNET_CELL), artifacts / f"resnet50-{state}-{theme}.png", margin=MARGIN
            )
            assert is_png(shot)
            if SCREENSHOT_DIR and nb.server.app == "lab":
                shutil.copyfile(shot, Path(SCREENSHOT_DIR) / shot.name)
        nb.click_toggle("2", RESNET_CELL)
    finally:
        nb.click_toggle("textbook", POOL_CELL)
        nb.set_theme(False)


def test_a_mistake_shows_a_caret_and_no_traceback(cells: NotebookPage) -> None:
    nb = cells
    error = nb.error_output(MISTAKE_CELL)
    expect(error).to_have_count(1)
    expect(nb.outputs(MISTAKE_CELL)).to_have_count(1)  # the message alone, no view
    text = error.inner_text()
    lines = text.strip("\n").splitlines()
    expected = ["CNNError: line 3: unknown layer 'cnov'", "    cnov 6 k5", "    ^^^^"]
    assert lines[:3] == expected, text
    assert "did you mean 'conv'?" in text
    assert len(lines) <= 5, f"not a short message:\n{text}"
    for sign in TRACEBACK_SIGNS:
        assert sign not in text, f"{sign!r} in the error output:\n{text}"
    expect(error.locator(ANSI)).to_have_count(0)


def test_screenshot_of_the_view_is_a_png(cells: NotebookPage, artifacts: Path) -> None:
    nb = cells
    view = nb.view(LENET_CELL)
    shot = nb.screenshot(view, artifacts / f"lenet5-{nb.server.app}.png", margin=MARGIN)
    assert is_png(shot), f"{shot} is not a PNG"
    width, height = png_size(shot)
    box = view.bounding_box()
    assert box is not None
    expected = tuple(round((box[side] + 2 * MARGIN) * SCALE) for side in ("width", "height"))
    assert abs(width - expected[0]) <= 2 and abs(height - expected[1]) <= 2, (width, height, box)
    assert box["width"] >= 600 and box["height"] >= 250, f"{box}: not the whole view"
    if SCREENSHOT_DIR and nb.server.app == "lab":
        shutil.copyfile(shot, Path(SCREENSHOT_DIR) / "widget.png")


def test_a_saved_signed_notebook_reopens_with_its_tables(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest, artifacts: Path
) -> None:
    """Run, save, close; sign; reopen. The widget's model is gone: JupyterLab picks the
    widget view (the notebook is trusted) and finds no model; the static table shows and
    the error does not. Its pictures work with no kernel: a click on a name shows the
    layer's windows."""
    name = "saved.ipynb"
    path = write_notebook(jupyter_server.root_dir / name, *CELLS[:4])
    with open_page(browser, jupyter_server, request.node) as page:
        NotebookPage(page, jupyter_server, name).open().run_all().save()
    saved = nbformat.read(path, as_version=4)
    assert any(
        "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        for out in saved.cells[1].outputs
    ), "no widget view saved: the test would pass for the wrong reason"
    print(trust(jupyter_server, path))
    with open_page(browser, jupyter_server, request.node, scale=SCALE) as page:
        nb = NotebookPage(page, jupyter_server, name).open()
        nb.wait_kernel_idle()
        for cell in VIEW_CELLS:
            # trusted, so the widget renderer was chosen, and it found no model ...
            dead = nb.outputs(cell).filter(has_text="model not found")
            expect(dead).to_have_count(1, timeout=WAIT_MS)
            expect(dead).to_be_hidden()  # ... which the static output hides
            expect(nb.outputs(cell).locator(STATIC)).to_be_visible()
            expect(nb.view(cell)).to_have_count(1)
        expect(page.get_by_text("Error displaying widget").filter(visible=True)).to_have_count(0)
        assert total(nb, LENET_CELL)[6:8] == ["61,706", "833,040"]
        nb.click_toggle("MACs", LENET_CELL)  # the toggles work with no model, no kernel use
        assert total(nb, LENET_CELL)[6:8] == ["61,706", "416,520"]
        nb.click_toggle("FLOPs", LENET_CELL)
        shot = nb.screenshot(nb.view(RESNET_CELL), artifacts / "reopened.png", margin=MARGIN)
        if SCREENSHOT_DIR and jupyter_server.app == "lab":
            shutil.copyfile(shot, Path(SCREENSHOT_DIR) / "reopened-saved-notebook.png")
        # the pictures came back with the tables: a click on a name shows its windows
        pool = nb.view(POOL_CELL)
        expect(pool).to_have_class(re.compile(r"\bcnn-magic-static\b"))
        shown = pool.locator(".cnnm-wp:visible")
        expect(shown).to_have_count(0)
        nb.table(POOL_CELL).locator("label.wl").filter(has_text=re.compile("^pool1$")).click()
        expect(shown).to_contain_text("9 cells, k2 s2, ceil → 5 outputs")  # textbook
        expect(shown.locator("g.cnnm-win")).to_have_count(5)
        nb.click_toggle("floor", POOL_CELL)  # the rounding toggle redraws them
        expect(shown).to_contain_text("9 cells, k2 s2, floor → 4 outputs")
        expect(shown.locator("rect.cnnm-uncovered")).to_have_count(1)  # pixel 8
        shot = nb.screenshot(pool, artifacts / "reopened-windows.png", margin=MARGIN)
        assert is_png(shot)
        print(shot)


def test_an_untrusted_notebook_shows_one_table_per_cell(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> None:
    """Someone else's notebook (or one run by nbclient) is untrusted: its HTML is
    sanitised. Each cell still shows one table, the cell's own, not all nine."""
    source = REPO / "notebooks" / "03_flops.ipynb"
    name = "untrusted.ipynb"
    shutil.copyfile(source, jupyter_server.root_dir / name)
    with open_page(browser, jupyter_server, request.node) as page:
        nb = NotebookPage(page, jupyter_server, name).open()
        views = page.locator(f".jp-Notebook {VIEW}")
        expect(views.first).to_be_attached()
        for n in range(views.count()):
            view = views.nth(n)
            expect(view.locator("table").filter(visible=True)).to_have_count(1)
            assert len(view.locator("tr").filter(visible=True).last.inner_text()) > 0
        expect(page.get_by_text("Error displaying widget")).to_have_count(0)
        assert nb.name == name


def raises_on_purpose(cell: nbformat.NotebookNode) -> bool:
    """nbval's two ways of saying a cell fails on purpose."""
    return (
        "raises-exception" in cell.get("metadata", {}).get("tags", [])
        or "NBVAL_RAISES_EXCEPTION" in cell.source
    )


def test_first_tutorial_runs_with_live_views(page: Page, jupyter_server: JupyterServer) -> None:
    name = FIRST_TUTORIAL.name
    shutil.copyfile(FIRST_TUTORIAL, jupyter_server.root_dir / name)
    code = [c for c in nbformat.read(FIRST_TUTORIAL, as_version=4).cells if c.cell_type == "code"]
    nb = NotebookPage(page, jupyter_server, name).open()
    expect(page.locator(".jp-Notebook .jp-CodeCell")).to_have_count(len(code))
    nb.run_all(timeout_ms=2 * WAIT_MS)

    views = 0
    for n, cell in enumerate(code):
        where = f"code cell {n} of {name}:\n{cell.source}"
        raises = raises_on_purpose(cell)
        expect(nb.error_output(n), where).to_have_count(1 if raises else 0)
        magic = cell.source.partition("\n")[0]
        if magic.startswith("%%cnn") and not raises:
            live = 0 if "--static" in magic else 1
            expect(nb.outputs(n).locator(LIVE), where).to_have_count(live)
            expect(nb.view(n), where).to_have_count(1)
            expect(nb.table(n), where).to_be_visible()
            views += 1
    assert views >= 1, f"no %%cnn view in {name}"
    expect(page.locator(".jp-Notebook")).not_to_contain_text(
        "Error displaying widget", use_inner_text=True
    )
