"""Results → rows → text, HTML, DataFrame and the other export formats.

The only module that formats numbers. Small pure steps: :func:`rows` turns a network
into rows of raw integers, the renderers lay them out. Identical inputs give
byte-identical output (nbval compares it).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from .conventions import CONVENTION_LABEL, CONVENTION_TEXT, ROUNDING_TEXT, SCOPE_TEXT
from .evaluate import format_shape
from .results import Network


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: a layer, a block heading, or the totals."""

    kind: str             # "layer" | "block" | "total"
    name: str
    layer: str            # the statement as written, or the block's summary
    depth: int
    input: str
    output: str
    weights: int | None
    biases: int | None
    params: int | None
    count: int | None     # operations under the chosen convention
    share: float | None   # of the total count, 0..1
    line: int = 0


def rows(net: Network, convention: str = "flops", all_ops: bool = False, *,
         blocks: bool = True) -> list[Row]:
    """The table's rows: block headings (if ``blocks``), layers, then the totals."""
    total = net.total(convention, all_ops)
    headings: dict[int, list] = {}
    if blocks:
        for block in sorted(net.blocks, key=lambda b: (b.first, b.depth)):
            headings.setdefault(block.first, []).append(block)
    out: list[Row] = []
    for index, layer in enumerate(net.layers):
        for block in headings.get(index, ()):
            out.append(Row("block", block.name, f"{block.kind}:", block.depth,
                           format_shape(block.in_shape), format_shape(block.out_shape),
                           None, None, None, None, None, block.line))
        count = layer.count(convention, all_ops)
        out.append(Row("layer", layer.name, layer.text, layer.depth,
                       format_shape(layer.in_shape), format_shape(layer.out_shape),
                       layer.weights, layer.biases, layer.params, count,
                       count / total if total else 0.0, layer.line))
    out.append(Row("total", "total", "", 0, format_shape(net.input_shape),
                   format_shape(net.output_shape), net.weights, net.biases, net.params,
                   total, 1.0 if total else 0.0))
    return out


def count_label(convention: str, all_ops: bool = False) -> str:
    """The header of the operations column: ``FLOPs``, ``MACs`` or ``exact FLOPs``."""
    label = CONVENTION_LABEL[convention]
    return f"{label} (all ops)" if all_ops else label


def conventions_text(net: Network, convention: str, all_ops: bool) -> list[str]:
    """The sentences printed under every table: what was counted, and how."""
    return [CONVENTION_TEXT[convention], SCOPE_TEXT[all_ops], ROUNDING_TEXT[net.rounding]]


def format_count(value: int | None, units: bool = False) -> str:
    """An exact integer with thousands separators, or with k/M/G units.

    >>> format_count(61706), format_count(4089184256, units=True), format_count(None)
    ('61,706', '4.09G', '')
    >>> format_count(999, units=True), format_count(416520, units=True)
    ('999', '416.52k')
    """
    if value is None:
        return ""
    if not units or abs(value) < 1000:
        return f"{value:,}"
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    raise AssertionError("unreachable")


def format_share(share: float | None) -> str:
    """>>> format_share(0.2823), format_share(None)
    ('28.2%', '')
    """
    return "" if share is None else f"{share:.1%}"


HEADERS = ("name", "layer", "input", "output", "weights", "biases", "params")


def _cells(row: Row, units: bool) -> list[str]:
    indent = "  " * row.depth
    name = f"{indent}{row.name}" + (":" if row.kind == "block" else "")
    return [name, row.layer, row.input, row.output, format_count(row.weights, units),
            format_count(row.biases, units), format_count(row.params, units),
            format_count(row.count, units), format_share(row.share)]


def to_text(net: Network, convention: str = "flops", all_ops: bool = False, *,
            units: bool = False) -> str:
    """An aligned plain-text table with totals and the conventions under it."""
    headers = [*HEADERS, count_label(convention, all_ops), "share"]
    body = [_cells(row, units) for row in rows(net, convention, all_ops)]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    numeric = set(range(4, 9))

    def line(cells):
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "-" * len(line(headers))
    lines = [line(headers), rule, *(line(c) for c in body[:-1]), rule, line(body[-1])]
    lines += ["", *conventions_text(net, convention, all_ops)]
    return "\n".join(lines)


_STYLE = (
    "<style>"
    ".cnn-magic table{border-collapse:collapse;font-size:12px}"
    ".cnn-magic th,.cnn-magic td{padding:2px 8px;text-align:left;white-space:nowrap}"
    ".cnn-magic td.n,.cnn-magic th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".cnn-magic tr.block td{font-style:italic;color:#555}"
    ".cnn-magic tr.total td{font-weight:bold;border-top:1px solid #888}"
    ".cnn-magic tr.changed td.shape{background:#fff3c4}"
    ".cnn-magic .bar{display:inline-block;height:8px;background:#4c8bf5;"
    "vertical-align:middle;margin-right:4px}"
    ".cnn-magic .notes{font-size:11px;color:#555;margin-top:4px}"
    "</style>"
)


def to_html(net: Network, convention: str = "flops", all_ops: bool = False, *,
            units: bool = False, changed: frozenset[int] = frozenset(),
            caption: str | None = None) -> str:
    """A self-contained HTML table; every user string is escaped.

    ``changed`` holds indices (into ``net.layers``) of layers whose shapes differ from
    another evaluation; their rows are marked with the class ``changed``.
    """
    esc = html.escape
    headers = [*HEADERS, count_label(convention, all_ops), "share"]
    numeric = {"weights", "biases", "params", "share", headers[7]}
    out = [_STYLE, '<div class="cnn-magic">']
    if caption:
        out.append(f"<div class=\"caption\">{esc(caption)}</div>")
    out.append("<table><thead><tr>")
    out += [f"<th class=\"n\">{esc(h)}</th>" if h in numeric else f"<th>{esc(h)}</th>"
            for h in headers]
    out.append("</tr></thead><tbody>")
    index = -1
    for row in rows(net, convention, all_ops):
        if row.kind == "layer":
            index += 1
        css = row.kind + (" changed" if row.kind == "layer" and index in changed else "")
        cells = _cells(row, units)
        pad = f' style="padding-left:{8 + 14 * row.depth}px"' if row.depth else ""
        share = ""
        if row.share is not None and row.kind == "layer":
            width = round(row.share * 60)
            share = f'<span class="bar" style="width:{width}px"></span>'
        out.append(
            f'<tr class="{css}"><td{pad}>{esc(cells[0].strip())}</td><td>{esc(cells[1])}</td>'
            f'<td class="shape">{esc(cells[2])}</td><td class="shape">{esc(cells[3])}</td>'
            + "".join(f'<td class="n">{esc(c)}</td>' for c in cells[4:8])
            + f'<td class="n">{share}{esc(cells[8])}</td></tr>'
        )
    out.append("</tbody></table>")
    notes = "".join(f"<div>{esc(t)}</div>" for t in conventions_text(net, convention, all_ops))
    out.append(f'<div class="notes">{notes}</div></div>')
    return "".join(out)


FRAME_COLUMNS = (
    "name", "op", "layer", "block", "line", "input", "output", "weights", "biases",
    "params", "macs", "flops", "exact", "ops", "elements", "receptive_field",
)


def records(net: Network) -> list[dict]:
    """One dict per layer with raw values: the source of the DataFrame, CSV and JSON."""
    out = []
    for layer in net.layers:
        field = layer.receptive_field
        out.append({
            "name": layer.name, "op": layer.op, "layer": layer.text, "block": layer.block,
            "line": layer.line, "input": format_shape(layer.in_shape),
            "output": format_shape(layer.out_shape), "weights": layer.weights,
            "biases": layer.biases, "params": layer.params, "macs": layer.macs,
            "flops": layer.flops, "exact": layer.exact, "ops": layer.ops,
            "elements": layer.elements,
            "receptive_field": (f"{field[0].size}×{field[1].size}" if field else ""),
        })
    return out


def to_frame(net: Network, convention: str = "flops", all_ops: bool = False):
    """A pandas DataFrame, one row per layer, raw integers (pandas imported here only).

    ``convention`` and ``all_ops`` add a ``count`` column with the chosen convention.
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(records(net), columns=list(FRAME_COLUMNS))
    frame["count"] = [layer.count(convention, all_ops) for layer in net.layers]
    return frame
