"""Results → rows → text, HTML, DataFrame and the other export formats.

The only module that formats numbers. Small pure steps: :func:`rows` turns a network
into rows of raw integers, the renderers lay them out. Identical inputs give
byte-identical output (nbval compares it).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from .conventions import (
    CONVENTION_LABEL,
    CONVENTION_SHORT,
    CONVENTION_TEXT,
    DTYPE_BYTES,
    ROUNDING_SHORT,
    ROUNDING_TEXT,
    SCOPE_SHORT,
    SCOPE_TEXT,
    check_convention,
    check_dtype,
    check_flag,
)
from .results import Block, Network
from .shapes import format_shape


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: a layer, a block heading, or the totals."""

    kind: str  # "layer" | "block" | "total"
    name: str
    layer: str  # the statement as written, or the block's summary
    depth: int
    input: str
    output: str
    weights: int | None
    biases: int | None
    params: int | None
    count: int | None  # operations under the chosen convention
    share: float | None  # of the total count, 0..1
    line: int = 0


def rows(
    net: Network, convention: str = "flops", all_ops: bool = False, *, blocks: bool = True
) -> list[Row]:
    """The table's rows: block headings (if ``blocks``), layers, then the totals."""
    total = net.total(convention, all_ops=all_ops)
    headings: dict[int, list[Block]] = {}
    if blocks:
        for block in sorted(net.blocks, key=lambda b: (b.first, b.depth)):
            headings.setdefault(block.first, []).append(block)
    out: list[Row] = []
    for index, layer in enumerate(net.layers):
        for block in headings.get(index, ()):
            out.append(
                Row(
                    "block",
                    block.name,
                    "input" if block.kind == "input" else f"{block.kind}:",
                    block.depth,
                    format_shape(block.in_shape),
                    format_shape(block.out_shape),
                    None,
                    None,
                    None,
                    None,
                    None,
                    block.line,
                )
            )
        count = layer.count(convention, all_ops=all_ops)
        out.append(
            Row(
                "layer",
                layer.name,
                layer.text,
                layer.depth,
                format_shape(layer.in_shape),
                format_shape(layer.out_shape),
                layer.weights,
                layer.biases,
                layer.params,
                count,
                count / total if total else 0.0,
                layer.line,
            )
        )
    out.append(
        Row(
            "total",
            "total",
            "",
            0,
            format_shape(net.input_shape),
            format_shape(net.output_shape),
            net.weights,
            net.biases,
            net.params,
            total,
            1.0 if total else 0.0,
        )
    )
    return out


def count_label(convention: str, all_ops: bool = False) -> str:
    """The header of the operations column: ``FLOPs``, ``MACs`` or ``exact FLOPs``."""
    label = CONVENTION_LABEL[check_convention(convention)]  # renderers ask for it first
    return f"{label} (all ops)" if check_flag("all_ops", all_ops) else label


def conventions_text(net: Network, convention: str, all_ops: bool) -> list[str]:
    """The sentences printed under every table: what was counted, and how."""
    checked = check_convention(convention)
    sentences = [CONVENTION_TEXT[checked], SCOPE_TEXT[bool(all_ops)], rounding_text(net)]
    if net.side_outputs:
        sentences.append(side_text(net, checked, bool(all_ops)))
    return sentences


def side_text(net: Network, convention: str, all_ops: bool) -> str:
    """The sentence that tells side outputs apart: counted in the totals, and the totals
    without them (``net.main``, the network as run at inference).

    >>> from .evaluate import evaluate
    >>> net = evaluate("input 4x4x2\\naux: side:\\n  fc 3\\nconv 1 k1")
    >>> print(side_text(net, "macs", False))
    side outputs aux (3) are counted in the totals; without them: 3 params, 32 MACs
    """
    main = net.main
    names = ", ".join(f"{name} ({format_shape(shape)})" for name, shape in net.side_outputs)
    return (
        f"side outputs {names} are counted in the totals; without them: "
        f"{main.params:,} params, {main.total(convention, all_ops=all_ops):,} "
        f"{count_label(convention, all_ops)}"
    )


def rounding_text(net: Network, short: bool = False) -> str:
    """The rounding sentence, saying so when an option overrode the text's statement.

    >>> from .evaluate import evaluate
    >>> rounding_text(evaluate("rounding floor; input 8x8x1; conv 2 k3", "ceil"), short=True)
    'ceil rounding (an option; the text says floor): everything rounds up'
    """
    text = (ROUNDING_SHORT if short else ROUNDING_TEXT)[net.rounding]
    declared = net.declared_rounding
    if declared is not None and declared != net.rounding:
        name = f"{net.rounding} rounding"  # every sentence starts with it
        text = f"{name} (an option; the text says {declared}){text[len(name) :]}"
    return text


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
    """A share of the total as a percentage with one decimal.

    >>> format_share(0.2823), format_share(None)
    ('28.2%', '')
    """
    return "" if share is None else f"{share:.1%}"


def activation_bytes(net: Network, dtype: str = "float32") -> int:
    """Bytes of every layer's output at ``dtype`` (the input not included): the
    activation memory one forward pass writes, as torchinfo sums it.

    >>> from .evaluate import evaluate
    >>> activation_bytes(evaluate("input 4x4x1; conv 2 k3; relu"), "float16")
    32
    """
    return _dtype_size(dtype) * sum(layer.elements for layer in net.layers)


def format_bytes(value: int) -> str:
    """Exact bytes, with binary units beside them once they help.

    >>> format_bytes(39664), format_bytes(44158976)
    ('39,664 B', '44,158,976 B (42.1 MiB)')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if value >= scale:
            return f"{value:,} B ({value / scale:.1f} {unit})"
    return f"{value:,} B"


def header_lines(
    net: Network, convention: str = "flops", all_ops: bool = False, dtype: str = "float32"
) -> list[str]:
    """The two lines above a table: the totals, then the active conventions in words.

    >>> from .evaluate import evaluate
    >>> for line in header_lines(evaluate("input 32x32x1; conv 6 k5"), "macs"):
    ...     print(line)
    input 32×32×1 → output 28×28×6 · 156 params · 117,600 MACs · activations 18,816 B as float32
    MACs: one multiply-add is one operation · totals count conv, deconv and fc layers only \
· textbook rounding: convolutions round down, pooling rounds up
    """
    total = net.total(convention, all_ops=all_ops)
    numbers = (
        f"input {format_shape(net.input_shape)} → output {format_shape(net.output_shape)}"
        f" · {net.params:,} params · {total:,} {count_label(convention, all_ops)}"
        f" · activations {format_bytes(activation_bytes(net, dtype))} as {dtype}"
    )
    words = [
        CONVENTION_SHORT[check_convention(convention)],
        SCOPE_SHORT[bool(all_ops)],
        rounding_text(net, short=True),
    ]
    return [numbers, " · ".join(words)]


HEADERS = ("name", "layer", "input", "output", "weights", "biases", "params")


def _cells(row: Row, units: bool) -> list[str]:
    indent = "  " * row.depth
    name = f"{indent}{row.name}" + (":" if row.kind == "block" else "")
    return [
        name,
        row.layer,
        row.input,
        row.output,
        format_count(row.weights, units),
        format_count(row.biases, units),
        format_count(row.params, units),
        format_count(row.count, units),
        format_share(row.share),
    ]


def to_text(
    net: Network, convention: str = "flops", all_ops: bool = False, *, units: bool = False
) -> str:
    """An aligned plain-text table with totals and the conventions under it."""
    body = [_cells(row, units) for row in rows(net, convention, all_ops)]
    header, *table = (
        "  ".join(cells).rstrip() for cells in _aligned([_headers(convention, all_ops), *body])
    )
    rule = "-" * len(header)
    lines = [header, rule, *table[:-1], rule, table[-1]]
    return "\n".join([*lines, "", *conventions_text(net, convention, all_ops)])


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


def to_html(
    net: Network,
    convention: str = "flops",
    all_ops: bool = False,
    *,
    units: bool = False,
    changed: frozenset[int] = frozenset(),
    caption: str | None = None,
) -> str:
    """A self-contained HTML table; every user string is escaped.

    ``changed`` holds indices (into ``net.layers``) of layers whose shapes differ from
    another evaluation; their rows are marked with the class ``changed``.
    """
    esc = html.escape
    headers = _headers(convention, all_ops)
    numeric = {"weights", "biases", "params", "share", headers[7]}
    out = [_STYLE, '<div class="cnn-magic">']
    if caption:
        out.append(f'<div class="caption">{esc(caption)}</div>')
    out.append("<table><thead><tr>")
    out += [
        f'<th class="n">{esc(h)}</th>' if h in numeric else f"<th>{esc(h)}</th>" for h in headers
    ]
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
    "name",
    "op",
    "layer",
    "block",
    "line",
    "input",
    "output",
    "weights",
    "biases",
    "params",
    "macs",
    "flops",
    "exact",
    "ops",
    "elements",
    "receptive_field",
)


def records(net: Network) -> list[dict[str, object]]:
    """One dict per layer with raw values: the source of the DataFrame, CSV and JSON."""
    out = []
    for layer in net.layers:
        field = layer.receptive_field
        out.append(
            {
                "name": layer.name,
                "op": layer.op,
                "layer": layer.text,
                "block": layer.block,
                "line": layer.line,
                "input": format_shape(layer.in_shape),
                "output": format_shape(layer.out_shape),
                "weights": layer.weights,
                "biases": layer.biases,
                "params": layer.params,
                "macs": layer.macs,
                "flops": layer.flops,
                "exact": layer.exact,
                "ops": layer.ops,
                "elements": layer.elements,
                "receptive_field": "×".join(str(axis.size) for axis in field) if field else "",
            }
        )
    return out


def to_frame(
    net: Network, convention: str = "flops", all_ops: bool = False, dtype: str = "float32"
) -> Any:
    """A pandas DataFrame, one row per layer, raw integers (pandas imported here only).

    ``convention`` and ``all_ops`` add a ``count`` column with the chosen convention;
    ``bytes`` is each layer's output (activation memory) at ``dtype``.
    """
    import pandas as pd

    size = _dtype_size(dtype)
    frame = pd.DataFrame.from_records(records(net), columns=list(FRAME_COLUMNS))
    frame["count"] = [layer.count(convention, all_ops=all_ops) for layer in net.layers]
    frame["bytes"] = [layer.elements * size for layer in net.layers]
    return frame


def _dtype_size(dtype: str) -> int:
    return DTYPE_BYTES[check_dtype(dtype)]


# ------------------------------------------------------------------ export formats
# Markdown and LaTeX show the table as printed (block headings, formatted numbers);
# CSV and JSON are data for programs: raw integers unless ``units``.

_NUMERIC = range(4, 9)  # the right-aligned columns of HEADERS + count + share


def _headers(convention: str, all_ops: bool) -> list[str]:
    return [*HEADERS, count_label(convention, all_ops), "share"]


def _aligned(table: list[list[str]]) -> list[list[str]]:
    """Pad every cell to its column's width: text to the left, numbers to the right."""
    widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
    return [
        [
            c.rjust(w) if i in _NUMERIC else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        for cells in table
    ]


_MARKDOWN_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_|<>[]&"})


def to_markdown(
    net: Network, convention: str = "flops", all_ops: bool = False, *, units: bool = False
) -> str:
    """A GitHub-flavoured Markdown table, totals in bold, the conventions listed under it;
    numbers exact with thousands separators (``units=True``: k/M/G).

    >>> from cnn_magic import evaluate
    >>> print(to_markdown(evaluate("input 8; fc 2"), "macs"))  # doctest: +ELLIPSIS
    | name      | layer | input | output | weights | biases | params |   MACs |      share |
    | :-------- | :---- | :---- | :----- | ------: | -----: | -----: | -----: | ---------: |
    | fc1       | fc 2  | 8     | 2      |      16 |      2 |     18 |     16 |     100.0% |
    | **total** |       | 8     | 2      |  **16** |  **2** | **18** | **16** | **100.0%** |
    <BLANKLINE>
    - MACs: one multiply-add is one operation; conv k_h·k_w·(C_in/g)·H_out·W_out·C_out, ...
    - totals count conv, deconv and fc layers only (...)
    - textbook rounding: ...
    """
    body = []
    for row in rows(net, convention, all_ops):
        cells = [c.translate(_MARKDOWN_ESCAPES) for c in _cells(row, units)]
        cells[0] = "&nbsp;&nbsp;" * row.depth + cells[0].lstrip()
        if row.kind == "total":
            cells = [
                f"**{c}**" if c and (i == 0 or i in _NUMERIC) else c for i, c in enumerate(cells)
            ]
        body.append(cells)
    header, *table = _aligned([_headers(convention, all_ops), *body])
    rule = [
        f"{'-' * (len(c) - 1)}:" if i in _NUMERIC else f":{'-' * (len(c) - 1)}"
        for i, c in enumerate(header)
    ]
    lines = ["| " + " | ".join(cells) + " |" for cells in (header, rule, *table)]
    # our own sentences: their underscores sit inside words, which Markdown leaves alone
    notes = [f"- {t}" for t in conventions_text(net, convention, all_ops)]
    return "\n".join([*lines, "", *notes])


_LATEX_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        "×": r"$\times$",
        "·": r"$\cdot$",
        "−": "$-$",
    }
)


def to_latex(
    net: Network, convention: str = "flops", all_ops: bool = False, *, units: bool = False
) -> str:
    r"""A ``tabular`` in the booktabs style, as a paper prints it (needs
    ``\usepackage{booktabs}``); nested layers indented with ``\quad``, block headings in
    italics, the totals under a rule. The conventions follow as ``%`` comments, so the
    source keeps them while the caption stays the author's.

    >>> from cnn_magic import evaluate
    >>> print(to_latex(evaluate("input 120; F6: fc 84 relu")))  # doctest: +ELLIPSIS
    \begin{tabular}{@{}llllrrrrr@{}}
    \toprule
    name  & layer      & input & output & weights & biases & params &  FLOPs &   share \\
    \midrule
    F6    & fc 84 relu & 120   & 84     &  10,080 &     84 & 10,164 & 20,160 & 100.0\% \\
    \midrule
    total &            & 120   & 84     &  10,080 &     84 & 10,164 & 20,160 & 100.0\% \\
    \bottomrule
    \end{tabular}
    % FLOPs = 2 × MACs: ...
    ...
    """
    body = []
    for row in rows(net, convention, all_ops):
        cells = [c.translate(_LATEX_ESCAPES) for c in _cells(row, units)]
        if row.kind == "block":
            cells[:2] = [rf"\textit{{{c}}}" for c in (cells[0].lstrip(), cells[1])]
        cells[0] = r"\quad " * row.depth + cells[0].lstrip()
        body.append(cells)
    header, *table = _aligned(
        [[h.translate(_LATEX_ESCAPES) for h in _headers(convention, all_ops)], *body]
    )
    lines = [" & ".join(cells) + r" \\" for cells in (header, *table)]
    return "\n".join(
        [
            r"\begin{tabular}{@{}llllrrrrr@{}}",
            r"\toprule",
            lines[0],
            r"\midrule",
            *lines[1:-1],
            r"\midrule",
            lines[-1],
            r"\bottomrule",
            r"\end{tabular}",
            *(f"% {t}" for t in conventions_text(net, convention, all_ops)),
        ]
    )


def to_csv(
    net: Network, convention: str = "flops", all_ops: bool = False, *, units: bool = False
) -> str:
    """CSV with the table's columns: one line per layer (no block headings), then the
    totals. Counts are raw integers without separators (``units=True``: k/M/G text) and
    the share is a fraction of the total, rounded to 6 decimals.

    >>> from cnn_magic import evaluate
    >>> print(to_csv(evaluate("input 120; F6: fc 84 relu")), end="")
    name,layer,input,output,weights,biases,params,FLOPs,share
    F6,fc 84 relu,120,84,10080,84,10164,20160,1.0
    total,,120,84,10080,84,10164,20160,1.0
    """
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_headers(convention, all_ops))
    for row in rows(net, convention, all_ops, blocks=False):
        counts = (row.weights, row.biases, row.params, row.count)
        writer.writerow(
            [
                row.name,
                row.layer,
                row.input,
                row.output,
                *(format_count(v, True) if units else v for v in counts),
                round(row.share or 0.0, 6),
            ]
        )
    return out.getvalue()


_JSON_COUNTS = ("weights", "biases", "params", "macs", "flops", "exact", "ops", "elements", "count")


def to_json(
    net: Network, convention: str = "flops", all_ops: bool = False, *, units: bool = False
) -> str:
    """JSON for programs: the per-layer :func:`records` (shapes as lists, receptive field
    as ``[height, width]``) with ``count`` (under ``convention``) and ``share``, the
    ``totals`` and the ``conventions`` sentences. Counts are raw integers
    (``units=True``: k/M/G strings).

    >>> import json
    >>> from cnn_magic import evaluate
    >>> data = json.loads(to_json(evaluate("input 32x32x1; conv 6 k5"), "macs"))
    >>> data["layers"][0]["output"], data["totals"]["count"], data["count_label"]
    ([28, 28, 6], 117600, 'MACs')
    """
    import json

    total = net.total(convention, all_ops=all_ops)
    number = (lambda v: format_count(v, True)) if units else (lambda v: v)
    layers = []
    for record, layer in zip(records(net), net.layers, strict=True):
        count = layer.count(convention, all_ops=all_ops)
        field = layer.receptive_field
        record |= {
            "input": list(layer.in_shape),
            "output": list(layer.out_shape),
            "receptive_field": [axis.size for axis in field] if field else None,
            "count": count,
            "share": round(count / total, 6) if total else 0.0,
        }
        layers.append({k: number(v) if k in _JSON_COUNTS else v for k, v in record.items()})
    totals = {
        "weights": net.weights,
        "biases": net.biases,
        "params": net.params,
        "macs": net.macs,
        "flops": net.flops,
        "exact": net.exact,
        "ops": net.ops,
        "count": total,
    }
    return json.dumps(
        {
            "input": list(net.input_shape),
            "output": list(net.output_shape),
            "rounding": net.rounding,
            "convention": convention,
            "all_ops": all_ops,
            "count_label": count_label(convention, all_ops),
            "layers": layers,
            "totals": {k: number(v) for k, v in totals.items()},
            "conventions": conventions_text(net, convention, all_ops),
        },
        indent=2,
        ensure_ascii=False,
    )
