import pytest
from playwright.sync_api import expect
from .jupyter import NotebookPage
from .test_harness import STAND_IN, FAILING, write_notebook

pytestmark = pytest.mark.browser

def test_dom(page, jupyter_server):
    write_notebook(jupyter_server.root_dir / "d.ipynb", STAND_IN, FAILING)
    nb = NotebookPage(page, jupyter_server, "d.ipynb").open()
    nb.run_all()
    print(jupyter_server.app, page.evaluate("() => typeof window.jupyterapp"))
    for n in range(2):
        print(n, nb.code_cell(n).locator(".jp-InputArea-prompt").inner_text(),
              nb.outputs(n).evaluate_all("els => els.map(e => [e.className, e.dataset.mimeType])"))
    expect(nb.table(0)).to_contain_text("999")
