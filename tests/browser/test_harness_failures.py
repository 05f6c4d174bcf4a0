"""The harness itself, on a stand-in of the ``%%cnn`` view built from core ipywidgets.

It proves what the real tests will rely on, in JupyterLab and in Notebook 7:
a widget (not its text fallback) renders after "run all", a toggle click
re-renders the table without re-running the cell, an error shows as an error,
and a screenshot of the widget is a real PNG.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .jupyter import ACTIVE, JupyterServer, NotebookPage, is_png

pytestmark = pytest.mark.browser

# A toggle row over an HTML table, switched by observe, like the real view.
STAND_IN = """\
import ipywidgets as w

TOTALS = {"FLOPs": "833,040", "MACs": "416,520", "exact": "833,040"}
convention = w.ToggleButtons(options=list(TOTALS))
table = w.HTML()

def render(change=None):
    name = convention.value
    table.value = f"<table><tr><th>{name}</th><td>{TOTALS[name]}</td></tr></table>"

convention.observe(render, names="value")
render()
w.VBox([convention, table])
"""

# Last, because an error stops "run all".
FAILING = 'raise ValueError("stand-in failure")'

WIDGET_CELL, ERROR_CELL = 0, 1


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_stand_in_widget(page: Page, jupyter_server: JupyterServer, artifacts: Path) -> None:
    name = "harness.ipynb"
    write_notebook(jupyter_server.root_dir / name, STAND_IN, FAILING)
    nb = NotebookPage(page, jupyter_server, name).open()
    nb.run_all()

    expect(nb.toggle_rows(WIDGET_CELL)).to_be_visible()
    # The live view, not the text/plain repr shown when widgets fail to render.
    expect(nb.outputs_of_type(WIDGET_CELL, "text/plain")).to_have_count(0)
    expect(nb.outputs(WIDGET_CELL).filter(has_text="VBox(")).to_have_count(0)
    expect(nb.toggle_button("FLOPs", cell=WIDGET_CELL)).to_have_class(ACTIVE)
    expect(nb.table(WIDGET_CELL)).to_contain_text("833,040")
    count = nb.execution_count(WIDGET_CELL)

    nb.click_toggle("MACs", cell=WIDGET_CELL)
    expect(nb.table(WIDGET_CELL)).to_contain_text("416,520")
    assert "833,040" not in nb.table_text(WIDGET_CELL)
    assert nb.execution_count(WIDGET_CELL) == count, "the click re-ran the cell"

    expect(nb.error_output(ERROR_CELL)).to_contain_text("ValueError")

    shot = nb.screenshot(nb.widget_box(WIDGET_CELL), artifacts / f"{jupyter_server.app}.png")
    assert is_png(shot), f"{shot} is not a PNG"
