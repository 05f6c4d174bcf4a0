"""How fast does a toggle redraw? Run by hand: ``python benchmarks/bench_magic.py``.

Goal: from the cell text to the redrawn HTML for ResNet-50 under 20 ms per toggle.
A rounding toggle re-evaluates the text (the view's per-rounding cache is emptied
before each one, so every toggle pays for evaluate + render, the worst case); a
convention toggle only re-renders.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnn_magic.widget import CNNView  # noqa: E402

RESNET50 = (ROOT / "cnn_magic" / "examples" / "resnet50.cnn").read_text(encoding="utf-8")
ROUNDINGS = ("textbook", "floor", "ceil")
CONVENTIONS = ("macs", "exact", "flops")


def bench_toggle(repeat: int = 60, text: str = RESNET50) -> dict[str, float]:
    """Median milliseconds per toggle, flipping the real ToggleButtons of a built view
    and waiting for nothing: the observer sets ``HTML.value`` before ``value =`` returns.
    """
    view = CNNView(text, rounding="floor")
    _, convention, rounding, _ = view.widget.children
    cold, warm = [], []
    for i in range(repeat):
        view._results = {view.baseline: view._results[view.baseline]}  # force re-evaluation
        start = time.perf_counter()
        rounding.value = ROUNDINGS[i % 3]
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        convention.value = CONVENTIONS[i % 3]
        warm.append(time.perf_counter() - start)
    return {
        "rounding toggle (evaluate + render)": statistics.median(cold) * 1000,
        "convention toggle (render)": statistics.median(warm) * 1000,
    }


def bench_first_display(repeat: int = 30, text: str = RESNET50) -> float:
    """Median milliseconds from the cell text to the first mimebundle (view, widget and
    both fallbacks), what a %%cnn cell costs beyond IPython's own overhead."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        CNNView(text, rounding="floor")._repr_mimebundle_()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    for what, ms in bench_toggle().items():
        print(f"ResNet-50, {what}: median {ms:.2f} ms (goal < 20 ms)")
    print(f"ResNet-50, cell text to first display: median {bench_first_display():.2f} ms")


if __name__ == "__main__":
    main()
