"""Models from other frameworks into the layer language: :func:`from_torch` (PyTorch,
imported only when called) and :func:`from_onnx` (the ``onnx`` package, no runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..results import Network


def from_torch(model: Any, input: Any, *, unknown: str = "error", repeat: bool = True) -> Network:
    """A :class:`Network` for a ``torch.nn.Module``; see :mod:`cnn_magic.importers.torch`."""
    from .torch import from_torch as convert

    network: Network = convert(model, input, unknown=unknown, repeat=repeat)
    return network


def from_onnx(
    model: Any,
    *,
    input: Sequence[int] | None = None,
    unknown: str = "error",
    repeat: bool = True,
    max_bytes: int = 2**31,
) -> Network:
    """A :class:`Network` for an ONNX file, its bytes or an ``onnx.ModelProto``; see
    :mod:`cnn_magic.importers.onnx`."""
    from .onnx import from_onnx as convert

    network: Network = convert(
        model, input=input, unknown=unknown, repeat=repeat, max_bytes=max_bytes
    )
    return network
