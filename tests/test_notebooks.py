"""The tutorials in notebooks/: committed tidy, and runnable in the Binder environment.

nbval checks the outputs: ``pytest`` collects notebooks/ with ``--nbval`` (see
pyproject.toml), re-runs every cell and compares what it prints with what is stored.
This file checks the rest:

* the notebooks are committed as a reader should find them: run top to bottom in one
  kernel, every output stored, errors only where a cell fails on purpose (tag
  ``raises-exception``), no timing metadata, no widget state; ``%%cnn`` outputs keep
  their static ``text/html`` and ``text/plain`` (the table GitHub and an unrun
  notebook show) but not the widget view, whose model would be missing
  ("Error displaying widget: model not found" in JupyterLab); ``python
  notebooks/execute.py`` re-runs them and stores them so;
* binder/ pins exactly, without torch, and installs the package itself; its notebook and
  jupyterlab pins are those of repo2docker's Python 3.11 base environment, on which
  repo2docker installs it;
* the Binder environment works: binder/requirements.txt installed into a fresh virtual
  environment on top of the base environment's notebook and jupyterlab (as repo2docker
  does, from a copy of the repository), consistent by ``pip check``, runs every notebook
  with its own kernel, fails on any error but the intended ones, prints the same outputs
  as stored, and runs tutorial 5 without torch.

Cells tagged ``torch`` use PyTorch when it is there: their stored outputs come from an
environment with torch (CI's), and in the Binder environment they must instead say that
torch is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
BINDER = REPO / "binder"
TUTORIALS = (
    "01_feature_map_sizes.ipynb",
    "02_parameters.ipynb",
    "03_flops.ipynb",
    "04_real_networks.ipynb",
    "05_checking_against_pytorch.ipynb",
    "06_teachers_workflow.ipynb",
    "07_todays_blocks.ipynb",
    "assignment/lenet5_homework.ipynb",
    "zh/01_feature_map_sizes_zh.ipynb",
    "zh/02_parameters_zh.ipynb",
    "zh/03_flops_zh.ipynb",
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RAISES = "raises-exception"
TORCH = "torch"
NO_TORCH = ("torch is not installed here", "skipped: torch is not installed")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def comparable(cell: dict) -> list[tuple[str, str, str]]:
    """A cell's outputs as nbval compares them: streams joined per name, every mimetype
    but the widget view and images, errors by name and message (not traceback)."""
    out: list[tuple[str, str, str]] = []
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            if out and out[-1][:2] == ("stream", output["name"]):
                out[-1] = ("stream", output["name"], out[-1][2] + text(output["text"]))
            else:
                out.append(("stream", output["name"], text(output["text"])))
        elif kind == "error":
            out.append(("error", output["ename"], output["evalue"]))
        else:
            for mime, value in sorted(output["data"].items()):
                if mime != WIDGET_VIEW and not mime.startswith("image/"):
                    out.append(("data", mime, text(value)))
    return out


# ---------------------------------------------------------------- committed notebooks


def test_the_tutorials_are_there() -> None:
    found = sorted(
        p.relative_to(NOTEBOOKS).as_posix()
        for p in NOTEBOOKS.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )
    assert found == sorted(TUTORIALS)


@pytest.mark.parametrize("name", TUTORIALS)
def test_committed_run_top_to_bottom(name: str) -> None:
    """One kernel, every code cell once, in order, and its outputs stored."""
    cells = code_cells(load(NOTEBOOKS / name))
    assert [cell["execution_count"] for cell in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        if source(cell).lstrip().startswith("%%cnn") or source(cell).lstrip().startswith("%cnn"):
            assert cell["outputs"], f"a %cnn cell without its table: {source(cell)!r}"


@pytest.mark.parametrize("name", TUTORIALS)
def test_committed_tidy(name: str) -> None:
    """No volatile or bulky metadata: timing, widget state, widget views, stderr."""
    nb = load(NOTEBOOKS / name)
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in code_cells(nb):
        assert "execution" not in cell.get("metadata", {}), source(cell)
        for output in cell["outputs"]:
            assert WIDGET_VIEW not in output.get("data", {}), source(cell)
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), (
                f"stderr stored for {source(cell)!r}: {text(output['text'])[:300]}"
            )


@pytest.mark.parametrize("name", TUTORIALS)
def test_errors_only_where_intended(name: str) -> None:
    """A cell tagged raises-exception shows its error; no other cell has one."""
    for cell in code_cells(load(NOTEBOOKS / name)):
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if RAISES in tags(cell):
            assert len(errors) == 1, f"meant to fail, but did not: {source(cell)!r}"
        else:
            assert not errors, f"unexpected error in {source(cell)!r}: {errors[0]['evalue']}"


def test_tutorial_5_stored_with_torch() -> None:
    """Its stored outputs show the checks themselves, not the note for readers without
    torch (nbval then checks them in CI, which has torch)."""
    cells = [c for c in code_cells(load(NOTEBOOKS / TUTORIALS[4])) if TORCH in tags(c)]
    assert len(cells) >= 5
    for cell in cells:
        shown = "".join(value for _, _, value in comparable(cell))
        assert shown and not any(note in shown for note in NO_TORCH), source(cell)


PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][0-9A-Za-z.+!-]*$")
REPO2DOCKER_BASE = ("notebook==7.4.7", "jupyterlab==4.4.9")
"""What repo2docker's Python 3.11 base environment (its conda lock of October 2025) holds of
the Jupyter front ends; binder/requirements.txt is installed on top of it. Its notebook
7.4.7 requires jupyterlab>=4.4.9,<4.5."""


def binder_pins() -> dict[str, str]:
    lines = [
        line.split("#", 1)[0].strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
    ]
    return {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
        for line in lines
        if "==" in line
    }


def test_binder_keeps_the_base_environments_front_ends() -> None:
    """A pin that moved jupyterlab past 4.4 would leave the base's notebook 7.4 broken."""
    pins = binder_pins()
    for requirement in REPO2DOCKER_BASE:
        name, version = requirement.split("==")
        assert pins.get(name) == version, (name, pins.get(name))


def test_binder_pins_exactly_and_leaves_torch_out() -> None:
    lines = [
        line.split("#", 1)[0].strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
    ]
    lines = [line for line in lines if line]
    assert "." in lines, "the package itself must be installed"
    pins = [line for line in lines if line != "."]
    assert all(PIN.match(line) for line in pins), pins
    names = {line.split("==")[0].lower().replace("_", "-") for line in pins}
    assert {"ipython", "ipywidgets", "jupyterlab", "pandas"} <= names
    assert "torch" not in names
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


# ------------------------------------------------------------------ Binder environment


def python_311() -> str:
    """A Python 3.11, as binder/runtime.txt asks for."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    assert found, "binder/runtime.txt asks for Python 3.11, and none is on PATH"
    return found


def clean_env(tmp: Path) -> dict[str, str]:
    """The environment without this test run's virtualenv, user site or Jupyter/IPython
    settings: the fresh environment must stand on its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "JUPYTER_PATH")
    }
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp / name.lower())
    env.update(PYTHONNOUSERSITE="1", PYDEVD_DISABLE_FILE_VALIDATION="1", PIP_NO_INPUT="1")
    return env


def run(command: list[str], cwd: Path, env: dict[str, str], what: str, timeout: int) -> None:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (
        f"{what} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    )


@pytest.mark.binder
@pytest.mark.timeout(1800)
def test_binder_environment_runs_every_notebook(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    # repo2docker copies the repository and runs pip in it; a copy also keeps pip's
    # build folders out of the working tree
    repo = tmp_path / "repo"
    shutil.copytree(
        REPO,
        repo,
        ignore=shutil.ignore_patterns(
            ".git",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            ".hypothesis",
            ".ruff_cache",
            ".venv",
            ".ipynb_checkpoints",
        ),
    )
    venv = tmp_path / "venv"
    run([python_311(), "-m", "venv", str(venv)], tmp_path, env, "python -m venv", 300)
    python = venv / "bin" / "python"
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    pip = [str(python), "-m", "pip"]
    run([*pip, "install", "-q", *REPO2DOCKER_BASE], repo, env, "the base environment", 1500)
    run(
        [*pip, "install", "-q", "-r", "binder/requirements.txt"],
        repo,
        env,
        "pip install -r binder/requirements.txt on top of the base",
        1500,
    )
    run([*pip, "check"], repo, env, "pip check (the installed set is consistent)", 120)
    versions = subprocess.run(
        [*pip, "list", "--format=freeze"], env=env, capture_output=True, text=True, check=True
    ).stdout.lower()
    for requirement in REPO2DOCKER_BASE:  # the base's front ends stayed in place
        assert requirement in versions.splitlines(), requirement
    run(
        [
            str(python),
            "-c",
            "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None)",
        ],
        repo,
        env,
        "torch must not be in the Binder environment",
        60,
    )

    executed = tmp_path / "executed"
    failures = []
    for name in TUTORIALS:
        # nbconvert stops at the first error in a cell not tagged raises-exception;
        # the kernel is the environment's own python3 (user kernel specs are isolated)
        done = subprocess.run(
            [
                str(python),
                "-m",
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.timeout=600",
                "--output-dir",
                str(executed),
                str(repo / "notebooks" / name),
            ],
            cwd=repo / "notebooks",
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if done.returncode != 0:
            failures.append(f"{name} did not run:\n{done.stderr[-6000:]}")
            continue
        failures += differences(name, load(NOTEBOOKS / name), load(executed / Path(name).name))
    assert not failures, "\n\n".join(failures)


def differences(name: str, stored: dict, fresh: dict) -> list[str]:
    """Where the Binder run differs from the committed outputs (cells tagged torch: where
    it does not say that torch is missing)."""
    problems = []
    pairs = zip(code_cells(stored), code_cells(fresh), strict=True)
    for number, (old, new) in enumerate(pairs, 1):
        got = comparable(new)
        if TORCH in tags(old):
            shown = "".join(value for _, _, value in got)
            if not any(note in shown for note in NO_TORCH) or any(k == "error" for k, *_ in got):
                problems.append(f"{name} cell {number}: without torch it printed {shown!r}")
        elif got != comparable(old):
            problems.append(
                f"{name} cell {number} differs in the Binder environment: "
                + first_difference(comparable(old), got)
            )
    return problems


def first_difference(stored: list[tuple[str, str, str]], fresh: list[tuple[str, str, str]]) -> str:
    """Where two cells' outputs first part, briefly (a table's HTML is one long line)."""
    if [item[:2] for item in stored] != [item[:2] for item in fresh]:
        return f"outputs {[i[:2] for i in stored]} stored, {[i[:2] for i in fresh]} now"
    for (kind, label, a), (_, _, b) in zip(stored, fresh, strict=True):
        if a != b:
            pairs = enumerate(zip(a, b, strict=False))  # the shorter may be a prefix
            at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
            start = max(0, at - 80)
            return (
                f"{kind} {label}, character {at}:\n  stored: {a[start : at + 80]!r}"
                f"\n  now:    {b[start : at + 80]!r}"
            )
    return "same"
