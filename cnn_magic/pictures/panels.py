"""The pictures inside the notebook view: a layer's windows when its row is selected,
the network's picture and the cost charts under the table, all switched by CSS.

The view's HTML holds a table per rounding (roundings that agree share one) and
switches them with radio inputs, so a click needs no kernel and a saved notebook keeps
working. The pictures follow the same rule:

* every layer with windows gets a radio input; its name in the table is a ``<label>``
  for it, so a click on the name selects the row and shows its windows under the table;
* a windows picture is drawn once for all the layers and roundings that share it (the
  same arithmetic gives the same picture), and shown when one of them is selected under
  a rounding it belongs to;
* the network's picture follows the rounding; the cost charts the rounding and (for
  the operations) the convention.

The pictures share one copy of the style, without the fallback colours a standalone
picture carries. They are added in that order (network, windows, charts) while they fit
in :data:`BUDGET` characters; what does not fit is named, with the call that draws it.
:func:`view_pictures` returns the pieces; the view puts the inputs before its tables'
container (``~`` selectors need them as earlier siblings), the CSS in its style and the
panel inside the container.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import NamedTuple

from ..conventions import CONVENTIONS
from ..i18n import N_, _
from ..results import Network
from ..shapes import Axis
from .charts import cost_svg
from .network import network_svg
from .svg import FALLBACK, STYLE, _attrs
from .windows import windows_svg

BUDGET = 300_000
"""Characters of pictures a view carries at most (its tables are about as large for
ResNet-50); LeNet-5's all fit in a fifth of it."""
MAX_PER_LAYER_CHARTS = 60  # layers; beyond this the charts group by block
OPEN_UP_TO = 30  # layers; the network's picture of a larger one starts closed
PLACEHOLDER = "\ue000"
"""A prefix no id, picture or layer name contains (a private-use character): pictures
drawn with it are given their fragment's prefix by :meth:`ViewPictures.with_prefix`."""

PART_NAMES = {"network": N_("network"), "windows": N_("windows"), "charts": N_("charts")}
"""The pictures' names, as the note on what did not fit says them."""

_FALLBACKS = sorted({_attrs(dict(v)) for v in FALLBACK.values()}, key=len, reverse=True)


class ViewPictures(NamedTuple):
    """What the view adds: inputs, CSS, the panel under the tables, and which layers'
    rows get a label."""

    inputs: str
    css: str
    panel: str
    windowed: frozenset[int]
    prefix: str

    def label(self, layer: int, name_html: str) -> str:
        """A row's name as the label that selects its windows (unchanged without)."""
        if layer not in self.windowed:
            return name_html
        return f'<label class="wl" for="{self.prefix}-w{layer}">{name_html}</label>'

    def with_prefix(self, prefix: str) -> ViewPictures:
        """The same pictures for a fragment whose ids start with ``prefix``: drawn once
        with :data:`PLACEHOLDER` as the prefix, they serve every output of a view."""
        return ViewPictures(
            self.inputs.replace(self.prefix, prefix),
            self.css.replace(self.prefix, prefix),
            self.panel.replace(self.prefix, prefix),
            self.windowed,
            prefix,
        )


def for_view(svg: str) -> str:
    """A picture without its ``<style>`` and fallback colours: the view has the style."""
    svg = svg.replace(f"<style>{STYLE}</style>", "", 1)
    for attributes in _FALLBACKS:
        svg = svg.replace(attributes, "")
    return svg


class _Part(NamedTuple):
    html: str
    css: list[str]


def _windows(variants: Sequence[tuple[tuple[str, ...], Network]], p: str) -> tuple[_Part, set[int]]:
    shared: dict[str, list[tuple[int, str]]] = {}  # picture → (layer, rounding) pairs
    windowed: set[int] = set()
    drawn: dict[tuple[Axis, ...], str] = {}  # layers computed alike are drawn once
    for roundings, net in variants:
        for index, layer in enumerate(net.layers):
            if layer.axes:
                windowed.add(index)
                picture = drawn.get(layer.axes)
                if picture is None:
                    picture = drawn[layer.axes] = for_view(windows_svg(layer.axes))
                shared.setdefault(picture, []).extend((index, r) for r in roundings)
    html, css = [], []
    names: dict[int, str] = {}  # the selected layer, named above its windows
    for _roundings, net in variants:
        for index in windowed:
            layer = net.layers[index]
            names.setdefault(index, f"{layer.name} · {layer.text}")
    for index in sorted(names):
        html.append(f'<div class="cnnm-wn wn{index}" hidden>{escape(names[index])}</div>')
        css.append(f"#{p}-w{index}:checked~.cb .wn{index}{{display:block;font-weight:600}}")
    for number, (picture, pairs) in enumerate(shared.items()):
        html.append(f'<div class="cnnm-wp wp{number}" hidden>{picture}</div>')
        shown = ",".join(f"#{p}-r-{r}:checked~#{p}-w{i}:checked~.cb .wp{number}" for i, r in pairs)
        css.append(shown + "{display:block}")
    for index in sorted(windowed):  # the selected row, marked
        row = f'tr:has(label[for="{p}-w{index}"])'
        css.append(f"#{p}-w{index}:checked~.cb {row}>td{{font-weight:600}}")
    hide = escape(_("hide the windows"))
    close = f'<label class="cnnm-wclose" for="{p}-w-none" hidden>✕ {hide}</label>'
    if windowed:
        chosen = ",".join(f"#{p}-w{i}" for i in sorted(windowed))
        css.append(f":is({chosen}):checked~.cb .cnnm-wclose{{display:inline-block}}")
    return _Part(f'<div class="cnnm-windows">{close}{"".join(html)}</div>', css), windowed


def _hidden(shown: bool) -> str:
    """Without CSS (a sanitising page) only the cell's own picture shows."""
    return "" if shown else " hidden"


def _networks(
    variants: Sequence[tuple[tuple[str, ...], Network]], p: str, rounding: str | None
) -> _Part:
    html, css = [], []
    # a small network's picture starts open; a large one's is a click away, under its table
    opened = " open" if all(len(net.layers) <= OPEN_UP_TO for _, net in variants) else ""
    for number, (roundings, net) in enumerate(variants):
        css.append(
            ",".join(f"#{p}-r-{r}:checked~.cb .np{number}" for r in roundings) + "{display:block}"
        )
        hidden = _hidden(rounding in roundings)
        html.append(f'<div class="cnnm-np np{number}"{hidden}>{for_view(network_svg(net))}</div>')
    summary = escape(_("the network, drawn"))
    return _Part(
        f'<details class="cnnm-pictures"{opened}><summary>{summary}</summary>'
        f"{''.join(html)}</details>",
        css,
    )


def _charts(
    variants: Sequence[tuple[tuple[str, ...], Network]],
    p: str,
    all_ops: bool,
    dtype: str,
    shown: tuple[str | None, str | None],
) -> _Part:
    html, css = [], []
    for number, (roundings, net) in enumerate(variants):
        by = "layer" if len(net.layers) <= MAX_PER_LAYER_CHARTS else "block"
        fixed = for_view(cost_svg(net, by, dtype=dtype, measures=("params", "memory")))
        mine = shown[0] in roundings
        html.append(f'<div class="cnnm-cp cp{number}"{_hidden(mine)}>{fixed}</div>')
        css.append(
            ",".join(f"#{p}-r-{r}:checked~.cb .cp{number}" for r in roundings) + "{display:block}"
        )
        for convention in CONVENTIONS:
            cls = f"cp{number}-{convention}"
            ops = for_view(cost_svg(net, by, convention, all_ops, dtype, measures=("ops",)))
            hidden = _hidden(mine and convention == shown[1])
            html.append(f'<div class="cnnm-cp {cls}"{hidden}>{ops}</div>')
            css.append(
                ",".join(
                    f"#{p}-c-{convention}:checked~#{p}-r-{r}:checked~.cb .{cls}" for r in roundings
                )
                + "{display:block}"
            )
    summary = escape(_("where the cost goes"))
    return _Part(
        f'<details class="cnnm-costs"><summary>{summary}</summary>{"".join(html)}</details>',
        css,
    )


def view_pictures(
    variants: Sequence[tuple[tuple[str, ...], Network]],
    prefix: str,
    *,
    all_ops: bool = False,
    dtype: str = "float32",
    rounding: str | None = None,
    convention: str | None = None,
    budget: int = BUDGET,
) -> ViewPictures:
    """The pictures of a view whose rounding radios are ``{prefix}-r-{rounding}`` and
    convention radios ``{prefix}-c-{convention}``; ``variants`` are the roundings that
    give each network. ``rounding`` and ``convention`` are the cell's own: a page
    without CSS shows their picture and charts (every element of the others carries
    ``hidden``, which the view's CSS overrides for the chosen toggles)."""
    p = prefix
    windows, windowed = _windows(variants, p)
    parts = {
        "network": _networks(variants, p, rounding),
        "windows": windows,
        "charts": _charts(variants, p, all_ops, dtype, (rounding, convention)),
    }
    calls = {
        "network": "net.to_svg()",
        "windows": "net.layers[i].windows_svg()",
        "charts": "net.cost_svg()",
    }
    kept, left_out, size = [], [], 0
    for name, part in parts.items():
        if size + len(part.html) <= budget:
            kept.append(part)
            size += len(part.html)
        else:
            left_out.append(name)
    if "windows" in left_out:
        windowed = set()
    note = ""
    if left_out:
        parts_left = "; ".join(f"{_(PART_NAMES[name])} ({calls[name]})" for name in left_out)
        words = _("Too large to draw here: {parts}.").format(parts=parts_left)
        note = f'<div class="cnnm-left-out">{escape(words)}</div>'
    css = [
        STYLE,
        ".cnnm-wp,.cnnm-wn,.cnnm-np,.cnnm-cp{display:none}",
        ".cnnm-wclose,.cnn-magic label.wl{cursor:pointer}",
        ".cnn-magic label.wl{text-decoration:underline dotted}",
        ".cnnm-view-pictures summary{cursor:pointer}",
        *(rule for part in kept for rule in part.css),
    ]
    inputs = ""
    if windowed:
        inputs = f'<input type="radio" name="{p}-w" id="{p}-w-none" checked>' + "".join(
            f'<input type="radio" name="{p}-w" id="{p}-w{i}">' for i in sorted(windowed)
        )
    # shown in the order a reader wants them: the windows just selected, under the table
    order = ("windows", "network", "charts")
    body = "".join(parts[name].html for name in order if parts[name] in kept)
    return ViewPictures(
        inputs,
        "".join(css),
        f'<div class="cnnm-view-pictures">{body}{note}</div>',
        frozenset(windowed),
        p,
    )
