"""The small value types every other module shares; imports nothing of the package.

A shape is a tuple of whole numbers: ``(spatial..., C)`` for a feature map with one,
two or three spatial dimensions (``(L, C)``, ``(H, W, C)``, ``(D, H, W, C)``), or
``(N,)`` for a vector of N features.

>>> format_shape((28, 28, 6)), format_shape((84,)), spatial_dims((8, 16, 16, 3))
('28×28×6', '84', 3)
"""

from __future__ import annotations

from typing import NamedTuple

Shape = tuple[int, ...]
"""``(spatial..., C)`` for feature maps, ``(N,)`` for vectors."""

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
"""The letters of the spatial dimensions, by their count: length; height, width; depth."""


class Axis(NamedTuple):
    """How one spatial dimension of a layer's output was computed."""

    size: int  # input size along this dimension
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    out: int
    rule: str  # "floor" | "ceil" | "same" | "deconv" | "adaptive", or a rule's own
    dropped_last: bool = False  # ceil: the last window started in the right padding
    out_pad: int = 0  # deconv output padding


class ReceptiveField(NamedTuple):
    """The receptive field along one dimension, in input pixels.

    ``size``: pixels one output sees; ``jump``: input pixels between neighbouring
    outputs; ``start``: centre of the first output's field (0 = centre of the first
    input pixel; negative when it lies in the padding).
    """

    size: int
    jump: int
    start: float


def spatial_dims(shape: Shape) -> int:
    """How many spatial dimensions a shape has: 0 for a vector, else ``len(shape) − 1``."""
    return len(shape) - 1


def elements(shape: Shape) -> int:
    """The number of values in a tensor of ``shape``."""
    total = 1
    for value in shape:
        total *= value
    return total


def format_shape(shape: Shape) -> str:
    """``28×28×6`` for maps (spatial × C), ``84`` for vectors.

    >>> format_shape((28, 28, 6)), format_shape((84,)), format_shape((100, 3))
    ('28×28×6', '84', '100×3')
    """
    return "×".join(str(v) for v in shape)
