"""Where the cost goes: bars per layer (or per block) and a cumulative line.

One panel per measure, each of the same form: a bar per item whose height is its
value, and a line that climbs from 0 % to 100 % of the total, so the few layers that
hold most of the cost stand out. The measures are the table's: parameters, operations
under the chosen convention, and activation memory (output elements × bytes of the
data type). Items whose value is zero are left out of a panel; the total is the
network's.

>>> import cnn_magic
>>> net = cnn_magic.example("lenet5")
>>> [(item.name, item.value) for item in items(net, "params")][:3]
[('C1', 156), ('C3', 2416), ('C5', 48120)]
>>> [item.name for item in items(net, "params", by="block")] == [
...     layer.name for layer in net.layers if layer.params]
True
"""

from __future__ import annotations

from typing import NamedTuple

from ..conventions import (
    CONVENTION_LABEL,
    DTYPE_BYTES,
    check_convention,
    check_dtype,
    check_flag,
)
from ..errors import CNNError, did_you_mean
from ..i18n import N_, _, display_width
from ..results import Layer, Network
from ..table import count_label, format_count, format_share
from .svg import document, element, group, path, text

MEASURES = ("params", "ops", "memory")
GROUPINGS = ("layer", "block")
PANEL_TITLES = {
    "layer": (
        N_("parameters per layer"),
        N_("{ops} per layer"),
        N_("activation memory per layer ({dtype})"),
    ),
    "block": (
        N_("parameters per block"),
        N_("{ops} per block"),
        N_("activation memory per block ({dtype})"),
    ),
}
"""Each measure's panel title, per grouping: one whole sentence for a translation."""
NOTHING = N_("nothing to show: every value is 0")

PLOT_W, PLOT_H = 700.0, 110.0
LEFT, RIGHT = 62.0, 44.0  # the value axis, the cumulative axis
LABELS = 62.0  # room under the bars for names written at a slant
BAR_MAX = 28.0


class Item(NamedTuple):
    """One bar: a name and its value (an exact integer)."""

    name: str
    value: int


def measure(layer: Layer, what: str, convention: str, all_ops: bool, size: int) -> int:
    """A layer's parameters, operations or activation bytes (``size`` bytes a value)."""
    if what == "params":
        return layer.params
    if what == "ops":
        return layer.count(convention, all_ops=all_ops)
    return layer.elements * size


def groups(net: Network, by: str) -> list[tuple[str, list[Layer]]]:
    """The layers under their bar's name: each layer alone, or by top-level block
    (layers outside blocks stay alone)."""
    if by not in GROUPINGS:
        raise CNNError(
            _("unknown grouping {by!r}").format(by=by), hint=did_you_mean(str(by), GROUPINGS)
        )
    out: list[tuple[str, list[Layer]]] = []
    for layer in net.layers:
        key = layer.block.split("/", 1)[0] if by == "block" and layer.block else layer.name
        if out and out[-1][0] == key and by == "block" and layer.block:
            out[-1][1].append(layer)
        else:
            out.append((key, [layer]))
    return out


def items(
    net: Network,
    what: str,
    by: str = "layer",
    convention: str = "flops",
    all_ops: bool = False,
    dtype: str = "float32",
) -> list[Item]:
    """The bars of one panel: (name, value) per layer or block, zeros left out."""
    if what not in MEASURES:
        raise CNNError(
            _("unknown measure {what!r}").format(what=what), hint=did_you_mean(str(what), MEASURES)
        )
    size = DTYPE_BYTES[check_dtype(dtype)]
    convention = check_convention(convention)
    all_ops = check_flag("all_ops", all_ops)
    out = []
    for name, layers in groups(net, by):
        value = sum(measure(layer, what, convention, all_ops, size) for layer in layers)
        if value:
            out.append(Item(name, value))
    return out


def panel(title: str, bars: list[Item], unit: str, css: str, top: float) -> tuple[float, list[str]]:
    """One chart from y = ``top``: (its height, parts)."""
    total = sum(item.value for item in bars)
    heading = _("{title}: {total} {unit}").format(title=title, total=format_count(total), unit=unit)
    parts = [text(0, top + 12, heading.rstrip(), cls="cnnm-title")]
    y0 = top + 24  # the plot's top
    base = y0 + PLOT_H
    if not bars:
        parts.append(text(LEFT, y0 + 14, _(NOTHING), cls="cnnm-muted"))
        return 44.0, parts
    high = max(item.value for item in bars)
    slot = min(BAR_MAX, PLOT_W / len(bars))
    width = slot * len(bars)
    for share in (0.0, 0.5, 1.0):  # value grid on the left, cumulative share on the right
        y = base - share * PLOT_H
        parts.append(path([(LEFT, y), (LEFT + width, y)], cls="cnnm-grid"))
        parts.append(
            text(
                LEFT - 4,
                y + 3,
                format_count(round(high * share), True),
                text_anchor="end",
                cls="cnnm-small cnnm-muted",
            )
        )
        parts.append(text(LEFT + width + 4, y + 3, f"{share:.0%}", cls="cnnm-small cnnm-muted"))
    step = 1 if slot >= 9 else -(-9 // int(max(slot, 1)))  # label every step-th bar
    running, line = 0, []
    for i, item in enumerate(bars):
        x = LEFT + i * slot
        h = PLOT_H * item.value / high
        running += item.value
        share = running / total
        centre = x + slot / 2
        bar = element(
            "rect",
            x=x + slot * 0.12,
            y=base - h,
            width=slot * 0.76,
            height=h,
            cls=f"cnnm-bar {css}",
            data_name=item.name,
            data_value=item.value,
        )
        tip = f"{item.name}: {item.value:,} {unit} ({format_share(item.value / total)})"
        parts.append(f"{bar[:-2]}><title>{_escape(tip)}</title></rect>")
        line.append((centre, base - share * PLOT_H))
        if i % step == 0:
            parts.append(
                text(
                    centre + 3,
                    base + 8,
                    item.name,
                    cls="cnnm-small",
                    transform=f"rotate(-50 {centre + 3:.1f} {base + 8:.1f})",
                    text_anchor="end",
                )
            )
    parts.append(
        group(
            [path(line, cls="cnnm-cumulative")]
            + [element("circle", cx=x, cy=y, r=1.8, cls="cnnm-dot") for x, y in line],
            cls="cnnm-cumulative-line",
            data_total=total,
        )
    )
    return 24 + PLOT_H + LABELS, parts


def _escape(words: str) -> str:
    import html

    return html.escape(words, quote=False)


def chart_svg(panels: list[tuple[str, list[Item], str, str]], title: str = "") -> str:
    """Panels (title, bars, unit, css class) stacked under an optional title."""
    parts: list[str] = []
    y = 0.0
    if title:
        parts.append(text(0, 13, title, cls="cnnm-title"))
        y = 22.0
    widest = 7.0 * display_width(title)
    for name, bars, unit, css in panels:
        height, drawn = panel(name, bars, unit, css, y)
        parts.append(group(drawn, cls="cnnm-panel", data_measure=css.removeprefix("cnnm-")))
        y += height + 8
        plot = min(BAR_MAX, PLOT_W / max(len(bars), 1)) * len(bars)
        widest = max(widest, LEFT + plot + RIGHT, 7.0 * (display_width(name) + 24))
    words = title or "; ".join(name for name, *_ in panels)
    return document(widest, y, parts, title=words)


def cost_panels(
    net: Network,
    by: str = "layer",
    convention: str = "flops",
    all_ops: bool = False,
    dtype: str = "float32",
    measures: tuple[str, ...] = MEASURES,
) -> list[tuple[str, list[Item], str, str]]:
    """The panels (title, bars, unit, css class) of the chosen measures, in the
    language in force."""
    titles = PANEL_TITLES[by] if by in PANEL_TITLES else PANEL_TITLES["layer"]
    ops = count_label(convention, all_ops)
    panels = {
        "params": (_(titles[0]), items(net, "params", by), _("parameters"), "cnnm-params"),
        "ops": (
            _(titles[1]).format(ops=ops),
            items(net, "ops", by, convention, all_ops),
            _(CONVENTION_LABEL[check_convention(convention)]) if not all_ops else ops,
            "cnnm-ops",
        ),
        "memory": (
            _(titles[2]).format(dtype=dtype),
            items(net, "memory", by, dtype=dtype),
            "B",
            "cnnm-memory",
        ),
    }
    return [panels[what] for what in measures]


def cost_svg(
    net: Network,
    by: str = "layer",
    convention: str = "flops",
    all_ops: bool = False,
    dtype: str = "float32",
    measures: tuple[str, ...] = MEASURES,
) -> str:
    """Parameters, operations and activation memory of ``net`` per layer or per block
    (or the ``measures`` chosen of them), one chart under the other."""
    for what in measures:
        if what not in MEASURES:
            raise CNNError(
                _("unknown measure {what!r}").format(what=what),
                hint=did_you_mean(str(what), MEASURES),
            )
    return chart_svg(cost_panels(net, by, convention, all_ops, dtype, measures))


def text_bars(title: str, bars: list[Item], unit: str, width: int = 40) -> str:
    """The same chart as text: a bar of █ per item, its value and share.

    >>> print(text_bars("t", [Item("a", 3), Item("b", 1)], "MACs", width=6))
    t
    a  ██████  3 MACs  75.0%
    b  ██      1 MACs  25.0%
    """
    if not bars:
        return f"{title}\n({_(NOTHING)})"
    total = sum(item.value for item in bars)
    high = max(item.value for item in bars)
    names = max(len(item.name) for item in bars)
    values = max(len(f"{item.value:,}") for item in bars)
    shares = [format_share(item.value / total) for item in bars]
    wide = max(map(len, shares))
    suffix = f" {unit}" if unit else ""
    lines = [title]
    for item, share in zip(bars, shares, strict=True):
        bar = "█" * round(width * item.value / high)
        lines.append(
            f"{item.name:<{names}}  {bar:<{width}}  {item.value:>{values},}{suffix}  "
            f"{share:>{wide}}"
        )
    return "\n".join(lines)
