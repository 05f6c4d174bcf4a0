"""Exercises on demand: a random but sensible layer (or small network) and the questions
the notes teach, the same problem for the same seed.

>>> problem = exercise("params_bias", seed=2029)
>>> print(problem.text)
input 56x56x32
C1: conv 8 k3
>>> [q.key for q in problem.questions]
['C1.weights', 'C1.biases', 'C1.params']
>>> problem.solution()
{'C1.weights': 2304, 'C1.biases': 8, 'C1.params': 2312}

A generator only chooses numbers (kept in :attr:`Problem.spec`, so tests can build the
same layers in another tool) and writes them as layer-language text; every expected
answer comes from evaluating that text with cnn_magic. A seed is any int or str (a
student number, say); ``random.Random`` seeded with ``"<kind>:<seed>"`` makes each kind's
stream independent, so adding a kind never changes another kind's problems.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .conventions import ROUNDING_TEXT
from .errors import CNNError, did_you_mean
from .evaluate import evaluate
from .grading import QUANTITY_WORDS, Value, expected, show
from .i18n import N_, _
from .results import Network

Spec = dict[str, Any]


class Question(NamedTuple):
    """One blank to fill: the layer's name (``"total"`` for the network), the quantity
    (see :data:`~cnn_magic.grading.QUANTITIES`) and the layer's position (``None`` for
    totals). Its ``key`` is ``"C1.params"``, ``"total.flops"``."""

    layer: str
    quantity: str
    position: int | None

    @property
    def key(self) -> str:
        return f"{self.layer}.{self.quantity}"

    def prompt(self) -> str:
        """``C1: output size (H×W×C)`` in the language in force."""
        what = _(QUANTITY_WORDS[self.quantity])
        if self.quantity == "output":
            what += " (H×W×C)"
        owner = _("whole network") if self.position is None else self.layer
        return f"{owner}: {what}"


KIND_WORDS = {
    "output_floor": N_("output size of a convolution that does not divide evenly: round down"),
    "output_ceil": N_("output size of a pooling layer that does not divide evenly: round up"),
    "last_window": N_(
        "output size of a padded pooling layer with ceil rounding: the last-window rule"
    ),
    "same_padding": N_("output size and padding with 'same' padding"),
    "params_bias": N_("parameters of a convolution: weights and biases"),
    "params_nobias": N_("parameters of a convolution without bias"),
    "depthwise": N_("a depthwise convolution: output size and parameters"),
    "grouped": N_("a grouped convolution: parameters and MACs"),
    "macs_flops": N_("MACs versus FLOPs of a convolution"),
    "fc": N_("a fully connected layer after a feature map: parameters and FLOPs"),
    "network": N_("a small network: every output size, the parameters and the FLOPs"),
}


@dataclass(frozen=True)
class Problem:
    """An exercise: the network text, its rounding, the questions, and the numbers the
    generator chose (``spec``). Displayed, it shows the text and the questions, never
    the answers; :meth:`quiz` gives the interactive table."""

    kind: str
    seed: int | str
    text: str
    questions: tuple[Question, ...]
    rounding: str = "textbook"
    spec: tuple[Spec, ...] = field(default=(), compare=False)

    @property
    def network(self) -> Network:
        """The problem's network as cnn_magic evaluates it: the source of every answer."""
        return evaluate(self.text, self.rounding)

    def expected(self, key: str) -> Value:
        """The right answer to the question ``key``."""
        question = self.question(key)
        return expected(self.network, question.position, question.quantity)

    def question(self, key: str) -> Question:
        for question in self.questions:
            if question.key == key:
                return question
        keys = [q.key for q in self.questions]
        raise CNNError(
            _("no question {key!r} in this problem").format(key=key),
            hint=did_you_mean(str(key), keys),
        )

    def solution(self) -> dict[str, Value]:
        """Every question's right answer: for the teacher's answer key."""
        net = self.network
        return {q.key: expected(net, q.position, q.quantity) for q in self.questions}

    def _words(self) -> tuple[str, str, str, str]:
        """The title, what the exercise is about, the rounding rule and "Questions:"."""
        title = _("Exercise ({kind}, seed {seed})").format(kind=self.kind, seed=self.seed)
        about = _(KIND_WORDS[self.kind]) if self.kind in KIND_WORDS else ""
        rule = _("Rounding: {rule}").format(rule=_(_ROUNDING_TEXT[self.rounding]))
        return title, about, rule, _("Questions:")

    def to_text(self) -> str:
        """The problem as a student reads it: what to compute, the network, the questions."""
        title, about, rule, asked = self._words()
        lines = [title, about, "", self.text, "", rule, asked]
        lines += [f"  {q.key:<16} {q.prompt()}" for q in self.questions]
        return "\n".join(lines)

    def to_html(self) -> str:
        import html

        esc = html.escape
        title, about, rule, asked = self._words()
        items = "".join(
            f"<li><code>{esc(q.key)}</code>: {esc(q.prompt())}</li>" for q in self.questions
        )
        return (
            f'<div class="cnn-magic-exercise"><b>{esc(title)}</b><div>{esc(about)}</div>'
            f"<pre>{esc(self.text)}</pre><div>{esc(rule)}</div><div>{esc(asked)}</div>"
            f"<ul>{items}</ul></div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.to_text(), "text/html": self.to_html()}

    def quiz(self, convention: str = "flops", lang: str | None = None) -> Any:
        """The problem as an interactive table: the asked cells are inputs."""
        from .quiz import QuizView

        return QuizView.for_problem(self, convention=convention, lang=lang)


# -------------------------------------------------------------------- generators


def _line(spec: Spec) -> str:
    """One spec as a statement: ``C1: conv 32 k3 s2 p1``."""
    op = spec["op"]
    words = [f"{spec['name']}: {op}"]
    if op in ("conv", "fc"):
        words.append(str(spec["out"]))
    if op == "fc":
        return " ".join(words)
    words.append(f"k{spec['k']}")
    if op == "dwconv" and spec.get("multiplier", 1) != 1:
        words.append(str(spec["multiplier"]))
    if spec.get("s", 1) != 1 or op in ("maxpool", "avgpool"):
        words.append(f"s{spec['s']}")
    if spec.get("p") == "same":
        words.append("same")
    elif spec.get("p", 0):
        words.append(f"p{spec['p']}")
    if spec.get("g", 1) != 1:
        words.append(f"g{spec['g']}")
    if not spec.get("bias", True):
        words.append("nobias")
    return " ".join(words)


def _text(shape: tuple[int, ...], specs: list[Spec]) -> str:
    head = "input " + "x".join(map(str, shape))
    return "\n".join([head, *(_line(spec) for spec in specs)])


def _conv(rng: random.Random, name: str, **fixed: Any) -> Spec:
    spec: Spec = {
        "name": name,
        "op": "conv",
        "out": rng.choice((4, 6, 8, 12, 16, 32, 64)),
        "k": rng.choice((1, 3, 3, 5, 5, 7)),
        "s": 1,
        "p": 0,
        "g": 1,
        "bias": True,
    }
    spec.update(fixed)
    return spec


def _output_floor(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    while True:  # until the division leaves a remainder: rounding down matters
        size, k, s = rng.randint(15, 64), rng.choice((3, 5, 7)), rng.choice((2, 3))
        p = rng.choice((0, 1, 2))
        if (size + 2 * p - k) % s:
            break
    channels = rng.choice((1, 3, 16))
    return (size, size, channels), [_conv(rng, "C1", k=k, s=s, p=p)], "output"


def _output_ceil(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    while True:  # a remainder, so pooling's rounding up matters
        size, k, s = rng.randint(9, 63), rng.choice((2, 3)), 2
        if (size - k) % s:
            break
    op = rng.choice(("maxpool", "avgpool"))
    pool = {"name": "P1", "op": op, "k": k, "s": s, "p": 0}
    return (size, size, rng.choice((6, 16, 64))), [pool], "output"


def _last_window(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    while True:  # until the ceil rule's last window starts in the right padding
        size, k, s = rng.randint(6, 40), rng.choice((2, 3, 4)), rng.choice((2, 3))
        p = rng.randint(1, k // 2)
        shape = (size, size, rng.choice((3, 8, 32)))
        pool = {"name": "P1", "op": "maxpool", "k": k, "s": s, "p": p}
        layer = evaluate(_text(shape, [pool]), "ceil").layers[0]
        if layer.axes is not None and layer.axes[0].dropped_last:
            return shape, [pool], "output"


def _same_padding(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    # stride 1: the 'same' that PyTorch also implements (padding='same')
    size, k = rng.randint(7, 56), rng.choice((2, 3, 4, 5, 7))
    shape = (size, size, rng.choice((1, 3, 16)))
    return shape, [_conv(rng, "C1", k=k, p="same")], "output params"


def _params(bias: bool) -> Callable[[random.Random], tuple[tuple[int, ...], list[Spec], str]]:
    def generate(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
        size, channels = rng.choice((7, 14, 28, 32, 56)), rng.choice((1, 3, 16, 32, 64))
        conv = _conv(rng, "C1", k=rng.choice((1, 2, 3, 5, 7)), bias=bias)
        return (size, size, channels), [conv], "weights biases params"

    return generate


def _depthwise(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    size, channels = rng.choice((14, 28, 56, 112)), rng.choice((16, 32, 64, 96))
    stride = rng.choice((1, 2))
    conv = {"name": "C1", "op": "dwconv", "k": 3, "s": stride, "p": 1, "multiplier": 1}
    return (size, size, channels), [conv], "output weights params"


def _grouped(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    groups = rng.choice((2, 4, 8))
    channels = groups * rng.choice((2, 4, 8))
    out = groups * rng.choice((2, 4, 8))
    size = rng.choice((8, 14, 28))
    conv = _conv(rng, "C1", out=out, k=rng.choice((1, 3)), p=rng.choice((0, 1)), g=groups)
    if conv["k"] == 1:  # a 1×1 convolution is not padded (the draws stay as they were)
        conv["p"] = 0
    return (size, size, channels), [conv], "weights params macs"


def _macs_flops(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    size, channels = rng.choice((8, 14, 16, 28, 32)), rng.choice((1, 3, 6, 16))
    conv = _conv(rng, "C1", k=rng.choice((1, 3, 5)), p=rng.choice((0, 1)))
    if conv["k"] == 1:  # a 1×1 convolution is not padded
        conv["p"] = 0
    return (size, size, channels), [conv], "output macs flops"


def _fc(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    side, channels = rng.choice((1, 2, 4, 5, 7)), rng.choice((8, 16, 32, 64))
    fc = {"name": "F1", "op": "fc", "out": rng.choice((10, 84, 100, 120, 128))}
    return (side, side, channels), [fc], "weights params flops"


def _network(rng: random.Random) -> tuple[tuple[int, ...], list[Spec], str]:
    size = rng.choice((28, 32, 36))
    k1, k2 = rng.choice((3, 5)), rng.choice((3, 5))
    pool = rng.choice(("maxpool", "avgpool"))
    specs = [
        _conv(rng, "C1", out=rng.choice((6, 8)), k=k1),
        {"name": "S2", "op": pool, "k": 2, "s": 2, "p": 0},
        _conv(rng, "C3", out=rng.choice((12, 16)), k=k2),
        {"name": "S4", "op": pool, "k": 2, "s": 2, "p": 0},
        {"name": "F5", "op": "fc", "out": rng.choice((64, 84, 120))},
        {"name": "F6", "op": "fc", "out": 10},
    ]
    return (size, size, rng.choice((1, 3))), specs, "network"


GENERATORS: dict[str, Callable[[random.Random], tuple[tuple[int, ...], list[Spec], str]]] = {
    "output_floor": _output_floor,
    "output_ceil": _output_ceil,
    "last_window": _last_window,
    "same_padding": _same_padding,
    "params_bias": _params(True),
    "params_nobias": _params(False),
    "depthwise": _depthwise,
    "grouped": _grouped,
    "macs_flops": _macs_flops,
    "fc": _fc,
    "network": _network,
}
KINDS = tuple(GENERATORS)
"""Every kind of exercise, in the order the notes teach them."""

_ROUNDING_TEXT: dict[str, str] = {str(k): v for k, v in ROUNDING_TEXT.items()}
_ROUNDING = {"last_window": "ceil"}  # the rest: the notes' textbook rounding


def exercise(kind: str | None = None, seed: int | str = 0) -> Problem:
    """A problem of ``kind`` (one of :data:`KINDS`; a kind chosen by the seed when
    ``None``), the same for the same seed.

    >>> exercise("output_floor", seed=7).text == exercise("output_floor", seed=7).text
    True
    >>> exercise(seed="20230117").kind in KINDS
    True
    """
    if not isinstance(seed, (int, str)) or isinstance(seed, bool):
        raise CNNError(
            _("seed must be an int or a str, not {type}").format(type=type(seed).__name__)
        )
    if kind is None:
        kind = random.Random(f"kind:{seed}").choice(KINDS)
    if kind not in GENERATORS:
        raise CNNError(
            _("unknown exercise kind {kind!r}").format(kind=kind),
            hint=did_you_mean(str(kind), KINDS),
        )
    rng = random.Random(f"{kind}:{seed}")
    shape, specs, asked = GENERATORS[kind](rng)
    text = _text(shape, specs)
    rounding = _ROUNDING.get(kind, "textbook")
    net = evaluate(text, rounding)
    return Problem(kind, seed, text, _questions(net, asked), rounding, (dict(shape=shape), *specs))


def _questions(net: Network, asked: str) -> tuple[Question, ...]:
    if asked == "network":
        out = [Question(layer.name, "output", i) for i, layer in enumerate(net.layers)]
        out += [Question("total", "params", None), Question("total", "flops", None)]
        return tuple(out)
    return tuple(Question(net.layers[0].name, what, 0) for what in asked.split())


def from_text(text: str, questions: str | list[str], rounding: str = "textbook") -> Problem:
    """A teacher's own problem: any network text and questions such as
    ``["C1.output", "C1.params", "total.flops"]`` (or one string, space-separated).

    >>> problem = from_text("input 32x32x1; C1: conv 6 k5", "C1.output total.params")
    >>> problem.solution()
    {'C1.output': (28, 28, 6), 'total.params': 156}
    """
    from .grading import QUANTITIES

    net = evaluate(text, rounding)
    names = {layer.name: i for i, layer in enumerate(net.layers)}
    asked = questions.split() if isinstance(questions, str) else list(questions)
    out = []
    for key in asked:
        owner, _dot, quantity = str(key).rpartition(".")
        if quantity not in QUANTITIES:
            raise CNNError(
                _("unknown quantity {quantity!r} in {key!r}").format(quantity=quantity, key=key),
                hint=did_you_mean(quantity, QUANTITIES),
            )
        if owner != "total" and owner not in names:
            raise CNNError(
                _("no layer {name!r} in the network").format(name=owner),
                hint=did_you_mean(owner, [*names, "total"]),
            )
        out.append(Question(owner, quantity, None if owner == "total" else names[owner]))
    return Problem("custom", 0, text, tuple(out), rounding)


def describe(problem: Problem) -> str:
    """One line per question with its answer: the teacher's key, as text."""
    net = problem.network
    return "\n".join(
        f"{q.key}: {show(expected(net, q.position, q.quantity))}" for q in problem.questions
    )
