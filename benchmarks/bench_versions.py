"""Two versions of the core side by side, in one run: ``python benchmarks/bench_versions.py
OLD_CHECKOUT`` (for example ``git worktree add /tmp/old d82ca24`` first).

Both packages are imported by path into one process (the old one as ``cnn_magic_old``)
and timed interleaved, so a noisy machine slows both alike; every figure is a median.
Reported as ratios old / new:

- ``evaluate`` of ResNet-50 (the zoo's text, floor rounding): goal at least 1.5× faster;
- a 10,000-layer network written line by line: goal no slower;
- peak memory (tracemalloc) of a flat 100,000-layer network: goal at most half;
- a cold ``import cnn_magic`` in a fresh interpreter, minus an empty one's start.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

NEW = Path(__file__).resolve().parent.parent
DEEP = "input 64x64x16\n" + "conv 16 k3 p1 nobias\nbn relu\n" * 5000  # 10,000 layers
FLAT = "input 32x32x8\n" + "conv 8 k3 p1 nobias\nbn relu\n" * 50_000  # 100,000 layers


def load(root: Path, name: str) -> ModuleType:
    """The package ``root/cnn_magic`` imported under ``name``."""
    spec = importlib.util.spec_from_file_location(
        name,
        root / "cnn_magic" / "__init__.py",
        submodule_search_locations=[str(root / "cnn_magic")],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def interleaved(funcs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, run in turn ``repeat`` times."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_mib(func: Callable[[], object]) -> float:
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def cold_imports(roots: dict[str, Path], repeat: int) -> dict[str, float]:
    """Median ms of ``import cnn_magic`` in a fresh interpreter, minus ``pass``; sources
    compiled first, as an installed package is."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for root in roots.values():
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(root / "cnn_magic")], check=True, env=env
        )

    def runner(code: str) -> Callable[[], object]:
        return lambda: subprocess.run([sys.executable, "-c", code], check=True, env=env)

    funcs = {"pass": runner("pass")}
    for name, root in roots.items():
        funcs[name] = runner(f"import sys; sys.path.insert(0, {str(root)!r}); import cnn_magic")
    medians = interleaved(funcs, repeat)
    return {name: (medians[name] - medians["pass"]) * 1000 for name in roots}


def main() -> None:
    old_root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/old").resolve()
    old, new = load(old_root, "cnn_magic_old"), load(NEW, "cnn_magic_new")
    # the old checkout's ResNet-50 text: both versions read it (the new zoo file's group
    # lines, layer1: ..., are newer than the old language)
    resnet50 = (old_root / "cnn_magic" / "examples" / "resnet50.cnn").read_text(encoding="utf-8")
    assert old.evaluate(resnet50, "floor").params == new.evaluate(resnet50, "floor").params

    print(f"old: {old_root}  new: {NEW}  (medians; ratio = old / new)")
    clear = sys.modules["cnn_magic_new.evaluate"].clear_caches
    for label, text, repeat in (("ResNet-50", resnet50, 300), ("10,000 layers", DEEP, 25)):
        # again: the same text evaluated repeatedly (a notebook's re-runs and toggles);
        # first: every cache of the new version cleared before each run
        for kind, first in (("again", False), ("first", True)):
            medians = interleaved(
                {
                    "old": lambda text=text: old.evaluate(text, "floor"),
                    "new": lambda text=text, first=first: (
                        clear() if first else None,
                        new.evaluate(text, "floor"),
                    ),
                },
                repeat,
            )
            print(
                f"evaluate {label:<14} {kind:<5} old {medians['old'] * 1000:8.2f} ms   "
                f"new {medians['new'] * 1000:8.2f} ms   "
                f"ratio {medians['old'] / medians['new']:.2f}×"
            )
    peaks = {"old": [], "new": []}
    for _ in range(3):
        peaks["old"].append(peak_mib(lambda: old.evaluate(FLAT)))
        clear()
        peaks["new"].append(peak_mib(lambda: new.evaluate(FLAT)))
    old_peak, new_peak = (statistics.median(peaks[k]) for k in ("old", "new"))
    print(
        f"peak memory, 100,000 layers  old {old_peak:6.1f} MiB   new {new_peak:6.1f} MiB   "
        f"new/old {new_peak / old_peak:.2f}"
    )
    imports = cold_imports({"old": old_root, "new": NEW}, 21)
    print(
        f"cold import cnn_magic        old {imports['old']:6.1f} ms    new {imports['new']:6.1f} ms"
    )


if __name__ == "__main__":
    main()
