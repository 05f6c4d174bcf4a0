"""``import cnn_magic`` stays light: no dataclasses or inspect (a third of its import
time once), and ``%load_ext cnn_magic`` leaves the explanation module unimported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return set(done.stdout.split())


def test_import_cnn_magic_needs_no_dataclasses_or_inspect() -> None:
    loaded = modules_after("import cnn_magic")
    assert not {"dataclasses", "inspect"} & loaded


def test_load_ext_does_not_import_explain() -> None:
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'cnn_magic')\n"
    )
    loaded = modules_after(code)
    assert "cnn_magic.magic" in loaded and "cnn_magic.explain" not in loaded
