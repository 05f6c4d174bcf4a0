"""Walk the statements, apply each layer's rule, and return a frozen :class:`Network`.

>>> net = evaluate("input 32x32x1; conv 6 k5 relu; avgpool k2 s2")
>>> [layer.out_shape for layer in net.layers]
[(28, 28, 6), (14, 14, 6)]
>>> net.params, net.macs
(156, 117600)
"""

from __future__ import annotations

import gc
import re

from .conventions import ROUNDINGS
from .dsl import Statement, parse
from .errors import CNNError, did_you_mean
from .layers import BLOCKS, Shape, Step, activation_ops, lookup, read_args, whole
from .results import Block, Layer, Network, ReceptiveField

MAX_LAYERS = 100_000

_MAP = re.compile(r"(\d+)x(\d+)x(\d+)\Z", re.ASCII)
_PAPER = re.compile(r"(\d+)@(\d+)x(\d+)\Z", re.ASCII)
_PLANE = re.compile(r"(\d+)x(\d+)\Z", re.ASCII)
_VECTOR = re.compile(r"\d+\Z", re.ASCII)
_INPUT_HINT = "write input HxWxC (32x32x1), C@HxW (1@32x32) or N for a vector (784)"

Field = tuple[ReceptiveField, ReceptiveField] | None


def evaluate(text: str, rounding: str | None = None, *, input: str | None = None) -> Network:
    """Evaluate a network written in the layer language.

    ``rounding`` is ``"textbook"`` (conv rounds down, pooling up), ``"floor"`` or
    ``"ceil"``; by default the text's own ``rounding`` statement, else textbook. An
    explicit ``rounding`` wins over the statement (``net.declared_rounding`` keeps what
    the text says). ``input`` (e.g. ``"224x224x3"``) replaces or supplies the ``input``
    line. Every mistake raises :class:`CNNError`; the text is never run as Python.

    >>> net = evaluate("rounding floor; input 9x9x1; maxpool k2")
    >>> net.rounding, net.output_shape, evaluate(net.text, "ceil").output_shape
    ('floor', (4, 4, 1), (5, 5, 1))
    """
    if not isinstance(text, str):
        raise TypeError(f"evaluate() takes the network as a str, not {type(text).__name__}")
    if rounding is not None and rounding not in ROUNDINGS:
        raise CNNError(
            f"unknown rounding {rounding!r}", hint=did_you_mean(str(rounding), ROUNDINGS)
        )
    # Statements and results are acyclic tuples, so the cyclic garbage collector has
    # nothing to find in them; pausing it saves half the time of a 10,000-layer network.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(text, rounding, input)
    finally:
        if collecting:
            gc.enable()


def _evaluate(text: str, rounding: str | None, input: str | None) -> Network:
    declared, statements = _rounding_statement(parse(text))
    rounding = rounding or declared or "textbook"
    if statements and statements[0].keyword.lower == "input" and not statements[0].opens_block:
        shape = _input_shape(statements[0])
        statements = statements[1:]
    elif input is None:
        where = statements[0] if statements else None
        if where is None:
            raise CNNError("the network is empty", hint="start with an input line: input 32x32x1")
        raise where.error("the network needs an input shape first", hint=_INPUT_HINT)
    if input is not None:
        shape = parse_shape(input)
    _check_size(statements)
    walker = _Walker(rounding)
    walker.sequence(statements, shape, _start_field(shape), 0, "", "")
    return Network(text, rounding, shape, tuple(walker.layers), tuple(walker.blocks), declared)


def declared_rounding(text: str) -> str | None:
    """The rounding mode the text's ``rounding`` statement sets, or None.

    >>> declared_rounding("rounding floor; input 8x8x1"), declared_rounding("input 8")
    ('floor', None)
    """
    return _rounding_statement(parse(text))[0]


_ROUNDING_HINT = "write it once, before the first layer: rounding floor"


def _rounding_statement(
    statements: tuple[Statement, ...],
) -> tuple[str | None, tuple[Statement, ...]]:
    """(the mode a ``rounding`` statement sets, the statements without it). The
    statement sets the rounding of the whole network, so it comes before the first
    layer (before or after ``input``), at most once, outside any block."""
    declared: Statement | None = None
    rest: list[Statement] = []
    for statement in statements:
        if statement.keyword.lower != "rounding":
            if statement.opens_block:
                _no_rounding_inside(statement.body)
            rest.append(statement)
            continue
        if statement.opens_block:
            raise statement.error("rounding: is not a block", hint=_ROUNDING_HINT)
        if statement.label is not None:
            raise statement.error("a rounding statement takes no label", statement.label)
        if declared is not None:
            raise statement.error(
                f"the rounding is already set on line {declared.line}", hint=_ROUNDING_HINT
            )
        if any(s.keyword.lower != "input" for s in rest):
            raise statement.error(
                "rounding applies to the whole network: put it before the first layer",
                hint=_ROUNDING_HINT,
            )
        args = statement.args
        if len(args) != 1 or args[0].lower not in ROUNDINGS:
            bad = args[1] if len(args) > 1 else args[0] if args else None
            raise statement.error(
                "rounding takes one mode: textbook, floor or ceil",
                bad,
                hint=did_you_mean(args[0].lower, ROUNDINGS) if len(args) == 1 else None,
            )
        declared = statement
    return (declared.args[0].lower if declared else None), tuple(rest)


def _no_rounding_inside(body: tuple[Statement, ...]) -> None:
    for statement in body:
        if statement.keyword.lower == "rounding" and not statement.opens_block:
            raise statement.error(
                "rounding applies to the whole network, not to a block",
                hint=_ROUNDING_HINT + " (a layer's own floor or ceil rounds that layer only)",
            )
        if statement.opens_block:
            _no_rounding_inside(statement.body)


def parse_shape(text: str) -> Shape:
    """An input shape written ``HxWxC``, ``C@HxW`` or ``N``.

    >>> parse_shape("32x32x1"), parse_shape("1@32x32"), parse_shape("784")
    ((32, 32, 1), (32, 32, 1), (784,))
    """
    try:
        statement = parse(f"input {text}")
        if len(statement) != 1 or statement[0].opens_block:
            raise CNNError(f"{text!r} is not a shape", hint=_INPUT_HINT)
        return _input_shape(statement[0])
    except CNNError as err:  # the option is not a line of the user's text: no caret
        raise CNNError(f"input shape {text!r}: {err.message}", hint=err.hint) from None


def _input_shape(statement: Statement) -> Shape:
    args = statement.args
    if not args:
        raise statement.error("input needs a shape", hint=_INPUT_HINT)
    words = [t.lower for t in args]
    token = args[0]
    shape: Shape | None = None
    if len(args) == 3 and all(_VECTOR.match(w) for w in words):  # "input 32, 32, 1"
        shape = tuple(whole(statement, t, w) for t, w in zip(args, words, strict=True))
    elif len(args) == 1:
        word = words[0]
        if m := _MAP.match(word):
            shape = tuple(whole(statement, token, v) for v in m.groups())
        elif m := _PAPER.match(word):
            c, h, w = (whole(statement, token, v) for v in m.groups())
            shape = (h, w, c)
        elif _VECTOR.match(word):
            shape = (whole(statement, token, word),)
        elif m := _PLANE.match(word):
            raise statement.error(
                f"'{token.text}' has no channel count",
                token,
                hint=f"shapes are H×W×C: did you mean {token.text}x1 (grey) "
                f"or {token.text}x3 (colour)?",
            )
    if shape is None:
        bad = args[0] if len(args) == 1 else args[min(len(args) - 1, 3)]
        raise statement.error(
            f"'{' '.join(t.text for t in args)}' is not a shape", bad, hint=_INPUT_HINT
        )
    if min(shape) < 1:
        raise statement.error("every input dimension must be at least 1", token)
    return shape


def _start_field(shape: Shape) -> Field:
    return (ReceptiveField(1, 1, 0.0),) * 2 if len(shape) == 3 else None


def _check_size(statements: tuple[Statement, ...]) -> int:
    """Count the layers the text expands to, refusing more than MAX_LAYERS up front."""
    total = 0
    for statement in statements:
        if statement.opens_block:
            inner = _check_size(statement.body)
            if statement.keyword.lower == "repeat":
                inner *= _repeat_count(statement)
            else:
                inner += 1  # the merge row of residual, concat and add
            total += inner
        else:
            total += 1
        if total > MAX_LAYERS:
            raise statement.error(
                f"the network expands to more than {MAX_LAYERS:,} layers",
                hint="is a repeat count too large?",
            )
    return total


def _repeat_count(statement: Statement) -> int:
    args = statement.args
    if len(args) != 1 or not _VECTOR.match(args[0].lower) or int(args[0].lower) < 1:
        raise statement.error(
            "repeat needs one whole number, at least 1",
            args[0] if args else None,
            hint="for example repeat 3:",
        )
    return whole(statement, args[0], args[0].lower)


class _Walker:
    """Applies the rules in execution order, naming layers and recording blocks."""

    def __init__(self, rounding: str) -> None:
        self.rounding = rounding
        self.layers: list[Layer] = []
        self.blocks: list[Block] = []
        self.counters: dict[str, int] = {}
        self.prepared: dict[tuple, tuple] = {}  # (keyword, args) → (op, rule, args, text)
        self.prepared_by_id: dict[int, tuple] = {}  # id(statement) → the same
        self.steps: dict[tuple, Step] = {}  # (id(prepared), input shape) → Step

    def name(self, statement: Statement, family: str, suffix: str) -> str:
        number = self.counters.get(family, 0) + 1
        self.counters[family] = number
        if statement.label is not None:
            return statement.label.text + suffix
        return f"{family}{number}"

    def sequence(
        self, statements, shape: Shape, field: Field, depth: int, path: str, suffix: str
    ) -> tuple[Shape, Field]:
        for statement in statements:
            if statement.opens_block:
                shape, field = self.block(statement, shape, field, depth, path, suffix)
            else:
                shape, field = self.layer(statement, shape, field, depth, path, suffix)
        return shape, field

    def layer(self, statement, shape, field, depth, path, suffix):
        prepared = self.prepared_by_id.get(id(statement))
        if prepared is None:
            prepared = self.prepared_by_id[id(statement)] = self.prepare(statement)
        op, rule, args, text = prepared
        # rules are pure: a prepared statement is computed once per input shape
        step_key = (id(prepared), shape)
        step = self.steps.get(step_key)
        if step is None:
            step = self.steps[step_key] = _with_activation(
                rule.compute(statement, args, shape, self.rounding), args.activation
            )
        out, weights, biases, macs, exact, ops, axes, window = step
        field = _advance(field, window)
        # tuple.__new__ skips the named tuple's Python-level __new__: every field is given
        self.layers.append(
            _new_layer(
                Layer,
                (
                    self.name(statement, rule.family, suffix),
                    op,
                    text,
                    statement.line,
                    depth,
                    path,
                    shape,
                    out,
                    weights,
                    biases,
                    macs,
                    exact,
                    ops,
                    args.activation,
                    axes,
                    field,
                    (),
                ),
            )
        )
        return out, field

    def prepare(self, statement: Statement) -> tuple:
        """(op, rule, args, text) of a statement. Networks repeat themselves (repeat
        blocks, stacks of identical lines): statements written alike share one."""
        key = (statement.keyword.text, statement.args)
        prepared = self.prepared.get(key)
        if prepared is None:
            op, rule = lookup(statement)
            prepared = self.prepared[key] = (
                op,
                rule,
                read_args(statement, op, rule.accepts),
                statement.text,
            )
        return prepared

    def block(self, statement, shape, field, depth, path, suffix):
        kind = statement.keyword.lower
        if kind not in BLOCKS:
            if kind in ("shortcut", "branch"):
                home = "residual:" if kind == "shortcut" else "concat: or add:"
                raise statement.error(f"'{kind}:' belongs directly inside {home}")
            raise statement.error(
                f"unknown block '{statement.keyword.text}:'", hint=did_you_mean(kind, BLOCKS)
            )
        name = self.name(statement, kind, suffix)
        inner = f"{path}/{name}" if path else name
        first = len(self.layers)
        if kind == "repeat":
            count = _repeat_count(statement)
            out = shape
            for i in range(1, count + 1):
                out, field = self.sequence(
                    statement.body, out, field, depth + 1, inner, f"{suffix}.{i}"
                )
        else:
            out, field = self.merge(statement, kind, name, shape, field, depth, inner, suffix)
        self.blocks.append(
            Block(name, kind, statement.line, depth, path, shape, out, first, len(self.layers))
        )
        return out, field

    def merge(self, statement, kind, name, shape, field, depth, inner, suffix):
        if statement.args:
            raise statement.error(f"{kind}: takes no arguments", statement.args[0])
        paths = self.branches(statement, kind)
        results = [
            self.sequence(
                body, shape, field, depth + 1, f"{inner}/{label}" if label else inner, suffix
            )
            for label, body in paths
        ]
        shapes = tuple(out for out, _ in results)
        out = _merged_shape(statement, kind, shapes, [label for label, _ in paths])
        ops = (len(shapes) - 1) * _elements(out) if kind != "concat" else 0
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
            )
        )
        return out, merged

    @staticmethod
    def branches(statement: Statement, kind: str) -> list[tuple[str, tuple[Statement, ...]]]:
        """The parallel paths of a block, each as (label, statements)."""
        if kind == "residual":
            shortcuts = [
                s for s in statement.body if s.opens_block and s.keyword.lower == "shortcut"
            ]
            if len(shortcuts) > 1:
                raise shortcuts[1].error("a residual block has one shortcut")
            main = tuple(
                s for s in statement.body if not (s.opens_block and s.keyword.lower == "shortcut")
            )
            if not main:
                raise statement.error("residual: needs layers besides its shortcut")
            return [("", main), ("shortcut", shortcuts[0].body if shortcuts else ())]
        paths = []
        for child in statement.body:
            if not (child.opens_block and child.keyword.lower == "branch"):
                raise child.error(
                    f"only branch: blocks go directly inside {kind}:",
                    hint="indent the layers under a 'branch:' line",
                )
            if child.args:
                raise child.error("branch: takes no arguments", child.args[0])
            paths.append((f"branch{len(paths) + 1}", child.body))
        return paths


_new_layer = tuple.__new__


def _with_activation(step: Step, activation: str | None) -> Step:
    """A layer's step with its trailing activation's cost (and prelu's weight) added."""
    if activation is None:
        return step
    return step._replace(
        weights=step.weights + (activation == "prelu"),
        ops=step.ops + activation_ops(activation, step.out_shape),
    )


def _merge_text(kind: str, paths) -> str:
    """What a merge row shows in the layer column: ``add: body + shortcut``."""
    if kind == "residual":
        return "add: body + " + ("shortcut" if paths[1][1] else "input")
    return f"{kind}: " + " + ".join(label for label, _ in paths)


def _merged_shape(statement: Statement, kind: str, shapes, labels) -> Shape:
    first = shapes[0]
    for label, shape in zip(labels[1:], shapes[1:], strict=True):
        if kind == "concat":
            agree = len(shape) == len(first) and shape[:-1] == first[:-1]
            what = "height and width"
        else:
            agree = shape == first
            what = "shape"
        if not agree:
            first_name = labels[0] or "the body"
            raise statement.error(
                f"{kind}: {first_name} gives {format_shape(first)} but {label} gives "
                f"{format_shape(shape)}; they must agree in {what}",
            )
    if kind == "concat":
        return (*first[:-1], sum(s[-1] for s in shapes))
    return first


def _elements(shape: Shape) -> int:
    total = 1
    for v in shape:
        total *= v
    return total


def format_shape(shape: Shape) -> str:
    """``28×28×6`` for maps (H×W×C), ``84`` for vectors.

    >>> format_shape((28, 28, 6)), format_shape((84,))
    ('28×28×6', '84')
    """
    return "×".join(str(v) for v in shape)


def _advance(field: Field, window) -> Field:
    """Receptive field after a layer: size' = size + (k_eff − 1)·jump, jump' = jump·S,
    start' = start + ((k_eff − 1)/2 − P)·jump."""
    if window is None or field is None:
        return field
    if window == "lost":
        return None
    (fh, fw), ((kh, sh, ph), (kw, sw, pw)) = field, window
    return (
        _new_field(
            ReceptiveField,
            (fh.size + (kh - 1) * fh.jump, fh.jump * sh, fh.start + ((kh - 1) / 2 - ph) * fh.jump),
        ),
        _new_field(
            ReceptiveField,
            (fw.size + (kw - 1) * fw.jump, fw.jump * sw, fw.start + ((kw - 1) / 2 - pw) * fw.jump),
        ),
    )


_new_field = tuple.__new__  # as _new_layer: a C call instead of a Python-level __new__


def _union(fields: list[Field]) -> Field:
    """The receptive field of a merge: the union of its branches' fields (None when a
    branch has none, or the branches' jumps differ)."""
    if None in fields:
        return None
    merged = []
    for axis in (0, 1):
        jump = fields[0][axis].jump
        lo, hi = [], []
        for field in fields:
            size, step, start = field[axis]
            if step != jump:
                return None
            lo.append(start - (size - 1) / 2)
            hi.append(start + (size - 1) / 2)
        low, high = min(lo), max(hi)
        merged.append(ReceptiveField(int(high - low) + 1, jump, (low + high) / 2))
    return tuple(merged)
