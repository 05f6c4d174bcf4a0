"""How fast are the pictures? Run by hand: ``python benchmarks/bench_pictures.py``.

Goals: ResNet-50's picture drawn in under 20 ms; a slider move on LeNet-5 (evaluate,
the table, the windows of the layers using the variable, the network's picture) in
under 50 ms. The cost charts and the windows pictures are measured beside them (one
run, side by side, so the ratios hold on a busy machine).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cnn_magic  # noqa: E402
from cnn_magic.pictures.charts import cost_svg  # noqa: E402
from cnn_magic.pictures.network import network_svg  # noqa: E402
from cnn_magic.pictures.windows import windows_svg  # noqa: E402
from cnn_magic.sliders import Range, SliderView  # noqa: E402
from cnn_magic.widget import CNNView  # noqa: E402

LENET_K = (ROOT / "cnn_magic" / "examples" / "lenet5.cnn").read_text(encoding="utf-8")
LENET_K = LENET_K.replace("input 32x32x1", "input 32x32x1\nk = 5").replace(
    "C1: conv 6 k5", "C1: conv 6 k{k}"
)


def slider_move() -> Callable[[], object]:
    """One move of the real IntSlider of a built view: its observer redraws the HTML
    widget before ``value =`` returns."""
    view = SliderView(LENET_K, {"k": Range(1, 7)})
    slider = view.widget.children[0].children[0]
    values = iter(range(10**9))

    def move() -> None:
        slider.value = 1 + next(values) % 7

    return move


def median_ms(work: Callable[[], object], repeat: int = 50) -> float:
    work()  # warm: imports and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def both_outputs(text: str) -> None:
    """A displayed view: the static twin and the live view share the pictures."""
    view = CNNView(text, rounding="floor")
    view.to_html()
    view.live_html()


def main() -> None:
    resnet50 = cnn_magic.example("resnet50")
    lenet5 = cnn_magic.example("lenet5")
    windowed = [layer for layer in resnet50.layers if layer.axes]
    rows = {
        "ResNet-50 picture (goal < 20 ms)": median_ms(lambda: network_svg(resnet50)),
        "LeNet-5 slider move, all redrawn (goal < 50 ms)": median_ms(slider_move()),
        "ResNet-50 cost charts per layer": median_ms(lambda: cost_svg(resnet50)),
        "ResNet-50 cost charts per block": median_ms(lambda: cost_svg(resnet50, "block")),
        f"ResNet-50 windows, all {len(windowed)} layers": median_ms(
            lambda: [windows_svg(layer.axes) for layer in windowed], repeat=10
        ),
        "ResNet-50 view, the table only": median_ms(
            lambda: CNNView(resnet50.text, rounding="floor", pictures=False).to_html(), repeat=10
        ),
        "ResNet-50 view, with its pictures": median_ms(
            lambda: CNNView(resnet50.text, rounding="floor").to_html(), repeat=10
        ),
        "ResNet-50 view, both outputs (pictures drawn once)": median_ms(
            lambda: both_outputs(resnet50.text), repeat=10
        ),
        "LeNet-5 picture + charts + windows": median_ms(
            lambda: (
                network_svg(lenet5),
                cost_svg(lenet5),
                [windows_svg(layer.axes) for layer in lenet5.layers if layer.axes],
            )
        ),
    }
    width = max(map(len, rows))
    for name, ms in rows.items():
        print(f"{name:<{width}}  {ms:8.2f} ms")


if __name__ == "__main__":
    main()
