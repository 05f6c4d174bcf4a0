"""from_torch against torchinfo on the same model. Run by hand:
``python benchmarks/bench_import.py``.

Both read the plain-PyTorch ResNet-50 (``tests/torch_zoo.py``) at 1×3×224×224 and report
shapes, parameters and multiply-adds per layer; each is timed alternately in one run,
median of several rounds. Goal: ``from_torch`` faster than ``torchinfo.summary``.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import torch  # noqa: E402
import torch_zoo  # noqa: E402
import torchinfo  # noqa: E402

import cnn_magic  # noqa: E402


def main(rounds: int = 7) -> None:
    torch.set_num_threads(1)  # the machine is shared; both get the same one core
    model = torch_zoo.resnet50()
    shape = (1, 3, 224, 224)
    warnings.simplefilter("ignore")
    ours, theirs = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        net = cnn_magic.from_torch(model, shape)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        summary = torchinfo.summary(model, input_size=shape, verbose=0)
        theirs.append(time.perf_counter() - start)
    assert net.params == summary.total_params
    assert net.total("torchinfo") == summary.total_mult_adds
    a, b = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"ResNet-50, 1×3×224×224, median of {rounds} alternating rounds, one thread")
    print(f"  cnn_magic.from_torch   {a:8.1f} ms  ({len(net.layers)} layers, with blocks)")
    print(f"  torchinfo.summary      {b:8.1f} ms")
    print(f"  ratio                  {b / a:8.2f}× {'faster' if a < b else 'SLOWER'}")


if __name__ == "__main__":
    main()
