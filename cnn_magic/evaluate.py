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

from .conventions import ROUNDINGS, Rounding, check_rounding
from .dsl import (
    BLOCKS,
    INNER_BLOCKS,
    SHAPE_HINT,
    Statement,
    Token,
    input_shape,
    is_group_name,
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
    rounding: str | None = None,
    *,
    input: str | None = None,
    variables: dict[str, int] | None = None,
) -> Network:
    """Evaluate a network written in the layer language.

    ``rounding`` is ``"textbook"`` (conv rounds down, pooling up), ``"floor"`` or
    ``"ceil"``; by default the text's own ``rounding`` statement, else textbook. An
    explicit ``rounding`` wins over the statement (``net.declared_rounding`` keeps what
    the text says). ``input`` (e.g. ``"224x224x3"``) replaces or supplies the ``input``
    line; ``variables`` give new values to variables the text sets (``k = 5`` …
    ``k{k}``, see :mod:`cnn_magic.variables`). Every mistake raises :class:`CNNError`;
    the text is never run as Python.

    >>> net = evaluate("rounding floor; input 9x9x1; maxpool k2")
    >>> net.rounding, net.output_shape, evaluate(net.text, "ceil").output_shape
    ('floor', (4, 4, 1), (5, 5, 1))
    """
    if not isinstance(text, str):
        raise TypeError(f"evaluate() takes the network as a str, not {type(text).__name__}")
    mode = None if rounding is None else check_rounding(rounding)
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
    text: str, rounding: Rounding | None, input: str | None, values: dict[str, int] | None
) -> Network:
    source, changed = expand_lines(text, values)
    try:
        return _walk(text, source, rounding, input)
    except CNNError as error:
        if not changed:
            raise
        # the message quotes the line as written, with the values it was evaluated with
        raise restore(error, changed, {**variables(text), **(values or {})}) from None


def _walk(text: str, source: str, rounding: Rounding | None, input: str | None) -> Network:
    declared, statements = _rounding_statement(_parse(source))
    mode: Rounding = rounding or declared or "textbook"
    shape: Shape | None = None
    input_label = None
    if statements and statements[0].keyword.lower == "input" and not statements[0].opens_block:
        shape = input_shape(statements[0])
        input_label = statements[0].label
        statements = statements[1:]
    elif input is None:
        where = statements[0] if statements else None
        if where is None:
            raise CNNError(
                _("the network is empty"), hint=_("start with an input line: input 32x32x1")
            )
        raise where.error(_("the network needs an input shape first"), hint=_(SHAPE_HINT))
    if input is not None:
        later = [s for s in statements if s.keyword.lower == "input" and not s.opens_block]
        if later:
            raise later[0].error(
                _("this network has several inputs: --input (input=) replaces a single one"),
                hint=_("write each input's shape in the text"),
            )
        shape = parse_shape(input)
    assert shape is not None
    _check_size(statements)
    walker = _Walker(mode)
    walker.labels = _all_labels(statements, {})
    if input_label is not None:  # `x: input 32x32x3` names the input for references
        walker.outputs[input_label.text] = (-1, shape, _start_field(shape))
        walker.first_input_label = input_label.text
    walker.sequence(statements, shape, _start_field(shape), 0, "", "")
    return Network(
        text,
        mode,
        shape,
        tuple(walker.layers),
        tuple(walker.blocks),
        declared,
        input_label.text if input_label is not None else "input",
    )


def declared_rounding(text: str) -> Rounding | None:
    """The rounding mode the text's ``rounding`` statement sets, or None.

    >>> declared_rounding("rounding floor; input 8x8x1"), declared_rounding("input 8")
    ('floor', None)
    """
    source, _ = expand_lines(text, None)  # variables put in, as evaluate reads the text
    return _rounding_statement(parse(source))[0]


_ROUNDING_HINT = N_("write it once, before the first layer: rounding floor")


def _rounding_statement(
    statements: tuple[Statement, ...],
) -> tuple[Rounding | None, tuple[Statement, ...]]:
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
            raise statement.error(_("rounding: is not a block"), hint=_(_ROUNDING_HINT))
        if statement.label is not None:
            raise statement.error(_("a rounding statement takes no label"), statement.label)
        if declared is not None:
            raise statement.error(
                _("the rounding is already set on line {line}").format(line=declared.line),
                hint=_(_ROUNDING_HINT),
            )
        if any(s.keyword.lower != "input" for s in rest):
            raise statement.error(
                _("rounding applies to the whole network: put it before the first layer"),
                hint=_(_ROUNDING_HINT),
            )
        args = statement.args
        if len(args) != 1 or args[0].lower not in ROUNDINGS:
            bad = args[1] if len(args) > 1 else args[0] if args else None
            raise statement.error(
                _("rounding takes one mode: textbook, floor or ceil"),
                bad,
                hint=did_you_mean(args[0].lower, ROUNDINGS) if len(args) == 1 else None,
            )
        declared = statement
    return (check_rounding(declared.args[0].lower) if declared else None), tuple(rest)


def _no_rounding_inside(body: tuple[Statement, ...]) -> None:
    for statement in body:
        if statement.keyword.lower == "rounding" and not statement.opens_block:
            raise statement.error(
                _("rounding applies to the whole network, not to a block"),
                hint=_(
                    "write it once, before the first layer: rounding floor"
                    " (a layer's own floor or ceil rounds that layer only)"
                ),
            )
        if statement.opens_block:
            _no_rounding_inside(statement.body)


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
    is_group_name.cache_clear()


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


REFERENCE_MERGES = ("concat", "add", "mul")
"""Words that, without a ':' and with labels after them, merge labelled outputs."""


def _from_token(statement: Statement) -> Token | None:
    """The ``from=LABEL`` argument of a statement, if any."""
    for token in statement.args:
        if token.lower.startswith("from="):
            return token
    return None


def _all_labels(statements: Sequence[Statement], found: dict[str, int]) -> dict[str, int]:
    """Every label of the text with the line it is first written on."""
    for statement in statements:
        if statement.label is not None:
            found.setdefault(statement.label.text, statement.line)
        if statement.opens_block:
            _all_labels(statement.body, found)
    return found


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
        self.repeats = 0  # how many repeat blocks enclose the statement being walked
        # label → (row that produced it, -1 for the input; its shape; its receptive field)
        self.outputs: dict[str, tuple[int, Shape, Field]] = {}
        self.labels: dict[str, int] = {}  # every label of the text → its first line
        self.stripped: dict[int, Statement] = {}  # id(statement) → it without from=
        self.inputs = 1  # inputs so far; a second one is row −2 in Layer.reads
        self.fresh_input: int | None = None  # a row the next layer reads (an input, a reuse)
        self.first_input_label: str | None = None
        self.defined: dict[str, tuple[Statement, int, int]] = {}  # label → statement, rows
        self.uses: dict[str, int] = {}  # label → how many times it has been applied

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
                source = _from_token(statement)
                if source is not None:
                    if statement.keyword.lower not in ("group", "repeat"):
                        kind = statement.keyword.text
                        raise statement.error(
                            _("from= feeds a layer, group: or repeat:, not {kind}:").format(
                                kind=kind
                            ),
                            source,
                            hint=_("read the output with a layer first: identity from=LABEL"),
                        )
                    self.fresh_input, shape, field = self.read_label(statement, source)
                    statement = self.stripped.setdefault(
                        id(statement),
                        statement._replace(args=tuple(t for t in statement.args if t != source)),
                    )
                elif self.fresh_input is not None:
                    raise statement.error(
                        _("after a second input, start with a layer that reads it"),
                        hint=_("for example: identity, then the block"),
                    )
                shape, field = self.block(statement, shape, field, depth, path, suffix)
            elif statement.keyword.lower in REFERENCE_MERGES and statement.args:
                self.fresh_input = None
                shape, field = self.merge_labels(statement, depth, path, suffix)
            elif statement.keyword.lower == "maxunpool" and statement.args:
                shape, field = self.unpool(statement, shape, depth, path, suffix)
            elif statement.keyword.lower == "reuse":
                shape, field = self.reuse(statement, shape, field, depth, path, suffix)
            elif statement.keyword.lower == "input":
                shape, field = self.another_input(statement, depth, path)
                continue  # its label was recorded as the input's
            else:
                reads: tuple[int, ...] = () if self.fresh_input is None else (self.fresh_input,)
                self.fresh_input = None
                source = _from_token(statement)
                if source is not None:
                    producer, shape, field = self.read_label(statement, source)
                    reads = (producer,)
                    statement = self.stripped.setdefault(
                        id(statement),
                        statement._replace(args=tuple(t for t in statement.args if t != source)),
                    )
                shape, field = self.layer(statement, shape, field, depth, path, suffix, reads)
            if statement.label is not None:
                self.remember(statement, suffix, shape, field)
        return shape, field

    def another_input(self, statement: Statement, depth: int, path: str) -> tuple[Shape, Field]:
        """A second (third, ...) ``input``: the next layer reads it, and so can any later
        one by its label. Rows −1, −2, ... stand for the inputs in ``Layer.reads``."""
        if depth or self.repeats:
            raise statement.error(
                _("an input belongs at the top level, outside any block"),
                hint=_("write every input line unindented"),
            )
        if statement.label is None or self.first_input_label is None:
            raise statement.error(
                _("a network with several inputs names each: a label before every input line"),
                statement.label,
                hint=_("left: input 105x105x1 / right: input 105x105x1"),
            )
        shape = input_shape(statement)
        field = _start_field(shape)
        self.inputs += 1
        self.fresh_input = -self.inputs
        self.outputs[statement.label.text] = (-self.inputs, shape, field)
        index = len(self.layers)
        name = statement.label.text
        self.blocks.append(
            Block(name, "input", statement.line, depth, path, shape, shape, index, index)
        )
        return shape, field

    def reuse(
        self, statement: Statement, shape: Shape, field: Field, depth: int, path: str, suffix: str
    ) -> tuple[Shape, Field]:
        """``reuse LABEL [from=X]``: the labelled layer or block again, with its weights.
        Its rows count their operations but no parameters (``Layer.shared`` points at the
        row whose weights they use); the input must fit those weights."""
        source = _from_token(statement)
        names = [t for t in statement.args if t is not source]
        if len(names) != 1:
            raise statement.error(
                _("reuse takes one label: the layer or block to apply again"),
                names[1] if len(names) > 1 else None,
                hint=_("reuse tower  (or reuse tower from=right)"),
            )
        token = names[0]
        target, first, stop = self.defined_by(
            statement, token, _("'{label}' names nothing to reuse")
        )
        if not target.opens_block and target.keyword.lower in REFERENCE_MERGES:
            raise statement.error(
                _("'{label}' merges labelled outputs: it has no weights to reuse").format(
                    label=token.text
                ),
                token,
            )
        if source is not None:
            if target.opens_block and target.keyword.lower not in ("group", "repeat"):
                raise statement.error(
                    _(
                        "from= can feed a reused layer, group: or repeat:, not a {kind}: block"
                    ).format(kind=target.keyword.lower),
                    source,
                    hint=_("reuse it where its input is the previous output"),
                )
            self.fresh_input, shape, field = self.read_label(statement, source)
        uses = self.uses[token.text] = self.uses.get(token.text, 1) + 1
        start = len(self.layers)
        again = self.stripped.get(id(target), target)
        tag = f"{suffix}~{uses}"  # tower~2: the second use of tower
        if again.opens_block:
            shape, field = self.block(again, shape, field, depth, path, tag)
        else:
            reads = () if self.fresh_input is None else (self.fresh_input,)
            self.fresh_input = None
            shape, field = self.layer(again, shape, field, depth, path, tag, reads)
        originals = self.layers[first:stop]
        for offset, (row, original) in enumerate(zip(self.layers[start:], originals, strict=True)):
            if (row.weights, row.biases) != (original.weights, original.biases):
                raise statement.error(
                    _(
                        "reuse '{label}': {original} was built for {built}, here it gets {given}"
                        " ({built_params} parameters there, {params} here)"
                    ).format(
                        label=token.text,
                        original=original.text,
                        built=format_shape(original.in_shape),
                        given=format_shape(row.in_shape),
                        built_params=f"{original.params:,}",
                        params=f"{row.params:,}",
                    ),
                    token,
                    hint=_("shared weights need the same input channels (and fc the same inputs)"),
                )
            self.layers[start + offset] = row._replace(
                weights=0,
                biases=0,
                shared=first + offset,
                text=_("{text} (shared with {name})").format(text=row.text, name=original.name),
            )
        return shape, field

    def unpool(
        self, statement: Statement, shape: Shape, depth: int, path: str, suffix: str
    ) -> tuple[Shape, Field]:
        """``maxunpool POOL``: back to the size POOL (a labelled maxpool) started from."""
        token = statement.args[0]
        if len(statement.args) > 1:
            raise statement.error(
                _("maxunpool takes one label: the max pooling it undoes"), statement.args[1]
            )
        _target, first, stop = self.defined_by(
            statement, token, _("'{label}' names nothing to undo")
        )
        pool = self.layers[first]
        if stop - first != 1 or pool.op != "maxpool" or pool.axes is None:
            raise statement.error(
                (
                    _("'{label}' is a {op}, not a max pooling")
                    if stop - first == 1
                    else _("'{label}' is a block, not a max pooling")
                ).format(label=token.text, op=pool.op),
                token,
                hint=_("maxunpool undoes a labelled maxpool: p1: maxpool k2, then maxunpool p1"),
            )
        if shape != pool.out_shape:
            raise statement.error(
                _("maxunpool {label}: its input is {shape}, but {label} gave {pooled}").format(
                    label=token.text, shape=format_shape(shape), pooled=format_shape(pool.out_shape)
                ),
                token,
                hint=_("it puts back exactly the values the pooling kept"),
            )
        for axis in pool.axes:
            # PyTorch's MaxUnpool reaches the size only within a stride of its own estimate
            estimate = (axis.out - 1) * axis.stride - 2 * axis.pad_before + axis.kernel
            if axis.pad_before != axis.pad_after or not (
                estimate - axis.stride <= axis.size < estimate + axis.stride
            ):
                raise statement.error(
                    _(
                        "maxunpool {label}: PyTorch cannot restore size {size} from {out}"
                        " with kernel {kernel}, stride {stride}"
                    ).format(
                        label=token.text,
                        size=axis.size,
                        out=axis.out,
                        kernel=axis.kernel,
                        stride=axis.stride,
                    ),
                    token,
                    hint=_("unpooling needs a pool without dilation or one-sided padding"),
                )
        assert pool.args is not None
        args = Args(
            kernel=pool.args.kernel,
            stride=pool.args.stride,
            padding=tuple(a.pad_before for a in pool.axes),
            pool_row=first,
        )
        self.layers.append(
            Layer(
                self.name(statement, "maxunpool", suffix), "maxunpool", statement.text,
                statement.line, depth, path, shape, pool.in_shape, 0, 0, 0, 0, 0,
                None, None, None, (), args,
            )
        )  # fmt: skip
        return pool.in_shape, None  # the receptive field of an unpooled map is not a window

    def remember(self, statement: Statement, suffix: str, shape: Shape, field: Field) -> None:
        """A labelled statement's output, under its label and its name (``c.2`` in a repeat)."""
        assert statement.label is not None
        if statement.opens_block and statement.keyword.lower == "side":
            return  # a side output is an output, not a map to read: see read_label
        if statement.keyword.lower != "reuse":
            # a block is appended after its children: the last one is this statement's
            first = self.blocks[-1].first if statement.opens_block else len(self.layers) - 1
            self.defined.setdefault(statement.label.text, (statement, first, len(self.layers)))
        entry = (len(self.layers) - 1, shape, field)
        self.outputs[statement.label.text] = entry
        self.outputs[statement.label.text + suffix] = entry

    def defined_by(
        self, statement: Statement, token: Token, nothing: str
    ) -> tuple[Statement, int, int]:
        """(statement, first row, stop) of what the label ``token`` defined; a CNNError
        when it names nothing of the kind (``nothing``: the message, with {label})."""
        found = self.defined.get(token.text)
        if found is None:
            self.read_label(statement, token)  # raises: unknown, later, or a side output
            raise statement.error(nothing.format(label=token.text), token)
        return found

    def read_label(self, statement: Statement, token: Token) -> tuple[int, Shape, Field]:
        """The output a reference names: the most recent one with that label."""
        label = token.text.split("=", 1)[1] if "=" in token.text else token.text
        found = self.outputs.get(label)
        if found is not None:
            return found
        if label in self.labels and self.labels[label] >= statement.line:
            raise statement.error(
                _("label '{label}' is defined later, on line {line}").format(
                    label=label, line=self.labels[label]
                ),
                token,
                hint=_("a statement can read only outputs written before it"),
            )
        if label in self.labels:
            raise statement.error(
                _("'{label}' is a side output, not a map to read").format(label=label),
                token,
                hint=_("label a layer inside the side: block to read its output"),
            )
        known = sorted(self.outputs)
        raise statement.error(
            _("unknown label '{label}'").format(label=label),
            token,
            hint=did_you_mean(label, known) if known else _("no output has a label yet"),
        )

    def merge_labels(
        self, statement: Statement, depth: int, path: str, suffix: str
    ) -> tuple[Shape, Field]:
        """``concat A, B`` / ``add A, B`` / ``mul A, B``: a merge row of labelled outputs
        (add and mul broadcast as PyTorch does: each dimension equal, or 1)."""
        kind = statement.keyword.lower
        found = [(token, *self.read_label(statement, token)) for token in statement.args]
        if len(found) < 2:
            raise statement.error(
                _("{kind} of labels needs at least two").format(kind=kind),
                statement.args[0],
                hint=_("{kind} a, b  (or the block form {kind}:)").format(kind=kind),
            )
        shapes = tuple(shape for _, _, shape, _ in found)
        first_token, _producer, first, _field = found[0]
        out = first
        for token, _producer, shape, _field in found[1:]:
            if kind == "concat":
                agree = len(shape) == len(first) and shape[:-1] == first[:-1]
                if not agree:
                    size = "x".join(map(str, shape[:-1]))
                    raise statement.error(
                        _(
                            "concat: {first_label} gives {first} but {label} gives {shape};"
                            " all but the channels must agree"
                        ).format(
                            first_label=first_token.text,
                            first=format_shape(first),
                            label=token.text,
                            shape=format_shape(shape),
                        ),
                        token,
                        hint=_("crop or pad one of them first (crop {size} from={label})").format(
                            size=size, label=first_token.text
                        )
                        if len(shape) == len(first)
                        else None,
                    )
                out = (*out[:-1], out[-1] + shape[-1])
                continue
            fits = len(shape) == len(out) and all(
                a == b or 1 in (a, b) for a, b in zip(out, shape, strict=True)
            )
            if not fits:
                raise statement.error(
                    _(
                        "{kind}: {first_label} gives {first} but {label} gives {shape};"
                        " they do not broadcast"
                    ).format(
                        kind=kind,
                        first_label=first_token.text,
                        first=format_shape(first),
                        label=token.text,
                        shape=format_shape(shape),
                    ),
                    token,
                    hint=_("each dimension must be equal, or 1 in one of them"),
                )
            out = tuple(max(a, b) for a, b in zip(out, shape, strict=True))
        ops = 0 if kind == "concat" else (len(found) - 1) * elements(out)
        field = _union([f for _, _, _, f in found])
        name = self.name(statement, kind, suffix)
        sign = " × " if kind == "mul" else " + "
        text = f"{kind}: " + sign.join(t.text for t, _, _, _ in found)
        self.layers.append(
            Layer(
                name, kind, text, statement.line, depth, path, shapes[0], out,
                0, 0, 0, 0, ops, None, None, field, shapes, MERGE_ARGS,
                tuple(producer for _, producer, _, _ in found),
            )
        )  # fmt: skip
        return out, field

    def layer(
        self,
        statement: Statement,
        shape: Shape,
        field: Field,
        depth: int,
        path: str,
        suffix: str,
        reads: tuple[int, ...] = (),
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
                    reads,
                    -1,
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
            self.repeats += 1
            for i in range(1, count + 1):
                out, field = self.sequence(
                    statement.body, out, field, depth + 1, inner, f"{suffix}.{i}"
                )
            self.repeats -= 1
        elif kind == "side":
            out, field = self.side(statement, shape, field, depth, inner, suffix)
        else:
            out, field = self.merge(statement, kind, name, shape, field, depth, inner, suffix)
        # a side output's block shows the side's own output; the main path goes on unchanged
        shown = self.layers[-1].out_shape if kind == "side" else out
        if frozen:  # every layer of the block with parameters
            for index in range(first, len(self.layers)):
                layer = self.layers[index]
                if layer.params:
                    args = (layer.args or Args())._replace(frozen=True)
                    self.layers[index] = layer._replace(args=args)
        self.blocks.append(
            Block(name, kind, statement.line, depth, path, shape, shown, first, len(self.layers))
        )
        return out, field

    def side(
        self, statement: Statement, shape: Shape, field: Field, depth: int, inner: str, suffix: str
    ) -> tuple[Shape, Field]:
        """A side output (an auxiliary head): its body runs on the current output and ends
        in an output of its own; the main path goes on from the block's input, unchanged."""
        if statement.args:
            raise statement.error(_("side: takes no arguments"), statement.args[0])
        if self.repeats:
            raise statement.error(
                _("a side output cannot be inside repeat: every pass would add another output"),
                hint=_("write it once, after the repeat (or write the repeat's passes out)"),
            )
        self.sequence(statement.body, shape, field, depth + 1, inner, suffix)
        return shape, field

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
        if statement.args and kind != "split":
            raise statement.error(
                _("{kind}: takes no arguments").format(kind=kind), statement.args[0]
            )
        paths = self.paths.get(id(statement))
        if paths is None:  # a block inside repeat is split into its paths once
            paths = self.paths[id(statement)] = _branches(statement, kind)
        inputs = [shape] * len(paths)
        if kind == "split":
            inputs = [(*shape[:-1], c) for c in _split_sizes(statement, shape, len(paths))]
        results = [
            self.sequence(
                body, start, field, depth + 1, f"{inner}/{label}" if label else inner, suffix
            )
            for (label, body), start in zip(paths, inputs, strict=True)
        ]
        shapes = tuple(out for out, _ in results)
        if kind == "scale":  # input × gate: the gate broadcasts over the input
            shapes = (shape, *shapes)
            _check_gate(statement, shape, shapes[1])
            out = shape
        else:
            out = _merged_shape(statement, kind, shapes, [label for label, _ in paths])
        ops = (len(shapes) - 1) * elements(out) if kind not in ("concat", "split") else 0
        _check_bounded(statement, out, 0, 0, ops)
        merged = _union([f for _, f in results])
        op = {"concat": "concat", "split": "concat", "scale": "mul"}.get(kind, "add")
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
    if kind == "scale":
        return [("", statement.body)]
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


def _split_sizes(statement: Statement, shape: Shape, parts: int) -> list[int]:
    """The channels of each part of ``split N:`` (N equal parts) or ``split a b ...:``
    (those sizes, which must add up to the input's channels), one part per branch."""
    args = statement.args
    words = [t.lower for t in args]
    if not args or not all(w.isascii() and w.isdigit() and int(w) > 0 for w in words):
        bad = next((t for t in args if not (t.lower.isdigit() and int(t.lower) > 0)), None)
        raise statement.error(
            _("split needs the number of equal parts, or the size of each part"),
            bad,
            hint=_("split 2: (two halves) or split 24 40: (24 and 40 channels)"),
        )
    c = shape[-1]
    if len(args) == 1:
        count = int(words[0])
        if c % count:
            raise statement.error(
                _(
                    "split {count}: the input's {c} channels do not split into {count} equal parts"
                ).format(count=count, c=f"{c:,}"),
                args[0],
                hint=_("give the sizes instead, e.g. split {first} {second}:").format(
                    first=c // count, second=c - c // count
                )
                if count == 2
                else _("give the size of each part"),
            )
        sizes = [c // count] * count
    else:
        sizes = [int(w) for w in words]
        if sum(sizes) != c:
            raise statement.error(
                _("split sizes {sizes} = {total}, but the input has {c} channels").format(
                    sizes=" + ".join(words), total=f"{sum(sizes):,}", c=f"{c:,}"
                ),
                args[0],
                hint=_("the parts must add up to the channels"),
            )
    if len(sizes) != parts:
        raise statement.error(
            (
                _("split makes {sizes} parts but has {parts} branch")
                if parts == 1
                else _("split makes {sizes} parts but has {parts} branches")
            ).format(sizes=len(sizes), parts=parts),
            args[0],
            hint=_("one branch: block per part"),
        )
    return sizes


def _check_gate(statement: Statement, shape: Shape, gate: Shape) -> None:
    """``scale:``'s gate broadcasts over its input: each dimension equal, or 1 (a 1×1×C
    gate over H×W×C, as squeeze-and-excitation makes)."""
    fits = len(gate) == len(shape) and all(g in (1, v) for g, v in zip(gate, shape, strict=True))
    if not fits:
        raise statement.error(
            _(
                "scale: the input is {shape} but the gate (the body's output) is {gate};"
                " they do not broadcast"
            ).format(shape=format_shape(shape), gate=format_shape(gate)),
            hint=_(
                "each dimension of the gate must equal the input's or be 1"
                " (e.g. 1×1×{c}: gap, then convs back to {c} channels)"
            ).format(c=shape[-1]),
        )


def _merge_text(kind: str, paths: list[tuple[str, tuple[Statement, ...]]]) -> str:
    """What a merge row shows in the layer column: ``add: body + shortcut``."""
    if kind == "residual":
        return "add: body + " + ("shortcut" if paths[1][1] else "input")
    if kind == "scale":
        return "mul: input × body"
    if kind == "split":
        return "concat: " + " + ".join(label for label, _ in paths)
    return f"{kind}: " + " + ".join(label for label, _ in paths)


def _merged_shape(
    statement: Statement, kind: str, shapes: tuple[Shape, ...], labels: list[str]
) -> Shape:
    first = shapes[0]
    for label, shape in zip(labels[1:], shapes[1:], strict=True):
        if kind in ("concat", "split"):
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
    if kind in ("concat", "split"):
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
