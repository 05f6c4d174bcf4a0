"""Is this answer right? Expected values, answers as students write them, hints and
derivations: what the quiz view and :func:`check` share.

Every expected value is read from the network as cnn_magic evaluates it (never from a
second formula): a layer's output shape, weights, biases, parameters, MACs, FLOPs
(2·MACs) or exact count, or the network's totals. A hint is the formula with the
layer's symbols; a derivation is the same worked arithmetic ``--explain`` prints.

>>> from cnn_magic import evaluate
>>> net = evaluate("input 32x32x1; C1: conv 6 k5")
>>> expected(net, 0, "output"), expected(net, 0, "params"), expected(net, None, "flops")
((28, 28, 6), 156, 235200)
>>> is_right("28x28x6", (28, 28, 6)), is_right("156", 156), is_right("155", 156)
(True, True, False)
>>> print(derivation(net, 0, "params"))
params = 5×5×1×6 + 6 = 156
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .conventions import CONVENTION_LABEL
from .evaluate import format_shape
from .i18n import N_, _
from .results import Layer, Network

QUANTITIES = ("output", "weights", "biases", "params", "macs", "flops", "exact")
"""What a question can ask: a layer's (or the network's) output shape or one count."""

QUANTITY_WORDS = {
    "output": N_("output size"),
    "weights": N_("weights"),
    "biases": N_("biases"),
    "params": N_("params"),
    "macs": N_("MACs"),
    "flops": N_("FLOPs"),
    "exact": N_("exact FLOPs"),
}

Value = int | tuple[int, ...]

# Layers whose counts the notes derive; the others have no weights and, in the notes'
# scope, no operations.
_WINDOWED = ("conv", "dwconv", "deconv")
_POOLS = ("maxpool", "avgpool")


def expected(net: Network, index: int | None, quantity: str) -> Value:
    """The right answer: of ``net.layers[index]``, or of the whole network (``None``).

    ``output`` is a shape ``(H, W, C)`` (``(N,)`` for vectors); the rest are integers.
    """
    if quantity == "output":
        return net.output_shape if index is None else net.layers[index].out_shape
    if index is None:
        return int(getattr(net, quantity))
    layer = net.layers[index]
    return {
        "weights": layer.weights,
        "biases": layer.biases,
        "params": layer.params,
        "macs": layer.macs,
        "flops": layer.flops,
        "exact": layer.exact,
    }[quantity]


_SEPARATORS = re.compile(r"\s*[x×X*,]\s*|\s+")
_THOUSANDS = re.compile(r"\d{1,3}([,_ ]\d{3})+\Z")


def parse_answer(answer: object, quantity: str) -> Value | None:
    """A student's answer as a value, or ``None`` when it is not one.

    Shapes: ``(7, 7, 8)``, ``"7x7x8"``, ``"7×7×8"`` or ``"7 7 8"``; a vector's size may be
    a bare number. Counts: an int, an integral float, or text with thousands separators
    (``"61,706"``, ``"61 706"``).

    >>> parse_answer("7 × 7 × 8", "output"), parse_answer("61,706", "params")
    ((7, 7, 8), 61706)
    >>> parse_answer("about 60k", "params") is None, parse_answer(156.0, "params")
    (True, 156)
    """
    if isinstance(answer, bool):
        return None
    if quantity == "output":
        return _parse_shape(answer)
    return _parse_count(answer)


def _parse_shape(answer: object) -> tuple[int, ...] | None:
    if isinstance(answer, int):
        return (answer,)
    if isinstance(answer, (tuple, list)):
        parts = [_parse_count(part) for part in answer]
        return tuple(parts) if parts and None not in parts else None  # type: ignore[arg-type]
    if not isinstance(answer, str) or not answer.strip():
        return None
    words = _SEPARATORS.split(answer.strip().strip("()[]"))
    if not all(word.isascii() and word.isdigit() for word in words):
        return None
    return tuple(int(word) for word in words)


def _parse_count(answer: object) -> int | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float):
        return int(answer) if answer.is_integer() else None
    if not isinstance(answer, str):
        return None
    text = answer.strip()
    if _THOUSANDS.match(text):
        text = re.sub(r"[,_ ]", "", text)
    return int(text) if text.isascii() and text.isdigit() else None


def is_right(answer: object, value: Value) -> bool:
    """Whether ``answer`` (as a student writes it) is ``value``."""
    if isinstance(value, tuple):
        return parse_answer(answer, "output") == value
    return parse_answer(answer, "params") == value


def show(value: Value) -> str:
    """A value as the tables print it: ``28×28×6`` or ``61,706``."""
    return format_shape(value) if isinstance(value, tuple) else f"{value:,}"


# ------------------------------------------------------------------------- hints


def hint(net: Network, index: int | None, quantity: str) -> str:
    """The formula for this answer, in the layer's symbols (not its values)."""
    if index is None:
        if quantity == "output":
            return _("the last layer's output")
        return _("the sum of the column over all layers")
    layer = net.layers[index]
    if quantity == "output":
        return _output_hint(layer)
    if quantity in ("weights", "biases", "params"):
        return _param_hint(layer, quantity)
    return _count_hint(layer, quantity)


def _output_hint(layer: Layer) -> str:
    if layer.axes is None:
        if layer.op == "fc":
            return _("N_out: the number of neurons the fc layer names")
        if layer.op == "flatten":
            return "H × W × C"
        if layer.op in ("gap", "gmp"):
            return "1 × 1 × C"
        return _("the same shape as its input")
    rule = layer.axes[0].rule
    kernel = "k" if all(axis.dilation == 1 for axis in layer.axes) else "d·(k − 1) + 1"
    formula = {
        "floor": f"H_out = ⌊(H_in − {kernel} + 2P) / S⌋ + 1",
        "ceil": f"H_out = ⌈(H_in − {kernel} + 2P) / S⌉ + 1",
        "same": "H_out = ⌈H_in / S⌉",
        "deconv": "H_out = (H_in − 1)·S − 2P + d·(k − 1) + op + 1",
        "adaptive": "H_out = " + _("the size the layer names"),
    }[rule]
    words = {
        "floor": _("round down"),
        "ceil": _("round up; a last window that would start in the right padding is dropped"),
        "same": _("'same' padding"),
        "deconv": _("transposed convolution"),
        "adaptive": _("adaptive pooling"),
    }[rule]
    if layer.op in _WINDOWED:
        channels = _("C_out = K, the number of kernels")
    else:
        channels = _("C_out = C_in: pooling keeps the channels")
    return _("{formula} ({words}); W_out likewise; {channels}").format(
        formula=formula, words=words, channels=channels
    )


def _param_hint(layer: Layer, quantity: str) -> str:
    if layer.op in ("conv", "dwconv"):
        weights = "k × k × (n_c / g) × K" if layer.op == "conv" else "k × k × K"
    elif layer.op == "deconv":
        weights = "k × k × n_c × (K / g)"
    elif layer.op == "fc":
        weights = "N_in × N_out"
    elif layer.op == "bn":
        weights = "2 × C (γ, β)"
    else:
        return _("0: this layer has no parameters (pooling has none)")
    biases = _("one per kernel (K), 0 with nobias") if layer.op != "bn" else "0"
    if quantity == "weights":
        return weights
    if quantity == "biases":
        return biases
    return _("weights + biases") + f": {weights} + " + ("K" if layer.op != "fc" else "N_out")


def _count_hint(layer: Layer, quantity: str) -> str:
    label = _LABELS[quantity]
    if layer.op in ("conv", "dwconv"):
        window = "k × k × (n_c / g)" if layer.op == "conv" else "k × k"
        spots = "H_out × W_out × K"
    elif layer.op == "fc":
        window, spots = "N_in", "N_out"
    elif layer.op == "deconv":
        window, spots = "k × k × (K / g)", "H_in × W_in × n_c"
    else:
        return _("0: totals count conv, deconv and fc layers only")
    formula = {
        "macs": f"{window} × {spots}",
        "flops": f"2 × {window} × {spots}",
        "exact": f"[({window}) + ({window} − 1) + 1] × {spots}",
    }[quantity]
    return f"{label} = {formula}"


# -------------------------------------------------------------------- derivation


def derivation(net: Network, index: int | None, quantity: str) -> str:
    """The worked arithmetic for this answer, with the layer's own values: the lines
    ``--explain`` prints for it (one per line, notes in brackets)."""
    if index is None:
        return _total_derivation(net, quantity)
    from .explain import explain_layer

    layer = net.layers[index]
    convention = quantity if quantity in CONVENTION_LABEL else "flops"
    lines = explain_layer(layer, convention)
    if quantity == "output":
        chosen = [line for line in lines if line.label_txt.split()[0] in _SHAPE_LABELS]
    elif quantity in ("weights", "biases", "params"):
        chosen = [line for line in lines if line.label_txt == "params"]
    else:
        chosen = [line for line in lines if line.label_txt == CONVENTION_LABEL[convention]]
    out: list[str] = []
    for line in chosen:
        out.append(line.text)
        if line.note:
            out.append(f"  ({line.note})")
    if quantity == "output":
        out.append(_("output") + " = " + format_shape(layer.out_shape))
    if not chosen and quantity != "output":
        out.append(f"{_(QUANTITY_WORDS[quantity])} = 0")
    return "\n".join(out)


_LABELS: dict[str, str] = {
    str(k): v for k, v in CONVENTION_LABEL.items()
}  # by a quantity's plain name
_SHAPE_LABELS = ("H_out", "W_out", "C_out", "N_in")


def _total_derivation(net: Network, quantity: str) -> str:
    if quantity == "output":
        return _("output") + " = " + format_shape(net.output_shape)
    values = [expected(net, i, quantity) for i in range(len(net.layers))]
    terms = [f"{value:,}" for value in values if value]
    total = expected(net, None, quantity)
    return f"{_(QUANTITY_WORDS[quantity])} = {' + '.join(terms) or '0'} = {total:,}"


# ------------------------------------------------------------------------- check


def check(problem: Any, answers: Mapping[str, object], strict: bool = False) -> dict[str, bool]:
    """Which answers are right: ``{question key: True or False}``, in the problem's order
    (a question without an answer is wrong).

    ``problem`` is an :func:`~cnn_magic.exercise` problem, or a network text whose
    questions are the keys of ``answers`` (``{"C1.output": "28x28x6"}``). With
    ``strict=True`` a wrong or missing answer raises ``AssertionError`` naming, for each,
    the expected value and its derivation: an nbgrader autograded cell, or a test, fails
    with the worked formula in its message. Plain Python: no grader is imported.

    >>> check("input 32x32x1; C1: conv 6 k5", {"C1.output": "28x28x6", "C1.params": 150})
    {'C1.output': True, 'C1.params': False}
    """
    if isinstance(problem, str):
        from .exercises import from_text

        problem = from_text(problem, list(answers))
    for key in answers:
        problem.question(key)  # an unknown key is a mistake, named with did-you-mean
    net = problem.network
    results: dict[str, bool] = {}
    wrong: list[str] = []
    for question in problem.questions:
        value = expected(net, question.position, question.quantity)
        given = answers.get(question.key)
        results[question.key] = given is not None and is_right(given, value)
        if not results[question.key]:
            wrong.append(_wrong_message(net, question, given, value))
    if strict and wrong:
        raise AssertionError("\n\n".join(wrong))
    return results


def _wrong_message(net: Network, question: Any, given: object, value: Value) -> str:
    if given is None:
        head = _("{key}: no answer; expected {value}")
    else:
        head = _("{key}: expected {value}, got {given}")
    text = head.format(key=question.key, value=show(value), given=given)
    worked = derivation(net, question.position, question.quantity)
    return text + "\n" + "\n".join("    " + line for line in worked.splitlines())
