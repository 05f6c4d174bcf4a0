"""The view's HTML: every table of a cell in one self-contained fragment, toggled by CSS.

All the tables a cell can show (three conventions × three roundings) are small and
known when the cell runs, so the fragment carries them all and the browser switches
between them with no kernel: radio inputs and ``:checked ~`` selectors pick the
convention, the rounding and the depth, a checkbox per block collapses or expands it,
and ``<details>`` holds the conventions' long form. The same fragment works inside the
ipywidgets ``HTML`` widget, as ``text/html`` in a live or a saved notebook, and in
nbconvert's HTML. Without CSS (GitHub, a sanitising front end) the ``hidden``
attribute leaves one table: the cell's own convention and rounding.

Each piece is a small function (:func:`layer_row`, :func:`block_row`, :func:`panel`,
...) so another view can add a column or a panel per row. Every user string is escaped:
the ``HTML`` widget does not sanitise.
"""

from __future__ import annotations

import html
import itertools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .conventions import (
    CONVENTION_BUTTON,
    CONVENTION_LABEL,
    CONVENTION_SHORT,
    CONVENTION_TEXT,
    CONVENTIONS,
    ROUNDING_SHORT,
    ROUNDING_TEXT,
    ROUNDINGS,
    SCOPE_SHORT,
    SCOPE_TEXT,
)
from .errors import CNNError
from .results import Block, Network
from .shapes import format_shape
from .table import activation_bytes, clip, format_bytes, format_count, format_share

if TYPE_CHECKING:
    from .pictures.panels import ViewPictures

DEFAULT_DEPTH = 2
"""Levels shown when a cell starts: top-level rows and what their blocks hold, like
torchinfo's ``depth=2``; deeper blocks start collapsed."""

MAX_ROWS = 2000
"""Rows a table shows; a longer one shows its first and last rows around a row that
says how many are left out (the exports have them all)."""
_HEAD_ROWS, _TAIL_ROWS = 1500, 300

esc = html.escape


@dataclass(frozen=True, slots=True)
class ViewRow:
    """One row of the view, with its count under every convention."""

    kind: str  # "layer" | "block" | "total"
    name: str
    text: str
    depth: int
    input: str
    output: str
    weights: int
    biases: int
    counts: tuple[int, ...]  # one per convention, in CONVENTIONS order
    shares: tuple[float | None, ...]
    ancestors: tuple[int, ...] = ()  # indices of the enclosing blocks
    block: int = -1  # a block row: its index
    layer: int = -1  # a layer row: its index in net.layers

    @property
    def params(self) -> int:
        return self.weights + self.biases


@dataclass(frozen=True, slots=True)
class Variant:
    """The network under one or more roundings that give the same shapes (or the error
    they give), and the layers whose shapes differ from the cell's own rounding."""

    roundings: tuple[str, ...]
    result: Network | CNNError
    changed: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Options:
    """What the fragment starts with, and what it is called on the page."""

    convention: str
    rounding: str
    baseline: str  # the cell's own rounding: changed rows are marked against it
    all_ops: bool = False
    dtype: str = "float32"
    depth: int | None = None
    prefix: str = "cm"  # ids of this fragment's inputs
    extra_css: str = ""
    classes: tuple[str, ...] = field(default=())
    key: str = ""
    roundings: tuple[str, ...] = ROUNDINGS  # the rounding toggles offered
    pictures: ViewPictures | None = None  # windows per row, the network, the charts


_keys: dict[str, itertools.count[int]] = {}


def fragment_key(*parts: object) -> str:
    """A name for a view's fragments, the same in every run of a notebook: a digest of
    what the cell shows and how often this kernel has shown it before. Input ids must be
    unique on a page; nbval compares the HTML, so they cannot be random."""
    digest = f"{zlib.crc32(repr(parts).encode()):08x}"
    return f"{digest}{next(_keys.setdefault(digest, itertools.count()))}"


# ---------------------------------------------------------------------------- rows


def view_rows(net: Network, all_ops: bool) -> list[ViewRow]:
    """Block headings (with subtotals), layers and the totals, in table order."""
    per_layer = [
        tuple(layer.count(c, all_ops=all_ops) for c in CONVENTIONS) for layer in net.layers
    ]
    totals = tuple(sum(column) for column in zip(*per_layer, strict=True)) or (0,) * 3
    sums = [[0] * 5]
    for layer, counts in zip(net.layers, per_layer, strict=True):
        last = sums[-1]
        sums.append(
            [
                last[0] + layer.weights,
                last[1] + layer.biases,
                *map(sum, zip(last[2:], counts, strict=True)),
            ]
        )

    def shares(counts: Sequence[int]) -> tuple[float | None, ...]:
        return tuple(c / t if t else None for c, t in zip(counts, totals, strict=True))

    order = sorted(range(len(net.blocks)), key=lambda i: (net.blocks[i].first, net.blocks[i].depth))
    starts: dict[int, list[int]] = {}
    for number, i in enumerate(order):
        starts.setdefault(net.blocks[i].first, []).append(number)
    blocks: list[Block] = [net.blocks[i] for i in order]
    out: list[ViewRow] = []
    open_blocks: list[int] = []
    for index, layer in enumerate(net.layers):
        while open_blocks and blocks[open_blocks[-1]].stop <= index:
            open_blocks.pop()
        for number in starts.get(index, ()):
            block = blocks[number]
            first, stop = sums[block.first], sums[block.stop]
            sub = [b - a for a, b in zip(first, stop, strict=True)]
            out.append(
                ViewRow(
                    "block",
                    block.name,
                    f"{block.kind}:",
                    block.depth,
                    format_shape(block.in_shape),
                    format_shape(block.out_shape),
                    sub[0],
                    sub[1],
                    tuple(sub[2:]),
                    shares(sub[2:]),
                    tuple(open_blocks),
                    block=number,
                )
            )
            open_blocks.append(number)
        counts = per_layer[index]
        out.append(
            ViewRow(
                "layer",
                layer.name,
                layer.text,
                layer.depth,
                format_shape(layer.in_shape),
                format_shape(layer.out_shape),
                layer.weights,
                layer.biases,
                counts,
                shares(counts),
                tuple(open_blocks),
                layer=index,
            )
        )
    out.append(
        ViewRow(
            "total",
            "total",
            "",
            0,
            format_shape(net.input_shape),
            format_shape(net.output_shape),
            net.weights,
            net.biases,
            totals,
            tuple(1.0 if t else None for t in totals),
        )
    )
    return out


def _by_convention(values: Sequence[str], convention: str, tag: str = "span") -> str:
    """The value under each convention; only the chosen one is shown without CSS.
    Conventions that agree share one element (a zero is a zero under all three), which
    keeps a big network's fragment small."""
    if tag == "span" and len(set(values)) == 1:
        return values[0]
    groups: dict[str, list[str]] = {}
    for c, v in zip(CONVENTIONS, values, strict=True):
        groups.setdefault(v, []).append(c)
    return "".join(
        f'<{tag} class="cv {" ".join(f"cv-{c}" for c in names)}"'
        f"{'' if convention in names else ' hidden'}>{value}</{tag}>"
        for value, names in groups.items()
    )


def _number_cells(row: ViewRow, convention: str, bars: bool) -> str:
    counts = [esc(format_count(c)) for c in row.counts]
    shares = []
    for share in row.shares:
        text = esc(format_share(share))
        if bars and share is not None:
            text = f'<i class="bar" style="width:{round(share * 60)}px"></i>{text}'
        shares.append(text)
    plain = (format_count(row.weights), format_count(row.biases), format_count(row.params))
    return (
        "".join(f'<td class="n">{v}</td>' for v in plain)
        + f'<td class="n">{_by_convention(counts, convention)}</td>'
        + f'<td class="n">{_by_convention(shares, convention)}</td>'
    )


def _indent(depth: int) -> str:
    return f' style="padding-left:{8 + 14 * depth}px"' if depth else ""


def _classes(row: ViewRow, *extra: str) -> str:
    return " ".join([*extra, *(f"in-b{i}" for i in row.ancestors)])


def layer_row(row: ViewRow, options: Options, changed: bool) -> str:
    """A layer's row: name, statement, shapes, counts; ``changed`` marks its shapes."""
    css = _classes(row, "L", *(["changed"] if changed else []))
    name = esc(clip(row.name))
    if options.pictures is not None:  # a click on the name shows the layer's windows
        name = options.pictures.label(row.layer, name)
    return (
        f'<tr class="{css}"><td{_indent(row.depth)}>{name}</td>'
        f"<td>{esc(clip(row.text))}</td>"
        f'<td class="sh">{esc(row.input)}</td><td class="sh">{esc(row.output)}</td>'
        f"{_number_cells(row, options.convention, bars=True)}</tr>"
    )


def block_row(row: ViewRow, options: Options) -> str:
    """A block's heading with its subtotals; its name is the collapse toggle."""
    css = _classes(row, "B", f"hb{row.block}")
    name = esc(clip(row.name)) + ":"
    toggle = f'<label class="tw" for="{options.prefix}-b{row.block}">{name}</label>'
    return (
        f'<tr class="{css}"><td{_indent(row.depth)}>{toggle}</td>'
        f"<td>{esc(row.text)}</td>"
        f'<td class="sh">{esc(row.input)}</td><td class="sh">{esc(row.output)}</td>'
        f"{_number_cells(row, options.convention, bars=False)}</tr>"
    )


def total_row(row: ViewRow, options: Options) -> str:
    return (
        f'<tr class="T"><td>total</td><td></td><td class="sh">{esc(row.input)}</td>'
        f'<td class="sh">{esc(row.output)}</td>'
        f"{_number_cells(row, options.convention, bars=False)}</tr>"
    )


def elided_row(count: int) -> str:
    return (
        f'<tr class="el"><td colspan="9">… {count:,} rows not shown here; '
        "net.to_text(), to_frame() and the other exports have them all</td></tr>"
    )


def table(rows: list[ViewRow], options: Options, changed: frozenset[int]) -> str:
    """The ``<table>`` of one variant, header kept in view while scrolling."""
    counts = _by_convention(
        [esc(CONVENTION_LABEL[c] + (" (all ops)" if options.all_ops else "")) for c in CONVENTIONS],
        options.convention,
    )
    head = "".join(
        f'<th class="n">{h}</th>' if numeric else f"<th>{h}</th>"
        for h, numeric in (
            ("name", False),
            ("layer", False),
            ("input", False),
            ("output", False),
            ("weights", True),
            ("biases", True),
            ("params", True),
            (counts, True),
            ("share", True),
        )
    )
    body = []
    shown = rows
    if len(rows) > MAX_ROWS:
        shown = [*rows[:_HEAD_ROWS], *rows[-_TAIL_ROWS:]]
    for number, row in enumerate(shown):
        if row is not rows[number] and number == _HEAD_ROWS:
            body.append(elided_row(len(rows) - len(shown)))
        if row.kind == "layer":
            body.append(layer_row(row, options, row.layer in changed))
        elif row.kind == "block":
            body.append(block_row(row, options))
        else:
            body.append(total_row(row, options))
    rows_html = "".join(body)
    return (
        f'<div class="sc"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows_html}</tbody></table></div>"
    )


# -------------------------------------------------------------------- the fragment


def _hidden(roundings: Sequence[str], options: Options) -> str:
    return "" if options.rounding in roundings else " hidden"


def _rd(roundings: Sequence[str]) -> str:
    return " ".join(f"rd-{r}" for r in roundings)


def header(variant: Variant, options: Options) -> str:
    """The totals line of one variant: shapes, params, count, activation memory."""
    result = variant.result
    if isinstance(result, CNNError):
        return f"no network under {' or '.join(variant.roundings)} rounding: see below"
    totals = [
        esc(f"{result.total(c, all_ops=options.all_ops):,} {CONVENTION_LABEL[c]}")
        for c in CONVENTIONS
    ]
    return (
        f"input {format_shape(result.input_shape)} → output {format_shape(result.output_shape)}"
        f" · {result.params:,} params · {_by_convention(totals, options.convention)}"
        f" · activations {format_bytes(activation_bytes(result, options.dtype))} as {options.dtype}"
    )


def conventions_line(options: Options) -> str:
    """What is counted and how, in one line; the full sentences a click away."""
    short = _by_convention(
        [esc(CONVENTION_SHORT[c].split(":")[0]) for c in CONVENTIONS],
        options.convention,
    )
    rounding = "".join(
        f'<span class="rd rd-{r}"{"" if r == options.rounding else " hidden"}>'
        f"{esc(ROUNDING_SHORT[r].split(':')[0])}</span>"
        for r in ROUNDINGS
    )
    scope = esc(SCOPE_SHORT[options.all_ops].split(":")[0])
    long = _by_convention([esc(CONVENTION_TEXT[c]) for c in CONVENTIONS], options.convention, "div")
    long += f"<div>{esc(SCOPE_TEXT[options.all_ops])}</div>"
    long += "".join(
        f'<div class="rd rd-{r}"{"" if r == options.rounding else " hidden"}>'
        f"{esc(ROUNDING_TEXT[r])}</div>"
        for r in ROUNDINGS
    )
    return f'<details class="nt"><summary>{short} · {scope} · {rounding}</summary>{long}</details>'


def controls(options: Options, levels: int) -> str:
    """The toggles: labels of the radio inputs (and the depth, when there are blocks)."""
    p = options.prefix

    def group(title: str, items: Sequence[tuple[str, str]]) -> str:
        labels = "".join(
            f'<label for="{p}-{name}" class="lb-{name}">{esc(text)}</label>' for name, text in items
        )
        return f'<span class="g"><span class="gt">{title}</span>{labels}</span>'

    parts = [
        group("count", [(f"c-{c}", CONVENTION_BUTTON[c]) for c in CONVENTIONS]),
    ]
    if len(options.roundings) > 1:
        parts.append(group("rounding", [(f"r-{r}", r) for r in options.roundings]))
    if levels > 1:
        depths = [(f"d{d}", str(d)) for d in range(1, levels)] + [(f"d{levels}", "all")]
        parts.append(group("depth", depths))
    return f'<div class="ctl">{"".join(parts)}</div>'


def caption(variant: Variant, options: Options) -> str:
    """Under a rounding other than the cell's: how many rows changed shape."""
    parts = []
    for r in variant.roundings:
        if r == options.baseline:
            continue
        n = len(variant.changed)
        text = (
            f"{n} layer{'s' * (n != 1)} with shapes that differ from {options.baseline} "
            "rounding (the cell's): marked"
            if n
            else f"no shape differs from {options.baseline} rounding (the cell's)"
        )
        parts.append(
            f'<span class="rd rd-{r}"{"" if r == options.rounding else " hidden"}>{text}</span>'
        )
    return f'<div class="cap">{"".join(parts)}</div>' if parts else ""


def panel(variant: Variant, rows: list[ViewRow] | None, options: Options) -> str:
    """One variant's table (or its error), shown while one of its roundings is chosen."""
    result = variant.result
    if isinstance(result, CNNError):
        content = f'<pre class="err">{esc(str(result))}</pre>'
    else:
        assert rows is not None
        content = caption(variant, options) + table(rows, options, variant.changed)
    shown = _hidden(variant.roundings, options)
    return f'<div class="rd {_rd(variant.roundings)}"{shown}>{content}</div>'


def block_rules(blocks: Sequence[int], levels: int, prefix: str) -> str:
    """Per block: its rows hide when it is collapsed. A block at depth k starts collapsed
    when the depth control shows k + 1 levels or fewer; its checkbox flips that."""
    rules = []
    for number, depth in enumerate(blocks):
        short = ",".join(f"#{prefix}-d{d}" for d in range(1, min(depth + 1, levels) + 1))
        deep = ",".join(f"#{prefix}-d{d}" for d in range(depth + 2, levels + 1))
        box = f"#{prefix}-b{number}"
        states = [f":is({short}):checked~{box}:not(:checked)~.cb"]
        if deep:
            states.append(f":is({deep}):checked~{box}:checked~.cb")
        rules.append(",".join(f"{s} .in-b{number}" for s in states) + "{display:none}")
        rules.append(",".join(f"{s} .hb{number} .tw::before" for s in states) + '{content:"▸ "}')
    return "".join(rules)


def variant_rows(variants: Sequence[Variant], all_ops: bool) -> dict[int, list[ViewRow]]:
    """The rows of every variant that has a network, by its position."""
    return {
        number: view_rows(variant.result, all_ops)
        for number, variant in enumerate(variants)
        if isinstance(variant.result, Network)
    }


def fragment(
    variants: Sequence[Variant],
    options: Options,
    rows: dict[int, list[ViewRow]] | None = None,
) -> str:
    """The whole view: inputs, totals line, toggles, conventions line and the tables.
    ``rows`` (from :func:`variant_rows`) saves working them out again."""
    p = options.prefix
    if rows is None:
        rows = variant_rows(variants, options.all_ops)
    structure: list[int] = []  # depth of every block, in table order
    for number in sorted(rows):
        structure = [r.depth for r in rows[number] if r.kind == "block"]
        break
    levels = max(structure, default=-2) + 2  # depth radios: 1 … levels ("all")
    start = min(options.depth or DEFAULT_DEPTH, levels) if levels > 1 else 0
    inputs = [
        f'<input type="radio" name="{p}-c" id="{p}-c-{c}" class="c-{c}"'
        f"{' checked' if c == options.convention else ''}>"
        for c in CONVENTIONS
    ]
    inputs += [
        f'<input type="radio" name="{p}-r" id="{p}-r-{r}" class="r-{r}"'
        f"{' checked' if r == options.rounding else ''}>"
        for r in options.roundings
    ]
    if levels > 1:
        inputs += [
            f'<input type="radio" name="{p}-d" id="{p}-d{d}" class="d{d}"'
            f"{' checked' if d == start else ''}>"
            for d in range(1, levels + 1)
        ]
        inputs += [f'<input type="checkbox" id="{p}-b{n}">' for n in range(len(structure))]
    headers = "".join(
        f'<span class="rd {_rd(v.roundings)}"{_hidden(v.roundings, options)}>'
        f"{header(v, options)}</span>"
        for v in variants
    )
    panels = "".join(panel(v, rows.get(n), options) for n, v in enumerate(variants))
    css = STYLE + (block_rules(structure, levels, p) if levels > 1 else "") + options.extra_css
    if options.pictures is not None:
        inputs.append(options.pictures.inputs)
        css += options.pictures.css
        panels += options.pictures.panel
    classes = " ".join(["cnn-magic", *options.classes])
    key = f' data-key="{options.key}"' if options.key else ""
    return (
        f'<div class="{classes}"{key}><style>{css}</style>{"".join(inputs)}'
        f'<div class="hd"><b>{headers}</b></div>'
        f"{controls(options, levels)}{conventions_line(options)}"
        f'<div class="cb">{panels}</div>'
        "</div>"
    )


# ------------------------------------------------------------------------ the style


def _style() -> str:
    """The CSS every fragment shares: JupyterLab's theme variables, with fallbacks (the
    system colours) where they are not defined."""
    # the class twice outweighs JupyterLab's rules for rendered HTML tables (right-aligned
    # cells, striped rows, a fixed layout), which would otherwise restyle the static table
    m = ".cnn-magic.cnn-magic"
    fg = "var(--jp-content-font-color1,CanvasText)"
    bg = "var(--jp-layout-color0,Canvas)"
    line = "var(--jp-border-color2,#bbb)"
    rules = [
        # ipywidgets' boxes size to their content: let the live view fit the output instead
        ".cnn-magic-view,.cnn-magic-view .widget-html,.cnn-magic-view .widget-html-content"
        "{min-width:0;max-width:100%}",
        # the HTML widget lays its content out on one line and clips it: wrap, fit the box
        f"{m}{{color:{fg};font-size:12px;line-height:1.45;white-space:normal;max-width:100%;"
        "min-width:0}",
        f"{m}>input{{position:absolute;opacity:0;width:1px;height:1px;margin:0}}",
        f"{m} .cv,{m} .rd{{display:none}}",
        f"{m} table{{border-collapse:collapse;font-size:inherit;table-layout:auto;margin:0;"
        f"color:{fg}}}",
        f"{m} th,{m} td{{padding:2px 6px;text-align:left;white-space:nowrap;color:{fg};"
        "line-height:1.45;vertical-align:baseline;border:none}",
        f"{m} tbody tr{{background:transparent}}",
        f"{m} tbody tr:hover{{background:rgba(127,127,127,.12)}}",
        f"{m} .n{{text-align:right;font-variant-numeric:tabular-nums}}",
        f"{m} thead th{{position:sticky;top:0;z-index:1;background:{bg};"
        f"border-bottom:1px solid {line}}}",
        f"{m} .sc{{max-height:70vh;max-width:100%;overflow:auto}}",
        f"{m} .hd{{white-space:normal}}",
        f"{m} tr.B td{{font-style:italic}}",
        f"{m} tr.T td{{font-weight:bold;border-top:1px solid {line}}}",
        f"{m} tr.el td{{font-style:italic;text-align:center}}",
        # a translucent amber over the theme's background keeps the theme's text readable
        f"{m} tr.changed td.sh{{background:rgba(255,176,0,.3);box-shadow:inset 0 -2px #d08700}}",
        f"{m} .bar{{display:inline-block;height:8px;background:var(--jp-brand-color2,#64b5f6);"
        "vertical-align:middle;margin-right:4px}",
        f"{m} .tw{{cursor:pointer}}",
        f'{m} .tw::before{{content:"▾ "}}',
        f"{m} .ctl{{margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 16px}}",
        f"{m} .gt{{margin-right:6px}}",
        f"{m} .ctl label{{display:inline-block;padding:1px 10px;cursor:pointer;"
        f"border:1px solid {line};background:var(--jp-layout-color2,ButtonFace);color:{fg}}}",
        f"{m} .nt summary{{cursor:pointer}}",
        f"{m} .nt>div{{margin-left:1em}}",
        f"{m} .cap{{font-style:italic;margin:2px 0}}",
        f"{m} .err{{color:var(--jp-error-color1,#b00020);white-space:pre-wrap}}",
    ]
    chosen = []
    for kind, names in (("c", CONVENTIONS), ("r", ROUNDINGS)):
        for name in names:
            show = "cv" if kind == "c" else "rd"
            sel = f"{m} .{kind}-{name}:checked~*"
            chosen.append(f"{sel} span.{show}-{name}{{display:inline}}")
            chosen.append(f"{sel} div.{show}-{name}{{display:block}}")
            chosen.append(f"{sel} .lb-{kind}-{name}")
    for d in range(1, 13):
        chosen.append(f"{m} .d{d}:checked~* .lb-d{d}")
    active = [c for c in chosen if "{" not in c]
    shown = [c for c in chosen if "{" in c]
    focus = [c.replace(":checked", ":focus-visible") for c in active]
    return (
        "".join(rules)
        + "".join(shown)
        + ",".join(active)
        + "{background:#1565c0;color:#fff;border-color:transparent}"
        + ",".join(focus)
        + "{outline:2px solid var(--jp-brand-color1,#1565c0);outline-offset:1px}"
    )


STYLE = _style()
