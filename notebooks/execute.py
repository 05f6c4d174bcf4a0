"""Re-run the tutorials and store their outputs as the tests expect them.

    python notebooks/execute.py                  # every notebook here and below
    python notebooks/execute.py 03_flops.ipynb   # some

Run it from an environment with the package, ipykernel and torch (tutorial 5's stored
outputs are the ones with torch), after any change that alters what a cell prints;
``pytest`` (nbval) says when that is needed. Each notebook runs top to bottom in a fresh
kernel with its own folder as the working directory, then is tidied: no timing metadata,
no widget state, no widget views (the stored ``%%cnn`` outputs keep their static
``text/html`` and ``text/plain``, which JupyterLab shows until the cell is run), and
consecutive prints joined into one output. Running it twice gives identical files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
HERE = Path(__file__).resolve().parent
ROOT = f"{HERE.parent}{os.sep}"


def tidy(nb) -> None:
    """Drop what changes from run to run or only a live kernel can use."""
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            out.get("data", {}).pop(WIDGET_VIEW, None)
            if out.output_type == "error":  # the package's files, not where it was checked out
                out.traceback = [line.replace(ROOT, "") for line in out.traceback]
            previous = outputs[-1] if outputs else None
            # the kernel splits a run of prints by timing; join them
            if (
                out.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == out.name
            ):
                previous.text += out.text
                continue
            outputs.append(out)
        cell.outputs = outputs


def execute(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    tidy(nb)
    nbformat.write(nb, path)


def main(names: list[str]) -> None:
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    paths = [HERE / name for name in names] or sorted(
        p for p in HERE.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    for path in paths:
        print(f"running {path.name}")
        execute(path)


if __name__ == "__main__":
    main(sys.argv[1:])
