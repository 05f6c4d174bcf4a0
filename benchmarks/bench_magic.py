"""What a ``%%cnn`` cell costs in Python: ``python benchmarks/bench_magic.py``.

A toggle costs nothing here any more (the browser switches between tables the cell
already sent); what remains is the cell itself: evaluate the text under the three
roundings and render both outputs (the static HTML and text, and the live widget's
HTML). Goals: ResNet-50 under 50 ms; any accepted network well under a second per
10,000 layers, output size proportional to the rows shown; the exports and the worked
explanation linear in the layers.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnn_magic.explain import explain  # noqa: E402
from cnn_magic.widget import CNNView  # noqa: E402

RESNET50 = (ROOT / "cnn_magic" / "examples" / "resnet50.cnn").read_text(encoding="utf-8")


def plain(layers: int) -> str:
    """``layers`` lines of text, no repeat: the parser and the table see every one."""
    return "input 8x8x4\n" + "conv 4 k3 p1\n" * layers


def cell(text: str, rounding: str = "textbook") -> tuple[float, int]:
    """Seconds and bytes of one cell: the view, both of its outputs."""
    start = time.perf_counter()
    view = CNNView(text, rounding=rounding)
    bundle = view._repr_mimebundle_()
    live = view.live_html()
    seconds = time.perf_counter() - start
    return seconds, sum(len(v) for v in bundle.values()) + len(live)


def main() -> None:
    times = []
    for _ in range(15):
        seconds, size = cell(RESNET50, "floor")
        times.append(seconds)
    print(
        f"ResNet-50 cell: median {statistics.median(times) * 1000:.1f} ms, "
        f"{size / 1e3:.0f} kB in its outputs (goal < 50 ms)"
    )
    for layers in (10_000, 100_000):
        seconds, size = cell(plain(layers))
        print(
            f"{layers:,} layers: {seconds:.2f} s ({seconds / layers * 1e4:.2f} s per 10,000), "
            f"{size / 1e6:.1f} MB in its outputs"
        )
        net = CNNView(plain(layers)).network
        for export in ("to_text", "to_markdown", "to_latex"):
            start = time.perf_counter()
            size = len(getattr(net, export)())
            seconds = time.perf_counter() - start
            print(f"  {export}(): {seconds:.2f} s, {size / 1e6:.1f} MB")
        start = time.perf_counter()
        size = len(explain(net).to_markdown())
        seconds = time.perf_counter() - start
        print(f"  explain(net).to_markdown(): {seconds:.2f} s, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
