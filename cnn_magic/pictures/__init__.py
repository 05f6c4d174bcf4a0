"""Pictures of the arithmetic, as SVG strings written here: a layer's windows, the
network's feature maps, and where the parameters, operations and memory go.

Pure functions over the results (:mod:`cnn_magic.results`); nothing is fetched and
nothing heavy is imported. Each returns an :class:`~cnn_magic.pictures.svg.Svg`: a
``str`` that a notebook displays as the picture and a file saves.

>>> import cnn_magic
>>> net = cnn_magic.evaluate("input 13x13x64; maxpool k2 s2", "floor")
>>> picture = layer_windows(net.layers[0])
>>> picture.startswith("<svg"), picture.alt
(True, 'pool1 (maxpool k2 s2): H = W: 13 cells, k2 s2, floor → 6 outputs')
"""

from __future__ import annotations

from ..errors import CNNError
from ..results import Layer
from .svg import Svg
from .windows import _caption, layer_axes, windows_svg

__all__ = ["Svg", "layer_windows"]


def layer_windows(layer: Layer) -> Svg:
    """The windows of a conv, pooling or transposed conv layer, one picture per
    spatial dimension (:mod:`cnn_magic.pictures.windows`)."""
    if not layer.axes:
        raise CNNError(
            f"{layer.name} ({layer.text}) has no windows to draw",
            hint="conv, dwconv, deconv and pooling layers slide windows; "
            "global pooling, fc and element-wise layers do not",
        )
    title = f"{layer.name} ({layer.text})"
    alt = "; ".join(_caption(axis, name) for name, axis in layer_axes(layer.axes))
    return Svg(windows_svg(layer.axes, title), f"{title}: {alt}")
