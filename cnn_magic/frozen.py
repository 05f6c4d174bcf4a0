"""Frozen layers: the layers whose parameters are not trained.

A layer is frozen by the word ``frozen`` (``conv 64 k3 frozen``); every layer with
parameters in a block by ``frozen`` before the block's colon (``repeat 2 frozen:``,
``residual frozen:``). ``from_torch`` writes it where a module's parameters all have
``requires_grad=False``, and ``to_torch`` sets that back.

>>> from cnn_magic import evaluate
>>> net = evaluate("input 8x8x3; conv 4 k3 frozen; bn; fc 2")
>>> trainable(net), non_trainable(net)
(298, 112)
"""

from __future__ import annotations

from .results import Layer, Network


def is_frozen(layer: Layer) -> bool:
    return layer.args is not None and bool(layer.args.frozen)


def frozen_indices(net: Network) -> frozenset[int]:
    """Indices of the layers the text marks frozen."""
    return frozenset(i for i, layer in enumerate(net.layers) if is_frozen(layer))


def trainable(net: Network) -> int:
    """Parameters that are trained (torchinfo's "Trainable params")."""
    return sum(layer.params for layer in net.layers if not is_frozen(layer))


def non_trainable(net: Network) -> int:
    """Parameters of frozen layers (torchinfo's "Non-trainable params"; Keras also counts
    batch norm's moving statistics there)."""
    return sum(layer.params for layer in net.layers if is_frozen(layer))
