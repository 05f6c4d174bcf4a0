"""Differential tests: PyTorch is the reference for every shape and parameter count.

Hypothesis draws a configuration, writes it twice — as layer-language text and as
``torch.nn`` modules — and the two must agree exactly: the output shape (ours is
(H, W, C) or (N,), PyTorch's NCHW or (N, features) with batch 1), the parameter count
(split into weights and biases by PyTorch's parameter names), and for networks the
output shape and parameters of every convolution, pooling, linear and batch-norm layer
in execution order. Where PyTorch refuses a configuration (at construction or in the
forward pass), ``cnn_magic.evaluate`` must refuse it with a ``CNNError``, and the
other way round.

Modules are built on the meta device (no weight initialisation) and probed there;
single layers are then materialised with ``to_empty`` and run on CPU zeros as well,
because a few checks (e.g. ConvTranspose2d's output padding) live only in the CPU
kernels.

``DISAGREEMENTS`` below holds the cases where the two sides once disagreed, kept as
regression tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from networks import BASIC_BLOCK, LENET5
from torch import nn

import cnn_magic

Shape = tuple[int, ...]
Pair = tuple[int, int]

SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Leaf:
    """One statement and the PyTorch module it means, made from torch's input shape."""

    text: str
    make: Callable[[Shape], nn.Module]


@dataclass(frozen=True)
class Blk:
    """A block: ``repeat N:`` (``body``), ``residual:`` (``body`` and an optional
    ``shortcut``), ``concat:`` / ``add:`` (``branches``)."""

    kind: str
    body: tuple = ()
    shortcut: tuple | None = None
    branches: tuple = ()
    count: int = 1
    label: str | None = None


Node = Leaf | Blk


@dataclass(frozen=True)
class Case:
    """A whole text: input shape (H, W, C) or (N,), its nodes and a rounding mode."""

    shape: Shape
    nodes: tuple[Node, ...]
    rounding: str = "floor"
    input_form: str = "hwc"
    indent: str = "  "

    @property
    def text(self) -> str:
        return (
            "\n".join([input_line(self.shape, self.input_form), *render(self.nodes, self.indent)])
            + "\n"
        )


def input_line(shape: Shape, form: str) -> str:
    if len(shape) == 1:
        return f"input {shape[0]}"
    h, w, c = shape
    return f"input {c}@{h}x{w}" if form == "paper" else f"input {h}x{w}x{c}"


def render(nodes: Sequence[Node], indent: str, depth: int = 0) -> list[str]:
    """The nodes as indented lines of the layer language."""
    pad = indent * depth
    lines: list[str] = []
    for node in nodes:
        if isinstance(node, Leaf):
            lines.append(pad + node.text)
            continue
        label = f"{node.label}: " if node.label else ""
        head = f"repeat {node.count}:" if node.kind == "repeat" else f"{node.kind}:"
        lines.append(pad + label + head)
        if node.kind in ("repeat", "residual"):
            lines += render(node.body, indent, depth + 1)
            if node.shortcut is not None:
                lines.append(pad + indent + "shortcut:")
                lines += render(node.shortcut or (identity(),), indent, depth + 2)
        else:
            for branch in node.branches:
                lines.append(pad + indent + "branch:")
                lines += render(branch, indent, depth + 2)
    return lines


class Residual(nn.Module):
    """``body(x) + shortcut(x)``, refusing to broadcast (the layer language never does)."""

    def __init__(self, body: nn.Module, shortcut: nn.Module) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return strict_sum([self.body(x), self.shortcut(x)])


class Concat(nn.Module):
    """Channel concatenation of parallel branches (``torch.cat`` checks H and W)."""

    def __init__(self, branches: Sequence[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class Add(Concat):
    """Element-wise sum of parallel branches, shapes equal."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return strict_sum([branch(x) for branch in self.branches])


def strict_sum(tensors: list[torch.Tensor]) -> torch.Tensor:
    if len({t.shape for t in tensors}) != 1:
        raise RuntimeError(f"shapes differ: {[tuple(t.shape) for t in tensors]}")
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total


def probe(module: nn.Module, shape: Shape) -> Shape:
    with torch.no_grad():
        return tuple(module.eval()(torch.empty(shape, device="meta")).shape)


def build(nodes: Sequence[Node], shape: Shape) -> tuple[nn.Module, Shape]:
    """PyTorch modules for ``nodes`` (call under ``torch.device("meta")``)."""
    modules = []
    for node in nodes:
        module, shape = build_node(node, shape)
        modules.append(module)
    return nn.Sequential(*modules), shape


def build_node(node: Node, shape: Shape) -> tuple[nn.Module, Shape]:
    if isinstance(node, Leaf):
        module = node.make(shape)
        return module, probe(module, shape)
    if node.kind == "repeat":
        return build(node.body * node.count, shape)  # fresh modules for each pass
    if node.kind == "residual":
        body, _ = build(node.body, shape)
        shortcut, _ = build(node.shortcut or (), shape)
        module: nn.Module = Residual(body, shortcut)
    else:
        branches = [build(branch, shape)[0] for branch in node.branches]
        module = Concat(branches) if node.kind == "concat" else Add(branches)
    return module, probe(module, shape)


# Leaf modules whose output the two sides compare, layer by layer.
MODULE_KIND = {
    nn.Conv2d: "conv",
    nn.ConvTranspose2d: "deconv",
    nn.MaxPool2d: "maxpool",
    nn.AvgPool2d: "avgpool",
    nn.AdaptiveAvgPool2d: "adaptiveavg",
    nn.AdaptiveMaxPool2d: "adaptivemax",
    nn.Linear: "fc",
    nn.BatchNorm2d: "bn",
    nn.BatchNorm1d: "bn",
}
OP_KIND = {
    "conv": "conv",
    "dwconv": "conv",
    "deconv": "deconv",
    "maxpool": "maxpool",
    "avgpool": "avgpool",
    "adaptiveavgpool": "adaptiveavg",
    "gap": "adaptiveavg",
    "adaptivemaxpool": "adaptivemax",
    "gmp": "adaptivemax",
    "fc": "fc",
    "bn": "bn",
}


def hwc(torch_shape: Shape) -> Shape:
    """PyTorch's (1, C, H, W) or (1, N) in our order: (H, W, C) or (N,)."""
    dims = tuple(torch_shape[1:])
    return (*dims[1:], dims[0]) if len(dims) == 3 else dims


def torch_shape(shape: Shape) -> Shape:
    return (1, shape[2], shape[0], shape[1]) if len(shape) == 3 else (1, *shape)


def split_params(module: nn.Module) -> tuple[int, int]:
    """(weights, biases): every parameter named ``bias`` is a bias, the rest weights."""
    weights = biases = 0
    for name, p in module.named_parameters():
        if name.rsplit(".", 1)[-1] == "bias":
            biases += p.numel()
        else:
            weights += p.numel()
    return weights, biases


@dataclass(frozen=True)
class Reference:
    """What PyTorch says about a case: a refusal, or shapes and counts."""

    error: str | None = None
    shape: Shape = ()
    weights: int = 0
    biases: int = 0
    layers: tuple = field(default=())  # (kind, out shape, params) of MODULE_KIND leaves


def reference(case: Case, *, cpu: bool) -> Reference:
    start = torch_shape(case.shape)
    try:
        with torch.device("meta"):
            model, out = build(case.nodes, start)
        weights, biases = split_params(model)
        layers = trace(model, start)
        if cpu:  # the CPU kernels check a few things the meta kernels do not
            model = model.to_empty(device="cpu").eval()
            with torch.no_grad():
                assert tuple(model(torch.zeros(start)).shape) == out
    except (RuntimeError, ValueError) as err:
        return Reference(error=f"{type(err).__name__}: {err}")
    if 0 in out:
        # ConvTranspose2d returns an empty tensor when a size comes out exactly 0 (and
        # raises below 0); the layer language calls any output < 1 an error (README, the arithmetic)
        return Reference(error=f"empty output {out}")
    return Reference(None, hwc(out), weights, biases, layers)


def trace(model: nn.Module, shape: Shape) -> tuple:
    """(kind, out shape, params) of every MODULE_KIND leaf, in execution order."""
    seen: list[tuple[str, Shape, int]] = []

    def record(module: nn.Module, _, out: torch.Tensor) -> None:
        params = sum(p.numel() for p in module.parameters())
        seen.append((MODULE_KIND[type(module)], hwc(out.shape), params))

    hooks = [m.register_forward_hook(record) for m in model.modules() if type(m) in MODULE_KIND]
    try:
        probe(model, shape)
    finally:
        for hook in hooks:
            hook.remove()
    return tuple(seen)


def ours_layers(net: cnn_magic.Network) -> tuple:
    """Our (kind, out shape, params) for the layers PyTorch traces; an activation
    ``prelu`` after a layer is PyTorch's separate nn.PReLU, so its weight is left out."""
    return tuple(
        (OP_KIND[layer.op], layer.out_shape, layer.params - (layer.activation == "prelu"))
        for layer in net.layers
        if layer.op in OP_KIND
    )


def assert_agree(case: Case, *, cpu: bool = True) -> cnn_magic.Network | None:
    """Both accept with the same shapes and counts, or both refuse."""
    text = case.text
    theirs = reference(case, cpu=cpu)
    try:
        net = cnn_magic.evaluate(text, rounding=case.rounding)
    except cnn_magic.CNNError as err:
        assert theirs.error is not None, (
            f"cnn_magic refuses what PyTorch accepts (rounding={case.rounding}):\n{text}"
            f"cnn_magic: {err}\nPyTorch: {theirs.shape}, {theirs.weights + theirs.biases} "
            "parameters"
        )
        note_outcome("both refuse")
        return None
    assert theirs.error is None, (
        f"PyTorch refuses what cnn_magic accepts (rounding={case.rounding}):\n{text}"
        f"PyTorch: {theirs.error}\ncnn_magic: {net.output_shape}, {net.params} parameters"
    )
    context = f"rounding={case.rounding}\n{text}"
    assert net.output_shape == theirs.shape, context
    assert (net.weights, net.biases) == (theirs.weights, theirs.biases), context
    assert net.params == theirs.weights + theirs.biases, context
    assert ours_layers(net) == theirs.layers, context
    note_outcome("both accept")
    return net


def note_outcome(what: str) -> None:
    """Shown by ``pytest --hypothesis-show-statistics``: how often each side refused."""
    if currently_in_test_context():
        event(what)


# --------------------------------------------------------------------------- writing text


def arg(draw, key: str, value: Pair | int) -> str:
    """One argument in a random spelling: ``k5``, ``k=5``, ``k = 5``, ``k3x1``."""
    if isinstance(value, int):
        number = str(value)
    else:
        h, w = value
        number = str(h) if h == w and draw(st.booleans()) else f"{h}x{w}"
    form = draw(st.sampled_from(["{k}{v}", "{k}={v}", "{k} = {v}"]))
    return form.format(k=key, v=number)


def statement(draw, keyword: str, args: list[str], *, label: bool = True) -> str:
    """``[LABEL: ]KEYWORD args...`` with the arguments in random order, separated by
    spaces or commas, and the keyword in random case."""
    args = list(draw(st.permutations(args)))
    keyword = draw(st.sampled_from([keyword, keyword.upper(), keyword.capitalize()]))
    sep = draw(st.sampled_from([" ", ", ", "  "]))
    prefix = f"L{draw(st.integers(1, 9))}: " if label and draw(st.booleans()) else ""
    return prefix + sep.join([keyword, *args])


def pairs(lo: int, hi: int) -> st.SearchStrategy[Pair]:
    """(h, w), square half of the time."""
    return st.one_of(
        st.integers(lo, hi).map(lambda v: (v, v)),
        st.tuples(st.integers(lo, hi), st.integers(lo, hi)),
    )


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leakyrelu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "hardswish": nn.Hardswish,
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
    "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=1),
}


def with_activation(module: nn.Module, activation: str | None) -> nn.Module:
    return module if activation is None else nn.Sequential(module, ACTIVATIONS[activation]())


def identity() -> Leaf:
    return Leaf("identity", lambda s: nn.Identity())


SIZES = st.integers(1, 40)
CHANNELS = st.integers(1, 6)
MAYBE_ACTIVATION = st.one_of(st.none(), st.sampled_from(sorted(ACTIVATIONS)))


# --------------------------------------------------------------------------- known bugs

DISAGREEMENTS = [
    # PyTorch's max_pool2d compares the padding with half the kernel *before* dilation
    pytest.param(
        Case(
            (8, 8, 1),
            (Leaf("maxpool k3 p2 d2", lambda s: nn.MaxPool2d(3, padding=2, dilation=2)),),
            "floor",
        ),
        id="maxpool-dilated-padding",
    ),
    pytest.param(
        Case(
            (2, 2, 1), (Leaf("maxpool k3", lambda s: nn.MaxPool2d(3, ceil_mode=True)),), "textbook"
        ),
        id="ceil-pool-kernel-over-input",
    ),
    pytest.param(
        Case(
            (1, 1, 1), (Leaf("avgpool k2 s2", lambda s: nn.AvgPool2d(2, ceil_mode=True)),), "ceil"
        ),
        id="ceil-avgpool-kernel-over-input",
    ),
    pytest.param(
        Case((7,), (Leaf("lrn", lambda s: nn.LocalResponseNorm(5)),)),
        id="lrn-on-vector",
    ),
]


@pytest.mark.parametrize("case", DISAGREEMENTS)
def test_known_disagreement(case: Case) -> None:
    assert_agree(case)


# --------------------------------------------------------------------------- convolution

# PyTorch warns that padding="same" with an even kernel may copy the input; harmless here
SAME_WARNING = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


@st.composite
def conv_cases(draw) -> Case:
    h, w = draw(SIZES), draw(SIZES)
    groups = draw(st.integers(1, 3))
    c_in, n = groups * draw(st.integers(1, 4)), groups * draw(st.integers(1, 4))
    if draw(st.integers(0, 9)) == 0:  # groups that may not divide: both must refuse
        c_in, n = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kernel = draw(pairs(1, 7))
    dilation = draw(st.one_of(st.just((1, 1)), pairs(1, 3)))
    pad_kind = draw(st.sampled_from(["none", "int", "pair", "same", "valid"]))
    stride = (1, 1) if pad_kind == "same" else draw(pairs(1, 3))
    bias = draw(st.booleans())
    activation = draw(MAYBE_ACTIVATION)
    args = [str(n), arg(draw, "k", kernel)]
    if stride != (1, 1) or draw(st.booleans()):
        args.append(arg(draw, "s", stride))
    padding: object = 0
    if pad_kind in ("int", "pair"):
        padding = draw(pairs(0, 4)) if pad_kind == "pair" else (draw(st.integers(0, 4)),) * 2
        args.append(arg(draw, "p", padding))
    elif pad_kind in ("same", "valid"):
        padding = pad_kind
        args.append(draw(st.sampled_from([pad_kind, f"p={pad_kind}"])))
    if dilation != (1, 1) or draw(st.integers(0, 4)) == 0:
        args.append(arg(draw, "d", dilation))
    if groups != 1 or draw(st.integers(0, 4)) == 0:
        args.append(arg(draw, "g", groups))
    if not bias:
        args.append(draw(st.sampled_from(["nobias", "bias=no", "bias=false"])))
    elif draw(st.integers(0, 5)) == 0:
        args.append("bias=yes")
    if draw(st.integers(0, 5)) == 0:
        args.append("floor")
    if activation:
        args.append(activation)
    keyword = draw(st.sampled_from(["conv", "conv2d"]))

    def make(s: Shape) -> nn.Module:
        conv = nn.Conv2d(
            s[1],
            n,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        return with_activation(conv, activation)

    return Case(
        (h, w, c_in),
        (Leaf(statement(draw, keyword, args), make),),
        draw(st.sampled_from(["floor", "textbook"])),
        draw(st.sampled_from(["hwc", "paper"])),
    )


@SAME_WARNING
@settings(SETTINGS, max_examples=300)
@given(conv_cases())
def test_conv(case: Case) -> None:
    assert_agree(case)


@st.composite
def dwconv_cases(draw) -> Case:
    h, w, c = draw(SIZES), draw(SIZES), draw(CHANNELS)
    multiplier = draw(st.one_of(st.none(), st.integers(1, 3)))
    kernel, dilation = draw(pairs(1, 5)), draw(st.one_of(st.just((1, 1)), pairs(1, 2)))
    same = draw(st.booleans())
    stride = (1, 1) if same else draw(pairs(1, 2))
    padding: object = "same" if same else draw(pairs(0, 2))
    bias = draw(st.booleans())
    args = [
        arg(draw, "k", kernel),
        arg(draw, "s", stride),
        "same" if same else arg(draw, "p", padding),
        arg(draw, "d", dilation),
    ]
    args += [str(multiplier)] if multiplier else []
    args += [] if bias else ["nobias"]
    n = c * (multiplier or 1)

    def make(s: Shape) -> nn.Module:
        return nn.Conv2d(
            s[1],
            n,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=s[1],
            bias=bias,
        )

    keyword = draw(st.sampled_from(["dwconv", "depthwise", "dwconv2d"]))
    return Case(
        (h, w, c),
        (Leaf(statement(draw, keyword, args), make),),
        draw(st.sampled_from(["floor", "textbook"])),
    )


@SAME_WARNING
@settings(SETTINGS, max_examples=100)
@given(dwconv_cases())
def test_dwconv(case: Case) -> None:
    assert_agree(case)


# --------------------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw) -> Case:
    op = draw(st.sampled_from(["maxpool", "avgpool"]))
    h, w, c = draw(SIZES), draw(SIZES), draw(st.integers(1, 3))
    kernel = draw(pairs(1, 5))
    dilation = draw(st.one_of(st.just((1, 1)), pairs(1, 3))) if op == "maxpool" else (1, 1)
    stride = draw(st.one_of(st.none(), pairs(1, 4)))
    k_eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    # mostly legal padding, sometimes one over half the kernel (both must refuse)
    padding = (draw(st.integers(0, k_eff[0] // 2 + 1)), draw(st.integers(0, k_eff[1] // 2 + 1)))
    rounding = draw(st.sampled_from(["floor", "ceil", "textbook"]))
    flag = draw(st.sampled_from([None, None, "floor", "ceil"]))
    ceil_mode = (flag or ("floor" if rounding == "floor" else "ceil")) == "ceil"
    args = [arg(draw, "k", kernel)]
    if stride is not None:
        args.append(arg(draw, "s", stride))
    if padding != (0, 0) or draw(st.integers(0, 3)) == 0:
        args.append(
            arg(draw, "p", padding) if padding != (0, 0) or draw(st.booleans()) else "valid"
        )
    if dilation != (1, 1):
        args.append(arg(draw, "d", dilation))
    if flag:
        args.append(flag)
    aliases = {
        "maxpool": ["maxpool", "max", "maxpool2d"],
        "avgpool": ["avgpool", "avg", "avgpool2d"],
    }[op]

    def make(s: Shape) -> nn.Module:
        if op == "maxpool":
            return nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        return nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode)

    keyword = draw(st.sampled_from(aliases))
    return Case((h, w, c), (Leaf(statement(draw, keyword, args), make),), rounding)


@settings(SETTINGS, max_examples=300)
@given(pool_cases())
def test_pool(case: Case) -> None:
    assert_agree(case)


@st.composite
def adaptive_cases(draw) -> Case:
    op = draw(st.sampled_from(["avg", "max"]))
    h, w, c = draw(st.integers(1, 20)), draw(st.integers(1, 20)), draw(st.integers(1, 3))
    size = draw(pairs(1, 12))
    word = str(size[0]) if size[0] == size[1] and draw(st.booleans()) else f"{size[0]}x{size[1]}"
    module = nn.AdaptiveAvgPool2d if op == "avg" else nn.AdaptiveMaxPool2d
    keyword = draw(st.sampled_from([f"adaptive{op}pool", f"adaptive{op}pool2d"]))
    return Case(
        (h, w, c),
        (Leaf(statement(draw, keyword, [word]), lambda s: module(size)),),
        draw(st.sampled_from(["floor", "ceil", "textbook"])),
    )


@settings(SETTINGS, max_examples=100)
@given(adaptive_cases())
def test_adaptive_pool(case: Case) -> None:
    assert_agree(case)


# --------------------------------------------------------------------------- transposed


@st.composite
def deconv_cases(draw) -> Case:
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    groups = draw(st.integers(1, 3))
    c_in, n = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, stride, padding = draw(pairs(1, 5)), draw(pairs(1, 3)), draw(pairs(0, 3))
    dilation = draw(st.one_of(st.just((1, 1)), pairs(1, 3)))
    # output padding below max(stride, dilation), sometimes exactly that (both refuse)
    top = tuple(max(s, d) for s, d in zip(stride, dilation, strict=True))
    out_pad = draw(
        st.one_of(st.just((0, 0)), st.tuples(st.integers(0, top[0]), st.integers(0, top[1])))
    )
    bias = draw(st.booleans())
    args = [str(n), arg(draw, "k", kernel), arg(draw, "s", stride), arg(draw, "p", padding)]
    if out_pad != (0, 0):
        args.append(arg(draw, "op", out_pad))
    if dilation != (1, 1):
        args.append(arg(draw, "d", dilation))
    if groups != 1:
        args.append(arg(draw, "g", groups))
    if not bias:
        args.append("nobias")

    def make(s: Shape) -> nn.Module:
        return nn.ConvTranspose2d(s[1], n, kernel, stride, padding, out_pad, groups, bias, dilation)

    keyword = draw(st.sampled_from(["deconv", "convtranspose", "tconv", "convtranspose2d"]))
    return Case((h, w, c_in), (Leaf(statement(draw, keyword, args), make),), "floor")


@settings(SETTINGS, max_examples=200)
@given(deconv_cases())
def test_deconv(case: Case) -> None:
    assert_agree(case)


# --------------------------------------------------------------------------- other layers


def map_leaf(draw, c: int) -> tuple[Leaf, int]:
    """A layer on a feature map with c channels; the channels after it."""
    kind = draw(
        st.sampled_from(["bn", "gap", "gmp", "prelu", "act", "dropout", "lrn", "identity", "conv"])
    )
    if kind == "bn":
        word = draw(st.sampled_from(["bn", "batchnorm", "batchnorm2d"]))
        act = draw(MAYBE_ACTIVATION)
        return Leaf(
            " ".join(filter(None, [word, act])),
            lambda s: with_activation(nn.BatchNorm2d(s[1]), act),
        ), c
    if kind in ("gap", "gmp"):
        word = draw(
            st.sampled_from(
                {"gap": ["gap", "globalavgpool"], "gmp": ["gmp", "globalmaxpool"]}[kind]
            )
        )
        module = nn.AdaptiveAvgPool2d if kind == "gap" else nn.AdaptiveMaxPool2d
        return Leaf(word, lambda s: module(1)), c
    if kind == "conv":
        n, act = draw(st.integers(1, 6)), draw(MAYBE_ACTIVATION)
        return Leaf(
            " ".join(filter(None, [f"conv {n} k1", act])),
            lambda s: with_activation(nn.Conv2d(s[1], n, 1), act),
        ), n
    return vector_leaf(draw, kind), c


def vector_leaf(draw, kind: str) -> Leaf:
    if kind == "prelu":
        return Leaf("prelu", lambda s: nn.PReLU())
    if kind == "act":
        name = draw(st.sampled_from(sorted(ACTIVATIONS)))
        return Leaf(name, lambda s: ACTIVATIONS[name]())
    if kind == "dropout":
        p = draw(st.sampled_from([None, "0", "0.5", "1", ".25"]))
        return Leaf(
            f"dropout {p}" if p else "dropout", lambda s: nn.Dropout(float(p) if p else 0.5)
        )
    if kind == "lrn":
        return Leaf("lrn", lambda s: nn.LocalResponseNorm(5))
    if kind == "bn":
        return Leaf("bn", lambda s: nn.BatchNorm1d(s[1]))
    return identity()


def fc_leaf(draw) -> Leaf:
    n, bias, act = draw(st.integers(1, 12)), draw(st.booleans()), draw(MAYBE_ACTIVATION)
    word = draw(st.sampled_from(["fc", "linear", "dense"]))
    text = " ".join(filter(None, [word, str(n), None if bias else "nobias", act]))

    def make(s: Shape) -> nn.Module:
        features = 1
        for v in s[1:]:
            features *= v
        return with_activation(nn.Sequential(nn.Flatten(), nn.Linear(features, n, bias)), act)

    return Leaf(text, make)


@st.composite
def chain_cases(draw) -> Case:
    """Input, then 1–5 layers: bn, gap/gmp, activations, prelu, dropout, lrn, identity,
    1×1 conv, flatten, fc — on maps, and after an fc or flatten on vectors."""
    vector = draw(st.booleans()) and draw(st.booleans())
    shape: Shape = (
        (draw(st.integers(1, 50)),)
        if vector
        else (draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(CHANNELS))
    )
    c = shape[-1]
    leaves = []
    for _ in range(draw(st.integers(1, 5))):
        if not vector and draw(st.integers(0, 3)) == 0:
            vector = True
            leaves.append(
                draw(st.sampled_from([Leaf("flatten", lambda s: nn.Flatten()), fc_leaf(draw)]))
            )
        elif vector:
            kind = draw(st.sampled_from(["fc", "bn", "prelu", "act", "dropout", "identity"]))
            leaves.append(fc_leaf(draw) if kind == "fc" else vector_leaf(draw, kind))
        else:
            leaf, c = map_leaf(draw, c)
            leaves.append(leaf)
    return Case(shape, tuple(leaves), draw(st.sampled_from(["floor", "textbook", "ceil"])))


@settings(SETTINGS, max_examples=200)
@given(chain_cases())
def test_layer_chains(case: Case) -> None:
    assert_agree(case)


# --------------------------------------------------------------------------- networks


def keeps_size(draw, c: int) -> tuple[Leaf, int]:
    """A layer that keeps H and W (any input size): odd-kernel conv with half padding,
    3×3 pool with stride 1 and padding 1, bn, activation, dwconv."""
    kind = draw(st.sampled_from(["conv", "conv", "bn", "relu", "maxpool", "avgpool", "dwconv"]))
    if kind == "conv":
        n, k = draw(st.integers(1, 8)), draw(st.sampled_from([1, 3, 5]))
        bias, act = draw(st.booleans()), draw(st.sampled_from([None, "relu", "prelu"]))
        text = " ".join(filter(None, [f"conv {n} k{k} p{k // 2}", None if bias else "nobias", act]))
        return Leaf(
            text, lambda s: with_activation(nn.Conv2d(s[1], n, k, padding=k // 2, bias=bias), act)
        ), n
    if kind == "bn":
        return Leaf("bn", lambda s: nn.BatchNorm2d(s[1])), c
    if kind == "relu":
        return Leaf("relu", lambda s: nn.ReLU()), c
    if kind == "dwconv":
        return Leaf("dwconv k3 p1", lambda s: nn.Conv2d(s[1], s[1], 3, padding=1, groups=s[1])), c
    pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
    return Leaf(f"{kind} k3 s1 p1", lambda s: pool(3, 1, 1, ceil_mode=True)), c


def shrinks(draw, c: int) -> tuple[Leaf, int]:
    """A layer that may halve H and W but is legal for every input size."""
    kind = draw(st.sampled_from(["conv", "maxpool", "adaptive"]))
    if kind == "conv":
        n, k = draw(st.integers(1, 8)), draw(st.sampled_from([1, 3]))
        return Leaf(
            f"conv {n} k{k} s2 p{k // 2} relu",
            lambda s: nn.Sequential(nn.Conv2d(s[1], n, k, 2, k // 2), nn.ReLU()),
        ), n
    if kind == "maxpool":  # the layer's own flag wins over the rounding mode
        flag = draw(st.sampled_from(["ceil", "floor"]))
        return Leaf(
            f"maxpool k3 s2 p1 {flag}", lambda s: nn.MaxPool2d(3, 2, 1, ceil_mode=flag == "ceil")
        ), c
    size = draw(st.integers(1, 4))
    return Leaf(f"adaptiveavgpool {size}", lambda s: nn.AdaptiveAvgPool2d(size)), c


def sequence(draw, c: int, depth: int, *, keep: bool, length: int = 3) -> tuple[tuple, int]:
    """1..length nodes from c channels; ``keep``: H and W unchanged."""
    nodes = []
    for _ in range(draw(st.integers(1, length))):
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            node, c = block(draw, c, depth + 1, keep=keep)
        elif keep or draw(st.booleans()):
            node, c = keeps_size(draw, c)
        else:
            node, c = shrinks(draw, c)
        nodes.append(node)
    return tuple(nodes), c


def block(draw, c: int, depth: int, *, keep: bool) -> tuple[Blk, int]:
    kind = draw(st.sampled_from(["repeat", "residual", "concat", "add"]))
    label = draw(st.sampled_from([None, None, f"B{depth}"]))
    if kind == "repeat":
        body, out = sequence(draw, c, depth, keep=keep)
        count = draw(st.integers(1, 3))
        if count > 1 and out != c:  # blocks in the body expect c channels on every pass
            body = (*body, Leaf(f"conv {c} k1", lambda s: nn.Conv2d(s[1], c, 1)))
            out = c
        return Blk("repeat", body, count=count, label=label), out
    if kind == "residual":
        if not keep and draw(st.booleans()):  # projection: stride 2 on both paths
            n = draw(st.integers(1, 8))
            first = Leaf(
                f"conv {n} k3 s2 p1 nobias", lambda s: nn.Conv2d(s[1], n, 3, 2, 1, bias=False)
            )
            rest, _ = sequence(draw, n, depth, keep=True)
            rest = (
                *rest,
                Leaf(
                    f"conv {n} k1 nobias",  # back to n channels
                    lambda s: nn.Conv2d(s[1], n, 1, bias=False),
                ),
            )
            shortcut = (
                Leaf(f"conv {n} k1 s2 nobias", lambda s: nn.Conv2d(s[1], n, 1, 2, bias=False)),
                Leaf("bn", lambda s: nn.BatchNorm2d(s[1])),
            )
            return Blk("residual", (first, *rest), shortcut, label=label), n
        body = tuple(keeps_channels(draw, c) for _ in range(draw(st.integers(1, 3))))
        shortcut = draw(st.sampled_from([None, ()]))  # absent, or `shortcut:\n identity`
        return Blk("residual", body, shortcut, label=label), c
    if kind == "concat":
        branches, total = [], 0
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.integers(0, 3)) == 0:
                branches.append((identity(),))
                total += c
            else:
                nodes, out = sequence(draw, c, depth, keep=True, length=2)
                branches.append(nodes)
                total += out
        return Blk("concat", branches=tuple(branches), label=label), total
    n = draw(st.sampled_from([c, draw(st.integers(1, 8))]))
    branches = []
    for _ in range(draw(st.integers(2, 3))):
        if n == c and draw(st.booleans()):
            branches.append((identity(),))
        else:
            nodes, _ = sequence(draw, c, depth, keep=True, length=2)
            branches.append((*nodes, Leaf(f"conv {n} k1", lambda s: nn.Conv2d(s[1], n, 1))))
    return Blk("add", branches=tuple(branches), label=label), n


def keeps_channels(draw, c: int) -> Leaf:
    kind = draw(st.sampled_from(["conv", "bn", "relu", "dwconv"]))
    if kind == "conv":
        k = draw(st.sampled_from([1, 3]))
        return Leaf(
            f"conv {c} k{k} p{k // 2} nobias",
            lambda s: nn.Conv2d(s[1], c, k, padding=k // 2, bias=False),
        )
    return {
        "bn": Leaf("bn", lambda s: nn.BatchNorm2d(s[1])),
        "relu": Leaf("relu", lambda s: nn.ReLU()),
        "dwconv": Leaf("dwconv k3 p1", lambda s: nn.Conv2d(s[1], s[1], 3, padding=1, groups=s[1])),
    }[kind]


def channels_after(nodes: Sequence[Node], c: int) -> int:
    """Channels after ``nodes``, from PyTorch itself (a probe on the meta device)."""
    with torch.device("meta"):
        _, shape = build(nodes, (1, c, 9, 9))
    return shape[1]


@st.composite
def network_cases(draw) -> Case:
    shape = (draw(st.integers(4, 24)), draw(st.integers(4, 24)), draw(CHANNELS))
    nodes, _ = sequence(draw, shape[2], 0, keep=False, length=4)
    if not any(isinstance(node, Blk) for node in nodes):
        extra, _ = block(draw, channels_after(nodes, shape[2]), 1, keep=False)
        nodes = (*nodes, extra)
    if draw(st.booleans()):
        nodes = (*nodes, fc_leaf(draw))
    # not "ceil": it rounds convolutions up too, which PyTorch cannot
    return Case(
        shape,
        nodes,
        draw(st.sampled_from(["textbook", "floor"])),
        draw(st.sampled_from(["hwc", "paper"])),
        draw(st.sampled_from(["  ", "    ", "\t"])),
    )


@settings(SETTINGS, max_examples=150)
@given(network_cases())
def test_networks(case: Case) -> None:
    for kind in sorted(block_kinds(case.nodes)):
        event(kind)
    assert assert_agree(case, cpu=False) is not None, case.text


def block_kinds(nodes: Sequence[Node], depth: int = 0) -> set[str]:
    """The block kinds in ``nodes`` ("residual+shortcut", "nested", ...), for statistics."""
    kinds: set[str] = set()
    for node in nodes:
        if isinstance(node, Blk):
            kinds.add(node.kind + ("+shortcut" if node.shortcut is not None else ""))
            if depth:
                kinds.add("nested")
            for inner in (node.body, node.shortcut or (), *node.branches):
                kinds |= block_kinds(inner, depth + 1)
    return kinds


# --------------------------------------------------------------------------- named cases


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.AvgPool2d(2, 2),
        nn.Conv2d(16, 120, 5),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
        nn.Softmax(dim=1),
    )


INCEPTION = """\
input 28x28x192
concat:
  branch:
    conv 64 k1 relu
  branch:
    conv 96 k1 relu
    conv 128 k3 p1 relu
  branch:
    maxpool k3 s1 p1
    conv 32 k1 relu
"""


def basic_block() -> nn.Module:
    body = nn.Sequential(
        nn.Conv2d(64, 128, 3, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.ReLU(),
        nn.Conv2d(128, 128, 3, 1, 1, bias=False),
        nn.BatchNorm2d(128),
    )
    shortcut = nn.Sequential(nn.Conv2d(64, 128, 1, 2, bias=False), nn.BatchNorm2d(128))
    return nn.Sequential(Residual(body, shortcut), nn.ReLU())


def inception() -> nn.Module:
    return Concat(
        [
            nn.Sequential(nn.Conv2d(192, 64, 1), nn.ReLU()),
            nn.Sequential(
                nn.Conv2d(192, 96, 1), nn.ReLU(), nn.Conv2d(96, 128, 3, padding=1), nn.ReLU()
            ),
            nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(192, 32, 1), nn.ReLU()),
        ]
    )


# name: (text, rounding, torch model, its input (H, W, C), output, parameters, shapes of
# the traced layers); every number worked out by hand from the course notes' formulas.
NAMED = {
    # the notes' LeNet-5: 5·5·1·6+6 + 5·5·6·16+16 + 5·5·16·120+120 + 120·84+84 + 84·10+10
    "lenet5": (
        LENET5,
        "textbook",
        lenet5,
        (32, 32, 1),
        (10,),
        61_706,
        [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (1, 1, 120), (84,), (10,)],
    ),
    # the notes' kernel example: 2·2·3 = 12 per filter, ·16 = 192, + 16 biases = 208
    "conv16-k2-on-3-channels": (
        "input 8x8x3\nconv 16 k2",
        "textbook",
        lambda: nn.Conv2d(3, 16, 2),
        (8, 8, 3),
        (7, 7, 16),
        208,
        [(7, 7, 16)],
    ),
    # the notes' fc example: 16·133 + 133 = 2261
    "fc-16-to-133": (
        "input 16\nfc 133",
        "textbook",
        lambda: nn.Linear(16, 133),
        (16,),
        (133,),
        2_261,
        [(133,)],
    ),
    # pooling rounds up in the notes: (5 − 2)/2 + 1 = 2.5 → 3 (ceil_mode=True)
    "pool-rounds-up": (
        "input 5x5x4\nmaxpool k2 s2",
        "textbook",
        lambda: nn.MaxPool2d(2, 2, ceil_mode=True),
        (5, 5, 4),
        (3, 3, 4),
        0,
        [(3, 3, 4)],
    ),
    "pool-floor": (
        "input 5x5x4\nmaxpool k2 s2",
        "floor",
        lambda: nn.MaxPool2d(2, 2),
        (5, 5, 4),
        (2, 2, 4),
        0,
        [(2, 2, 4)],
    ),
    # conv rounds down even in textbook mode: (6 − 3)/2 + 1 = 2.5 → 2
    "conv-rounds-down": (
        "input 6x6x1\nconv 1 k3 s2",
        "textbook",
        lambda: nn.Conv2d(1, 1, 3, 2),
        (6, 6, 1),
        (2, 2, 1),
        10,
        [(2, 2, 1)],
    ),
    # ResNet basic block with projection: 3·3·64·128 + 2·128 + 3·3·128·128 + 2·128
    # + 64·128 + 2·128 = 73,728 + 147,456 + 8,192 + 768 = 230,144
    "resnet-basic-block": (
        BASIC_BLOCK,
        "floor",
        basic_block,
        (56, 56, 64),
        (28, 28, 128),
        230_144,
        [(28, 28, 128)] * 6,
    ),
    # 192·64+64 + 192·96+96 + 3·3·96·128+128 + 192·32+32 = 12,352 + 18,528 + 110,720
    # + 6,176 = 147,776; channels 64 + 128 + 32 = 224
    "inception-concat": (
        INCEPTION,
        "floor",
        inception,
        (28, 28, 192),
        (28, 28, 224),
        147_776,
        [(28, 28, 64), (28, 28, 96), (28, 28, 128), (28, 28, 192), (28, 28, 32)],
    ),
}


@pytest.mark.parametrize("name", NAMED)
def test_named(name: str) -> None:
    text, rounding, model, shape, output, params, layers = NAMED[name]
    net = cnn_magic.evaluate(text, rounding=rounding)
    assert net.output_shape == output
    assert net.params == params
    assert [layer.out_shape for layer in net.layers if layer.op in OP_KIND] == layers
    with torch.device("meta"):
        module = model()
    assert sum(p.numel() for p in module.parameters()) == params
    assert hwc(probe(module, torch_shape(shape))) == output
    assert [s for _, s, _ in trace(module, torch_shape(shape))] == layers
