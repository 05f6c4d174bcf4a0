"""Models from other frameworks into the layer language: :func:`from_torch` (PyTorch,
imported only when called) and :func:`from_onnx` (the ``onnx`` package, no runtime)."""

from __future__ import annotations

from typing import Any

from ..results import Network


def from_torch(model: Any, input: Any, *, unknown: str = "error", repeat: bool = True) -> Network:
    """A :class:`Network` for a ``torch.nn.Module``; see :mod:`cnn_magic.importers.torch`."""
    from .torch import from_torch as convert

    return convert(model, input, unknown=unknown, repeat=repeat)


def from_onnx(model: Any, *, unknown: str = "error", repeat: bool = True) -> Network:
    """A :class:`Network` for an ONNX file or ``onnx.ModelProto``; see
    :mod:`cnn_magic.importers.onnx`."""
    from .onnx import from_onnx as convert

    return convert(model, unknown=unknown, repeat=repeat)
