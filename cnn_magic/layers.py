"""What each layer word means: its arguments, its output shape and its counts.

One literal table, :data:`RULES`, maps each layer name to a :class:`Rule`; each rule's
``compute`` is a small pure function whose docstring states its formula. Aliases map
to names in :data:`ALIASES`. Shapes are ``(H, W, C)`` for feature maps and ``(N,)``
for vectors. Every size is an exact integer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import NamedTuple

from .conventions import ACTIVATION_COST, rounding_for
from .dsl import Statement, Token
from .errors import did_you_mean

Shape = tuple[int, ...]


class Axis(NamedTuple):
    """How one spatial dimension was computed; ``--explain`` writes it out."""

    size: int  # input size along this dimension
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    out: int
    rule: str  # "floor" | "ceil" | "same" | "deconv" | "adaptive"
    dropped_last: bool = False  # ceil: the last window started in the right padding
    out_pad: int = 0  # deconv output padding


class Step(NamedTuple):
    """What a rule computes for one layer."""

    out_shape: Shape
    weights: int = 0
    biases: int = 0
    macs: int = 0
    exact: int = 0  # multiplications + additions, the notes' way
    ops: int = 0  # other elementary operations, counted only by "all ops"
    axes: tuple[Axis, Axis] | None = None
    # receptive field: None keeps it, "lost" ends it (vectors, non-uniform windows),
    # else per dimension (effective kernel, stride, padding before)
    window: tuple[tuple[int, int, int], tuple[int, int, int]] | str | None = None


class Args(NamedTuple):
    """A statement's arguments, read but not yet checked against a shape."""

    size: tuple[float | int, ...] | None = None
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | str = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    out_pad: tuple[int, int] = (0, 0)
    bias: bool = True
    rounding: str | None = None
    activation: str | None = None
    tokens: dict = {}  # argument name → the token it came from, for errors  # noqa: RUF012


# --------------------------------------------------------------------------- arguments

_KEYS = {
    "k": "kernel",
    "kernel": "kernel",
    "kernel_size": "kernel",
    "s": "stride",
    "stride": "stride",
    "p": "padding",
    "pad": "padding",
    "padding": "padding",
    "d": "dilation",
    "dilation": "dilation",
    "g": "groups",
    "groups": "groups",
    "op": "out_pad",
    "output_padding": "out_pad",
    "bias": "bias",
}
_SHORT = re.compile(r"(op|k|s|p|d|g)(\d.*)\Z", re.ASCII)
_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:x(\d+))?\Z", re.ASCII)
_DIMS = re.compile(r"(\d+)(?:x(\d+))?\Z", re.ASCII)
_FLAGS = {
    "same": ("padding", "same"),
    "valid": ("padding", "valid"),
    "nobias": ("bias", False),
    "floor": ("rounding", "floor"),
    "ceil": ("rounding", "ceil"),
}
_ARG_WORDS = {
    "kernel": "k5 or k=3x1",
    "stride": "s2 or s=2x1",
    "padding": "p1, p=1x2, same or valid",
    "dilation": "d2",
    "groups": "g32",
    "out_pad": "op=1",
    "bias": "nobias or bias=no",
    "rounding": "floor or ceil",
    "activation": "relu, softmax, ...",
    "size": "a number",
}
_BIAS_WORDS = {
    "no": False,
    "false": False,
    "0": False,
    "off": False,
    "yes": True,
    "true": True,
    "1": True,
    "on": True,
}


def read_args(statement: Statement, op: str, accepts: frozenset[str]) -> Args:
    """Read every argument token of ``statement``; anything unknown is a CNNError."""
    found: dict[str, object] = {}
    tokens: dict[str, Token] = {}
    for token in statement.args:
        name, value = _read_token(statement, token)
        if name not in accepts:
            raise statement.error(
                f"{op} takes no {_describe(name, token)}",
                token,
                hint=f"{op} takes: "
                + (", ".join(_ARG_WORDS[a] for a in sorted(accepts)) or "no arguments"),
            )
        if name in found:
            raise statement.error(f"{_describe(name, token)} is given twice", token)
        found[name] = value
        tokens[name] = token
    return Args(tokens=tokens, **found)


def _describe(name: str, token: Token) -> str:
    if name == "activation":
        return f"activation '{token.text}'"
    if name == "size":
        return f"size '{token.text}'"
    return f"'{token.text}' ({name})"


_READ: dict[str, tuple[str, object]] = {}


def _read_token(statement: Statement, token: Token) -> tuple[str, object]:
    """(argument name, value) of a token; remembered per word, as networks repeat them."""
    known = _READ.get(token.lower)
    if known is None:
        known = _read_new_token(statement, token)
        if len(_READ) < 4096:
            _READ[token.lower] = known
    return known


def _read_new_token(statement: Statement, token: Token) -> tuple[str, object]:
    word = token.lower
    if word in _FLAGS:
        return _FLAGS[word]
    if word in ACTIVATIONS:
        return "activation", ACTIVATIONS[word]
    if "=" in word:
        key, _, value = word.partition("=")
    else:
        match = _SHORT.match(word)
        if match is None:
            if _NUMBER.match(word):
                return "size", _read_size(statement, token)
            key = _KEYS.get(word[:1]) if word[:1] in "kspdg" else None
            hint = (
                f"{key} is written {_ARG_WORDS[key]}"
                if key
                else did_you_mean(word, [*_FLAGS, *ACTIVATIONS, *_KEYS])
            )
            raise statement.error(f"unknown argument '{token.text}'", token, hint=hint)
        key, value = match.groups()
    if key not in _KEYS:
        raise statement.error(f"unknown argument '{key}='", token, hint=did_you_mean(key, _KEYS))
    name = _KEYS[key]
    return name, _read_value(statement, token, name, value)


def _read_value(statement: Statement, token: Token, name: str, value: str):
    if name == "bias":
        if value not in _BIAS_WORDS:
            raise statement.error(
                f"bias={value} is not yes or no",
                token,
                hint="write bias=no (or nobias) for a layer without bias",
            )
        return _BIAS_WORDS[value]
    if name == "padding" and value in ("same", "valid"):
        return value
    match = _DIMS.match(value)
    if match is None:
        raise statement.error(
            f"'{token.text}': {name} must be a whole number or HxW",
            token,
            hint=f"for example {_ARG_WORDS[name]}",
        )
    if name == "groups" and match.group(2):
        raise statement.error(
            f"'{token.text}': groups is one whole number", token, hint="for example g32"
        )
    h = whole(statement, token, match.group(1))
    w = whole(statement, token, match.group(2)) if match.group(2) else h
    least = 0 if name in ("padding", "out_pad") else 1
    if h < least or w < least:
        raise statement.error(f"'{token.text}': {name} must be at least {least}", token)
    return h if name == "groups" and match.group(2) is None else (h, w)


def _read_size(statement: Statement, token: Token) -> tuple[float | int, ...]:
    match = _NUMBER.match(token.lower)
    first, second = match.groups()
    number = float(first) if "." in first else whole(statement, token, first)
    if second is not None:
        if isinstance(number, float):
            raise statement.error(f"'{token.text}' is not a size", token)
        return (number, whole(statement, token, second))
    return (number,)


MAX_NUMBER = 10**9


def whole(statement: Statement, token: Token, digits: str) -> int:
    """A whole number of the text; more than 10⁹ is refused (no real network needs it,
    and it keeps every count exact and every look-up fast)."""
    value = int(digits) if len(digits) <= 10 else MAX_NUMBER + 1
    if value > MAX_NUMBER:
        raise statement.error(
            f"'{token.text}': {digits[:12]}{'…' if len(digits) > 12 else ''} "
            f"is too large (at most 1,000,000,000)",
            token,
        )
    return value


# ------------------------------------------------------------------------ shapes


def feature_map(statement: Statement, shape: Shape, op: str) -> tuple[int, int, int]:
    """The (H, W, C) input of a layer that needs a feature map."""
    if len(shape) != 3:
        raise statement.error(
            f"{op} needs a feature map (H×W×C), but its input is a vector of {shape[0]:,}",
            hint="convolution and pooling come before flatten/fc",
        )
    return shape


def whole_size(
    statement: Statement, args: Args, op: str, *, required: bool, default: int = 1
) -> int:
    """The bare number of conv/fc/dwconv/repeat: a whole number, at least 1."""
    if args.size is None:
        if required:
            raise statement.error(f"{op} needs a size", hint=SIZE_HINT.get(op))
        return default
    token = args.tokens["size"]
    if len(args.size) != 1 or not isinstance(args.size[0], int):
        raise statement.error(
            f"'{token.text}': {op}'s size must be a whole number", token, hint=SIZE_HINT.get(op)
        )
    if args.size[0] < 1:
        raise statement.error(f"'{token.text}': {op}'s size must be at least 1", token)
    return args.size[0]


SIZE_HINT = {
    "conv": "conv N k..: N filters, e.g. conv 6 k5",
    "deconv": "deconv N k..: N output channels, e.g. deconv 64 k4 s2 p1",
    "fc": "fc N: N output features, e.g. fc 84",
    "dwconv": "dwconv k3 [M]: M is the channel multiplier (default 1)",
    "adaptiveavgpool": "adaptiveavgpool S or HxW, e.g. adaptiveavgpool 7",
    "adaptivemaxpool": "adaptivemaxpool S or HxW, e.g. adaptivemaxpool 7",
}


def _windows(
    statement: Statement, args: Args, hw: tuple[int, int], rounding: str, *, pool: bool
) -> tuple[Axis, Axis]:
    """Output size of a sliding window along H and W.

    ``k_eff = d·(k − 1) + 1`` and ``x = (H + 2P − k_eff) / S``; floor: ``⌊x⌋ + 1``;
    ceil: ``⌈x⌉ + 1``, minus 1 if ``(out − 1)·S ≥ H + P`` (the last window must start
    inside the input or the left padding, as PyTorch's ceil_mode and Caffe do) — only
    when x is fractional, so ceil never gives fewer outputs than floor;
    same: ``⌈H / S⌉``, total padding ``max((out − 1)·S + k_eff − H, 0)``, the odd pixel
    after (TensorFlow).
    """
    if args.kernel is None:
        op = statement.keyword.lower
        raise statement.error(f"{op} needs a kernel size", hint=f"for example {op} ... k3")
    stride = args.stride or (args.kernel if pool else (1, 1))
    axes = []
    for i in (0, 1):
        size, k, s, d = hw[i], args.kernel[i], stride[i], args.dilation[i]
        k_eff = d * (k - 1) + 1
        if args.padding == "same":
            out = -(-size // s)
            total = max((out - 1) * s + k_eff - size, 0)
            axes.append(Axis(size, k, s, total // 2, total - total // 2, d, out, "same"))
            continue
        p = 0 if args.padding == "valid" else args.padding[i]
        if pool and p > k // 2:  # PyTorch compares with the kernel before dilation
            raise statement.error(
                f"padding {p} is more than half the kernel {k}",
                args.tokens.get("padding"),
                hint="pooling padding must be at most half the kernel (PyTorch refuses it too)",
            )
        span = size + 2 * p - k_eff
        # ceil pooling still has a window when the kernel overhangs by less than a stride
        # (PyTorch's ceil_mode agrees); anything else needs the kernel to fit
        if span < 0 and not (pool and rounding == "ceil" and span > -s):
            dim = "height" if i == 0 else "width"
            with_d = f" (effective {k_eff} with dilation {d})" if d > 1 else ""
            raise statement.error(
                f"kernel {k}{with_d} is larger than the padded input {dim} "
                f"{size} + 2·{p} = {size + 2 * p}",
                args.tokens.get("kernel"),
                hint="use a smaller kernel, more padding, or a larger input",
            )
        if rounding == "floor":
            axes.append(Axis(size, k, s, p, p, d, span // s + 1, "floor"))
        else:
            out = -(-span // s) + 1
            # only a window that ceil added beyond floor's is dropped: a conv whose padding
            # exceeds its kernel keeps floor's all-padding windows, as PyTorch does
            dropped = span % s != 0 and (out - 1) * s >= size + p
            axes.append(Axis(size, k, s, p, p, d, out - dropped, "ceil", dropped))
    return axes[0], axes[1]


def _window_field(axes: tuple[Axis, Axis]):
    h, w = axes
    return (
        (h.dilation * (h.kernel - 1) + 1, h.stride, h.pad_before),
        (w.dilation * (w.kernel - 1) + 1, w.stride, w.pad_before),
    )


# ------------------------------------------------------------------------- rules


def conv(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """2-D convolution with N filters.

    weights ``k_h·k_w·(C_in/g)·N``, biases ``N``;
    MACs ``k_h·k_w·(C_in/g)·H_out·W_out·N``; exact ``2·MACs − outputs (+ outputs with bias)``.
    """
    h, w, c = feature_map(statement, shape, "conv")
    n = whole_size(statement, args, "conv", required=True)
    return _convolution(statement, args, (h, w, c), n, args.groups, mode)


def dwconv(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Depthwise convolution: groups = C_in, N = C_in·multiplier (a bare number).

    weights ``k_h·k_w·N``, biases ``N``; MACs ``k_h·k_w·H_out·W_out·N``.
    """
    h, w, c = feature_map(statement, shape, "dwconv")
    multiplier = whole_size(statement, args, "dwconv", required=False)
    return _convolution(statement, args, (h, w, c), c * multiplier, c, mode)


def _convolution(statement, args, shape, n, groups, mode) -> Step:
    h, w, c = shape
    _check_groups(statement, args, c, n, groups)
    rounding = args.rounding or rounding_for("conv", mode)
    axes = _windows(statement, args, (h, w), rounding, pool=False)
    kh, kw = args.kernel
    per_output = kh * kw * (c // groups)
    outputs = axes[0].out * axes[1].out * n
    macs = per_output * outputs
    biases = n if args.bias else 0
    return Step(
        (axes[0].out, axes[1].out, n),
        per_output * n,
        biases,
        macs,
        2 * macs - outputs + (outputs if args.bias else 0),
        0,
        axes,
        _window_field(axes),
    )


def _check_groups(statement, args, c_in, n, groups) -> None:
    token = args.tokens.get("groups")
    if c_in % groups:
        raise statement.error(
            f"groups {groups} does not divide the {c_in} input channels",
            token,
            hint=_divisors_hint(c_in),
        )
    if n % groups:
        raise statement.error(
            f"groups {groups} does not divide the {n} output channels",
            token,
            hint=_divisors_hint(n),
        )


def _divisors_hint(n: int) -> str:
    small = [d for d in range(1, min(n, 4096) + 1) if n % d == 0][:12]
    return "groups must divide both channel counts, e.g. " + ", ".join(map(str, small))


def deconv(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Transposed convolution (PyTorch's ConvTranspose2d).

    ``out = (H − 1)·S − 2P + d·(k − 1) + op + 1``; weights ``k_h·k_w·C_in·(N/g)``,
    biases ``N``; MACs ``k_h·k_w·C_in·(N/g)·H_in·W_in``; exact ``2·MACs`` (each product
    is accumulated into the output) ``+ outputs`` for the bias.
    """
    h, w, c = feature_map(statement, shape, "deconv")
    n = whole_size(statement, args, "deconv", required=True)
    _check_groups(statement, args, c, n, args.groups)
    if args.kernel is None:
        raise statement.error("deconv needs a kernel size", hint="for example deconv 64 k4 s2 p1")
    if isinstance(args.padding, str):
        raise statement.error(
            f"deconv takes numeric padding, not '{args.padding}'",
            args.tokens["padding"],
            hint="for example p=1 (or p0)",
        )
    stride = args.stride or (1, 1)
    axes = []
    for i in (0, 1):
        size, k, s, d = (h, w)[i], args.kernel[i], stride[i], args.dilation[i]
        p, op = args.padding[i], args.out_pad[i]
        if op >= max(s, d):
            raise statement.error(
                f"output padding {op} must be smaller than the stride {s} or the dilation {d}",
                args.tokens.get("out_pad"),
                hint="PyTorch refuses it too",
            )
        out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        if out < 1:
            raise statement.error(
                f"output size {out} < 1: ({size} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1",
                args.tokens.get("padding"),
                hint="use less padding",
            )
        axes.append(Axis(size, k, s, p, p, d, out, "deconv", out_pad=op))
    kh, kw = args.kernel
    macs = kh * kw * c * (n // args.groups) * h * w
    outputs = axes[0].out * axes[1].out * n
    biases = n if args.bias else 0
    return Step(
        (axes[0].out, axes[1].out, n),
        kh * kw * c * (n // args.groups),
        biases,
        macs,
        2 * macs + (outputs if args.bias else 0),
        0,
        tuple(axes),
        "lost",
    )


def maxpool(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Max pooling; stride defaults to the kernel. ``k_h·k_w − 1`` comparisons per output."""
    return _pool(statement, args, shape, mode, "maxpool", extra=-1)


def avgpool(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Average pooling; ``k_h·k_w − 1`` additions and one division per output."""
    if args.dilation != (1, 1):
        raise statement.error(
            "avgpool takes no dilation",
            args.tokens["dilation"],
            hint="PyTorch's AvgPool2d has none; maxpool does",
        )
    return _pool(statement, args, shape, mode, "avgpool", extra=0)


def _pool(statement, args, shape, mode, op, extra) -> Step:
    h, w, c = feature_map(statement, shape, op)
    rounding = args.rounding or rounding_for("pool", mode)
    axes = _windows(statement, args, (h, w), rounding, pool=True)
    outputs = axes[0].out * axes[1].out * c
    kh, kw = args.kernel
    return Step(
        (axes[0].out, axes[1].out, c),
        ops=outputs * (kh * kw + extra),
        axes=axes,
        window=_window_field(axes),
    )


def gap(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Global average pooling to 1×1×C: ``H·W`` operations per channel."""
    return _global(statement, shape, "gap", extra=0)


def gmp(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Global max pooling to 1×1×C: ``H·W − 1`` comparisons per channel."""
    return _global(statement, shape, "gmp", extra=-1)


def _global(statement, shape, op, extra) -> Step:
    h, w, c = feature_map(statement, shape, op)
    return Step((1, 1, c), ops=(h * w + extra) * c, window=((h, h, 0), (w, w, 0)))


def adaptiveavgpool(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Adaptive average pooling to S×S×C: output i pools input rows
    ``⌊i·H/S⌋ … ⌈(i+1)·H/S⌉ − 1`` (PyTorch's rule); window additions + 1 division each."""
    return _adaptive(statement, args, shape, "adaptiveavgpool", extra=0)


def adaptivemaxpool(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Adaptive max pooling to S×S×C (PyTorch's windows); window − 1 comparisons each."""
    return _adaptive(statement, args, shape, "adaptivemaxpool", extra=-1)


def _adaptive(statement, args, shape, op, extra) -> Step:
    h, w, c = feature_map(statement, shape, op)
    if args.size is None:
        raise statement.error(f"{op} needs an output size", hint=SIZE_HINT[op])
    token = args.tokens["size"]
    if not all(isinstance(v, int) and v >= 1 for v in args.size):
        raise statement.error(
            f"'{token.text}': {op}'s output size must be whole numbers ≥ 1",
            token,
            hint=SIZE_HINT[op],
        )
    oh, ow = args.size if len(args.size) == 2 else args.size * 2
    area = _window_total(h, oh) * _window_total(w, ow)
    ops = (area + extra * oh * ow) * c
    uniform = h % oh == 0 and w % ow == 0
    window = ((h // oh, h // oh, 0), (w // ow, w // ow, 0)) if uniform else "lost"
    axes = (Axis(h, 0, 0, 0, 0, 1, oh, "adaptive"), Axis(w, 0, 0, 0, 0, 1, ow, "adaptive"))
    return Step((oh, ow, c), ops=ops, axes=axes, window=window)


def _window_total(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths, ``Σ ⌈(i+1)·H/S⌉ − ⌊i·H/S⌋``, in O(log)."""
    return _floor_sum(out, out, size, size + out - 1) - _floor_sum(out, out, size, 0)


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


def fc(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Fully connected; flattens its input. weights ``N_in·N``, biases ``N``;
    MACs ``N_in·N``; exact ``2·MACs − N (+ N with bias)``."""
    n = whole_size(statement, args, "fc", required=True)
    n_in = math.prod(shape)
    macs = n_in * n
    biases = n if args.bias else 0
    return Step((n,), macs, biases, macs, 2 * macs - n + (n if args.bias else 0), window="lost")


def flatten(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """H×W×C → H·W·C."""
    return Step((math.prod(shape),), window="lost" if len(shape) == 3 else None)


def bn(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Batch normalisation: ``2·C`` parameters (γ, β); running mean and variance are
    buffers, not parameters. 2 operations per element at inference."""
    c = shape[-1]
    return Step(shape, c, c, ops=2 * math.prod(shape))


def dropout(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Dropout with probability P in [0, 1] (default 0.5): shape unchanged, no cost."""
    if args.size is not None:
        token = args.tokens["size"]
        if len(args.size) != 1 or not 0 <= args.size[0] <= 1:
            raise statement.error(
                f"dropout probability {token.text} is not in [0, 1]",
                token,
                hint="for example dropout 0.5",
            )
    return Step(shape)


def lrn(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Local response normalisation over 5 channels: 13 operations per element."""
    feature_map(statement, shape, "lrn")  # PyTorch's LocalResponseNorm refuses vectors
    return Step(shape, ops=13 * math.prod(shape))


def identity(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """Passes its input through."""
    return Step(shape)


def activation(statement: Statement, args: Args, shape: Shape, mode: str) -> Step:
    """An activation on its own line: shape unchanged (``prelu``: one weight)."""
    name = ACTIVATIONS[statement.keyword.lower]
    if args.size is not None and name not in ("leakyrelu", "elu"):
        raise statement.error(f"{name} takes no number", args.tokens["size"])
    return Step(shape, 1 if name == "prelu" else 0, ops=activation_ops(name, shape))


def activation_ops(name: str, shape: Shape) -> int:
    """Elementary operations of an activation over ``shape`` (see ACTIVATION_COST)."""
    elements = math.prod(shape)
    ops = ACTIVATION_COST[name] * elements
    if name == "softmax":  # one addition fewer than elements for each normalised vector
        ops -= elements // shape[-1]
    return ops


# ------------------------------------------------------------------------- tables


class Rule(NamedTuple):
    compute: Callable[[Statement, Args, Shape, str], Step]
    family: str  # prefix of generated names: conv1, pool1, fc1, ...
    accepts: frozenset[str]
    summary: str  # one line for help texts and the README


def _accepts(*names: str) -> frozenset[str]:
    return frozenset((*names, "activation"))


_WINDOW = ("kernel", "stride", "padding", "dilation", "rounding")
ACTIVATIONS = {name: name for name in ACTIVATION_COST} | {"swish": "silu"}

RULES: dict[str, Rule] = {
    "conv": Rule(
        conv,
        "conv",
        _accepts("size", *_WINDOW, "groups", "bias"),
        "conv N k.. [s][p][d][g] — 2-D convolution with N filters",
    ),
    "dwconv": Rule(
        dwconv,
        "dwconv",
        _accepts("size", *_WINDOW, "bias"),
        "dwconv k.. [M] [s][p][d] — depthwise convolution (groups = channels)",
    ),
    "deconv": Rule(
        deconv,
        "deconv",
        _accepts("size", "kernel", "stride", "padding", "dilation", "groups", "out_pad", "bias"),
        "deconv N k.. [s][p][op][d][g] — transposed convolution",
    ),
    "maxpool": Rule(
        maxpool,
        "pool",
        _accepts(*_WINDOW),
        "maxpool k.. [s][p][d] — max pooling (stride defaults to k)",
    ),
    "avgpool": Rule(
        avgpool,
        "pool",
        _accepts(*_WINDOW),
        "avgpool k.. [s][p] — average pooling (stride defaults to k)",
    ),
    "gap": Rule(gap, "pool", _accepts(), "gap — global average pooling to 1×1×C"),
    "gmp": Rule(gmp, "pool", _accepts(), "gmp — global max pooling to 1×1×C"),
    "adaptiveavgpool": Rule(
        adaptiveavgpool,
        "pool",
        _accepts("size"),
        "adaptiveavgpool S — to S×S×C (PyTorch's windows)",
    ),
    "adaptivemaxpool": Rule(
        adaptivemaxpool,
        "pool",
        _accepts("size"),
        "adaptivemaxpool S — to S×S×C (PyTorch's windows)",
    ),
    "fc": Rule(fc, "fc", _accepts("size", "bias"), "fc N — fully connected, flattens its input"),
    "flatten": Rule(flatten, "flatten", _accepts(), "flatten — H×W×C → H·W·C"),
    "bn": Rule(bn, "bn", _accepts(), "bn — batch normalisation, 2·C parameters"),
    "dropout": Rule(dropout, "dropout", _accepts("size"), "dropout P — shape unchanged"),
    "lrn": Rule(lrn, "lrn", _accepts(), "lrn — local response normalisation"),
    "identity": Rule(identity, "identity", _accepts(), "identity — passes its input through"),
} | {
    name: Rule(activation, name, frozenset({"size"}), f"{name} — activation")
    for name in ACTIVATION_COST
}

ALIASES = {
    "conv2d": "conv",
    "depthwise": "dwconv",
    "dwconv2d": "dwconv",
    "convtranspose": "deconv",
    "convtranspose2d": "deconv",
    "tconv": "deconv",
    "max": "maxpool",
    "maxpool2d": "maxpool",
    "avg": "avgpool",
    "avgpool2d": "avgpool",
    "globalavgpool": "gap",
    "globalmaxpool": "gmp",
    "adaptiveavgpool2d": "adaptiveavgpool",
    "adaptivemaxpool2d": "adaptivemaxpool",
    "linear": "fc",
    "dense": "fc",
    "batchnorm": "bn",
    "batchnorm2d": "bn",
    "swish": "silu",
}

BLOCKS = ("repeat", "residual", "concat", "add")
"""Blocks that may stand anywhere; ``shortcut:`` lives in ``residual:``, ``branch:`` in
``concat:`` and ``add:``."""


def lookup(statement: Statement) -> tuple[str, Rule]:
    """The canonical op name and rule of a layer statement, or a CNNError."""
    word = statement.keyword.lower
    op = ALIASES.get(word, word)
    rule = RULES.get(op)
    if rule is None:
        if word == "input":
            raise statement.error(
                "input must be the first statement, and only one",
                hint="write it once, at the top: input 32x32x1",
            )
        if word in BLOCKS or word in ("shortcut", "branch"):
            raise statement.error(
                f"'{word}' opens a block and needs a ':'",
                hint=f"{word}:  (then its lines, indented)",
            )
        raise statement.error(
            f"unknown layer '{statement.keyword.text}'", hint=did_you_mean(word, [*RULES, *ALIASES])
        )
    return op, rule
