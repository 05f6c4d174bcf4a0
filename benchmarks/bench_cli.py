"""How long does the command line take, start to finish? Run by hand:
``python benchmarks/bench_cli.py``.

Goal: the whole process of ``cnn-magic --example resnet50`` under 300 ms (interpreter
start, imports, reading and evaluating the file, printing the table).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def median_ms(command: list[str], repeat: int = 11) -> float:
    """Median wall time of ``command`` as a fresh process, after one warm-up run."""
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    bare = median_ms([sys.executable, "-c", "pass"])
    script = Path(sys.executable).with_name("cnn-magic")
    commands = {
        "python -m cnn_magic --example resnet50": [
            sys.executable,
            "-m",
            "cnn_magic",
            "--example",
            "resnet50",
        ]
    }
    if script.exists():  # the console script, where the package is installed
        commands["cnn-magic --example resnet50"] = [str(script), "--example", "resnet50"]
    for label, command in commands.items():
        print(
            f"{label}: median {median_ms(command):.0f} ms for the whole process "
            f"(a bare interpreter: {bare:.0f} ms; goal < 300 ms)"
        )


if __name__ == "__main__":
    main()
