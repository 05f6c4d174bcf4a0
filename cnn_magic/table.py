"""Results → rows → text, HTML, DataFrame and the other export formats.

The only module that formats numbers. Small pure steps: :func:`rows` turns a network
into rows of raw integers, the renderers lay them out. Identical inputs give
byte-identical output (nbval compares it).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

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
from .i18n import N_, _, display_width, pad
from .results import Block, Network
from .shapes import format_shape

P = ParamSpec("P")
R = TypeVar("R")


def acyclic(render: Callable[P, R]) -> Callable[P, R]:
    """Pause the cycle collector while ``render`` runs: rows and strings form no cycles,
    and a 100,000-row table would otherwise trigger full collections that scan them all
    (40 % of the time of a large text table)."""

    @functools.wraps(render)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return render(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return paused


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
    """The table's rows: block headings (if ``blocks``), layers, then the totals.

    A block heading carries its block's subtotals (weights, biases, params, count and
    share); a share is ``None`` when the total counts nothing (a pooling-only network),
    so no table claims "0.0%" of nothing.
    """
    total = net.total(convention, all_ops=all_ops)
    counts = [layer.count(convention, all_ops=all_ops) for layer in net.layers]
    headings: dict[int, list[Block]] = {}
    if blocks:
        for block in sorted(net.blocks, key=lambda b: (b.first, b.depth)):
            headings.setdefault(block.first, []).append(block)
        sums = _prefix_sums(net, counts)

    def share(count: int) -> float | None:
        return count / total if total else None

    out: list[Row] = []
    for index, layer in enumerate(net.layers):
        for block in headings.get(index, ()):
            weights, biases, count = (after[block.stop] - after[block.first] for after in sums)
            out.append(
                Row(
                    "block",
                    block.name,
                    "input" if block.kind == "input" else f"{block.kind}:",
                    block.depth,
                    format_shape(block.in_shape),
                    format_shape(block.out_shape),
                    weights,
                    biases,
                    weights + biases,
                    count,
                    share(count),
                    block.line,
                )
            )
        count = counts[index]
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
                share(count),
                layer.line,
            )
        )
    out.append(
        Row(
            "total",
            _("total"),
            "",
            0,
            format_shape(net.input_shape),
            format_shape(net.output_shape),
            net.weights,
            net.biases,
            net.params,
            total,
            1.0 if total else None,
        )
    )
    return out


def _prefix_sums(net: Network, counts: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Running sums of weights, biases and counts: a block's subtotal over layers
    ``[first, stop)`` is ``sum[stop] - sum[first]``, whatever the number of blocks."""
    weights, biases, total = [0], [0], [0]
    for layer, count in zip(net.layers, counts, strict=True):
        weights.append(weights[-1] + layer.weights)
        biases.append(biases[-1] + layer.biases)
        total.append(total[-1] + count)
    return weights, biases, total


def count_label(convention: str, all_ops: bool = False) -> str:
    """The header of the operations column: ``FLOPs``, ``MACs`` or ``exact FLOPs``."""
    label = _(CONVENTION_LABEL[check_convention(convention)])  # renderers ask for it first
    return label + " " + _("(all ops)") if check_flag("all_ops", all_ops) else label


def conventions_text(net: Network, convention: str, all_ops: bool) -> list[str]:
    """The sentences printed under every table: what was counted, and how."""
    checked = check_convention(convention)
    sentences = [_(CONVENTION_TEXT[checked]), _(SCOPE_TEXT[bool(all_ops)]), rounding_text(net)]
    if net.side_outputs:
        sentences.append(side_text(net, checked, bool(all_ops)))
    return sentences + trainable_text(net)


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
    return _(
        "side outputs {names} are counted in the totals; without them: "
        "{params} params, {count} {label}"
    ).format(
        names=names,
        params=f"{main.params:,}",
        count=f"{main.total(convention, all_ops=all_ops):,}",
        label=count_label(convention, all_ops),
    )


def rounding_text(net: Network, short: bool = False) -> str:
    """The rounding sentence, saying so when an option overrode the text's statement.

    >>> from .evaluate import evaluate
    >>> rounding_text(evaluate("rounding floor; input 8x8x1; conv 2 k3", "ceil"), short=True)
    'ceil rounding (an option; the text says floor): everything rounds up'
    """
    text = _((ROUNDING_SHORT if short else ROUNDING_TEXT)[net.rounding])
    declared = net.declared_rounding
    if declared is not None and declared != net.rounding:
        name = _("{rounding} rounding").format(rounding=net.rounding)
        said = _("{name} (an option; the text says {declared})").format(
            name=name, declared=declared
        )
        # every rounding sentence starts with its name: the remark follows the name
        text = said + text[len(name) :] if text.startswith(name) else f"{said}: {text}"
    return text


def trainable_text(net: Network) -> list[str]:
    """Where layers are frozen, the split as torchinfo and Keras print it; nothing else."""
    from .frozen import non_trainable, trainable
    from .tools import tool_params

    frozen = non_trainable(net)
    if not frozen:
        return []
    keras = tool_params(net, "keras") - trainable(net)
    return [
        _(
            "trainable parameters {trainable}, non-trainable (frozen) {frozen}; "
            "Keras also counts batch norm's moving statistics: non-trainable {keras}"
        ).format(trainable=f"{trainable(net):,}", frozen=f"{frozen:,}", keras=f"{keras:,}")
    ]


def format_count(value: int | None, units: bool = False) -> str:
    """An exact integer with thousands separators, or with k/M/G/T units.

    A value that would round up to 1000 of a unit takes the next unit, and the
    arithmetic is on integers, so no size is too large to print.

    >>> format_count(61706), format_count(4089184256, units=True), format_count(None)
    ('61,706', '4.09G', '')
    >>> format_count(999, units=True), format_count(416520, units=True)
    ('999', '416.52k')
    >>> format_count(999_999, units=True), format_count(999_994, units=True)
    ('1.00M', '999.99k')
    """
    if value is None:
        return ""
    if not units or abs(value) < 1000:
        return f"{value:,}"
    return _scaled(value, 1000, ("k", "M", "G", "T"), 2, "")


def _scaled(value: int, base: int, units: tuple[str, ...], decimals: int, gap: str) -> str:
    """``value`` in the largest unit (powers of ``base``) that keeps it under ``base``
    once rounded to ``decimals`` places; integer arithmetic throughout."""
    sign, value = ("-" if value < 0 else ""), abs(value)
    power = 1
    while power < len(units) and value >= base ** (power + 1):
        power += 1
    tenth = 10**decimals
    while True:
        scale = base**power
        hundredths = (value * tenth + scale // 2) // scale  # round half up
        if hundredths < base * tenth or power == len(units):
            break
        power += 1
    whole, part = divmod(hundredths, tenth)
    return f"{sign}{whole}.{part:0{decimals}d}{gap}{units[power - 1]}"


def format_share(share: float | None) -> str:
    """A share of the total as a percentage with one decimal; blank when the total
    counts nothing.

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
    >>> format_bytes(2**30 - 1)
    '1,073,741,823 B (1.0 GiB)'
    """
    if value < 2**20:
        return f"{value:,} B"
    return f"{value:,} B ({_scaled(value // 2**10, 2**10, ('MiB', 'GiB', 'TiB'), 1, ' ')})"


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
    numbers = _(
        "input {input} → output {output} · {params} params · {count}"
        " · activations {memory} as {dtype}"
    ).format(
        input=format_shape(net.input_shape),
        output=format_shape(net.output_shape),
        params=f"{net.params:,}{_frozen_note(net)}",
        count=_("{total} {label}").format(
            total=f"{total:,}", label=count_label(convention, all_ops)
        ),
        memory=format_bytes(activation_bytes(net, dtype)),
        dtype=dtype,
    )
    words = [
        _(CONVENTION_SHORT[check_convention(convention)]),
        _(SCOPE_SHORT[bool(all_ops)]),
        rounding_text(net, short=True),
    ]
    return [numbers, " · ".join(words)]


def _frozen_note(net: Network) -> str:
    from .frozen import non_trainable

    frozen = non_trainable(net)
    return " " + _("({frozen} frozen)").format(frozen=f"{frozen:,}") if frozen else ""


HEADERS = (
    N_("name"),
    N_("layer"),
    N_("input"),
    N_("output"),
    N_("weights"),
    N_("biases"),
    N_("params"),
)
"""The first columns' titles, in English (a table shows them through i18n._)."""


MAX_CELL = 60
"""Widest name or layer cell of a printed table: longer ones keep their start and end
around an ellipsis, so a table grows with its number of rows, not with its widest cell
(a 20,000-character label, a concat of 3,000 branches)."""


def clip(text: str, width: int = MAX_CELL) -> str:
    """``text`` if it fits in ``width`` characters, else its start and end around " … ".

    >>> clip("concat: " + " + ".join(f"branch{i}" for i in range(1, 3001)), 40)
    'concat: branch1 + branch2 + … branch3000'
    """
    if len(text) <= width:
        return text
    tail = max(width // 4, 1)
    head = width - tail - 3
    return f"{text[:head]} … {text[-tail:]}".replace("  …", " …")


def _cells(row: Row, units: bool) -> list[str]:
    indent = "  " * row.depth
    name = f"{indent}{clip(row.name)}" + (":" if row.kind == "block" else "")
    return [
        name,
        clip(row.layer),
        clip(row.input),
        clip(row.output),
        format_count(row.weights, units),
        format_count(row.biases, units),
        format_count(row.params, units),
        format_count(row.count, units),
        format_share(row.share),
    ]


@acyclic
def to_text(
    net: Network,
    convention: str = "flops",
    all_ops: bool = False,
    *,
    units: bool = False,
    notes: bool = True,
    max_rows: int | None = None,
) -> str:
    """An aligned plain-text table with totals and (``notes``) the conventions under it.

    ``max_rows`` keeps the first and last rows of a longer table around a line saying
    how many are left out (the notebook view's text uses it; the exports do not).
    """
    table = rows(net, convention, all_ops)
    skipped = tail = 0
    if max_rows is not None and len(table) > max_rows:
        tail = max(max_rows // 6, 1)
        skipped = len(table) - max_rows
        table = [*table[: max_rows - tail], *table[-tail:]]
    body = [_cells(row, units) for row in table]
    header, *lines = (
        "  ".join(cells).rstrip() for cells in _aligned([_headers(convention, all_ops), *body])
    )
    if skipped:
        lines.insert(len(lines) - tail, f"… {skipped:,} rows not shown")
    rule = "-" * display_width(header)
    out = [header, rule, *lines[:-1], rule, lines[-1]]
    if notes:
        out += ["", *conventions_text(net, convention, all_ops)]
    return "\n".join(out)


def to_html(
    net: Network, convention: str = "flops", all_ops: bool = False, *, depth: int | None = None
) -> str:
    """The notebook view of one evaluated network: every convention a click away, blocks
    that collapse past ``depth``, in the theme's colours (see :mod:`cnn_magic.view_html`);
    a network shows its own rounding only (``%%cnn`` shows all three). Every user string
    is escaped."""
    from .view_html import Options, Variant, fragment, fragment_key

    count_label(convention, all_ops)  # names a wrong convention
    key = fragment_key(net.text, net.rounding, convention, all_ops, depth, len(net.layers))
    options = Options(
        convention,
        net.rounding,
        net.rounding,
        all_ops,
        depth=depth,
        prefix=f"cm{key}n",
        key=key,
        roundings=(net.rounding,),
    )
    return fragment([Variant((net.rounding,), net)], options)


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
    net: Network,
    convention: str = "flops",
    all_ops: bool = False,
    dtype: str = "float32",
    *,
    units: bool = False,
) -> Any:
    """A pandas DataFrame, one row per layer, raw integers (pandas imported here only).

    ``convention`` and ``all_ops`` add a ``count`` column with the chosen convention;
    ``bytes`` is each layer's output (activation memory) at ``dtype``. ``units=True``
    writes the counts as k/M/G text, as the other exports do (for reading, not summing).
    """
    import pandas as pd

    count_label(convention, all_ops)  # names a wrong convention before any work
    check_flag("units", units)
    size = _dtype_size(dtype)
    frame = pd.DataFrame.from_records(records(net), columns=list(FRAME_COLUMNS))
    frame["count"] = [layer.count(convention, all_ops=all_ops) for layer in net.layers]
    frame["bytes"] = [layer.elements * size for layer in net.layers]
    if units:
        for column in (*_JSON_COUNTS, "bytes"):
            frame[column] = [format_count(int(v), True) for v in frame[column]]
    return frame


def _dtype_size(dtype: str) -> int:
    return DTYPE_BYTES[check_dtype(dtype)]


# ------------------------------------------------------------------ export formats
# Markdown and LaTeX show the table as printed (block headings, formatted numbers);
# CSV and JSON are data for programs: raw integers unless ``units``.

_NUMERIC = range(4, 9)  # the right-aligned columns of HEADERS + count + share


def _headers(convention: str, all_ops: bool) -> list[str]:
    return [*(_(h) for h in HEADERS), count_label(convention, all_ops), _("share")]


def _aligned(table: list[list[str]]) -> list[list[str]]:
    """Pad every cell to its column's width: text to the left, numbers to the right
    (widths in terminal columns: a Chinese header takes two per character)."""
    widths = [max(display_width(cells[i]) for cells in table) for i in range(len(table[0]))]
    return [
        [pad(c, w, right=i in _NUMERIC) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        for cells in table
    ]


_MARKDOWN_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_|<>[]&"})


@acyclic
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
    rule = [  # as wide as the header shows (a Chinese header's characters take two)
        f"{'-' * (display_width(c) - 1)}:" if i in _NUMERIC else f":{'-' * (display_width(c) - 1)}"
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


@acyclic
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


@acyclic
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


@acyclic
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
