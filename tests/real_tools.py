"""Run the real counting tools on a PyTorch model, quietly: one function per tool,
each returning the integer the tool reports at batch 1 (the names of
``cnn_magic.tools.TOOLS``)."""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings
from collections.abc import Callable, Iterator

import torch
from torch import nn


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The tools print, log and warn; the test output stays clean."""
    logging.disable(logging.CRITICAL)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def _torchinfo(model: nn.Module, shape: tuple[int, ...]) -> int:
    import torchinfo

    return int(torchinfo.summary(model, input_size=shape, verbose=0, mode="eval").total_mult_adds)


def _fvcore(training: bool) -> Callable[[nn.Module, tuple[int, ...]], int]:
    def run(model: nn.Module, shape: tuple[int, ...]) -> int:
        from fvcore.nn import FlopCountAnalysis

        model.train(training)
        analysis = FlopCountAnalysis(model, torch.zeros(shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return int(analysis.total())

    return run


def _ptflops(backend: str) -> Callable[[nn.Module, tuple[int, ...]], int]:
    def run(model: nn.Module, shape: tuple[int, ...]) -> int:
        from ptflops import get_model_complexity_info

        macs, _ = get_model_complexity_info(
            model,
            tuple(shape[1:]),
            as_strings=False,
            backend=backend,
            print_per_layer_stat=False,
            verbose=False,
        )
        assert macs is not None, "ptflops failed"
        return int(macs)

    return run


def _thop(model: nn.Module, shape: tuple[int, ...]) -> int:
    import thop

    ops, _ = thop.profile(model, inputs=(torch.zeros(shape),), verbose=False)
    return int(ops)


def _flop_counter_mode(model: nn.Module, shape: tuple[int, ...]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(shape))
    return int(counter.get_total_flops())


RUNNERS: dict[str, Callable[[nn.Module, tuple[int, ...]], int]] = {
    "torchinfo": _torchinfo,
    "fvcore": _fvcore(training=True),
    "fvcore-eval": _fvcore(training=False),
    "ptflops-pytorch": _ptflops("pytorch"),
    "ptflops-aten": _ptflops("aten"),
    "thop": _thop,
    "flopcountermode": _flop_counter_mode,
}


def run_all(model: nn.Module, shape: tuple[int, ...]) -> dict[str, int]:
    """Every tool's figure for ``model`` on an input of ``shape`` (NCHW, batch 1).

    Each tool gets its own copy: some leave buffers or hooks behind, and fvcore's
    figure depends on the training mode."""
    found = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models on shared cores: one thread is faster
    try:
        with quiet():
            for name, runner in RUNNERS.items():
                found[name] = runner(copy.deepcopy(model), shape)
    finally:
        torch.set_num_threads(threads)
    return found
