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
from ..i18n import _
from ..results import Layer, Network
from ..shapes import format_shape
from .charts import Item, chart_svg, cost_panels, text_bars
from .network import drawn, network_svg
from .svg import Svg
from .windows import _caption, layer_axes, windows_svg

__all__ = ["Svg", "bar_chart", "cost_picture", "layer_windows", "network_picture"]


def layer_windows(layer: Layer) -> Svg:
    """The windows of a conv, pooling or transposed conv layer, one picture per
    spatial dimension (:mod:`cnn_magic.pictures.windows`)."""
    if not layer.axes:
        raise CNNError(
            _("{name} ({text}) has no windows to draw").format(name=layer.name, text=layer.text),
            hint=_(
                "conv, dwconv, deconv and pooling layers slide windows; "
                "global pooling, fc and element-wise layers do not"
            ),
        )
    title = f"{layer.name} ({layer.text})"
    alt = "; ".join(_caption(axis, name) for name, axis in layer_axes(layer.axes))
    return Svg(windows_svg(layer.axes, title), f"{title}: {alt}")


def network_picture(net: Network, title: str = "") -> Svg:
    """The network's picture (:mod:`cnn_magic.pictures.network`)."""
    shapes = " → ".join(
        [format_shape(net.input_shape)]
        + [format_shape(layer.out_shape) for layer in net.layers if drawn(layer)]
    )
    return Svg(network_svg(net, title), (title or _("network")) + ": " + shapes)


def cost_picture(
    net: Network,
    by: str = "layer",
    convention: str = "flops",
    all_ops: bool = False,
    dtype: str = "float32",
) -> Svg:
    """Parameters, operations and activation memory per layer or block
    (:mod:`cnn_magic.pictures.charts`); as text, the same bars drawn with █."""
    panels = cost_panels(net, by, convention, all_ops, dtype)
    alt = "\n\n".join(text_bars(title, bars, unit) for title, bars, unit, _css in panels)
    return Svg(chart_svg(panels), alt)


def bar_chart(title: str, bars: list[tuple[str, int]], unit: str = "") -> Svg:
    """A chart of your own grouping: one bar per (name, value), the cumulative line
    over them, e.g. MACs by feature-map size.

    >>> print(bar_chart("MACs by kind", [("conv", 30), ("fc", 10)], "MACs").alt)
    MACs by kind
    conv  ████████████████████████████████████████  30 MACs  75.0%
    fc    █████████████                             10 MACs  25.0%
    """
    chosen = [Item(str(name), int(value)) for name, value in bars if value]
    svg = chart_svg([(title, chosen, unit, "cnnm-ops")])
    return Svg(svg, text_bars(title, chosen, unit))
