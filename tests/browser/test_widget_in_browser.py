"""The ``%%cnn`` view in a real JupyterLab and a real Notebook 7, in headless Chromium.

Each front end runs two notebooks: one written here (LeNet-5, a pooling layer whose
shape depends on the rounding, and a mistake) and the first tutorial, as a
student opens it. What is checked is what a user sees: the widget (not the static
fallback) with LeNet-5's totals, a toggle that redraws the table without
re-running the cell, changed shapes marked, a mistake shown as one short message
with a caret and no traceback, and a screenshot.

``CNN_MAGIC_SCREENSHOT_DIR=docs`` also saves JupyterLab's LeNet-5 screenshot as
``docs/widget.png``, the README's picture.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from networks import LENET5, POOL9
from playwright.sync_api import Browser, Page, expect

from cnn_magic.conventions import CONVENTION_TEXT, ROUNDING_TEXT

from .conftest import open_page
from .jupyter import ACTIVE, WAIT_MS, JupyterServer, NotebookPage, is_png, png_size

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
FIRST_TUTORIAL = REPO / "notebooks" / "01_feature_map_sizes.ipynb"
SCREENSHOT_DIR = os.environ.get("CNN_MAGIC_SCREENSHOT_DIR")
# Device pixels per CSS pixel: the view is about 850 CSS pixels wide in JupyterLab,
# so its screenshot is about 1,060 pixels wide, sharp enough for the README.
SCALE = 1.25
MARGIN = 4  # CSS pixels of white around the view (5 separate it from the cell above)

# 9 = 2·4 + 1: textbook rounding (pooling up) gives 5×5, floor 4×4.
LENET5_CELL, POOL9_CELL = f"%%cnn\n{LENET5}", f"%%cnn\n{POOL9}"
# Last, since a cell that raises stops "run all"; line 3 counting the %%cnn line.
MISTAKE = "%%cnn\ninput 32x32x1\ncnov 6 k5\n"
CELLS = ("%load_ext cnn_magic", LENET5_CELL, POOL9_CELL, MISTAKE)
LENET_CELL, POOL_CELL, MISTAKE_CELL = 1, 2, 3

VIEW = ".cnn-magic-view"  # the widget's outer VBox (CNNView adds the class)
CHANGED_ROW = "tr.changed"
CHANGED_BACKGROUND = "rgb(255, 243, 196)"  # table.py's #fff3c4 on a changed row's shapes
# What a Python traceback leaves in an output: its title, IPython's frame headers
# and arrows, and colour (ANSI escapes become ansi-* classes in the DOM).
TRACEBACK_SIGNS = ("Traceback", "Cell In[", "---->", 'File "', "site-packages")
ANSI = '[class*="ansi-"]'


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def cells(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookPage]:
    """The notebook written here, run once per front end and shared by the tests below,
    each of which leaves the toggles as it found them."""
    name = "cnn_cells.ipynb"
    write_notebook(jupyter_server.root_dir / name, *CELLS)
    with open_page(browser, jupyter_server, request.node, scale=SCALE) as page:
        yield NotebookPage(page, jupyter_server, name).open().run_all()


def lenet_total(nb: NotebookPage) -> list[str]:
    """The cells of the LeNet-5 table's total row."""
    return nb.table(LENET_CELL).locator("tr.total td").all_inner_texts()


def test_lenet5_shows_the_widget_with_its_totals(cells: NotebookPage) -> None:
    nb = cells
    # One output, the live view; not the text/html or text/plain fallback of its bundle
    # (which a front end shows when it cannot render the widget).
    expect(nb.outputs(LENET_CELL)).to_have_count(1)
    expect(nb.outputs(LENET_CELL).locator(VIEW)).to_have_count(1)
    for fallback in ("text/html", "text/plain"):
        expect(nb.outputs_of_type(LENET_CELL, fallback)).to_have_count(0)
    expect(nb.outputs(LENET_CELL)).not_to_contain_text("Error displaying widget")
    expect(nb.toggle_rows(LENET_CELL)).to_have_count(2)
    expect(nb.toggle_button("FLOPs", cell=LENET_CELL, row=0)).to_have_class(ACTIVE)
    expect(nb.toggle_button("textbook", cell=LENET_CELL, row=1)).to_have_class(ACTIVE)

    expect(nb.outputs(LENET_CELL)).to_contain_text("61,706 params · 833,040 FLOPs")
    total = lenet_total(nb)
    assert total[0] == "total" and total[6:8] == ["61,706", "833,040"], total
    names = nb.table(LENET_CELL).locator("tr.layer td:first-child").all_inner_texts()
    assert names == ["C1", "S2", "C3", "S4", "C5", "F6", "F7"]


def test_macs_toggle_redraws_without_rerunning(cells: NotebookPage) -> None:
    nb = cells
    count = nb.execution_count(LENET_CELL)
    view = nb.outputs(LENET_CELL).locator(VIEW)

    nb.click_toggle("MACs", cell=LENET_CELL, row=0)
    expect(nb.table(LENET_CELL).locator("tr.total")).to_contain_text("416,520")
    expect(view).to_contain_text("61,706 params · 416,520 MACs")
    expect(view).to_contain_text(CONVENTION_TEXT["macs"])  # the formula, in words
    expect(view).not_to_contain_text("833,040")
    assert lenet_total(nb)[6:8] == ["61,706", "416,520"]
    assert nb.execution_count(LENET_CELL) == count, "the click re-ran the cell"

    nb.click_toggle("FLOPs", cell=LENET_CELL, row=0)
    expect(nb.table(LENET_CELL).locator("tr.total")).to_contain_text("833,040")
    expect(view).to_contain_text(CONVENTION_TEXT["flops"])
    assert nb.execution_count(LENET_CELL) == count, "the click re-ran the cell"


def test_floor_marks_the_rows_whose_shapes_changed(cells: NotebookPage) -> None:
    nb = cells
    table = nb.table(POOL_CELL)
    pool = table.locator("tr.layer")
    expect(pool).to_contain_text("5×5×1")
    expect(table.locator(CHANGED_ROW)).to_have_count(0)
    count = nb.execution_count(POOL_CELL)

    nb.click_toggle("floor", cell=POOL_CELL, row=1)
    expect(pool).to_contain_text("4×4×1")
    expect(table.locator(CHANGED_ROW)).to_have_count(1)
    expect(table.locator(CHANGED_ROW)).to_contain_text("maxpool k2 s2")
    # the mark is visible, not only a class: the page applied the table's own style
    expect(table.locator(f"{CHANGED_ROW} td.shape").last).to_have_css(
        "background-color", CHANGED_BACKGROUND
    )
    view = nb.outputs(POOL_CELL).locator(VIEW)
    expect(view).to_contain_text("1 layer with shapes that differ from textbook rounding")
    expect(view).to_contain_text(ROUNDING_TEXT["floor"])
    assert nb.execution_count(POOL_CELL) == count, "the click re-ran the cell"

    nb.click_toggle("textbook", cell=POOL_CELL, row=1)
    expect(pool).to_contain_text("5×5×1")
    expect(table.locator(CHANGED_ROW)).to_have_count(0)


def test_a_mistake_shows_a_caret_and_no_traceback(cells: NotebookPage) -> None:
    nb = cells
    error = nb.error_output(MISTAKE_CELL)
    expect(error).to_have_count(1)
    expect(nb.outputs(MISTAKE_CELL)).to_have_count(1)  # the message alone, no widget
    text = error.inner_text()
    lines = text.strip("\n").splitlines()
    # the caret under the misspelt word, line numbers counting the %%cnn line
    expected = ["CNNError: line 3: unknown layer 'cnov'", "    cnov 6 k5", "    ^^^^"]
    assert lines[:3] == expected, text
    assert "did you mean 'conv'?" in text
    assert len(lines) <= 5, f"not a short message:\n{text}"
    for sign in TRACEBACK_SIGNS:
        assert sign not in text, f"{sign!r} in the error output:\n{text}"
    expect(error.locator(ANSI)).to_have_count(0)


def test_screenshot_of_the_widget_is_a_png(cells: NotebookPage, artifacts: Path) -> None:
    nb = cells
    # the toggles as the cell starts: FLOPs, textbook
    expect(nb.toggle_button("FLOPs", cell=LENET_CELL, row=0)).to_have_class(ACTIVE)
    expect(nb.toggle_button("textbook", cell=LENET_CELL, row=1)).to_have_class(ACTIVE)
    view = nb.outputs(LENET_CELL).locator(VIEW)
    shot = nb.screenshot(view, artifacts / f"lenet5-{nb.server.app}.png", margin=MARGIN)
    assert is_png(shot), f"{shot} is not a PNG"
    width, height = png_size(shot)
    box = view.bounding_box()
    assert box is not None
    expected = tuple(round((box[side] + 2 * MARGIN) * SCALE) for side in ("width", "height"))
    assert abs(width - expected[0]) <= 2 and abs(height - expected[1]) <= 2, (width, height, box)
    assert box["width"] >= 600 and box["height"] >= 250, f"{box}: not the whole view"
    if SCREENSHOT_DIR and nb.server.app == "lab":
        target = Path(SCREENSHOT_DIR) / "widget.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def raises_on_purpose(cell: nbformat.NotebookNode) -> bool:
    """nbval's two ways of saying a cell fails on purpose."""
    return (
        "raises-exception" in cell.get("metadata", {}).get("tags", [])
        or "NBVAL_RAISES_EXCEPTION" in cell.source
    )


def test_first_tutorial_runs_with_live_widgets(page: Page, jupyter_server: JupyterServer) -> None:
    name = FIRST_TUTORIAL.name
    shutil.copyfile(FIRST_TUTORIAL, jupyter_server.root_dir / name)
    code = [c for c in nbformat.read(FIRST_TUTORIAL, as_version=4).cells if c.cell_type == "code"]
    nb = NotebookPage(page, jupyter_server, name).open()
    expect(page.locator(".jp-Notebook .jp-CodeCell")).to_have_count(len(code))
    nb.run_all(timeout_ms=2 * WAIT_MS)

    widgets = 0
    for n, cell in enumerate(code):
        where = f"code cell {n} of {name}:\n{cell.source}"
        raises = raises_on_purpose(cell)
        expect(nb.error_output(n), where).to_have_count(1 if raises else 0)
        magic = cell.source.partition("\n")[0]
        if magic.startswith("%%cnn") and "--static" not in magic and not raises:
            expect(nb.outputs(n).locator(VIEW), where).to_have_count(1)
            expect(nb.table(n), where).to_be_visible()
            widgets += 1
    assert widgets >= 1, f"no %%cnn widget in {name}"
    expect(page.locator(".jp-Notebook")).not_to_contain_text("Error displaying widget")
