"""Every number of a layer worked out with its own values, as LaTeX and as plain text.

``--explain`` shows these: the notes' formulas with the layer's numbers put in, e.g.
for LeNet-5's C1 (32×32×1 in, ``conv 6 k5``)::

    H_{out} = W_{out} = \\left\\lfloor\\frac{32 - 5 + 2\\cdot 0}{1}\\right\\rfloor + 1 = 28
    \\text{params} = 5\\times5\\times1\\times6 + 6 = 156
    \\text{FLOPs} = 2\\times5\\times5\\times1\\times28\\times28\\times6 = 235{,}200

Pure functions over a :class:`~cnn_magic.results.Layer`; each formula is built from
terms that carry their value, so the written arithmetic is checked against the
layer's own count (a formula that does not add up is a bug, and the tests look).

>>> import cnn_magic
>>> net = cnn_magic.evaluate("input 32x32x1; C1: conv 6 k5 relu")
>>> for line in explain_layer(net.layers[0]):
...     print(line.text)
H_out = W_out = ⌊(32 − 5 + 2·0) / 1⌋ + 1 = 28
params = 5×5×1×6 + 6 = 156
FLOPs = 2×5×5×1×28×28×6 = 235,200
activations = 28×28×6 = 4,704 values × 4 B (float32) = 18,816 B
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import NamedTuple

from .conventions import (
    ACTIVATION_COST,
    CONVENTION_LABEL,
    DTYPE_BYTES,
    OTHER_COST_TEXT,
    ROUNDING_TEXT,
)
from .evaluate import format_shape
from .layers import Axis
from .results import Layer, Network

# --------------------------------------------------------------------------- terms


class Term(NamedTuple):
    """A piece of arithmetic written twice (LaTeX and plain text) with its value."""

    tex: str
    txt: str
    value: int
    loose: bool = False  # a sum or difference: needs brackets inside a product


def num(value: int) -> Term:
    """A whole number; thousands separated as the notes typeset them.

    >>> num(235200).tex, num(235200).txt
    ('235{,}200', '235,200')
    """
    return Term(f"{value:,}".replace(",", "{,}"), f"{value:,}", value)


def _tight(term: Term) -> Term:
    return Term(rf"\left({term.tex}\right)", f"({term.txt})", term.value) if term.loose else term


def times(*factors: Term) -> Term:
    """``5\\times5\\times1\\times6``: a product, bracketing sums."""
    parts = [_tight(f) for f in factors]
    return Term(
        r"\times".join(p.tex for p in parts),
        "×".join(p.txt for p in parts),
        math.prod(p.value for p in parts),
    )


def cdot(a: Term, b: Term) -> Term:
    """``2\\cdot 0``: a coefficient times a quantity, as in ``2P``."""
    a, b = _tight(a), _tight(b)
    return Term(rf"{a.tex}\cdot {b.tex}", f"{a.txt}·{b.txt}", a.value * b.value)


def plus(*terms: Term) -> Term:
    out = terms[0]
    for t in terms[1:]:
        out = Term(f"{out.tex} + {t.tex}", f"{out.txt} + {t.txt}", out.value + t.value, True)
    return out


def minus(a: Term, b: Term) -> Term:
    b = _tight(b)
    return Term(f"{a.tex} - {b.tex}", f"{a.txt} − {b.txt}", a.value - b.value, True)


def bracket(term: Term) -> Term:
    """Square brackets, as the notes write ``[(k×k×n_c) + (k×k×n_c − 1) + 1]``."""
    return Term(rf"\left[{term.tex}\right]", f"[{term.txt}]", term.value)


def paren(term: Term) -> Term:
    return Term(rf"\left({term.tex}\right)", f"({term.txt})", term.value)


def rounded(top: Term, bottom: Term, how: str) -> Term:
    """``\\left\\lfloor\\frac{a}{b}\\right\\rfloor`` (or ⌈ ⌉), with the rounded value."""
    left, right, lo, hi = {
        "floor": (r"\lfloor", r"\rfloor", "⌊", "⌋"),
        "ceil": (r"\lceil", r"\rceil", "⌈", "⌉"),
    }[how]
    top_txt = f"({top.txt})" if top.loose else top.txt
    value = top.value // bottom.value if how == "floor" else -(-top.value // bottom.value)
    return Term(
        rf"\left{left}\frac{{{top.tex}}}{{{bottom.tex}}}\right{right}",
        f"{lo}{top_txt} / {bottom.txt}{hi}",
        value,
    )


# --------------------------------------------------------------------------- lines


@dataclass(frozen=True, slots=True)
class Line:
    """One worked equation: ``label = formula = value``, and words when needed."""

    label_tex: str
    label_txt: str
    formula: Term | None  # None: the value is given, not computed (adaptive sizes)
    value: int
    note: str = ""
    unit: tuple[str, str] = ("", "")  # (LaTeX, text) written after every number

    @property
    def tex(self) -> str:
        """``label = formula = value`` in LaTeX."""
        return self.aligned.replace(" &= ", " = ", 1)

    @property
    def aligned(self) -> str:
        """The same with ``&=`` after the label, for an ``aligned`` environment."""
        tex_unit, _ = self.unit
        value = num(self.value).tex + tex_unit
        if self.formula is None or self.formula.tex == num(self.value).tex:
            return f"{self.label_tex} &= {value}"
        return f"{self.label_tex} &= {self.formula.tex} = {value}"

    @property
    def text(self) -> str:
        _, txt_unit = self.unit
        value = f"{self.value:,}{txt_unit}"
        if self.formula is None or self.formula.txt == f"{self.value:,}":
            return f"{self.label_txt} = {value}"
        return f"{self.label_txt} = {self.formula.txt} = {value}"

    @property
    def checks(self) -> bool:
        """Whether the written arithmetic gives the stated value."""
        return self.formula is None or self.formula.value == self.value


def explain_layer(
    layer: Layer, convention: str = "flops", all_ops: bool = False, dtype: str = "float32"
) -> list[Line]:
    """The worked equations of one layer: output size, parameters, operations, memory."""
    lines: list[Line] = []
    lines += _shape_lines(layer)
    lines += _param_lines(layer)
    lines += _count_lines(layer, convention, all_ops)
    lines.append(_memory_line(layer, dtype))
    return lines


# ----------------------------------------------------------------------- output size


def axis_term(axis: Axis) -> tuple[Term | None, str]:
    """One spatial output size worked out, and the words when a rule needs saying.

    >>> from cnn_magic.layers import Axis
    >>> term, note = axis_term(Axis(9, 2, 2, 0, 0, 1, 5, "ceil"))
    >>> term.tex, term.value
    ('\\\\left\\\\lceil\\\\frac{9 - 2 + 2\\\\cdot 0}{2}\\\\right\\\\rceil + 1', 5)
    """
    k_eff = _kernel_term(axis)
    if axis.rule == "same":
        total = axis.pad_before + axis.pad_after
        term = rounded(num(axis.size), num(axis.stride), "ceil")
        note = (
            f"'same' padding: out = ⌈H / S⌉, total padding "
            f"max(({axis.out} − 1)·{axis.stride} + {k_eff.value} − {axis.size}, 0) = "
            f"{total}: {axis.pad_before} before, {axis.pad_after} after"
            + (" (the odd pixel after, as TensorFlow)" if total % 2 else "")
        )
        return term, note
    if axis.rule == "deconv":
        body = plus(
            minus(
                cdot(paren(minus(num(axis.size), num(1))), num(axis.stride)),
                cdot(num(2), num(axis.pad_before)),
            ),
            cdot(num(axis.dilation), paren(minus(num(axis.kernel), num(1)))),
            num(axis.out_pad),
            num(1),
        )
        return body, ""
    if axis.rule == "adaptive":
        return None, (
            "adaptive pooling: the output size is given; output i pools input "
            f"rows ⌊i·{axis.size}/{axis.out}⌋ … ⌈(i+1)·{axis.size}/{axis.out}⌉ − 1 "
            "(PyTorch's windows)"
        )
    if axis.pad_before == axis.pad_after:
        padding = cdot(num(2), num(axis.pad_before))
    else:
        padding = plus(num(axis.pad_before), num(axis.pad_after))
    top = plus(minus(num(axis.size), k_eff), padding)
    term = plus(rounded(top, num(axis.stride), axis.rule), num(1))
    if not axis.dropped_last:
        return term, ""
    before = term.value
    start = (before - 1) * axis.stride
    note = (
        f"ceil rule's last-window correction: the last window would start at "
        f"({before} − 1)·{axis.stride} = {start} ≥ H + P = {axis.size} + "
        f"{axis.pad_before} = {axis.size + axis.pad_before}, in the right padding, so it "
        f"is dropped: {before} − 1 = {before - 1} (PyTorch's ceil_mode and Caffe do this)"
    )
    return minus(term, num(1)), note


def _kernel_term(axis: Axis) -> Term:
    """k, or the effective kernel d·(k − 1) + 1 when dilated."""
    if axis.dilation == 1:
        return num(axis.kernel)
    return plus(cdot(num(axis.dilation), paren(minus(num(axis.kernel), num(1)))), num(1))


def _shape_lines(layer: Layer) -> list[Line]:
    if layer.axes is None:
        return _other_shape_lines(layer)
    h, w = layer.axes
    out: list[Line] = []
    if h == w:
        term, note = axis_term(h)
        out.append(Line("H_{out} = W_{out}", "H_out = W_out", term, h.out, note))
    else:
        for axis, tex, txt in ((h, "H_{out}", "H_out"), (w, "W_{out}", "W_out")):
            term, note = axis_term(axis)
            out.append(Line(tex, txt, term, axis.out, note))
    return out


def _other_shape_lines(layer: Layer) -> list[Line]:
    if layer.op == "concat":
        channels = [num(shape[-1]) for shape in layer.branches]
        return [
            Line(
                "C_{out}",
                "C_out",
                plus(*channels),
                layer.out_shape[-1],
                "concatenation adds the branches' channels",
            )
        ]
    if layer.op in ("fc", "flatten") and len(layer.in_shape) == 3:
        n_in = times(*(num(v) for v in layer.in_shape))
        note = "flattens its input" if layer.op == "fc" else ""
        return [Line("N_{in}", "N_in", n_in, math.prod(layer.in_shape), note)]
    return []


# ------------------------------------------------------------------------ parameters


def _conv_factors(layer: Layer) -> tuple[Term, Term, Term, Term]:
    """k_h, k_w, C_in/g and N of a convolution, read back from its MACs
    (``k_h·k_w·(C_in/g)·H_out·W_out·N``): the layer does not keep its groups."""
    h, w = layer.axes
    per_group = layer.macs // (h.kernel * w.kernel * math.prod(layer.out_shape))
    return num(h.kernel), num(w.kernel), num(per_group), num(layer.out_shape[-1])


def _deconv_factors(layer: Layer) -> tuple[Term, Term, Term, Term]:
    """k_h, k_w, C_in and N/g of a transposed convolution."""
    h, w = layer.axes
    c_in = layer.in_shape[-1]
    n_per_group = layer.macs // (h.kernel * w.kernel * c_in * h.size * w.size)
    return num(h.kernel), num(w.kernel), num(c_in), num(n_per_group)


def _param_lines(layer: Layer) -> list[Line]:
    if layer.op in ("add", "concat"):
        return []
    terms, notes = _param_terms(layer)
    if layer.activation == "prelu" or layer.op == "prelu":
        terms.append(num(1))
        notes.append("PReLU learns one slope")
    formula = plus(*terms) if terms else None
    return [Line(r"\text{params}", "params", formula, layer.params, "; ".join(notes))]


def _param_terms(layer: Layer) -> tuple[list[Term], list[str]]:
    """Weights (and biases) of the layers that have them, as the notes write them."""
    notes: list[str] = []
    if layer.op in ("conv", "dwconv"):
        factors = _conv_factors(layer)
        groups = layer.in_shape[-1] // factors[2].value
        if groups > 1:
            notes.append(
                f"groups {groups}: each filter sees {layer.in_shape[-1]}/{groups} = "
                f"{factors[2].value} input channel{'s' * (factors[2].value != 1)}"
            )
    elif layer.op == "deconv":
        factors = _deconv_factors(layer)
        groups = layer.out_shape[-1] // factors[3].value
        if groups > 1:
            notes.append(
                f"groups {groups}: {layer.out_shape[-1]}/{groups} = "
                f"{factors[3].value} output channels per group"
            )
    elif layer.op == "fc":
        factors = (num(math.prod(layer.in_shape)), num(layer.out_shape[0]))
    elif layer.op == "bn":
        notes.append(
            "γ and β for each channel; the running mean and variance are buffers, not parameters"
        )
        return [times(num(2), num(layer.in_shape[-1]))], notes
    else:
        return [], notes
    terms = [times(*factors)]
    if layer.biases:
        terms.append(num(layer.biases))
    else:
        notes.append("no bias")
    return terms, notes


# ------------------------------------------------------------------------ operations


def _count_lines(layer: Layer, convention: str, all_ops: bool) -> list[Line]:
    label = CONVENTION_LABEL[convention]
    label_tex = r"\text{" + label + "}"
    lines: list[Line] = []
    term = _count_term(layer, convention)
    if term is not None:
        lines.append(Line(label_tex, label, term, layer.count(convention)))
    if all_ops and layer.ops:
        ops = _ops_term(layer)
        lines.append(
            Line(
                r"\text{other ops}",
                "other ops",
                ops if ops is not None and ops.value == layer.ops else None,
                layer.ops,
                _ops_words(layer),
            )
        )
        if term is not None:
            lines.append(
                Line(
                    label_tex + r"\ \text{(all ops)}",
                    f"{label} (all ops)",
                    plus(num(layer.count(convention)), num(layer.ops)),
                    layer.count(convention, True),
                )
            )
    return lines


def _count_term(layer: Layer, convention: str) -> Term | None:
    """The notes' FLOPs, MACs or exact count of a conv, deconv or fc layer."""
    if layer.op in ("conv", "dwconv"):
        kh, kw, c, n = _conv_factors(layer)
        h_out, w_out = (num(v) for v in layer.out_shape[:2])
        window = times(kh, kw, c)
        spots = (h_out, w_out, n)
    elif layer.op == "fc":
        window = num(math.prod(layer.in_shape))
        spots = (num(layer.out_shape[0]),)
    elif layer.op == "deconv":
        kh, kw, c, n_g = _deconv_factors(layer)
        inputs = (num(layer.in_shape[0]), num(layer.in_shape[1]))
        if convention == "macs":
            return times(kh, kw, c, n_g, *inputs)
        if convention == "flops":
            return times(num(2), kh, kw, c, n_g, *inputs)
        products = times(num(2), kh, kw, c, n_g, *inputs)
        if not layer.biases:
            return products
        return plus(products, times(*(num(v) for v in layer.out_shape)))
    else:
        return None
    if convention == "macs":
        return times(window, *spots)
    if convention == "flops":
        return times(num(2), window, *spots)
    mults = paren(window) if layer.op != "fc" else window
    adds = paren(minus(window, num(1)))
    inner = plus(mults, adds, num(1)) if layer.biases else plus(mults, adds)
    return times(bracket(inner), *spots)


def _ops_term(layer: Layer) -> Term | None:
    """The operations that "all ops" adds, where one formula covers them all.

    Pooling: ``(k_h·k_w − 1)`` comparisons (max) or ``k_h·k_w`` additions and a division
    (average) per output; batch norm 2 per element; a residual add ``branches − 1`` per
    element; an activation its cost per element. Softmax and the rest show the value.
    """
    out = [num(v) for v in layer.out_shape]
    own = layer.op not in ("conv", "dwconv", "deconv", "fc")
    if own and layer.activation is not None:
        return None
    if layer.op in ("maxpool", "avgpool"):
        h, w = layer.axes
        window = times(num(h.kernel), num(w.kernel))
        per = paren(minus(window, num(1))) if layer.op == "maxpool" else window
        return times(per, *out)
    if layer.op == "bn":
        return times(num(2), *out)
    if layer.op == "add":
        return times(num(len(layer.branches) - 1), *out)
    name = layer.op if own else layer.activation
    if name not in ACTIVATION_COST or name == "softmax":
        return None
    return times(num(ACTIVATION_COST[name]), *out)


def _ops_words(layer: Layer) -> str:
    words = []
    if layer.op in OTHER_COST_TEXT:
        words.append(f"{layer.op}: {OTHER_COST_TEXT[layer.op]}")
    for name in (layer.op, layer.activation):
        if name in ACTIVATION_COST and name != "softmax":
            words.append(f"{name}: {ACTIVATION_COST[name]} per element")
    return "; ".join(words)


# --------------------------------------------------------------------------- memory


def _memory_line(layer: Layer, dtype: str) -> Line:
    """Activation memory of the layer's output: elements × bytes of ``dtype``."""
    size = DTYPE_BYTES[dtype]
    values = num(layer.elements)
    if len(layer.out_shape) > 1:
        shape = times(*(num(v) for v in layer.out_shape))
        values = Term(f"{shape.tex} = {values.tex}", f"{shape.txt} = {values.txt}", layer.elements)
    formula = Term(
        rf"{values.tex}\ \text{{values}}\times {size}\,\text{{B}}\ "
        rf"(\text{{{dtype}}})",
        f"{values.txt} values × {size} B ({dtype})",
        layer.elements * size,
    )
    return Line(
        r"\text{activations}",
        "activations",
        formula,
        layer.elements * size,
        unit=(r"\,\text{B}", " B"),
    )


# ------------------------------------------------------------------------- network


@dataclass(frozen=True, slots=True)
class Explanation:
    """A whole network's worked formulas; displays as Markdown with LaTeX and as text."""

    net: Network
    convention: str = "flops"
    all_ops: bool = False
    dtype: str = "float32"
    windows: bool = True  # the Markdown shows each conv/pooling layer's windows picture

    def sections(self) -> list[tuple[Layer, list[Line]]]:
        return [
            (layer, explain_layer(layer, self.convention, self.all_ops, self.dtype))
            for layer in self.net.layers
        ]

    def heading(self) -> str:
        rule = ROUNDING_TEXT[self.net.rounding].split(":")[0]
        scope = " (all ops)" if self.all_ops else ""
        return (
            f"Worked with {rule}; operations as {CONVENTION_LABEL[self.convention]}"
            f"{scope}; activations as {self.dtype}."
        )

    def to_markdown(self) -> str:
        """Markdown with ``$$`` display math: JupyterLab, Notebook, VS Code, Colab and
        GitHub typeset it. User text is HTML-escaped and kept out of the LaTeX."""
        out = [html.escape(self.heading())]
        for layer, lines in self.sections():
            out.append(_markdown_title(layer))
            if lines:
                rows = "\\\\\n".join(line.aligned for line in lines)
                out.append(f"$$\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}\n$$")
            notes = [line.note for line in lines if line.note]
            out += [f"<small>{html.escape(note)}</small>" for note in notes]
            if self.windows and layer.axes:
                # one line, opening with <div>: Markdown passes it through as HTML
                out.append(f'<div class="cnnm-windows">{layer.windows_svg()}</div>')
        return "\n\n".join(out) + "\n"

    def to_text(self) -> str:
        out = [self.heading()]
        for layer, lines in self.sections():
            out.append("")
            out.append(
                f"{layer.name}: {layer.text}   "
                f"{format_shape(layer.in_shape)} → {format_shape(layer.out_shape)}"
            )
            for line in lines:
                out.append(f"  {line.text}")
                if line.note:
                    out.append(f"    ({line.note})")
        return "\n".join(out)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/markdown": self.to_markdown(), "text/plain": self.to_text()}


def _markdown_title(layer: Layer) -> str:
    esc = html.escape
    return (
        f"**{esc(layer.name)}** · <code>{esc(layer.text)}</code> · "
        f"{esc(format_shape(layer.in_shape))} → {esc(format_shape(layer.out_shape))}"
    )


def explain(
    net: Network, convention: str = "flops", all_ops: bool = False, dtype: str = "float32"
) -> Explanation:
    """The explanation of every layer of ``net``: display it, or call ``to_text()``."""
    return Explanation(net, convention, all_ops, dtype)
