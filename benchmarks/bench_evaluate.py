"""How fast is the core? Run by hand: ``python benchmarks/bench_evaluate.py``.

Goals on a 2-core machine: ResNet-50 (written in the layer language) under 1 ms,
a 10,000-layer network under 100 ms, a cold ``import cnn_magic`` under 50 ms. It also
reports the peak memory of both evaluations.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import cnn_magic

ROOT = Path(__file__).resolve().parent.parent
RESNET50 = (ROOT / "cnn_magic" / "examples" / "resnet50.cnn").read_text()
# 10,000 layers written out line by line: nothing is shared between them.
DEEP = "input 64x64x16\n" + "conv 16 k3 p1 nobias\nbn relu\n" * 5000
# The largest network the language accepts: 100,000 layers from two nested repeats.
LARGEST = "input 8x8x1\nrepeat 1000:\n  repeat 100:\n    conv 1 k1"


def median_ms(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def cold_import_ms(repeat: int = 15) -> float:
    """Whole-process time of ``import cnn_magic`` minus that of an empty interpreter."""

    def run(code: str) -> float:
        return median_ms(lambda: subprocess.run([sys.executable, "-c", code], check=True), repeat)

    return run("import cnn_magic") - run("pass")


def peak_kib(func) -> float:
    """Peak memory allocated while ``func`` runs, in KiB (tracemalloc)."""
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    net = cnn_magic.evaluate(RESNET50, rounding="floor")
    deep = cnn_magic.evaluate(DEEP)
    print(
        f"ResNet-50: {len(net.layers)} layers, {len(RESNET50.splitlines())} lines, "
        f"median {median_ms(lambda: cnn_magic.evaluate(RESNET50, rounding='floor'), 200):.3f} ms"
        "  (goal < 1 ms)"
    )
    print(
        f"deep net: {len(deep.layers):,} layers, "
        f"median {median_ms(lambda: cnn_magic.evaluate(DEEP), 15):.1f} ms  (goal < 100 ms)"
    )
    print(
        f"largest allowed (100,000 layers): "
        f"median {median_ms(lambda: cnn_magic.evaluate(LARGEST), 5):.0f} ms  (goal < 1 s)"
    )
    print(
        f"memory: ResNet-50 peak {peak_kib(lambda: cnn_magic.evaluate(RESNET50)):,.0f} KiB, "
        f"10,000 layers peak {peak_kib(lambda: cnn_magic.evaluate(DEEP)) / 1024:,.1f} MiB"
    )
    print(
        f"cold import cnn_magic: {cold_import_ms():.1f} ms above a bare interpreter (goal < 50 ms)"
    )


if __name__ == "__main__":
    main()
