"""Walk the statements, apply each layer's rule, and return a frozen :class:`Network`.

>>> net = evaluate("input 32x32x1; conv 6 k5 relu; avgpool k2 s2")
>>> [layer.out_shape for layer in net.layers]
[(28, 28, 6), (14, 14, 6)]
>>> net.params, net.macs
(156, 117600)
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import NamedTuple

from .conventions import Rounding, check_rounding
from .dsl import (
    BLOCKS,
    INNER_BLOCKS,
    SHAPE_HINT,
    Statement,
    Token,
    input_shape,
    parse,
    parse_shape,
    read_args,
    whole,
)
from .errors import CNNError, did_you_mean
from .i18n import N_, _
from .layers import ACTIVATIONS, Args, Rule, Site, Step, check_dims, lookup
from .results import Block, Layer, Network
from .shapes import ReceptiveField, Shape, elements, format_shape
from .variables import expand_lines, restore, variables

__all__ = ["MAX_LAYERS", "evaluate", "format_shape", "parse_shape"]

MAX_LAYERS = 100_000
MAX_DERIVED = 10**24
"""The most values, parameters or operations one layer may come to. Three lines can
grow a map past 10³⁰⁰ (repeated transposed convolutions, a concat doubling its channels
in a repeat); such a network is refused at the layer where it happens, so every count
stays a sane integer that any formatter can print."""

Field = tuple[ReceptiveField, ...] | None
"""The receptive field per spatial dimension; None after a vector or a lost window."""


def evaluate(
    text: str,
    rounding: str = "textbook",
    *,
    input: str | None = None,
    variables: dict[str, int] | None = None,
) -> Network:
    """Evaluate a network written in the layer language.

    ``rounding`` is ``"textbook"`` (conv rounds down, pooling up), ``"floor"`` or
    ``"ceil"``; ``input`` (e.g. ``"224x224x3"``) replaces or supplies the ``input``
    line; ``variables`` give new values to variables the text sets (``k = 5`` …
    ``k{k}``, see :mod:`cnn_magic.variables`). Every mistake raises :class:`CNNError`;
    the text is never run as Python.
    """
    if not isinstance(text, str):
        raise TypeError(f"evaluate() takes the network as a str, not {type(text).__name__}")
    mode = check_rounding(rounding)
    # Statements and results are acyclic tuples, so the cyclic garbage collector has
    # nothing to find in them; pausing it saves half the time of a 10,000-layer network.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(text, mode, input, variables)
    finally:
        if collecting:
            gc.enable()


def _evaluate(
    text: str, rounding: Rounding, input: str | None, values: dict[str, int] | None
) -> Network:
    source, changed = expand_lines(text, values)
    try:
        return _walk(text, source, rounding, input)
    except CNNError as error:
        if not changed:
            raise
        # the message quotes the line as written, with the values it was evaluated with
        raise restore(error, changed, {**variables(text), **(values or {})}) from None


def _walk(text: str, source: str, rounding: Rounding, input: str | None) -> Network:
    statements = _parse(source)
    shape: Shape | None = None
    if statements and statements[0].keyword.lower == "input" and not statements[0].opens_block:
        shape = input_shape(statements[0])
        statements = statements[1:]
    elif input is None:
        where = statements[0] if statements else None
        if where is None:
            raise CNNError(
                _("the network is empty"), hint=_("start with an input line: input 32x32x1")
            )
        raise where.error(_("the network needs an input shape first"), hint=_(SHAPE_HINT))
    if input is not None:
        shape = parse_shape(input)
    assert shape is not None
    _check_size(statements)
    walker = _Walker(rounding)
    walker.sequence(statements, shape, _start_field(shape), 0, "", "")
    return Network(text, rounding, shape, tuple(walker.layers), tuple(walker.blocks))


def _parse(text: str) -> tuple[Statement, ...]:
    """``parse(text)``, remembered for the last few texts of notebook size: a notebook
    evaluates the same cell again (each toggle of the widget, each re-run), and
    statements are immutable. Long texts are not kept, to keep the memory small."""
    if len(text) > _MAX_TEXT_LENGTH:
        return parse(text)
    statements = _PARSED.pop(text, None)
    if statements is None:
        statements = parse(text)
        if len(_PARSED) >= _MAX_TEXTS:
            del _PARSED[next(iter(_PARSED))]  # the least recently used
    _PARSED[text] = statements
    return statements


def clear_caches() -> None:
    """Forget every remembered parse, reading and step (for benchmarks of a first run)."""
    _PARSED.clear()
    _PREPARED.clear()
    _STEPS.clear()


def _start_field(shape: Shape) -> Field:
    return (ReceptiveField(1, 1, 0.0),) * (len(shape) - 1) if len(shape) > 1 else None


def _check_size(statements: Sequence[Statement]) -> int:
    """Count the layers the text expands to, refusing more than MAX_LAYERS up front."""
    return _count_layers(statements)[0]


def _count_layers(statements: Sequence[Statement]) -> tuple[int, bool]:
    """(layers, whether a repeat multiplied them): the hint blames a repeat only then."""
    total, repeated = 0, False
    for statement in statements:
        if statement.opens_block:
            inner, inner_repeated = _count_layers(statement.body)
            if statement.keyword.lower == "repeat":
                inner *= _repeat_count(without_frozen(statement)[0])
                inner_repeated = True
            elif statement.keyword.lower != "group":
                inner += 1  # the merge row of residual, concat and add
            total += inner
            repeated = repeated or inner_repeated
        else:
            total += 1
        if total > MAX_LAYERS:
            raise statement.error(
                _("the network expands to more than {MAX_LAYERS:,} layers").format(
                    MAX_LAYERS=MAX_LAYERS
                ),
                hint=_("is a repeat count too large?")
                if repeated
                else _(
                    "the language takes at most {MAX_LAYERS:,} layers: split the network"
                ).format(MAX_LAYERS=MAX_LAYERS),
            )
    return total, repeated


def without_frozen(statement: Statement) -> tuple[Statement, bool]:
    """A block statement without its trailing ``frozen`` word (``repeat 2 frozen:``,
    ``residual frozen:``), and whether it had one."""
    args = statement.args
    if args and args[-1].lower == "frozen":
        return statement._replace(args=args[:-1]), True
    return statement, False


def _repeat_count(statement: Statement) -> int:
    args = statement.args
    word = args[0].lower if len(args) == 1 else ""
    count = whole(statement, args[0], word) if word.isascii() and word.isdigit() else 0
    if count < 1:
        raise statement.error(
            _("repeat needs one whole number, at least 1"),
            args[0] if args else None,
            hint=_("for example repeat 3:"),
        )
    return count


class Prepared(NamedTuple):
    """A layer statement read once: its op, rule, arguments and where it is written."""

    op: str
    rule: Rule
    args: Args
    site: Site
    text: str
    word: str  # the keyword as written, lower case (conv1d fixes the dimensions)


# Value-keyed memos (never by id): a statement's reading by its words and columns, a
# rule's step by (op, word, arguments, input shape, rounding). Rules are pure, so a hit
# is the same result; errors are never remembered. Each is cleared when full.
_PREPARED: dict[tuple[str, tuple[Token, ...]], Prepared] = {}
_STEPS: dict[tuple[object, ...], Step] = {}
_MAX_CACHED = 8192
_PARSED: dict[str, tuple[Statement, ...]] = {}
_MAX_TEXTS = 8
_MAX_TEXT_LENGTH = 50_000  # characters: a cell, not a generated 10,000-layer network

MERGE_ARGS = Args()
"""The arguments of a merge row: none."""


class _Walker:
    """Applies the rules in execution order, naming layers and recording blocks."""

    def __init__(self, rounding: Rounding) -> None:
        self.rounding = rounding
        self.layers: list[Layer] = []
        self.blocks: list[Block] = []
        self.counters: dict[str, int] = {}
        self.paths: dict[int, list[tuple[str, tuple[Statement, ...]]]] = {}  # id(block) → paths

    def name(self, statement: Statement, family: str, suffix: str) -> str:
        number = self.counters.get(family, 0) + 1
        self.counters[family] = number
        if statement.label is not None:
            return statement.label.text + suffix
        return f"{family}{number}"

    def sequence(
        self,
        statements: Sequence[Statement],
        shape: Shape,
        field: Field,
        depth: int,
        path: str,
        suffix: str,
    ) -> tuple[Shape, Field]:
        for statement in statements:
            if statement.opens_block:
                shape, field = self.block(statement, shape, field, depth, path, suffix)
            else:
                shape, field = self.layer(statement, shape, field, depth, path, suffix)
        return shape, field

    def layer(
        self, statement: Statement, shape: Shape, field: Field, depth: int, path: str, suffix: str
    ) -> tuple[Shape, Field]:
        prepared = _PREPARED.get((statement.keyword.text, statement.args))
        if prepared is None:
            prepared = self.prepare(statement)
        # rules are pure: a prepared statement is computed once per input shape
        # rules are pure: a step is remembered by value, so layers written alike (repeat
        # blocks, stacks of identical lines, the same text evaluated again) share it
        step_key = (prepared.op, prepared.word, prepared.args, shape, self.rounding)
        step = _STEPS.get(step_key)
        if step is None:
            step = self.apply(prepared, statement, shape)
            if len(_STEPS) >= _MAX_CACHED:
                _STEPS.clear()
            _STEPS[step_key] = step
        out = step.out_shape
        field = _advance(field, step.window)
        self.layers.append(
            _new(  # every field given: skips the named tuple's Python-level __new__
                Layer,
                (
                    self.name(statement, prepared.rule.family, suffix),
                    prepared.op,
                    prepared.text,
                    statement.line,
                    depth,
                    path,
                    shape,
                    out,
                    step.weights,
                    step.biases,
                    step.macs,
                    step.exact,
                    step.ops,
                    step.args.activation,
                    step.axes,
                    field,
                    (),
                    step.args,
                ),
            )
        )
        return out, field

    @staticmethod
    def prepare(statement: Statement) -> Prepared:
        """A statement read, and remembered by its words: networks repeat themselves
        (repeat blocks, stacks of identical lines, a text evaluated again)."""
        op, rule = lookup(statement)
        args, site = rule.read(statement, read_args(statement), op)
        prepared = Prepared(op, rule, args, site, statement.text, statement.keyword.lower)
        if len(_PREPARED) >= _MAX_CACHED:
            _PREPARED.clear()
        _PREPARED[statement.keyword.text, statement.args] = prepared
        return prepared

    def apply(self, prepared: Prepared, statement: Statement, shape: Shape) -> Step:
        """The rule's step on ``shape``, with a trailing activation's cost (and prelu's
        weight) added; an error points at ``statement``, the one being evaluated."""
        site = prepared.site
        if site.statement is not statement:  # a statement written like an earlier one
            site = Site(statement, site.tokens)
        check_dims(site, prepared.word, shape)
        step = prepared.rule.apply(site, prepared.args, shape, self.rounding)
        activation = step.args.activation
        if activation is not None:
            extra = ACTIVATIONS[activation]
            out, weights, biases, macs, exact, ops, axes, window, args = step
            weights, ops = weights + extra.weights, ops + extra.ops(out)
            step = Step(out, weights, biases, macs, exact, ops, axes, window, args)
        _check_bounded(statement, step.out_shape, step.weights, step.exact, step.ops)
        return step

    def block(
        self, statement: Statement, shape: Shape, field: Field, depth: int, path: str, suffix: str
    ) -> tuple[Shape, Field]:
        kind = statement.keyword.lower
        if kind not in BLOCKS:
            if kind in INNER_BLOCKS:
                raise statement.error(
                    _("'{kind}:' belongs directly inside {INNER_BLOCKS}").format(
                        kind=kind, INNER_BLOCKS=_(INNER_BLOCKS[kind])
                    )
                )
            raise statement.error(
                _("unknown block '{text}:'").format(text=statement.keyword.text),
                hint=did_you_mean(kind, BLOCKS),
            )
        statement, frozen = without_frozen(statement)
        name = self.name(statement, kind, suffix)
        inner = f"{path}/{name}" if path else name
        first = len(self.layers)
        if kind == "group":
            if statement.args:
                raise statement.error(_("group: takes no arguments"), statement.args[0])
            out, field = self.sequence(statement.body, shape, field, depth + 1, inner, suffix)
        elif kind == "repeat":
            count = _repeat_count(statement)
            out = shape
            for i in range(1, count + 1):
                out, field = self.sequence(
                    statement.body, out, field, depth + 1, inner, f"{suffix}.{i}"
                )
        else:
            out, field = self.merge(statement, kind, name, shape, field, depth, inner, suffix)
        if frozen:  # every layer of the block with parameters
            for index in range(first, len(self.layers)):
                layer = self.layers[index]
                if layer.params:
                    args = (layer.args or Args())._replace(frozen=True)
                    self.layers[index] = layer._replace(args=args)
        self.blocks.append(
            Block(name, kind, statement.line, depth, path, shape, out, first, len(self.layers))
        )
        return out, field

    def merge(
        self,
        statement: Statement,
        kind: str,
        name: str,
        shape: Shape,
        field: Field,
        depth: int,
        inner: str,
        suffix: str,
    ) -> tuple[Shape, Field]:
        if statement.args:
            raise statement.error(
                _("{kind}: takes no arguments").format(kind=kind), statement.args[0]
            )
        paths = self.paths.get(id(statement))
        if paths is None:  # a block inside repeat is split into its paths once
            paths = self.paths[id(statement)] = _branches(statement, kind)
        results = [
            self.sequence(
                body, shape, field, depth + 1, f"{inner}/{label}" if label else inner, suffix
            )
            for label, body in paths
        ]
        shapes = tuple(out for out, _ in results)
        out = _merged_shape(statement, kind, shapes, [label for label, _ in paths])
        ops = (len(shapes) - 1) * elements(out) if kind != "concat" else 0
        _check_bounded(statement, out, 0, 0, ops)
        merged = _union([f for _, f in results])
        op = "concat" if kind == "concat" else "add"
        self.layers.append(
            Layer(
                f"{name}.{op}",
                op,
                _merge_text(kind, paths),
                statement.line,
                depth + 1,
                inner,
                shapes[0],
                out,
                0,
                0,
                0,
                0,
                ops,
                None,
                None,
                merged,
                shapes,
                MERGE_ARGS,
            )
        )
        return out, merged


def _check_bounded(statement: Statement, shape: Shape, weights: int, exact: int, ops: int) -> None:
    """Refuse a layer whose size or counts pass MAX_DERIVED (exact counts bound MACs)."""
    values = elements(shape)
    if max(values, weights, exact, ops) <= MAX_DERIVED:
        return
    what, count = max(
        [
            (N_("output values"), values),
            (N_("parameters"), weights),
            (N_("operations"), max(exact, ops)),
        ],
        key=lambda pair: pair[1],
    )
    digits = str(count)  # no float: the count may be past 10^308
    raise statement.error(
        _(
            "this layer comes to about {digits}.{digits2}×10^{value} {what} (more than 10^24)"
        ).format(digits=digits[0], digits2=digits[1], value=len(digits) - 1, what=_(what)),
        hint=_("a size grows without bound: check repeat counts, strides and concat blocks"),
    )


def _branches(statement: Statement, kind: str) -> list[tuple[str, tuple[Statement, ...]]]:
    """The parallel paths of a block, each as (label, statements)."""
    if kind == "residual":
        shortcuts = [s for s in statement.body if s.opens_block and s.keyword.lower == "shortcut"]
        if len(shortcuts) > 1:
            raise shortcuts[1].error(_("a residual block has one shortcut"))
        main = tuple(
            s for s in statement.body if not (s.opens_block and s.keyword.lower == "shortcut")
        )
        if not main:
            raise statement.error(_("residual: needs layers besides its shortcut"))
        return [("", main), ("shortcut", shortcuts[0].body if shortcuts else ())]
    paths: list[tuple[str, tuple[Statement, ...]]] = []
    for child in statement.body:
        if not (child.opens_block and child.keyword.lower == "branch"):
            raise child.error(
                _("only branch: blocks go directly inside {kind}:").format(kind=kind),
                hint=_("indent the layers under a 'branch:' line"),
            )
        if child.args:
            raise child.error(_("branch: takes no arguments"), child.args[0])
        paths.append((f"branch{len(paths) + 1}", child.body))
    return paths


def _merge_text(kind: str, paths: list[tuple[str, tuple[Statement, ...]]]) -> str:
    """What a merge row shows in the layer column: ``add: body + shortcut``."""
    if kind == "residual":
        return "add: body + " + ("shortcut" if paths[1][1] else "input")
    return f"{kind}: " + " + ".join(label for label, _ in paths)


def _merged_shape(
    statement: Statement, kind: str, shapes: tuple[Shape, ...], labels: list[str]
) -> Shape:
    first = shapes[0]
    for label, shape in zip(labels[1:], shapes[1:], strict=True):
        if kind == "concat":
            agree = len(shape) == len(first) and shape[:-1] == first[:-1]
            what = _("height and width") if len(first) == 3 else _("spatial size")
        else:
            agree = shape == first
            what = _("shape")
        if not agree:
            first_name = labels[0] or _("the body")
            raise statement.error(
                _(
                    "{kind}: {first_name} gives {format_shape} but {label} gives {format_shape2}; "
                    "they must agree in {what}"
                ).format(
                    kind=kind,
                    first_name=first_name,
                    format_shape=format_shape(first),
                    label=label,
                    format_shape2=format_shape(shape),
                    what=what,
                ),
            )
    if kind == "concat":
        return (*first[:-1], sum(s[-1] for s in shapes))
    return first


def _advance(field: Field, window: object) -> Field:
    """Receptive field after a layer, per dimension: size' = size + (k_eff − 1)·jump,
    jump' = jump·S, start' = start + ((k_eff − 1)/2 − P)·jump."""
    if window is None or field is None:
        return field
    if not isinstance(window, tuple):  # "lost"
        return None
    out: list[ReceptiveField] = []
    last: tuple[ReceptiveField, object, ReceptiveField] | None = None
    for f, step in zip(field, window, strict=True):
        if last is not None and last[0] is f and last[1] == step:
            out.append(last[2])  # a square window on a square field: share the result
            continue
        k, s, p = step
        advanced: ReceptiveField = _new(
            ReceptiveField,
            (f.size + (k - 1) * f.jump, f.jump * s, f.start + ((k - 1) / 2 - p) * f.jump),
        )
        out.append(advanced)
        last = (f, step, advanced)
    return tuple(out)


# tuple.__new__ builds a named tuple without its Python-level __new__ (every field is
# given): a third of the time of a layer, which a 10,000-layer network notices
_new = tuple.__new__


def _union(fields: list[Field]) -> Field:
    """The receptive field of a merge: the union of its branches' fields (None when a
    branch has none, or the branches' jumps differ)."""
    known = [f for f in fields if f is not None]
    if len(known) < len(fields) or not known:
        return None
    merged = []
    for axis in range(len(known[0])):
        jump = known[0][axis].jump
        lo, hi = [], []
        for field in known:
            size, step, start = field[axis]
            if step != jump:
                return None
            lo.append(start - (size - 1) / 2)
            hi.append(start + (size - 1) / 2)
        low, high = min(lo), max(hi)
        merged.append(ReceptiveField(int(high - low) + 1, jump, (low + high) / 2))
    return tuple(merged)
