"""What each layer word means: one rule object per layer kind, the only place that knows it.

A rule (:class:`Rule`) holds every fact about its layer: its words and aliases, the
arguments it takes, its output shape and counts (:meth:`Rule.apply`), the terms of its
explanation (:meth:`Rule.shape_lines`, :meth:`Rule.param_terms`, :meth:`Rule.count_term`,
:meth:`Rule.ops_term`), its PyTorch modules (:meth:`Rule.torch`, given ``torch.nn``) and
the one-line summary that the help and the README table are built from. :data:`RULES`
maps each canonical name to its rule; :data:`ALIASES` maps every other word to a name.

Shapes are ``(spatial..., C)`` with one, two or three spatial dimensions, or ``(N,)``
for vectors (see :mod:`cnn_magic.shapes`); every rule works per spatial dimension.
Every size is an exact integer.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple, Protocol

from . import pytorch_lines
from .conventions import Convention, Rounding, rounding_for
from .dsl import BLOCKS, INNER_BLOCKS, KEY_FORMS, Arg, Statement, Token, unknown_argument
from .errors import CNNError, did_you_mean
from .i18n import N_, _, _n, language
from .shapes import SPATIAL_NAMES, Axis, Shape, elements, format_shape
from .terms import Term, bracket, cdot, minus, num, paren, plus, product_of, rounded, times

Module = Any  # a torch.nn.Module; torch stays optional, so it is never imported here
Window = tuple[tuple[int, int, int], ...] | str | None
"""How a layer moves the receptive field: None keeps it, "lost" ends it (vectors,
non-uniform windows), else per spatial dimension (effective kernel, stride, padding
before)."""

# --------------------------------------------------------------------------- arguments


class Args(NamedTuple):
    """The typed arguments a rule read, defaults filled in; per-dimension values have one
    number per spatial dimension. ``None``: the layer does not take that argument."""

    n: int | None = None  # filters of conv/deconv, output features of fc
    multiplier: int | None = None  # dwconv: N = C_in · multiplier
    output_size: tuple[int, ...] | None = None  # adaptive pools
    p: float | None = None  # dropout probability
    negative_slope: float | None = None  # leakyrelu
    alpha: float | None = None  # elu
    scale: tuple[int, ...] | None = None  # upsample
    mode: str | None = None  # upsample: "nearest" or "bilinear"
    kernel: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | str | None = None  # numbers, or "same"
    dilation: tuple[int, ...] | None = None
    groups: int | None = None
    out_pad: tuple[int, ...] | None = None
    bias: bool | None = None
    rounding: str | None = None  # the layer's own "floor"/"ceil", if written
    activation: str | None = None  # a trailing activation: "conv 6 k5 relu"
    factor: int | None = None  # pixelshuffle, pixelunshuffle
    top: int | None = None  # pad and crop: per side, as written
    bottom: int | None = None
    left: int | None = None
    right: int | None = None
    sides: tuple[tuple[int, int], ...] | None = None  # pad, crop: (before, after) per axis
    pool_row: int | None = None  # maxunpool: the row of the max pooling it undoes
    frozen: bool | None = None  # "frozen": its parameters are not trained


class ArgSpec(NamedTuple):
    """The schema of one argument: whether it has a number per dimension, its least
    value, and how it is written."""

    per_dim: bool
    least: int
    written: str


_SCHEMAS: dict[str, tuple[bool, int]] = {
    "kernel": (True, 1),
    "stride": (True, 1),
    "padding": (True, 0),
    "dilation": (True, 1),
    "groups": (False, 1),
    "out_pad": (True, 0),
    "bias": (False, 0),
    "rounding": (False, 0),
    "mode": (False, 0),
    "top": (False, 0),
    "bottom": (False, 0),
    "left": (False, 0),
    "right": (False, 0),
    "frozen": (False, 0),
}
"""Each keyed argument: whether it has a number per dimension, and its least value."""

ARGUMENTS: dict[str, ArgSpec] = {
    **{name: ArgSpec(*schema, KEY_FORMS[name]) for name, schema in _SCHEMAS.items()},
    "activation": ArgSpec(False, 0, "relu, softmax, ..."),
}
"""Every keyed argument of the language, with its schema."""


class Number(NamedTuple):
    """The schema of a layer's bare number (``conv 6``, ``dropout 0.5``, ``upsample 2``).

    ``kind``: ``count`` (one whole number ≥ 1), ``sizes`` (whole numbers ≥ 1, one per
    dimension or one for all), ``extents`` (the same, ≥ 0), ``fraction`` (a number in
    [0, 1]) or ``real`` (any number ≥ 0); ``field`` is the :class:`Args` field it fills.
    """

    field: str
    kind: str
    required: bool
    default: int | float | None
    hint: str


class Site(NamedTuple):
    """Where a layer is written: its statement and the token of each argument, so an
    error can point at the token that caused it."""

    statement: Statement
    tokens: dict[str, Token]

    def error(self, message: str, name: str | None = None, hint: str | None = None) -> CNNError:
        """A CNNError pointing at the token of argument ``name`` (the keyword if none)."""
        error: CNNError = self.statement.error(
            message, self.tokens.get(name) if name else None, hint
        )
        return error


class Step(NamedTuple):
    """What a rule computes for one layer."""

    out_shape: Shape
    weights: int = 0
    biases: int = 0
    macs: int = 0
    exact: int = 0  # multiplications + additions, the notes' way
    ops: int = 0  # other elementary operations, counted only by "all ops"
    axes: tuple[Axis, ...] | None = None
    window: Window = None
    args: Args = Args()


class Layer(Protocol):
    """What a rule reads back from an evaluated layer (a :class:`cnn_magic.Layer`) to
    explain it and to build its PyTorch twin."""

    @property
    def op(self) -> str: ...
    @property
    def in_shape(self) -> Shape: ...
    @property
    def out_shape(self) -> Shape: ...
    @property
    def axes(self) -> tuple[Axis, ...] | None: ...
    @property
    def branches(self) -> tuple[Shape, ...]: ...
    @property
    def args(self) -> Args | None: ...


class Worked(NamedTuple):
    """One line of an explanation: ``label = term = value``, and words when needed.

    ``term`` None: the value is given, not computed (an adaptive pool's size).
    """

    label_tex: str
    label_txt: str
    term: Term | None
    value: int
    note: str = ""


# --------------------------------------------------------------------------- the rule


class Rule:
    """Everything about one layer kind. Subclasses fill in the facets; the guard test
    (tests/test_rules.py) checks that every rule has every one of them."""

    name: str = ""
    """The canonical word, ``Layer.op``."""
    aliases: tuple[str, ...] = ()
    """Other words for it, as PyTorch names them (``conv2d``)."""
    dim_aliases: dict[str, tuple[int, ...]] = {}  # noqa: RUF012 (read-only)
    """Words that also fix the spatial dimensions: ``conv1d`` → (1,)."""
    family: str = ""
    """Prefix of generated names: conv1, pool1, fc1, ..."""
    usage: str = ""
    """How it is written: ``conv N k.. [s][p][d][g]``."""
    meaning: str = ""
    """What it does, in a few words: English, marked ``N_`` for the catalog; shown through
    :meth:`describe`."""
    params_text: str = "0"
    """Its parameters as a formula."""
    cost_text: str = ""
    """Its operations under "all ops", in words ("" if it has none); marked ``N_``."""
    accepts: frozenset[str] = frozenset()
    """Keyed arguments it takes (see :data:`ARGUMENTS`)."""
    number: Number | None = None
    """Its bare number, if it takes one."""
    words: tuple[str, ...] = ()
    """Bare words it takes besides activations (upsample's modes)."""
    dims: tuple[int, ...] = (0, 1, 2, 3)
    """Spatial dimensions of the input it accepts; 0 is a vector."""
    merge: bool = False
    """A block's merge row (add, concat), not a word of the text."""
    trailing: bool = True
    """Whether an activation may follow it on its line (not after an activation)."""

    def describe(self) -> str:
        """What it does, in the language in force."""
        return _(self.meaning)

    def accepted(self) -> frozenset[str]:
        """Every keyed argument it takes, a trailing activation included, and
        ``frozen`` where it has parameters."""
        accepted = self.accepts | {"activation"} if self.trailing else self.accepts
        return accepted | {"frozen"} if self.params_text != "0" else accepted

    # --- reading

    def read(self, statement: Statement, found: Sequence[Arg], op: str) -> tuple[Args, Site]:
        """The arguments of ``statement`` checked against this rule's schema (not yet
        against a shape): each accepted, given once, in range."""
        values: dict[str, Any] = {}
        tokens: dict[str, Token] = {}
        accepted = self.accepted()
        for name, raw, token in found:
            value: Any = raw
            if name == "word":
                name, value = self._word(statement, token, op, str(value))
            elif name == "number":
                if self.number is None:
                    raise statement.error(
                        _("{op} takes no number '{text}'").format(op=op, text=token.text),
                        token,
                        hint=self._keyed_hint(op, token.text),
                    )
                if "number" in tokens:
                    raise self._second_number(statement, token, op, tokens["number"])
                tokens["number"] = token
                name, value = self._number(statement, token, op, value)
            elif name not in accepted:
                raise statement.error(
                    _("{op} takes no '{text}' ({name})").format(op=op, text=token.text, name=name),
                    token,
                    hint=_("{op} takes: {arguments}").format(op=op, arguments=self.takes()),
                )
            elif isinstance(value, tuple):
                value = self._keyed(statement, token, name, value)
            if name in values:
                what = _("activation") if name == "activation" else name
                raise statement.error(
                    _("'{text}' ({what}) is given twice").format(text=token.text, what=what), token
                )
            values[name] = value
            tokens[name] = token
        return Args(**values), Site(statement, tokens)

    def _keyed_hint(self, op: str, number: str) -> str:
        """Sizes are written with their letter: PyTorch's positional habit, answered."""
        if "kernel" not in self.accepts:
            return _("{op} takes: {arguments}").format(op=op, arguments=self.takes())
        return _(
            "sizes are written with their letter: {op} k{number} (k kernel, s stride, p padding)"
        ).format(op=op, number=number)

    def _second_number(self, statement: Statement, token: Token, op: str, first: Token) -> CNNError:
        """``conv 6 5``: say what each number is, and how the second is written."""
        assert self.number is not None
        if "kernel" not in self.accepts:
            return statement.error(
                _("{op} takes one bare number ('{text}'); '{text2}' is a second one").format(
                    op=op, text=first.text, text2=token.text
                ),
                token,
                hint=_(self.number.hint),
            )
        return statement.error(
            _("{op} takes one bare number ('{text}': {hint}); '{text2}' needs its letter").format(
                op=op, text=first.text, hint=_(self.number.hint), text2=token.text
            ),
            token,
            hint=_(
                "in PyTorch's order the next number is the kernel size: {op} {text} k{text2}  "
                "(then stride s2, padding p1)"
            ).format(op=op, text=first.text, text2=token.text),
        )

    def takes(self) -> str:
        """The arguments it takes, as written."""
        names = sorted(self.accepted())
        parts = [_(ARGUMENTS[name].written) for name in names]
        if self.number is not None:
            parts.insert(0, _("a number"))
        return ", ".join(parts) or _("no arguments")

    def _word(self, statement: Statement, token: Token, op: str, word: str) -> tuple[str, Any]:
        if word in ACTIVATION_WORDS:
            if not self.trailing:
                raise statement.error(
                    _("{op} takes no activation '{text}'").format(op=op, text=token.text),
                    token,
                    hint=_("an activation follows a layer that has weights: conv 6 k5 relu"),
                )
            return "activation", ACTIVATION_WORDS[word]
        if word in self.words:
            return "mode", word
        raise unknown_argument(
            statement,
            token,
            (*(ACTIVATION_WORDS if self.trailing else ()), *self.words),
        )

    def _keyed(
        self, statement: Statement, token: Token, name: str, value: tuple[Any, ...]
    ) -> tuple[int, ...] | int:
        spec = ARGUMENTS[name]
        if not spec.per_dim and len(value) > 1:
            raise statement.error(
                _("'{text}': {name} is one whole number").format(text=token.text, name=name),
                token,
                hint=_("for example {written}").format(written=_(spec.written)),
            )
        if min(value) < spec.least:
            raise statement.error(
                _("'{text}': {name} must be at least {least}").format(
                    text=token.text, name=name, least=spec.least
                ),
                token,
            )
        return value if spec.per_dim else value[0]

    def _number(
        self, statement: Statement, token: Token, op: str, value: object
    ) -> tuple[str, Any]:
        spec = self.number
        assert spec is not None  # checked by the caller
        numbers = value if isinstance(value, tuple) else ()
        if spec.kind in ("count", "sizes", "extents"):
            whole = all(isinstance(v, int) for v in numbers)
            field = _FIELD_WORDS.get(spec.field, spec.field.replace("_", " "))
            noun = _("size") if spec.kind == "count" else _(field)
            least = 0 if spec.kind == "extents" else 1
            at_least = _("whole numbers ≥ {least}").format(least=least)
            if not whole or (spec.kind == "count" and len(numbers) != 1):
                must = _("a whole number") if spec.kind == "count" else at_least
                raise statement.error(
                    _("'{text}': {op}'s {noun} must be {what}").format(
                        text=token.text, op=op, noun=noun, what=must
                    ),
                    token,
                    hint=_(spec.hint),
                )
            if min(numbers) < least:
                what = _("at least 1") if spec.kind == "count" else at_least
                raise statement.error(
                    _("'{text}': {op}'s {noun} must be {what}").format(
                        text=token.text, op=op, noun=noun, what=what
                    ),
                    token,
                    hint=_(spec.hint),
                )
            return spec.field, numbers[0] if spec.kind == "count" else numbers
        if len(numbers) != 1:  # fraction or real: one number, never 5x5
            raise statement.error(
                _("'{text}': {op} takes one number, not {len}").format(
                    text=token.text, op=op, len=len(numbers)
                ),
                token,
                hint=_(spec.hint),
            )
        number = float(numbers[0])
        if spec.kind == "fraction" and not 0 <= number <= 1:
            raise statement.error(
                _("{op} probability {text} is not in [0, 1]").format(op=op, text=token.text),
                token,
                hint=_(spec.hint),
            )
        return spec.field, number

    def resolve(self, site: Site, args: Args, dims: int) -> Args:
        """``args`` with each per-dimension value stretched to ``dims`` numbers and the
        defaults filled in."""
        updates: dict[str, Any] = {}
        for name in ("kernel", "stride", "padding", "dilation", "out_pad", "output_size", "scale"):
            value = getattr(args, name)
            if type(value) is tuple and len(value) != dims:
                updates[name] = _stretch(site, name, value, dims)
        return args._replace(**updates) if updates else args

    def window_args(
        self, site: Site, args: Args, dims: int, *, pool: bool, dilated: bool = True, **more: Any
    ) -> Args:
        """The arguments of a sliding window, stretched to ``dims`` and with defaults:
        stride 1 (pooling: the kernel), dilation 1, padding 0 (``valid`` too; ``same``
        stays ``"same"``); ``more`` are further fields the rule fills in."""
        kernel, stride, dilation, padding = args.kernel, args.stride, args.dilation, args.padding
        if kernel is None:
            op = site.statement.keyword.lower
            raise site.error(
                _("{op} needs a kernel size").format(op=op),
                hint=_("for example {op} ... k3").format(op=op),
            )
        if len(kernel) != dims:
            kernel = _stretch(site, "kernel", kernel, dims)
        if stride is not None and len(stride) != dims:
            stride = _stretch(site, "stride", stride, dims)
        if dilation is not None and len(dilation) != dims:
            dilation = _stretch(site, "dilation", dilation, dims)
        if type(padding) is tuple and len(padding) != dims:
            padding = _stretch(site, "padding", padding, dims)
        elif padding is None or padding == "valid":
            padding = (0,) * dims
        return args._replace(
            kernel=kernel,
            stride=stride or (kernel if pool else (1,) * dims),
            dilation=dilation or ((1,) * dims if dilated else None),
            padding=padding,
            **more,
        )

    # --- the facets each rule fills in

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        """Output shape and counts of this layer on an input of ``shape``."""
        raise NotImplementedError

    def shape_lines(self, layer: Layer) -> list[Worked]:
        """The worked output size (default: one line per spatial axis)."""
        return axis_lines(layer.axes) if layer.axes else []

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        """Weights and biases as the notes write them, and notes; [] if it has none."""
        return [], []

    def count_term(self, layer: Layer, convention: Convention) -> Term | None:
        """MACs, FLOPs or exact count of a layer the totals count; None for others."""
        return None

    def ops_term(self, layer: Layer) -> Term | None:
        """The operations "all ops" adds for it (on ``layer.out_shape``); None if none."""
        return None

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        """The PyTorch modules that compute this layer, from ``torch.nn`` and its args."""
        raise NotImplementedError

    # --- shared checks

    def feature_map(self, site: Site, shape: Shape, op: str) -> int:
        """The spatial dimensions of ``shape``, which must be a feature map."""
        if len(shape) == 1:
            raise site.error(
                _(
                    "{op} needs a feature map (H×W×C), but its input is a vector of {shape:,}"
                ).format(op=op, shape=shape[0]),
                hint=_("convolution and pooling come before flatten/fc"),
            )
        return len(shape) - 1


# --------------------------------------------------------------------------- windows


def windows(
    site: Site, args: Args, spatial: Shape, rounding: str, *, pool: bool
) -> tuple[Axis, ...]:
    """Output size of a sliding window along each spatial dimension.

    ``k_eff = d·(k − 1) + 1`` and ``x = (H + 2P − k_eff) / S``; floor: ``⌊x⌋ + 1``;
    ceil: ``⌈x⌉ + 1``, minus 1 if ``(out − 1)·S ≥ H + P`` (the last window must start
    inside the input or the left padding, as PyTorch's ceil_mode and Caffe do) — only
    when x is fractional, so ceil never gives fewer outputs than floor;
    same: ``⌈H / S⌉``, total padding ``max((out − 1)·S + k_eff − H, 0)``, the odd pixel
    after (TensorFlow).
    """
    kernel, stride, padding = args.kernel or (), args.stride or (), args.padding
    dilation = args.dilation or (1,) * len(spatial)
    names = SPATIAL_NAMES[len(spatial)]
    axes = []
    for i, size in enumerate(spatial):
        k, s, d = kernel[i], stride[i], dilation[i]
        k_eff = d * (k - 1) + 1
        if padding == "same":
            out = -(-size // s)
            total = max((out - 1) * s + k_eff - size, 0)
            axes.append(Axis(size, k, s, total // 2, total - total // 2, d, out, "same"))
            continue
        p = padding[i] if type(padding) is tuple else 0
        if pool and p > k // 2:  # PyTorch compares with the kernel before dilation
            raise site.error(
                _("padding {p} is more than half the kernel {k}").format(p=p, k=k),
                "padding",
                hint=_("pooling padding must be at most half the kernel (PyTorch refuses it too)"),
            )
        span = size + 2 * p - k_eff
        # ceil pooling still has a window when the kernel overhangs by less than a stride
        # (PyTorch's ceil_mode agrees); anything else needs the kernel to fit
        if span < 0 and not (pool and rounding == "ceil" and span > -s):
            dim = _(_DIMENSION_WORDS[names[i]])
            with_d = (
                _(" (effective {k_eff} with dilation {d})").format(k_eff=k_eff, d=d)
                if d > 1
                else ""
            )
            raise site.error(
                _(
                    "kernel {k}{with_d} is larger than the padded input {dim} "
                    "{size} + 2·{p} = {value}"
                ).format(k=k, with_d=with_d, dim=dim, size=size, p=p, value=size + 2 * p),
                "kernel",
                hint=_("use a smaller kernel, more padding, or a larger input"),
            )
        if rounding == "floor":
            axes.append(Axis(size, k, s, p, p, d, span // s + 1, "floor"))
        else:
            out = -(-span // s) + 1
            # only a window that ceil added beyond floor's is dropped: a conv whose padding
            # exceeds its kernel keeps floor's all-padding windows, as PyTorch does
            dropped = span % s != 0 and (out - 1) * s >= size + p
            axes.append(Axis(size, k, s, p, p, d, out - dropped, "ceil", dropped))
    return tuple(axes)


def _stretch(site: Site, name: str, value: tuple[Any, ...], dims: int) -> tuple[Any, ...]:
    """One number for every dimension, or a CNNError when the count is wrong."""
    if len(value) != 1:
        token = site.tokens.get(name)
        raise site.statement.error(
            _n(
                "'{value}' gives {len} numbers but the input has {dims} spatial dimension",
                "'{value}' gives {len} numbers but the input has {dims} spatial dimensions",
                dims,
            ).format(value=token.text if token else name, len=len(value), dims=dims),
            token,
            hint=_("write one number for all, or {dims}").format(dims=dims),
        )
    return value * dims


def window_field(axes: tuple[Axis, ...]) -> Window:
    """Per axis (effective kernel, stride, padding before), for the receptive field."""
    return tuple((a.dilation * (a.kernel - 1) + 1, a.stride, a.pad_before) for a in axes)


def axis_term(axis: Axis) -> tuple[Term | None, str]:
    """One spatial output size worked out, and the words when a rule needs saying.

    >>> term, note = axis_term(Axis(9, 2, 2, 0, 0, 1, 5, "ceil"))
    >>> term.txt, term.value
    ('⌈(9 − 2 + 2·0) / 2⌉ + 1', 5)
    """
    k_eff = _kernel_term(axis)
    if axis.rule == "same":
        total = axis.pad_before + axis.pad_after
        term = rounded(num(axis.size), num(axis.stride), "ceil")
        note = _(
            "'same' padding: out = ⌈H / S⌉, total padding "
            "max(({out} − 1)·{stride} + {k_eff} − {size}, 0) = {total}: "
            "{before} before, {after} after"
        ).format(
            out=axis.out,
            stride=axis.stride,
            k_eff=k_eff.value,
            size=axis.size,
            total=total,
            before=axis.pad_before,
            after=axis.pad_after,
        ) + (_(" (the odd pixel after, as TensorFlow)") if total % 2 else "")
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
        return None, _(
            "adaptive pooling: the output size is given; output i pools input "
            "rows ⌊i·{size}/{out}⌋ … ⌈(i+1)·{size}/{out}⌉ − 1 (PyTorch's windows)"
        ).format(size=axis.size, out=axis.out)
    if axis.pad_before == axis.pad_after:
        padding = cdot(num(2), num(axis.pad_before))
    else:
        padding = plus(num(axis.pad_before), num(axis.pad_after))
    top = plus(minus(num(axis.size), k_eff), padding)
    term = plus(rounded(top, num(axis.stride), "ceil" if axis.rule == "ceil" else "floor"), num(1))
    if not axis.dropped_last:
        return term, ""
    before = term.value
    start = (before - 1) * axis.stride
    note = _(
        "ceil rule's last-window correction: the last window would start at "
        "({before} − 1)·{stride} = {start} ≥ H + P = {size} + {pad} = {reach}, in the right "
        "padding, so it is dropped: {before} − 1 = {after} (PyTorch's ceil_mode and Caffe do "
        "this)"
    ).format(
        before=before,
        stride=axis.stride,
        start=start,
        size=axis.size,
        pad=axis.pad_before,
        reach=axis.size + axis.pad_before,
        after=before - 1,
    )
    return minus(term, num(1)), note


_FIELD_WORDS = {"output_size": N_("output size"), "scale": N_("scale")}
_DIMENSION_WORDS = {"H": N_("height"), "W": N_("width"), "D": N_("depth"), "L": N_("length")}


def _kernel_term(axis: Axis) -> Term:
    """k, or the effective kernel d·(k − 1) + 1 when dilated."""
    if axis.dilation == 1:
        return num(axis.kernel)
    return plus(cdot(num(axis.dilation), paren(minus(num(axis.kernel), num(1)))), num(1))


def axis_lines(axes: tuple[Axis, ...]) -> list[Worked]:
    """One worked line per spatial axis, or one for all when they are alike
    (``H_out = W_out``)."""
    names = SPATIAL_NAMES[len(axes)]
    if all(a == axes[0] for a in axes):
        term, note = axis_term(axes[0])
        tex = " = ".join(f"{n}_{{out}}" for n in names)
        txt = " = ".join(f"{n}_out" for n in names)
        return [Worked(tex, txt, term, axes[0].out, note)]
    out = []
    for axis, name in zip(axes, names, strict=True):
        term, note = axis_term(axis)
        out.append(Worked(f"{name}_{{out}}", f"{name}_out", term, axis.out, note))
    return out


def _nums(values: Sequence[int]) -> list[Term]:
    return [num(v) for v in values]


def _spatial(shape: Shape) -> Shape:
    return shape[:-1]


# --------------------------------------------------------------------------- convolutions

_WINDOW_ARGS = frozenset({"kernel", "stride", "padding", "dilation", "rounding"})


class Conv(Rule):
    """Convolution with N filters (``conv``), or depthwise (``dwconv``: groups = C_in,
    N = C_in · multiplier).

    weights ``Πk·(C_in/g)·N``, biases ``N``; MACs ``Πk·(C_in/g)·Πout·N``;
    exact ``2·MACs − outputs (+ outputs with bias)``.
    """

    family = "conv"
    params_text = "Πk·(C_in/g)·N + N"
    cost_text = ""
    dims = (1, 2, 3)

    def __init__(self, name: str, depthwise: bool) -> None:
        self.name = self.family = name
        self.depthwise = depthwise
        if depthwise:
            self.aliases = ("depthwise",)
            self.dim_aliases = {"dwconv1d": (1,), "dwconv2d": (2,), "dwconv3d": (3,)}
            self.usage = "dwconv k.. [M] [s][p][d]"
            self.meaning = N_("depthwise convolution: groups = channels, N = C_in·M")
            self.params_text = "Πk·N + N"
            self.accepts = _WINDOW_ARGS | {"bias"}
            self.number = Number("multiplier", "count", False, 1, _HINT["dwconv"])
        else:
            self.aliases = ()
            self.dim_aliases = {"conv1d": (1,), "conv2d": (2,), "conv3d": (3,)}
            self.usage = "conv N k.. [s][p][d][g]"
            self.meaning = N_("convolution, N filters")
            self.accepts = _WINDOW_ARGS | {"groups", "bias"}
            self.number = Number("n", "count", True, None, _HINT["conv"])

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        dims = self.feature_map(site, shape, self.name)
        c = shape[-1]
        if self.depthwise:
            n, groups = c * (args.multiplier or 1), c
        else:
            if args.n is None:
                raise site.error(
                    _("{name} needs a size").format(name=self.name), hint=_(_HINT["conv"])
                )
            n, groups = args.n, args.groups or 1
            _check_groups(site, c, n, groups)
        bias = args.bias is not False
        multiplier = (args.multiplier or 1) if self.depthwise else None
        args = self.window_args(
            site, args, dims, pool=False, n=n, multiplier=multiplier, groups=groups, bias=bias
        )
        how = args.rounding or rounding_for("conv", rounding)
        axes = windows(site, args, _spatial(shape), how, pool=False)
        out = (*(a.out for a in axes), n)
        per_output = elements(args.kernel or ()) * (c // groups)
        outputs = elements(out)
        macs = per_output * outputs
        return Step(
            out,
            per_output * n,
            n if bias else 0,
            macs,
            2 * macs - outputs + (outputs if bias else 0),
            0,
            axes,
            window_field(axes),
            args,
        )

    def _factors(self, layer: Layer) -> list[Term]:
        args = layer.args
        assert args is not None and args.kernel is not None and args.groups is not None
        c = layer.in_shape[-1]
        return [*_nums(args.kernel), num(c // args.groups), num(layer.out_shape[-1])]

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        args = layer.args
        assert args is not None and args.groups is not None
        notes = []
        c, groups = layer.in_shape[-1], args.groups
        if groups > 1:
            per = c // groups
            notes.append(
                _("groups {groups}: each filter sees {c}/{groups} = {per} input channels").format(
                    groups=groups, c=c, per=per
                )
            )
        return _with_bias([times(*self._factors(layer))], layer, notes)

    def count_term(self, layer: Layer, convention: Convention) -> Term | None:
        *kernel, per, n = self._factors(layer)
        window = times(*kernel, per)
        spots = (*_nums(_spatial(layer.out_shape)), n)
        return _mac_count(window, spots, layer, convention, paren_mults=True)

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        args = layer.args
        assert args is not None and layer.axes is not None
        dims = len(layer.axes)
        pads = [_pads(axis) for axis in layer.axes]
        equal = all(before == after for before, after in pads)
        front = [] if equal else [_pad_module(nn, pads, 0.0)]
        return [
            *front,
            getattr(nn, f"Conv{dims}d")(
                layer.in_shape[-1],
                layer.out_shape[-1],
                args.kernel,
                args.stride,
                tuple(before for before, _ in pads) if equal else 0,
                args.dilation,
                args.groups,
                bias=bool(args.bias),
            ),
        ]


def _with_bias(terms: list[Term], layer: Layer, notes: list[str]) -> tuple[list[Term], list[str]]:
    if layer.args is not None and layer.args.bias:
        terms.append(num(layer.out_shape[-1]))
    else:
        notes.append(_("no bias"))
    return terms, notes


def _mac_count(
    window: Term,
    spots: Sequence[Term],
    layer: Layer,
    convention: Convention,
    *,
    paren_mults: bool,
) -> Term:
    """The notes' count of a multiply-accumulate layer: MACs ``window × spots``, FLOPs
    ``2 × window × spots``, exact ``[(window) + (window − 1) (+ 1)] × spots``."""
    if convention == "macs":
        return times(window, *spots)
    if convention == "flops":
        return times(num(2), window, *spots)
    mults = paren(window) if paren_mults else window
    adds = paren(minus(window, num(1)))
    bias = layer.args is not None and layer.args.bias
    inner = plus(mults, adds, num(1)) if bias else plus(mults, adds)
    return times(bracket(inner), *spots)


def _check_groups(site: Site, c_in: int, n: int, groups: int) -> None:
    if c_in % groups:
        raise site.error(
            _("groups {groups} does not divide the {c_in} input channels").format(
                groups=groups, c_in=c_in
            ),
            "groups",
            hint=_groups_hint(c_in, n),
        )
    if n % groups:
        raise site.error(
            _("groups {groups} does not divide the {n} output channels").format(groups=groups, n=n),
            "groups",
            hint=_groups_hint(c_in, n),
        )


def _divisors(n: int, fits: Callable[[int], bool] | None = None) -> str:
    """The first twelve whole numbers ``d`` that divide ``n`` (or that ``fits`` accepts),
    for a hint.

    >>> _divisors(12), _divisors(48, lambda r: 48 % (r * r) == 0)
    ('1, 2, 3, 4, 6, 12', '1, 2, 4')
    """
    test = fits or (lambda d: n % d == 0)
    found = [d for d in range(1, min(n, 4096) + 1) if test(d)][:12]
    return ", ".join(map(str, found))


def _groups_hint(c_in: int, n: int) -> str:
    """Grouped convolution: the groups that divide both channel counts."""
    return _("groups must divide both channel counts ({c_in} and {n}), e.g. {groups}").format(
        c_in=c_in, n=n, groups=_divisors(math.gcd(c_in, n))
    )


def _pads(axis: Axis) -> tuple[int, int]:
    """Padding before and after with which PyTorch's rounding down gives ``axis.out``.

    Rounding down over ``size + before + after`` gives ``out`` for any ``after`` from
    ``needed = (out − 1)·S + k_eff − size − before`` to ``needed + S − 1``; of those, the
    one closest to the written padding. A layer rounded up needs more padding after
    (or less, where the ceil rule dropped a window that starts in the padding)."""
    k_eff = axis.dilation * (axis.kernel - 1) + 1
    needed = (axis.out - 1) * axis.stride + k_eff - axis.size - axis.pad_before
    return axis.pad_before, min(max(axis.pad_after, needed), needed + axis.stride - 1)


def _pad_module(nn: Any, pads: list[tuple[int, int]], value: float) -> Module:
    """``nn.ZeroPad{1,2,3}d``, or ``nn.ConstantPad{1,2,3}d`` for another value (``-inf``
    before max pooling); PyTorch lists the last dimension first."""
    flat = tuple(v for before_after in reversed(pads) for v in before_after)
    if value == 0:
        return getattr(nn, f"ZeroPad{len(pads)}d")(flat)
    return getattr(nn, f"ConstantPad{len(pads)}d")(flat, value)


class Deconv(Rule):
    """Transposed convolution (PyTorch's ConvTranspose).

    ``out = (H − 1)·S − 2P + d·(k − 1) + op + 1``; weights ``Πk·C_in·(N/g)``,
    biases ``N``; MACs ``Πk·C_in·(N/g)·Πin``; exact ``2·MACs`` (each product is
    accumulated into the output) ``+ outputs`` for the bias.
    """

    name = family = "deconv"
    aliases = ("convtranspose", "tconv")
    dim_aliases = {  # noqa: RUF012
        "deconv1d": (1,),
        "deconv2d": (2,),
        "deconv3d": (3,),
        "convtranspose1d": (1,),
        "convtranspose2d": (2,),
        "convtranspose3d": (3,),
    }
    usage = "deconv N k.. [s][p][op][d][g]"
    meaning = N_("transposed convolution")
    params_text = "Πk·C_in·(N/g) + N"
    accepts = frozenset({"kernel", "stride", "padding", "dilation", "groups", "out_pad", "bias"})
    number = Number(
        "n", "count", True, None, N_("deconv N k..: N output channels, e.g. deconv 64 k4 s2 p1")
    )
    dims = (1, 2, 3)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        dims = self.feature_map(site, shape, "deconv")
        c = shape[-1]
        if args.n is None:
            raise site.error(
                _("deconv needs a size"), hint=_(self.number.hint) if self.number else None
            )
        n, groups = args.n, args.groups or 1
        _check_groups(site, c, n, groups)
        if args.kernel is None:
            raise site.error(
                _("deconv needs a kernel size"), hint=_("for example deconv 64 k4 s2 p1")
            )
        if isinstance(args.padding, str):
            raise site.error(
                _("deconv takes numeric padding, not '{padding}'").format(padding=args.padding),
                "padding",
                hint=_("for example p=1 (or p0)"),
            )
        args = self.resolve(site, args, dims)
        ones, zeros = (1,) * dims, (0,) * dims
        kernel, stride = args.kernel or ones, args.stride or ones
        padding = args.padding if isinstance(args.padding, tuple) else zeros
        dilation, out_pad = args.dilation or ones, args.out_pad or zeros
        axes = []
        for i, size in enumerate(_spatial(shape)):
            k, s, d, p, op = kernel[i], stride[i], dilation[i], padding[i], out_pad[i]
            if op >= max(s, d):
                raise site.error(
                    _(
                        "output padding {op} must be smaller than the stride {s} "
                        "or the dilation {d}"
                    ).format(op=op, s=s, d=d),
                    "out_pad",
                    hint=_("PyTorch refuses it too"),
                )
            out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            if out < 1:
                raise site.error(
                    _(
                        "output size {out} < 1: ({size} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1"
                    ).format(out=out, size=size, s=s, p=p, d=d, k=k, op=op),
                    "padding",
                    hint=_("use less padding"),
                )
            axes.append(Axis(size, k, s, p, p, d, out, "deconv", out_pad=op))
        bias = args.bias is not False
        args = args._replace(
            n=n,
            kernel=kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            out_pad=out_pad,
            groups=groups,
            bias=bias,
        )
        weights = elements(kernel) * c * (n // groups)
        macs = weights * elements(_spatial(shape))
        outputs = elements(tuple(a.out for a in axes)) * n
        return Step(
            (*(a.out for a in axes), n),
            weights,
            n if bias else 0,
            macs,
            2 * macs + (outputs if bias else 0),
            0,
            tuple(axes),
            "lost",
            args,
        )

    def _factors(self, layer: Layer) -> list[Term]:
        args = layer.args
        assert args is not None and args.kernel is not None and args.groups is not None
        return [
            *_nums(args.kernel),
            num(layer.in_shape[-1]),
            num(layer.out_shape[-1] // args.groups),
        ]

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        args = layer.args
        assert args is not None and args.groups is not None
        notes = []
        n, groups = layer.out_shape[-1], args.groups
        if groups > 1:
            notes.append(
                _("groups {groups}: {n}/{groups} = {per} output channels per group").format(
                    groups=groups, n=n, per=n // groups
                )
            )
        return _with_bias([times(*self._factors(layer))], layer, notes)

    def count_term(self, layer: Layer, convention: Convention) -> Term | None:
        factors = [*self._factors(layer), *_nums(_spatial(layer.in_shape))]
        if convention == "macs":
            return times(*factors)
        products = times(num(2), *factors)
        if convention == "flops" or not (layer.args and layer.args.bias):
            return products
        return plus(products, product_of(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        args = layer.args
        assert args is not None and layer.axes is not None
        return [
            getattr(nn, f"ConvTranspose{len(layer.axes)}d")(
                layer.in_shape[-1],
                layer.out_shape[-1],
                args.kernel,
                args.stride,
                args.padding,
                args.out_pad,
                args.groups,
                bias=bool(args.bias),
                dilation=args.dilation,
            )
        ]


# --------------------------------------------------------------------------- pooling


class Pool(Rule):
    """Max or average pooling; stride defaults to the kernel. Max: ``Πk − 1``
    comparisons per output; average: ``Πk − 1`` additions and one division per output."""

    family = "pool"
    dims = (1, 2, 3)

    def __init__(self, maximum: bool) -> None:
        self.maximum = maximum
        kind = "max" if maximum else "avg"
        self.name = f"{kind}pool"
        self.aliases = (kind,)
        self.dim_aliases = {f"{kind}pool{d}d": (d,) for d in (1, 2, 3)}
        if maximum:
            self.usage = "maxpool k.. [s][p][d]"
            self.meaning = N_("max pooling; stride defaults to the kernel")
            self.cost_text = N_("Πk − 1 comparisons per output element")
            self.accepts = _WINDOW_ARGS
        else:
            self.usage = "avgpool k.. [s][p]"
            self.meaning = N_("average pooling; stride defaults to the kernel")
            self.cost_text = N_("Πk − 1 additions and 1 division per output element")
            self.accepts = _WINDOW_ARGS

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        if not self.maximum and args.dilation is not None:
            raise site.error(
                _("avgpool takes no dilation"),
                "dilation",
                hint=_("PyTorch's AvgPool has none; maxpool does"),
            )
        dims = self.feature_map(site, shape, self.name)
        args = self.window_args(site, args, dims, pool=True, dilated=self.maximum)
        if not self.maximum and dims == 3 and args.kernel is not None:
            for size, k in zip(_spatial(shape), args.kernel, strict=True):
                if size < k:  # avg_pool3d checks the unpadded input, whatever the rounding
                    raise site.error(
                        _("kernel {k} is larger than the input {size} (before padding)").format(
                            k=k, size=size
                        ),
                        "kernel",
                        hint=_("PyTorch's AvgPool3d needs the kernel to fit the unpadded input"),
                    )
        how = args.rounding or rounding_for("pool", rounding)
        axes = windows(site, args, _spatial(shape), how, pool=True)
        out = (*(a.out for a in axes), shape[-1])
        outputs = elements(out)
        window = elements(args.kernel or ())
        return Step(
            out,
            ops=outputs * (window - self.maximum),
            axes=axes,
            window=window_field(axes),
            args=args,
        )

    def ops_term(self, layer: Layer) -> Term | None:
        assert layer.args is not None and layer.args.kernel is not None
        window = times(*_nums(layer.args.kernel))
        per = paren(minus(window, num(1))) if self.maximum else window
        return times(per, *_nums(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        """PyTorch's own padding and ``ceil_mode`` where it accepts them (equal padding, at
        most half the kernel — PyTorch checks the kernel before dilation); explicit padding
        and rounding down otherwise (``-inf`` for max pooling, as PyTorch pads)."""
        axes = layer.axes
        assert axes is not None
        dims = len(axes)
        native = all(a.pad_before == a.pad_after and 2 * a.pad_before <= a.kernel for a in axes)
        front: list[Module] = []
        padding: tuple[int, ...] | int = tuple(a.pad_before for a in axes)
        if not native:
            front = [
                _pad_module(nn, [_pads(a) for a in axes], -float("inf") if self.maximum else 0.0)
            ]
            padding = 0
        common = {
            "kernel_size": tuple(a.kernel for a in axes),
            "stride": tuple(a.stride for a in axes),
            "padding": padding,
            "ceil_mode": native and axes[0].rule == "ceil",
        }
        if self.maximum:
            return [
                *front,
                getattr(nn, f"MaxPool{dims}d")(dilation=tuple(a.dilation for a in axes), **common),
            ]
        # TensorFlow's 'same' leaves the padding out of the average; Caffe's and PyTorch's
        # explicit padding counts it
        return [
            *front,
            getattr(nn, f"AvgPool{dims}d")(count_include_pad=axes[0].rule != "same", **common),
        ]


class GlobalPool(Rule):
    """Global average (``gap``: ``ΠH`` operations per channel) or max pooling (``gmp``:
    ``ΠH − 1`` comparisons per channel) to 1×…×1×C."""

    family = "pool"
    dims = (1, 2, 3)

    def __init__(self, maximum: bool) -> None:
        self.maximum = maximum
        self.name = "gmp" if maximum else "gap"
        self.aliases = ("globalmaxpool",) if maximum else ("globalavgpool",)
        self.usage = self.name
        self.meaning = (
            N_("global max pooling to 1×1×C") if maximum else N_("global average pooling to 1×1×C")
        )
        self.cost_text = (
            N_("ΠH − 1 comparisons per channel")
            if maximum
            else N_("ΠH − 1 additions and 1 division per channel")
        )

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        self.feature_map(site, shape, self.name)
        spatial, c = _spatial(shape), shape[-1]
        return Step(
            (*(1 for _ in spatial), c),
            ops=(elements(spatial) - self.maximum) * c,
            window=tuple((v, v, 0) for v in spatial),
            args=args,
        )

    def ops_term(self, layer: Layer) -> Term | None:
        area = product_of(_spatial(layer.in_shape))
        per = paren(minus(area, num(1))) if self.maximum else area
        return times(per, num(layer.in_shape[-1]))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        kind = "Max" if self.maximum else "Avg"
        return [getattr(nn, f"Adaptive{kind}Pool{len(layer.in_shape) - 1}d")(1)]


class AdaptivePool(Rule):
    """Adaptive pooling to S×S×C: output i pools input rows ``⌊i·H/S⌋ … ⌈(i+1)·H/S⌉ − 1``
    (PyTorch's rule); window − 1 comparisons (max), or window − 1 additions and a
    division (average), per output."""

    family = "pool"
    dims = (1, 2, 3)

    def __init__(self, maximum: bool) -> None:
        self.maximum = maximum
        kind = "max" if maximum else "avg"
        self.name = f"adaptive{kind}pool"
        self.dim_aliases = {f"adaptive{kind}pool{d}d": (d,) for d in (1, 2, 3)}
        self.usage = f"adaptive{kind}pool S"
        self.meaning = N_("to S×S×C (or `6x3`), PyTorch's windows")
        self.cost_text = (
            N_("window − 1 comparisons per output element (PyTorch's windows)")
            if maximum
            else N_("window − 1 additions and 1 division per output element (PyTorch's windows)")
        )
        self.number = Number(
            "output_size",
            "sizes",
            True,
            None,
            N_("adaptiveavgpool S or HxW, e.g. adaptiveavgpool 7")
            if kind == "avg"
            else N_("adaptivemaxpool S or HxW, e.g. adaptivemaxpool 7"),
        )

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        dims = self.feature_map(site, shape, self.name)
        if args.output_size is None:
            raise site.error(
                _("{name} needs an output size").format(name=self.name),
                hint=_(self.number.hint) if self.number else None,
            )
        args = self.resolve(site, args, dims)
        sizes = args.output_size or ()
        spatial, c = _spatial(shape), shape[-1]
        area = elements(tuple(window_total(h, o) for h, o in zip(spatial, sizes, strict=True)))
        ops = (area - self.maximum * elements(sizes)) * c
        uniform = all(h % o == 0 for h, o in zip(spatial, sizes, strict=True))
        window: Window = (
            tuple((h // o, h // o, 0) for h, o in zip(spatial, sizes, strict=True))
            if uniform
            else "lost"
        )
        axes = tuple(
            Axis(h, 0, 0, 0, 0, 1, o, "adaptive") for h, o in zip(spatial, sizes, strict=True)
        )
        return Step((*sizes, c), ops=ops, axes=axes, window=window, args=args)

    def ops_term(self, layer: Layer) -> Term | None:
        spatial, sizes = _spatial(layer.in_shape), _spatial(layer.out_shape)
        windows_total = times(
            *(num(window_total(h, o)) for h, o in zip(spatial, sizes, strict=True))
        )
        if self.maximum:
            windows_total = paren(minus(windows_total, product_of(sizes)))
        return times(windows_total, num(layer.in_shape[-1]))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        kind = "Max" if self.maximum else "Avg"
        return [
            getattr(nn, f"Adaptive{kind}Pool{len(layer.in_shape) - 1}d")(_spatial(layer.out_shape))
        ]


def window_total(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths, ``Σ ⌈(i+1)·H/S⌉ − ⌊i·H/S⌋``, in O(log)."""
    return _floor_sum(out, out, size, size + out - 1) - _floor_sum(out, out, size, 0)


_window_total = window_total  # the name the arithmetic tests know


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """``Σ_{i=0}^{n-1} ⌊(a·i + b) / m⌋`` for a, b ≥ 0 (the Euclid-like algorithm).

    >>> _floor_sum(5, 3, 2, 1) == sum((2 * i + 1) // 3 for i in range(5))
    True
    """
    total = 0
    while True:
        if a >= m:
            total += (n - 1) * n // 2 * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        y_max = a * n + b
        if y_max < m:
            return total
        n, b, m, a = y_max // m, y_max % m, a, m


# --------------------------------------------------------------------------- the rest


class Fc(Rule):
    """Fully connected; flattens its input. weights ``N_in·N``, biases ``N``;
    MACs ``N_in·N``; exact ``2·MACs − N (+ N with bias)``."""

    name = family = "fc"
    aliases = ("linear", "dense")
    usage = "fc N"
    meaning = N_("fully connected; flattens its input")
    params_text = "N_in·N + N"
    accepts = frozenset({"bias"})
    number = Number("n", "count", True, None, N_("fc N: N output features, e.g. fc 84"))

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        if args.n is None:
            raise site.error(
                _("fc needs a size"), hint=_(self.number.hint) if self.number else None
            )
        n, bias = args.n, args.bias is not False
        macs = elements(shape) * n
        return Step(
            (n,),
            macs,
            n if bias else 0,
            macs,
            2 * macs - n + (n if bias else 0),
            window="lost",
            args=args._replace(bias=bias),
        )

    def shape_lines(self, layer: Layer) -> list[Worked]:
        return _flatten_lines(layer, _("flattens its input"))

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        return _with_bias(
            [times(num(elements(layer.in_shape)), num(layer.out_shape[0]))], layer, []
        )

    def count_term(self, layer: Layer, convention: Convention) -> Term | None:
        window = num(elements(layer.in_shape))
        return _mac_count(window, (num(layer.out_shape[0]),), layer, convention, paren_mults=False)

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        flat = [nn.Flatten()] if len(layer.in_shape) > 1 else []
        return [
            *flat,
            nn.Linear(
                elements(layer.in_shape),
                layer.out_shape[0],
                bias=bool(layer.args and layer.args.bias),
            ),
        ]


def _flatten_lines(layer: Layer, note: str) -> list[Worked]:
    if len(layer.in_shape) == 1:
        return []
    return [Worked("N_{in}", "N_in", product_of(layer.in_shape), elements(layer.in_shape), note)]


class Flatten(Rule):
    """H×W×C → H·W·C."""

    name = family = "flatten"
    usage = "flatten"
    meaning = N_("H×W×C → H·W·C")

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        return Step((elements(shape),), window="lost" if len(shape) > 1 else None, args=args)

    def shape_lines(self, layer: Layer) -> list[Worked]:
        return _flatten_lines(layer, "")

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        return [nn.Flatten()]


class BatchNorm(Rule):
    """Batch normalisation: ``2·C`` parameters (γ, β); running mean and variance are
    buffers, not parameters. 2 operations per element at inference."""

    name = family = "bn"
    aliases = ("batchnorm",)
    dim_aliases = {  # noqa: RUF012
        "bn1d": (0, 1),
        "bn2d": (2,),
        "bn3d": (3,),
        "batchnorm1d": (0, 1),
        "batchnorm2d": (2,),
        "batchnorm3d": (3,),
    }
    usage = "bn"
    meaning = N_("batch normalisation (running mean and variance are buffers)")
    params_text = "2·C"
    cost_text = N_("2 per element (inference: multiply by the folded scale, add the shift)")

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        c = shape[-1]
        return Step(shape, c, c, ops=2 * elements(shape), args=args)

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        note = _(
            "γ and β for each channel; the running mean and variance are buffers, not parameters"
        )
        return [times(num(2), num(layer.in_shape[-1]))], [note]

    def ops_term(self, layer: Layer) -> Term | None:
        return times(num(2), *_nums(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        dims = max(1, len(layer.in_shape) - 1)
        return [getattr(nn, f"BatchNorm{dims}d")(layer.in_shape[-1])]


class Dropout(Rule):
    """Dropout with probability P in [0, 1] (default 0.5): shape unchanged, no cost."""

    name = family = "dropout"
    usage = "dropout P"
    meaning = N_("shape unchanged")
    number = Number("p", "fraction", False, 0.5, N_("for example dropout 0.5"))

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        return Step(shape, args=args._replace(p=0.5 if args.p is None else args.p))

    def shape_lines(self, layer: Layer) -> list[Worked]:
        return []

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        return [nn.Dropout(layer.args.p if layer.args and layer.args.p is not None else 0.5)]


class Lrn(Rule):
    """Local response normalisation over 5 channels: 13 operations per element."""

    name = family = "lrn"
    usage = "lrn"
    meaning = N_("local response normalisation over 5 channels (AlexNet's)")
    cost_text = N_("13 per element (5 squares, 4 additions, multiply, add, power, divide)")
    dims = (1, 2, 3)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        self.feature_map(site, shape, "lrn")  # PyTorch's LocalResponseNorm refuses vectors
        return Step(shape, ops=13 * elements(shape), args=args)

    def ops_term(self, layer: Layer) -> Term | None:
        return times(num(13), *_nums(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        return [nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)]


class Identity(Rule):
    """Passes its input through."""

    name = family = "identity"
    usage = "identity"
    meaning = N_("passes its input through")

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        return Step(shape, args=args)

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        return [nn.Identity()]


class Activation(Rule):
    """An activation, alone (``relu``) or after a layer (``conv 6 k5 relu``): shape
    unchanged; ``cost`` elementary operations per element (exp, erf and tanh count as
    one); ``prelu`` learns one weight; softmax one addition fewer per normalised vector."""

    def __init__(
        self,
        name: str,
        cost: int,
        steps: str,
        torch_name: str,
        *,
        aliases: tuple[str, ...] = (),
        number: Number | None = None,
        weights: int = 0,
    ) -> None:
        self.name = self.family = name
        self.usage = f"{name} [{number.field.replace('_', ' ')}]" if number else name
        self.trailing = False
        self.cost = cost
        self.steps = steps
        self.torch_name = torch_name
        self.aliases = aliases
        self.number = number
        self.weights = weights
        self.meaning = N_("activation")
        self.params_text = str(weights)
        self.cost_text = f"{cost} per element ({steps})"
        if name == "softmax":
            self.cost_text = N_("3 per element − 1 per normalised vector (exp, sum, divide)")

    def describe(self) -> str:
        """``activation``, with how its number is written when it takes one."""
        if self.number is None:
            return _(self.meaning)
        return _("activation ({hint})").format(hint=_(self.number.hint))

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        return Step(shape, self.weights, ops=self.ops(shape), args=args)

    def ops(self, shape: Shape) -> int:
        """Elementary operations over ``shape``."""
        total = self.cost * elements(shape)
        if self.name == "softmax":  # one addition fewer than elements per normalised vector
            total -= elements(shape) // shape[-1]
        return total

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        if not self.weights:
            return [], []
        return [num(self.weights)], [_("PReLU learns one slope")]

    def ops_term(self, layer: Layer) -> Term | None:
        out = layer.out_shape
        term = times(num(self.cost), *_nums(out))
        if self.name == "softmax":
            return minus(term, product_of(out[:-1]) if len(out) > 1 else num(1))
        return term

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        args = layer.args if layer.op == self.name else None
        if self.name == "softmax":
            return [nn.Softmax(dim=1)]  # over channels (NCHW) or features: our last axis
        if self.name == "leakyrelu":
            slope = args.negative_slope if args and args.negative_slope is not None else 0.01
            return [nn.LeakyReLU(slope)]
        if self.name == "elu":
            alpha = args.alpha if args and args.alpha is not None else 1.0
            return [nn.ELU(alpha)]
        return [getattr(nn, self.torch_name)()]


class Upsample(Rule):
    """Upsampling by whole factors S (``upsample 2``, or one per dimension: ``2x1``):
    ``out = H·S`` per spatial dimension, no parameters. ``nearest`` (the default) copies
    each value, no operations; linear interpolation (``linear`` in 1-D, ``bilinear`` in
    2-D, ``trilinear`` in 3-D, as PyTorch names them) weighs the 2^d nearest inputs:
    2^d multiplications and 2^d − 1 additions, ``2^(d+1) − 1`` per output element."""

    name = family = "upsample"
    usage = "upsample S [mode]"
    meaning = N_("upsampling by S (or `2x1`): nearest, or linear/bilinear/trilinear")
    cost_text = N_("0 (nearest: a copy); linear modes 2^(d+1) − 1 per output element")
    accepts = frozenset({"mode"})
    number = Number("scale", "sizes", True, None, N_("upsample S, e.g. upsample 2 or upsample 2x1"))
    words = ("nearest", "linear", "bilinear", "trilinear")
    dims = (1, 2, 3)
    _LINEAR: ClassVar[dict[str, int]] = {"linear": 1, "bilinear": 2, "trilinear": 3}

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        dims = self.feature_map(site, shape, "upsample")
        if args.scale is None:
            raise site.error(
                _("upsample needs a scale factor"),
                hint=_(self.number.hint) if self.number else None,
            )
        mode = args.mode or "nearest"
        if mode not in self.words:
            raise site.error(
                _("unknown upsampling mode '{mode}'").format(mode=mode),
                "mode",
                hint=did_you_mean(mode, self.words),
            )
        if mode != "nearest" and self._LINEAR[mode] != dims:
            right = next(word for word, d in self._LINEAR.items() if d == dims)
            raise site.error(
                _(
                    "{mode} interpolation needs a {value}-D map, but the input is {format_shape}"
                ).format(mode=mode, value=self._LINEAR[mode], format_shape=format_shape(shape)),
                "mode",
                hint=_("in {dims}-D it is {right} (PyTorch's name)").format(dims=dims, right=right),
            )
        args = self.resolve(site, args, dims)._replace(mode=mode)
        scale = args.scale or ()
        axes = tuple(
            Axis(size, 1, s, 0, 0, 1, size * s, "upsample")
            for size, s in zip(_spatial(shape), scale, strict=True)
        )
        out = (*(a.out for a in axes), shape[-1])
        per_output = 0 if mode == "nearest" else 2 ** (dims + 1) - 1
        return Step(out, ops=per_output * elements(out), axes=axes, window="lost", args=args)

    def shape_lines(self, layer: Layer) -> list[Worked]:
        axes = layer.axes or ()
        names = SPATIAL_NAMES[len(axes)]
        return [
            Worked(f"{n}_{{out}}", f"{n}_out", times(num(a.size), num(a.stride)), a.out)
            for n, a in zip(names, axes, strict=True)
        ]

    def ops_term(self, layer: Layer) -> Term | None:
        if layer.args is None or layer.args.mode == "nearest":
            return None
        dims = len(layer.out_shape) - 1
        mults, adds = num(2**dims), num(2**dims - 1)
        return times(paren(plus(mults, adds)), *_nums(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        args = layer.args
        assert args is not None and args.scale is not None
        factors = tuple(float(s) for s in args.scale)
        return [nn.Upsample(scale_factor=factors, mode=args.mode or "nearest")]


class Merge(Rule):
    """The merge row of a block: ``add`` (residual and add blocks: ``branches − 1``
    additions per output element) or ``concat`` (channels joined, no cost)."""

    merge = True

    def __init__(self, name: str) -> None:
        self.name = self.family = name
        self.usage = f"{name}:"
        if name == "add":
            self.meaning = N_("element-wise sum of branches (residual: and add: blocks)")
            self.cost_text = N_(
                "branches − 1 additions per output element (residual and add blocks)"
            )
        elif name == "mul":
            self.meaning = N_("the input times a gate broadcast over it (scale: blocks)")
            self.cost_text = N_("1 multiplication per output element (scale blocks)")
        else:
            self.meaning = N_("channel concatenation of branches")

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        raise NotImplementedError("merge rows are made by the evaluator")

    def shape_lines(self, layer: Layer) -> list[Worked]:
        if self.name != "concat":
            return []
        channels = [num(shape[-1]) for shape in layer.branches]
        note = _("concatenation adds the branches' channels")
        return [Worked("C_{out}", "C_out", plus(*channels), layer.out_shape[-1], note)]

    def ops_term(self, layer: Layer) -> Term | None:
        if self.name not in ("add", "mul"):
            return None
        return times(num(len(layer.branches) - 1), *_nums(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        raise NotImplementedError("merge rows are whole blocks: torch_export builds them")


# --------------------------------------------------------------------------- modern layers
# The layers that networks taught today add: normalisations over channels or groups,
# a learned per-channel scale, channel and pixel rearrangements, resizing, padding and
# cropping. None of them has MACs; "all ops" counts their elementwise work.


def _map_only(site: Site, shape: Shape, op: str) -> int:
    """Spatial dimensions of a feature map (a vector is refused, naming the layer)."""
    if len(shape) == 1:
        raise site.error(
            _("{op} needs a feature map, but its input is a vector of {size}").format(
                op=op, size=f"{shape[0]:,}"
            ),
            hint=_("{op} comes before flatten/fc").format(op=op),
        )
    return len(shape) - 1


def _divides(
    site: Site, op: str, what: str, value: int, by: int, name: str | None, hint: Callable[[], str]
) -> None:
    """``value`` must be a multiple of ``by`` (channels and groups, sizes and factors);
    ``hint`` words what would work, when it is needed."""
    if value % by:
        raise site.error(
            _("{op}: {what} {value} is not a multiple of {by}").format(
                op=op, what=what, value=f"{value:,}", by=f"{by:,}"
            ),
            name,
            hint=hint(),
        )


def _channel_groups_hint(op: str, c: int) -> str:
    """groupnorm G and channelshuffle G: G must divide the channels."""
    return _("{op} G: G must divide the {c} channels, e.g. G = {divisors}").format(
        op=op, c=c, divisors=_divisors(c)
    )


class Norm(Rule):
    """A normalisation with statistics over part of each sample and a learned scale and
    shift per channel (γ, β): ``layernorm`` over the channels at each position (as
    ConvNeXt and transformers use it), ``groupnorm G`` over groups of C/G channels and
    all positions, ``instancenorm`` over each channel's positions (affine only with
    ``affine``, as PyTorch's default). 7 operations per element: mean 1, variance 2,
    normalise 2, scale and shift 2 (5 without γ and β)."""

    family = "norm"

    def __init__(self, name: str) -> None:
        self.name = name
        self.usage = {
            "layernorm": "layernorm",
            "groupnorm": "groupnorm G",
            "instancenorm": "instancenorm [affine]",
        }[name]
        self.meaning = {
            "layernorm": N_("layer norm over the channels at each position (ConvNeXt's)"),
            "groupnorm": N_("group norm: statistics over C/G channels and all positions"),
            "instancenorm": N_("instance norm: statistics over each channel's positions"),
        }[name]
        self.params_text = "2·C" if name != "instancenorm" else "0 (affine: 2·C)"
        self.cost_text = (
            N_("7 per element (mean 1, variance 2, normalise 2, scale and shift 2)")
            if name != "instancenorm"
            else N_("5 per element (mean 1, variance 2, normalise 2; affine: + 2)")
        )
        if name == "groupnorm":
            self.number = Number("groups", "count", True, None, N_("groupnorm G: G groups"))
        if name == "instancenorm":
            self.words = ("affine",)
            self.dims = (1, 2, 3)
        self.aliases = {"layernorm": ("ln",), "groupnorm": (), "instancenorm": ()}[name]
        if name == "instancenorm":
            self.dim_aliases = {f"instancenorm{d}d": (d,) for d in (1, 2, 3)}

    def affine(self, layer_args: Args | None) -> bool:
        return self.name != "instancenorm" or (
            layer_args is not None and layer_args.mode == "affine"
        )

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        c = shape[-1]
        per_statistic = c  # layernorm: the channels at one position
        if self.name == "groupnorm":
            groups = args.groups
            if groups is None:
                raise site.error(_("groupnorm needs its number of groups"), hint=_("groupnorm 32"))
            _divides(
                site,
                "groupnorm",
                _("the channel count"),
                c,
                groups,
                "groups",
                lambda: _channel_groups_hint("groupnorm", c),
            )
            per_statistic = c // groups * elements(_spatial(shape))
        elif self.name == "instancenorm":
            self.feature_map(site, shape, "instancenorm")
            per_statistic = elements(_spatial(shape))
        if per_statistic < 2 and self.name != "layernorm":
            # PyTorch refuses to normalise a single value (its variance is undefined)
            raise site.error(
                _(
                    "{name} would normalise single values: {shape} gives one value per statistic"
                ).format(name=self.name, shape=format_shape(shape)),
                hint=_("PyTorch needs more than one value per group or channel"),
            )
        affine = self.affine(args)
        per_element = 7 if affine else 5
        return Step(
            shape,
            c if affine else 0,
            c if affine else 0,
            ops=per_element * elements(shape),
            args=args,
        )

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        if not self.affine(layer.args):
            return [], []
        return [times(num(2), num(layer.in_shape[-1]))], [_("γ and β for each channel")]

    def ops_term(self, layer: Layer) -> Term | None:
        return times(num(7 if self.affine(layer.args) else 5), *_nums(layer.out_shape))

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        c = layer.in_shape[-1]
        if self.name == "layernorm":
            return [_torch_helpers(nn).ChannelsLast(nn.LayerNorm(c))]
        if self.name == "groupnorm":
            assert layer.args is not None and layer.args.groups is not None
            return [nn.GroupNorm(layer.args.groups, c)]
        dims = len(layer.in_shape) - 1
        return [getattr(nn, f"InstanceNorm{dims}d")(c, affine=self.affine(layer.args))]


class LayerScale(Rule):
    """A learned factor per channel, γ·x (ConvNeXt's layer scale): C parameters, one
    multiplication per element."""

    name = family = "layerscale"
    usage = "layerscale"
    meaning = N_("one learned factor per channel (ConvNeXt's layer scale)")
    params_text = "C"
    cost_text = N_("1 per element (multiply)")

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        return Step(shape, shape[-1], ops=elements(shape), args=args)

    def param_terms(self, layer: Layer) -> tuple[list[Term], list[str]]:
        return [num(layer.in_shape[-1])], [_("γ for each channel")]

    def ops_term(self, layer: Layer) -> Term | None:
        return product_of(layer.out_shape)

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        return [_torch_helpers(nn).LayerScale(layer.in_shape[-1], len(layer.in_shape) - 1)]


class ChannelShuffle(Rule):
    """ShuffleNet's channel shuffle: C = G·c channels as G groups of c, transposed, so
    channel i of group g moves to i·G + g. Shape unchanged; no cost (values move)."""

    name = family = "channelshuffle"
    usage = "channelshuffle G"
    meaning = N_("channels regrouped: G groups interleaved (ShuffleNet)")
    number = Number("groups", "count", True, None, N_("channelshuffle 2: 2 groups"))
    dims = (1, 2, 3)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        _map_only(site, shape, "channelshuffle")
        if args.groups is None:
            raise site.error(
                _("channelshuffle needs its number of groups"), hint=_("channelshuffle 2")
            )
        c = shape[-1]
        _divides(
            site,
            "channelshuffle",
            _("the channel count"),
            c,
            args.groups,
            "groups",
            lambda: _channel_groups_hint("channelshuffle", c),
        )
        return Step(shape, args=args)

    def shape_lines(self, layer: Layer) -> list[Worked]:
        return []

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        assert layer.args is not None and layer.args.groups is not None
        return [nn.ChannelShuffle(layer.args.groups)]


class PixelShuffle(Rule):
    """Sub-pixel rearrangement: ``pixelshuffle R`` turns H×W×C·R² into H·R×W·R×C (each
    group of R² channels becomes an R×R patch); ``pixelunshuffle R`` is the inverse."""

    family = "shuffle"
    dims = (2,)

    def __init__(self, inverse: bool) -> None:
        self.inverse = inverse
        self.name = "pixelunshuffle" if inverse else "pixelshuffle"
        self.usage = f"{self.name} R"
        self.meaning = (
            N_("H×W×C → H/R×W/R×C·R² (space to depth)")
            if inverse
            else N_("H×W×C·R² → H·R×W·R×C (depth to space)")
        )
        hint = (
            N_("pixelunshuffle 2: the factor R") if inverse else N_("pixelshuffle 2: the factor R")
        )
        self.number = Number("factor", "count", True, None, hint)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        r = args.factor
        if r is None:
            raise site.error(
                _("{name} needs its factor").format(name=self.name),
                hint=_("{name} 2").format(name=self.name),
            )
        if len(shape) != 3:  # PyTorch's pixel shuffles work on H×W planes only
            raise site.error(
                _(
                    "{name} needs a feature map of two dimensions (H×W×C), but its input is {shape}"
                ).format(name=self.name, shape=format_shape(shape)),
                hint=_("pixel shuffles rearrange 2-D maps"),
            )
        h, w, c = shape
        if self.inverse:

            def common() -> str:
                return _(
                    "pixelunshuffle R: R must divide both the height {h} and the width {w}, "
                    "e.g. R = {divisors}"
                ).format(h=h, w=w, divisors=_divisors(math.gcd(h, w)))

            for size, what in ((h, _("the height")), (w, _("the width"))):
                _divides(site, self.name, what, size, r, "factor", common)
            return Step((h // r, w // r, c * r * r), args=args)

        def squares() -> str:
            return _("pixelshuffle R: R² must divide the {c} channels, e.g. R = {factors}").format(
                c=c, factors=_divisors(c, lambda f: c % (f * f) == 0)
            )

        _divides(site, self.name, _("the channel count"), c, r * r, "factor", squares)
        return Step((h * r, w * r, c // (r * r)), args=args)

    def shape_lines(self, layer: Layer) -> list[Worked]:
        assert layer.args is not None and layer.args.factor is not None
        r = num(layer.args.factor)
        (h, w, c), (ho, wo, co) = layer.in_shape, layer.out_shape
        if self.inverse:
            sizes = [
                Worked("H_{out}", "H_out", rounded(num(h), r, "floor"), ho),
                Worked("W_{out}", "W_out", rounded(num(w), r, "floor"), wo),
            ]
            return [*sizes, Worked("C_{out}", "C_out", times(num(c), r, r), co)]
        return [
            Worked("H_{out}", "H_out", times(num(h), r), ho),
            Worked("W_{out}", "W_out", times(num(w), r), wo),
            Worked("C_{out}", "C_out", rounded(num(c), times(r, r), "floor"), co),
        ]

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        assert layer.args is not None and layer.args.factor is not None
        cls = nn.PixelUnshuffle if self.inverse else nn.PixelShuffle
        return [cls(layer.args.factor)]


class MaxUnpool(Rule):
    """``maxunpool POOL`` undoes the labelled max pooling POOL: each value goes back to
    where the maximum was, zeros elsewhere; the output has POOL's input size (PyTorch's
    ``MaxUnpool`` with POOL's indices and ``output_size``). No parameters, no cost."""

    name = family = "maxunpool"
    usage = "maxunpool POOL"
    meaning = N_("back to the size before POOL, a labelled maxpool (SegNet's decoder)")
    dims = (1, 2, 3)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        # with its label, the evaluator makes the row (it needs the pooling's own row)
        raise site.error(
            _("maxunpool needs the label of the max pooling it undoes"),
            hint=_("p1: maxpool k2 ... then maxunpool p1"),
        )

    def shape_lines(self, layer: Layer) -> list[Worked]:
        names = SPATIAL_NAMES[len(layer.out_shape) - 1]
        note = _("the size before the max pooling it undoes")
        return [
            Worked(f"{n}_{{out}}", f"{n}_out", None, v, note)
            for n, v in zip(names, layer.out_shape, strict=False)
        ]

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        assert layer.args is not None and layer.args.kernel is not None
        dims = len(layer.out_shape) - 1
        padding = layer.args.padding if isinstance(layer.args.padding, tuple) else 0
        cls = getattr(nn, f"MaxUnpool{dims}d")
        return [cls(layer.args.kernel, layer.args.stride, padding)]


class Opaque(Rule):
    """A part of an imported model that has no word in the language
    (``from_torch(..., unknown="opaque")``): ``opaque`` keeps its input's shape,
    ``opaque 7x7x512`` (channels last; ``opaque 1000`` for a vector) gives the shape the
    model gave. Counted as zero: no parameters, no operations; its receptive field is
    unknown. It has no PyTorch twin."""

    name = family = "opaque"
    usage = "opaque [SHAPE]"
    meaning = N_(
        "a part of an imported model with no word: shape kept, or as given "
        "(7x7x512, 1000); counted as zero"
    )
    number = Number(
        "output_size", "sizes", False, None, N_("opaque 7x7x512 (channels last) or opaque 1000")
    )
    trailing = False

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        out = shape if args.output_size is None else tuple(args.output_size)
        return Step(out, window="lost", args=args)

    def shape_lines(self, layer: Layer) -> list[Worked]:
        shape = layer.out_shape
        names = (*SPATIAL_NAMES[len(shape) - 1], "C") if len(shape) > 1 else ("N",)
        note = _("as the imported model gives it: a part with no word, counted as zero")
        return [
            Worked(f"{n}_{{out}}", f"{n}_out", None, v, note if i == 0 else "")
            for i, (n, v) in enumerate(zip(names, shape, strict=True))
        ]

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        raise CNNError(
            _(
                "{name} is opaque: a part of an imported model with no word in the layer "
                "language, so it has no PyTorch twin"
            ).format(name=getattr(layer, "name", "opaque")),
            hint=_("write the layers it stands for in its place, then call to_torch() again"),
        )


_SIDE_KEYS = ("top", "bottom", "left", "right")


def _keyed_sides(site: Site, args: Args, dims: int, op: str) -> tuple[tuple[int, int], ...] | None:
    """(before, after) per spatial axis from top=/bottom= (the height) and left=/right=
    (the width), as PyTorch's ``ZeroPad2d((left, right, top, bottom))``; None if none."""
    keyed = [k for k in _SIDE_KEYS if getattr(args, k) is not None]
    if not keyed:
        return None
    if dims == 3 or (dims == 1 and any(k in keyed for k in ("top", "bottom"))):
        raise site.error(
            _(
                "{op}: top and bottom, left and right name the sides of a 2-D map"
                " (left and right of a 1-D one)"
            ).format(op=op),
            keyed[0],
            hint=_("write one number per dimension: {op} 1x1x1").format(op=op),
        )
    width = (args.left or 0, args.right or 0)
    return ((args.top or 0, args.bottom or 0), width) if dims == 2 else (width,)


def _sides_lines(layer: Layer, sign: str) -> list[Worked]:
    """H_out = H + top + bottom (pad) or H − top − bottom (crop), per spatial axis."""
    assert layer.args is not None and layer.args.sides is not None
    names = SPATIAL_NAMES[len(layer.in_shape) - 1]
    lines = []
    for name, size, (before, after), out in zip(
        names, layer.in_shape, layer.args.sides, layer.out_shape, strict=False
    ):
        term = (
            plus(num(size), num(before), num(after))
            if sign == "+"
            else minus(minus(num(size), num(before)), num(after))
        )
        lines.append(Worked(f"{name}_{{out}}", f"{name}_out", term, out))
    return lines


_PAD_MODES = ("zeros", "reflect", "replicate", "circular")


class Pad(Rule):
    """Padding on each side: ``pad P`` (every side), ``pad PHxPW`` (per dimension) or
    ``pad top= bottom= left= right=``; ``zeros`` (default), ``reflect``, ``replicate`` or
    ``circular``, as PyTorch's padding modules. out = H + before + after; no cost."""

    name = family = "pad"
    usage = "pad P [reflect]"
    meaning = N_(
        "padding: P on every side, PHxPW per dimension, or top= bottom= left= right=; "
        "zeros (default), reflect, replicate or circular"
    )
    number = Number("padding", "extents", False, None, N_("pad 1, pad 1x2 or pad top=0 bottom=1"))
    accepts = frozenset(_SIDE_KEYS)
    words = _PAD_MODES
    dims = (1, 2, 3)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        dims = _map_only(site, shape, "pad")
        sides = _keyed_sides(site, args, dims, "pad")
        if sides is not None and args.padding is not None:
            raise site.error(_("pad: give the sizes by number or by side, not both"), "padding")
        if sides is None:
            if args.padding is None:
                raise site.error(
                    _("pad needs its sizes"), hint=self.number.hint if self.number else None
                )
            args = self.resolve(site, args, dims)
            assert isinstance(args.padding, tuple)
            sides = tuple((p, p) for p in args.padding)
        mode = args.mode or "zeros"
        for size, (before, after) in zip(_spatial(shape), sides, strict=True):
            largest = max(before, after)
            # PyTorch: reflection needs a pad below the size, circular at most the size
            if (mode == "reflect" and largest >= size) or (mode == "circular" and largest > size):
                raise site.error(
                    (
                        _("{mode} padding {largest} must be less than the input size {size}")
                        if mode == "reflect"
                        else _("{mode} padding {largest} must be at most the input size {size}")
                    ).format(mode=mode, largest=largest, size=size),
                    "mode",
                    hint=_("zeros or replicate padding has no such limit"),
                )
        out = (*(v + b + a for v, (b, a) in zip(_spatial(shape), sides, strict=True)), shape[-1])
        return Step(out, args=args._replace(sides=sides, mode=mode))

    def shape_lines(self, layer: Layer) -> list[Worked]:
        return _sides_lines(layer, "+")

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        assert layer.args is not None and layer.args.sides is not None
        flat: list[int] = []
        for before, after in reversed(layer.args.sides):  # PyTorch lists the last axis first
            flat += [before, after]
        dims = len(layer.in_shape) - 1
        kind = {"zeros": "Zero", "reflect": "Reflection", "replicate": "Replication"}.get(
            layer.args.mode or "zeros", "Circular"
        )
        return [getattr(nn, f"{kind}Pad{dims}d")(tuple(flat))]


class Crop(Rule):
    """Cropping: ``crop HxW`` keeps the centre H×W (top = ⌊(H_in − H)/2⌋, as U-Net crops
    its skips), ``crop top= bottom= left= right=`` removes that much from each side.
    out = H − before − after; no cost."""

    name = family = "crop"
    usage = "crop HxW"
    meaning = N_("keeps the centre H×W, or removes top= bottom= left= right= rows and columns")
    number = Number("output_size", "sizes", False, None, N_("crop 56x56 or crop top=1 left=1"))
    accepts = frozenset(_SIDE_KEYS)
    dims = (1, 2, 3)

    def apply(self, site: Site, args: Args, shape: Shape, rounding: Rounding) -> Step:
        dims = _map_only(site, shape, "crop")
        spatial = _spatial(shape)
        sides = _keyed_sides(site, args, dims, "crop")
        if sides is not None and args.output_size is not None:
            raise site.error(_("crop: give the size or the sides, not both"), "output_size")
        if sides is None:
            if args.output_size is None:
                raise site.error(
                    _("crop needs a size or sides"), hint=_("crop 56x56, or crop top=2")
                )
            args = self.resolve(site, args, dims)
            assert args.output_size is not None
            if any(t > v for t, v in zip(args.output_size, spatial, strict=True)):
                raise site.error(
                    _("crop to {size} is larger than the input {shape}").format(
                        size="×".join(map(str, args.output_size)), shape=format_shape(shape)
                    ),
                    "output_size",
                    hint=_("a crop keeps part of the map; pad makes it larger"),
                )
            sides = tuple(
                ((v - t) // 2, v - t - (v - t) // 2)
                for v, t in zip(spatial, args.output_size, strict=True)
            )
        out = tuple(v - b - a for v, (b, a) in zip(spatial, sides, strict=True))
        if min(out) < 1:
            raise site.error(
                _("crop leaves nothing of {shape}").format(shape=format_shape(shape)),
                hint=_("crop less than the map's size"),
            )
        return Step((*out, shape[-1]), args=args._replace(sides=sides))

    def shape_lines(self, layer: Layer) -> list[Worked]:
        return _sides_lines(layer, "−")

    def torch(self, nn: Any, layer: Layer) -> list[Module]:
        assert layer.args is not None and layer.args.sides is not None
        return [_torch_helpers(nn).Crop(layer.args.sides)]


@functools.cache
def _torch_helpers(nn: Any) -> Any:
    """The small modules PyTorch lacks, made once on first use (torch stays optional)."""
    import torch

    class ChannelsLast(nn.Module):  # type: ignore[misc]
        """Apply ``inner`` with the channels last: LayerNorm over the channels of a map."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            if x.dim() == 2:
                return self.inner(x)
            order = (0, *range(2, x.dim()), 1)
            back = (0, x.dim() - 1, *range(1, x.dim() - 1))
            return self.inner(x.permute(order)).permute(back)

    class LayerScale(nn.Module):  # type: ignore[misc]
        """γ · x with one learned γ per channel."""

        def __init__(self, channels: int, dims: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones((channels,) + (1,) * dims))

        def forward(self, x: Any) -> Any:
            return x * self.weight

    class Crop(nn.Module):  # type: ignore[misc]
        """Keep x[..., before : size − after] along each spatial axis."""

        def __init__(self, sides: tuple[tuple[int, int], ...]) -> None:
            super().__init__()
            self.sides = sides

        def forward(self, x: Any) -> Any:
            index = [slice(None), slice(None)]
            for axis, (before, after) in enumerate(self.sides, start=2):
                index.append(slice(before, x.shape[axis] - after))
            return x[tuple(index)]

    class Namespace:
        pass

    space = Namespace()
    space.ChannelsLast = ChannelsLast  # type: ignore[attr-defined]
    space.LayerScale = LayerScale  # type: ignore[attr-defined]
    space.Crop = Crop  # type: ignore[attr-defined]
    return space


_HINT = {
    "conv": N_("conv N k..: N filters, e.g. conv 6 k5"),
    "dwconv": N_("dwconv k3 [M]: M is the channel multiplier (default 1)"),
}

# --------------------------------------------------------------------------- the tables

_ACTIVATIONS = (
    Activation("relu", 1, "max(0, x)", "ReLU"),
    Activation("relu6", 2, "min(max(0, x), 6)", "ReLU6"),
    Activation(
        "leakyrelu",
        2,
        N_("compare, multiply"),
        "LeakyReLU",
        number=Number("negative_slope", "real", False, 0.01, N_("leakyrelu 0.1: the slope")),
    ),
    Activation("prelu", 2, N_("compare, multiply"), "PReLU", weights=1),
    Activation(
        "elu",
        4,
        N_("compare, exp, subtract, multiply"),
        "ELU",
        number=Number("alpha", "real", False, 1.0, N_("elu 1.0: alpha")),
    ),
    Activation("gelu", 5, N_("divide, erf, add, multiply, multiply"), "GELU"),
    Activation("silu", 4, N_("negate, exp, add, divide"), "SiLU", aliases=("swish",)),
    Activation("hardswish", 5, N_("add, max, min, multiply, divide"), "Hardswish"),
    Activation("sigmoid", 4, N_("negate, exp, add, divide"), "Sigmoid"),
    Activation("hardsigmoid", 4, N_("add, max, min, divide"), "Hardsigmoid"),
    Activation("tanh", 1, N_("one transcendental"), "Tanh"),
    Activation("softmax", 3, N_("exp, share of the sum, divide"), "Softmax"),
)

RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Conv("conv", depthwise=False),
        Conv("dwconv", depthwise=True),
        Deconv(),
        Pool(maximum=True),
        Pool(maximum=False),
        GlobalPool(maximum=False),
        GlobalPool(maximum=True),
        AdaptivePool(maximum=False),
        AdaptivePool(maximum=True),
        Fc(),
        Flatten(),
        BatchNorm(),
        Dropout(),
        Lrn(),
        Identity(),
        Norm("layernorm"),
        Norm("groupnorm"),
        Norm("instancenorm"),
        LayerScale(),
        ChannelShuffle(),
        PixelShuffle(inverse=False),
        PixelShuffle(inverse=True),
        Upsample(),
        Pad(),
        Crop(),
        MaxUnpool(),
        Opaque(),
        *_ACTIVATIONS,
        Merge("add"),
        Merge("concat"),
        Merge("mul"),
    )
}
"""Every layer kind by its canonical name (``Layer.op``), merge rows included."""

ACTIVATIONS: dict[str, Activation] = {rule.name: rule for rule in _ACTIVATIONS}
"""The activations, which may also follow a layer on its line."""

ACTIVATION_WORDS: dict[str, str] = {
    word: rule.name for rule in _ACTIVATIONS for word in (rule.name, *rule.aliases)
}

ALIASES: dict[str, str] = {
    word: rule.name for rule in RULES.values() for word in (*rule.aliases, *rule.dim_aliases)
}
"""Every other word for a layer → its canonical name."""

WORD_DIMS: dict[str, tuple[int, ...]] = {
    word: dims for rule in RULES.values() for word, dims in rule.dim_aliases.items()
}
"""Words that fix the input's spatial dimensions (``conv1d``: 1; ``bn1d``: vector or 1)."""


COURSE_TERMS = {
    term: (term, word)
    for word, terms in {
        "conv": ("卷积", "卷积层"),
        "dwconv": ("深度卷积", "深度可分离卷积"),
        "deconv": ("转置卷积", "反卷积"),
        "maxpool / avgpool": ("池化", "池化层"),
        "maxpool": ("最大池化",),
        "avgpool": ("平均池化",),
        "gap": ("全局平均池化",),
        "fc": ("全连接", "全连接层"),
        "bn": ("批归一化", "批量归一化"),
        "flatten": ("展平",),
        "dropout": ("丢弃",),
        "upsample": ("上采样",),
    }.items()
    for term in terms
}
"""The course's Chinese names of layers, answered with the word to write."""


def lookup(statement: Statement) -> tuple[str, Rule]:
    """The canonical op name and rule of a layer statement, or a CNNError."""
    word = statement.keyword.lower
    if word in BLOCKS or word in INNER_BLOCKS:
        raise statement.error(
            _("'{word}' opens a block and needs a ':'").format(word=word),
            hint=_("{word}:  (then its lines, indented)").format(word=word),
        )
    op = ALIASES.get(word, word)
    rule = RULES.get(op)
    if rule is None or rule.merge:
        if word == "input":
            raise statement.error(
                _("input must be the first statement, and only one"),
                hint=_("write it once, at the top: input 32x32x1"),
            )
        translation = pytorch_lines.translate(statement.source)
        if translation is not None:
            raise statement.error(
                pytorch_lines.message(statement.keyword.text),
                hint=pytorch_lines.hint(translation),
            )
        layer_words = [w for w in (*RULES, *ALIASES) if not RULES[ALIASES.get(w, w)].merge]
        term = COURSE_TERMS.get(word)
        raise statement.error(
            _("unknown layer '{text}'").format(text=statement.keyword.text),
            hint=(
                _("'{term}' is written {word} in the layer language").format(
                    term=term[0], word=term[1]
                )
                if term
                else did_you_mean(word, layer_words)
            ),
        )
    return op, rule


def check_dims(site: Site, word: str, shape: Shape) -> None:
    """A word that fixes the dimensions (``conv1d``) refuses an input of other ones."""
    allowed = WORD_DIMS.get(word)
    if allowed is not None and len(shape) - 1 not in allowed:
        wanted = _(" or ").join(
            _("a vector") if d == 0 else _("a {d}-D map").format(d=d) for d in allowed
        )
        raise site.error(
            _("{word} needs {wanted}, but its input is {format_shape}").format(
                word=word, wanted=wanted, format_shape=format_shape(shape)
            ),
            hint=_("the plain word works for any: {word}").format(word=ALIASES.get(word, word)),
        )


def help_lines() -> list[str]:
    """One line per layer word, ``usage (aliases) — meaning``, in the language in force
    (the layer words and the usage stay as they are written): ``%%cnn?`` lists them."""
    lines = []
    for rule in RULES.values():
        if rule.merge:
            continue
        words = ", ".join((*rule.aliases, *rule.dim_aliases))
        lines.append(f"{rule.usage}" + (f" ({words})" if words else "") + f" — {rule.describe()}")
    return lines


def readme_table() -> str:
    """The README's table of layers, generated from the rules (a test keeps them equal);
    always English, whatever the language in force."""
    rows = ["| statement (aliases) | meaning | parameters | all ops |", "|---|---|---|---|"]
    with language("en"):
        for rule in RULES.values():
            if rule.merge:
                continue
            words = ", ".join(f"`{w}`" for w in (*rule.aliases, *rule.dim_aliases))
            rows.append(
                f"| `{rule.usage}`"
                + (f" ({words})" if words else "")
                + f" | {rule.describe()} | {rule.params_text} | {rule.cost_text or '0'} |"
            )
    return "\n".join(rows)


if __name__ == "__main__":  # python -m cnn_magic.layers: the README table
    print(readme_table())
