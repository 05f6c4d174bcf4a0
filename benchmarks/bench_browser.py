"""How fast is the view in a real browser? Run by hand:

    python benchmarks/bench_browser.py                 # this tree only
    python benchmarks/bench_browser.py --before REV    # and git revision REV, side by side

Starts JupyterLab and headless Chromium with the browser tests' harness
(``tests/browser/jupyter.py``), runs ``%cnn --example resnet50`` and measures, in the
page, from the run command to the first painted frame with its table, and from a click
on the MACs / FLOPs toggle to the first painted frame with the redrawn totals. Goals: the
cell under 300 ms, a click under 50 ms. ``--before`` runs the same steps on another
revision of the package (exported with ``git archive``), so the ratio is measured on
the same machine in the same minute.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from browser import jupyter  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

CELLS = ("%load_ext cnn_magic", "%cnn --example resnet50")
# ResNet-50 under its file's floor rounding
TOTALS = {"MACs": "4,089,184,256", "FLOPs": "8,178,368,512"}

RUN_CELL_JS = """async ([cells, index]) => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    const cell = () => document.querySelectorAll(cells)[index];
    const shown = () => [...cell().querySelectorAll('.jp-OutputArea-output table')]
        .some(t => t.offsetParent !== null && t.getBoundingClientRect().height > 0);
    const frame = () => new Promise(r => requestAnimationFrame(r));
    notebook.activeCellIndex = index;
    await app.commands.execute('notebook:clear-cell-output');
    while (shown()) await frame();
    const start = performance.now();
    app.commands.execute('notebook:run-cell');
    while (!shown()) await frame();
    await frame();  // the frame that paints it
    return performance.now() - start;
}"""

CLICK_JS = """async ([cells, index, label, expected]) => {
    const cell = document.querySelectorAll(cells)[index];
    const visible = e => e.offsetParent !== null;
    // this view's toggles are labels of radio inputs; the earlier one's were buttons
    let target = [...cell.querySelectorAll('.cnn-magic .ctl label')]
        .find(l => visible(l) && l.textContent.trim() === label);
    let total = 'tr.T';
    if (!target) {
        target = [...cell.querySelectorAll('.widget-toggle-buttons button')]
            .find(b => b.textContent.trim() === label);
        total = 'tr.total';
    }
    if (!target) throw new Error('no toggle ' + label);
    const shown = () => [...cell.querySelectorAll('table ' + total)]
        .some(r => visible(r) && r.innerText.includes(expected));
    const frame = () => new Promise(r => requestAnimationFrame(r));
    const start = performance.now();
    target.click();
    while (!shown()) await frame();
    await frame();
    return performance.now() - start;
}"""


def measure(tree: Path, work: Path, runs: int, clicks: int) -> dict[str, float]:
    """Median milliseconds of the cell and of a click, with ``tree``'s package."""
    original = jupyter.isolated_env

    def env_with_tree(base: Path) -> dict[str, str]:
        env = original(base)
        env["PYTHONPATH"] = str(tree)
        return env

    jupyter.isolated_env = env_with_tree
    server = jupyter.JupyterServer("lab", work)
    try:
        server.start()
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in CELLS])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, server.root_dir / "bench.ipynb")
        with sync_playwright() as pw:
            browser = jupyter.launch_chromium(pw, work / "chromium")
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(jupyter.WAIT_MS)
            notebook = jupyter.NotebookPage(page, server, "bench.ipynb").open().run_all()
            cell_ms = [page.evaluate(RUN_CELL_JS, [jupyter.CODE_CELL, 1]) for _ in range(runs)]
            notebook.wait_kernel_idle()
            page.wait_for_timeout(500)
            click_ms = []
            for n in range(clicks):
                label = "MACs" if n % 2 == 0 else "FLOPs"
                click_ms.append(
                    page.evaluate(CLICK_JS, [jupyter.CODE_CELL, 1, label, TOTALS[label]])
                )
            browser.close()
    finally:
        server.stop()
        jupyter.isolated_env = original
    return {"cell": statistics.median(cell_ms), "click": statistics.median(click_ms)}


def exported(revision: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV")
    parser.add_argument("--runs", type=int, default=5, help="cell runs (median)")
    parser.add_argument("--clicks", type=int, default=10, help="toggle clicks (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if args.before:
            (Path(tmp) / "before").mkdir()
            trees = {args.before: exported(args.before, Path(tmp) / "before"), **trees}
        results = {}
        for name, tree in trees.items():
            work = Path(tmp) / f"work-{len(results)}"
            work.mkdir()
            results[name] = measure(tree, work, args.runs, args.clicks)
            print(
                f"{name}: %cnn --example resnet50 → table {results[name]['cell']:.0f} ms; "
                f"click → redrawn table {results[name]['click']:.1f} ms "
                "(goals: 300 ms, 50 ms)"
            )
        if len(results) == 2:
            before, after = results.values()
            print(
                f"ratio before/after: cell {before['cell'] / after['cell']:.1f}×, "
                f"click {before['click'] / after['click']:.1f}×"
            )


if __name__ == "__main__":
    main()
