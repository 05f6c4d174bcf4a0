"""Every number of a layer worked out with its own values, as LaTeX and as plain text.

``--explain`` shows these: the notes' formulas with the layer's numbers put in, e.g.
for LeNet-5's C1 (32×32×1 in, ``conv 6 k5``)::

    H_{out} = W_{out} = \\left\\lfloor\\frac{32 - 5 + 2\\cdot 0}{1}\\right\\rfloor + 1 = 28
    \\text{params} = 5\\times5\\times1\\times6 + 6 = 156
    \\text{FLOPs} = 2\\times5\\times5\\times1\\times28\\times28\\times6 = 235{,}200

Pure functions over a :class:`~cnn_magic.results.Layer`. The terms come from the layer's
rule (:mod:`cnn_magic.layers`), each carrying its value; this module only typesets
them, the same way for every layer, and checks every worked formula against the
layer's computed count: a formula that does not add up raises
:class:`ExplanationError` (a bug, never shown as a number).

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
import re
from typing import Any, NamedTuple

from .conventions import (
    CONVENTION_LABEL,
    DTYPE_BYTES,
    ROUNDING_NAME,
    Convention,
    Dtype,
    check_convention,
    check_dtype,
    check_flag,
)
from .i18n import N_, _
from .layers import ACTIVATIONS, RULES, Activation, Worked, axis_term
from .results import Layer, Network
from .shapes import format_shape
from .table import acyclic
from .terms import Term, num, plus, times

__all__ = [
    "Explanation",
    "ExplanationError",
    "Line",
    "Term",
    "axis_term",
    "explain",
    "explain_layer",
    "num",
]


class ExplanationError(AssertionError):
    """A worked formula whose arithmetic does not give the layer's computed number: a
    rule's explanation terms and its counts disagree."""


_TEXT = re.compile(r"\\text\{([^{}]*)\}")  # a word in a LaTeX label, translated when shown
_PER_ELEMENT = re.compile(r"(\d+) per element \((.*)\)\Z")


def _activation_cost(activation: Activation) -> str:
    """An activation's cost in words, in the language in force."""
    found = _PER_ELEMENT.match(activation.cost_text)
    if found is None:
        return _(activation.cost_text)
    return _("{cost} per element ({steps})").format(cost=found[1], steps=_(found[2]))


class Line(NamedTuple):
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
        tex_unit, _txt = self.unit
        value = num(self.value).tex + tex_unit
        label = _TEXT.sub(lambda m: r"\text{" + _(m.group(1)) + "}", self.label_tex)
        if self.formula is None or self.formula.tex == num(self.value).tex:
            return f"{label} &= {value}"
        return f"{label} &= {self.formula.tex} = {value}"

    @property
    def text(self) -> str:
        _tex, txt_unit = self.unit
        value = f"{self.value:,}{txt_unit}"
        label = self.shown_label
        if self.formula is None or self.formula.txt == f"{self.value:,}":
            return f"{label} = {value}"
        return f"{label} = {self.formula.txt} = {value}"

    @property
    def shown_label(self) -> str:
        """The plain-text label in the language in force (``label_txt`` is the English
        one, by which callers find a line)."""
        base, all_ops, _rest = self.label_txt.partition(" (all ops)")
        return _(base) + (" " + _("(all ops)") if all_ops else "")

    @property
    def checks(self) -> bool:
        """Whether the written arithmetic gives the stated value (always, once built)."""
        return self.formula is None or self.formula.value == self.value


def line(
    layer: Layer,
    label_tex: str,
    label_txt: str,
    formula: Term | None,
    value: int,
    note: str = "",
    unit: tuple[str, str] = ("", ""),
) -> Line:
    """A checked :class:`Line`: raises :class:`ExplanationError` if ``formula`` does not
    give ``value``."""
    made = Line(label_tex, label_txt, formula, value, note, unit)
    if formula is not None and formula.value != value:
        raise ExplanationError(
            f"{layer.name} ({layer.text}): {label_txt} is worked as {formula.txt} = "
            f"{formula.value:,} but computed as {value:,}"
        )
    return made


def explain_layer(
    layer: Layer,
    convention: str = "flops",
    *,
    all_ops: bool = False,
    dtype: str = "float32",
) -> list[Line]:
    """The worked equations of one layer: output size, parameters, operations, memory."""
    checked = check_convention(convention)
    every = check_flag("all_ops", all_ops)
    size = check_dtype(dtype)
    rule = RULES[layer.op]
    lines = [_from_worked(layer, worked) for worked in rule.shape_lines(layer)]
    if not rule.merge:
        lines.append(_param_line(layer))
    lines += _count_lines(layer, checked, every)
    lines.append(_memory_line(layer, size))
    return lines


def _from_worked(layer: Layer, worked: Worked) -> Line:
    return line(layer, worked.label_tex, worked.label_txt, worked.term, worked.value, worked.note)


def _param_line(layer: Layer) -> Line:
    terms, notes = RULES[layer.op].param_terms(layer)
    if layer.activation is not None:
        extra, extra_notes = ACTIVATIONS[layer.activation].param_terms(layer)
        terms, notes = [*terms, *extra], [*notes, *extra_notes]
    formula = plus(*terms) if terms else None
    if formula is None and layer.params:
        raise ExplanationError(f"{layer.name}: {layer.params:,} parameters with no formula")
    return line(layer, r"\text{params}", N_("params"), formula, layer.params, "; ".join(notes))


def _count_lines(layer: Layer, convention: Convention, all_ops: bool) -> list[Line]:
    rule = RULES[layer.op]
    label = CONVENTION_LABEL[convention]
    label_tex = r"\text{" + label + "}"
    lines: list[Line] = []
    term = rule.count_term(layer, convention)
    if term is not None:
        lines.append(line(layer, label_tex, label, term, layer.count(convention)))
    elif layer.macs or layer.exact:
        raise ExplanationError(f"{layer.name}: counted operations with no formula")
    if all_ops and layer.ops:
        parts = [t for t in (rule.ops_term(layer),) if t is not None]
        cost = _activation_cost(rule) if isinstance(rule, Activation) else _(rule.cost_text)
        words = [f"{layer.op}: {cost}"] if rule.cost_text else []
        if layer.activation is not None:
            activation = ACTIVATIONS[layer.activation]
            extra = activation.ops_term(layer)
            if extra is not None:
                parts.append(extra)
            words.append(f"{activation.name}: {_activation_cost(activation)}")
        if not parts:
            raise ExplanationError(f"{layer.name}: other operations with no formula")
        ops = plus(*parts)
        lines.append(
            line(layer, r"\text{other ops}", N_("other ops"), ops, layer.ops, "; ".join(words))
        )
        if term is not None:
            lines.append(
                line(
                    layer,
                    label_tex + r"\ \text{" + N_("(all ops)") + "}",
                    f"{label} (all ops)",
                    plus(num(layer.count(convention)), num(layer.ops)),
                    layer.count(convention, all_ops=True),
                )
            )
    return lines


def _memory_line(layer: Layer, dtype: Dtype) -> Line:
    """Activation memory of the layer's output: elements × bytes of ``dtype``."""
    size = DTYPE_BYTES[dtype]
    values = num(layer.elements)
    if len(layer.out_shape) > 1:
        shape = times(*(num(v) for v in layer.out_shape))
        values = Term(f"{shape.tex} = {values.tex}", f"{shape.txt} = {values.txt}", layer.elements)
    word = _("values")
    formula = Term(
        rf"{values.tex}\ \text{{{word}}}\times {size}\,\text{{B}}\ "
        rf"(\text{{{dtype}}})",
        _("{values} values × {size} B ({dtype})").format(values=values.txt, size=size, dtype=dtype),
        layer.elements * size,
    )
    return line(
        layer,
        r"\text{activations}",
        N_("activations"),
        formula,
        layer.elements * size,
        unit=(r"\,\text{B}", " B"),
    )


# ------------------------------------------------------------------------- network

WINDOWS_BUDGET = 300_000
"""Characters of windows pictures one explanation carries at most: each picture is a few
kilobytes, so a deep network's would otherwise outweigh its formulas many times over."""


class Explanation:
    """A whole network's worked formulas; displays as Markdown with LaTeX and as text."""

    __slots__ = ("all_ops", "convention", "dtype", "net", "windows")

    def __init__(
        self,
        net: Network,
        convention: Convention = "flops",
        all_ops: bool = False,
        dtype: Dtype = "float32",
        windows: bool = True,  # the Markdown shows each windowed layer's windows picture
    ) -> None:
        self.net, self.convention, self.all_ops, self.dtype = net, convention, all_ops, dtype
        self.windows = windows

    def __repr__(self) -> str:
        return (
            f"<Explanation of {self.net!r} as {self.convention}"
            f"{' (all ops)' if self.all_ops else ''}, {self.dtype}>"
        )

    @acyclic  # lines and terms form no cycles; a long network's would trigger collections
    def sections(self) -> list[tuple[Layer, list[Line]]]:
        return [
            (
                layer,
                explain_layer(layer, self.convention, all_ops=self.all_ops, dtype=self.dtype),
            )
            for layer in self.net.layers
        ]

    def heading(self) -> str:
        scope = " " + _("(all ops)") if self.all_ops else ""
        return _(
            "Worked with {rounding}; operations as {label}{scope}; activations as {dtype}."
        ).format(
            rounding=_(ROUNDING_NAME[self.net.rounding]),
            label=_(CONVENTION_LABEL[self.convention]),
            scope=scope,
            dtype=self.dtype,
        )

    def to_markdown(self) -> str:
        """Markdown with ``$$`` display math: JupyterLab, Notebook, VS Code, Colab and
        GitHub typeset it. User text is HTML-escaped and kept out of the LaTeX."""
        out = [html.escape(self.heading())]
        budget = WINDOWS_BUDGET if self.windows else 0
        for layer, lines in self.sections():
            out.append(_markdown_title(layer))
            if lines:
                rows = "\\\\\n".join(line.aligned for line in lines)
                out.append(f"$$\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}\n$$")
            notes = [line.note for line in lines if line.note]
            out += [f"<small>{html.escape(note)}</small>" for note in notes]
            if budget > 0 and layer.axes:
                picture = str(layer.windows_svg())
                budget -= len(picture)
                if budget >= 0:
                    # one line, opening with <div>: Markdown passes it through as HTML
                    out.append(f'<div class="cnnm-windows">{picture}</div>')
                else:
                    words = _(
                        "The windows pictures of this and the later layers are left out to "
                        "keep the explanation short: {call} draws one."
                    ).format(call="<code>net.layers[i].windows_svg()</code>")
                    out.append(f"<small>{words}</small>")
        return "\n\n".join(out) + "\n"

    def to_text(self) -> str:
        out = [self.heading()]
        for layer, lines in self.sections():
            out.append("")
            out.append(
                f"{layer.name}: {layer.text}   "
                f"{format_shape(layer.in_shape)} → {format_shape(layer.out_shape)}"
            )
            for worked in lines:
                out.append(f"  {worked.text}")
                if worked.note:
                    out.append(f"    ({worked.note})")
        return "\n".join(out)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/markdown": self.to_markdown(), "text/plain": self.to_text()}


def _markdown_title(layer: Layer) -> str:
    esc = html.escape
    return (
        f"**{esc(layer.name)}** · <code>{esc(layer.text)}</code> · "
        f"{esc(format_shape(layer.in_shape))} → {esc(format_shape(layer.out_shape))}"
    )


def explain(
    net: Network,
    convention: str = "flops",
    *,
    all_ops: bool = False,
    dtype: str = "float32",
) -> Explanation:
    """The explanation of every layer of ``net``: display it, or call ``to_text()``.
    Every option is checked (a CNNError with a did-you-mean)."""
    return Explanation(
        net, check_convention(convention), check_flag("all_ops", all_ops), check_dtype(dtype)
    )
