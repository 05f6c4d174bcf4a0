"""Differential tests in 1-D and 3-D: the same rules as 2-D, checked against PyTorch's
Conv1d/Conv3d, MaxPool1d/3d, ... exactly as tests/test_against_torch.py checks 2-D.

Hypothesis draws a configuration, writes it as layer-language text (input ``C@L`` or
``C@DxHxW``) and as ``torch.nn`` modules; both must accept with the same output shape,
weights and biases (and, through ``to_torch()``, the same shape and parameters for every
layer), or both must refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from test_against_torch import Leaf  # one statement and its PyTorch module, shared
from torch import nn

import cnn_magic
from cnn_magic import torch_export

Shape = tuple[int, ...]
DIMS = [1, 3]

SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SAME_WARNING = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


@dataclass(frozen=True)
class Case:
    shape: Shape  # ours: (spatial..., C) or (N,)
    leaves: tuple[Leaf, ...]
    rounding: str = "floor"

    @property
    def text(self) -> str:
        if len(self.shape) == 1:
            head = f"input {self.shape[0]}"
        else:
            *spatial, c = self.shape
            head = f"input {c}@" + "x".join(map(str, spatial))
        return "\n".join([head, *(leaf.text for leaf in self.leaves)]) + "\n"


def ours(torch_shape: Shape) -> Shape:
    dims = tuple(torch_shape[1:])
    return (*dims[1:], dims[0]) if len(dims) > 1 else dims


def theirs(shape: Shape) -> Shape:
    return (1, *shape) if len(shape) == 1 else (1, shape[-1], *shape[:-1])


def split_params(module: nn.Module) -> tuple[int, int]:
    weights = biases = 0
    for name, p in module.named_parameters():
        if name.rsplit(".", 1)[-1] == "bias":
            biases += p.numel()
        else:
            weights += p.numel()
    return weights, biases


def reference(case: Case) -> tuple[str | None, Shape, int, int]:
    start = theirs(case.shape)
    try:
        with torch.device("meta"):
            modules, shape = [], start
            for leaf in case.leaves:
                module = leaf.make(shape)
                with torch.no_grad():
                    shape = tuple(module.eval()(torch.empty(shape, device="meta")).shape)
                modules.append(module)
            model = nn.Sequential(*modules)
        weights, biases = split_params(model)
        model = model.to_empty(device="cpu").eval()
        with torch.no_grad():
            out = tuple(model(torch.zeros(start)).shape)
    except (RuntimeError, ValueError) as err:
        return f"{type(err).__name__}: {err}", (), 0, 0
    if 0 in out:
        return f"empty output {out}", (), 0, 0
    return None, ours(out), weights, biases


def assert_agree(case: Case) -> None:
    text = case.text
    error, shape, weights, biases = reference(case)
    try:
        net = cnn_magic.evaluate(text, rounding=case.rounding)
    except cnn_magic.CNNError as err:
        assert error is not None, f"cnn_magic refuses what PyTorch accepts:\n{text}{err}"
        note("both refuse")
        return
    assert error is None, f"PyTorch refuses what cnn_magic accepts:\n{text}{error}"
    context = f"rounding={case.rounding}\n{text}"
    assert net.output_shape == shape, context
    assert (net.weights, net.biases) == (weights, biases), context
    # the exported model agrees layer by layer, as in 2-D
    with torch.device("meta"):
        model = net.to_torch()
    assert torch_export.compare(net, model, device="meta") == [], context
    note("both accept")


def note(what: str) -> None:
    if currently_in_test_context():
        event(what)


def per_dim(dims: int, lo: int, hi: int) -> st.SearchStrategy[tuple[int, ...]]:
    """One number for every dimension (half the time), else one each."""
    return st.one_of(
        st.integers(lo, hi).map(lambda v: (v,) * dims),
        st.tuples(*[st.integers(lo, hi)] * dims),
    )


def written(key: str, values: tuple[int, ...]) -> str:
    if len(set(values)) == 1:
        return f"{key}{values[0]}"
    return f"{key}=" + "x".join(map(str, values))


def sizes(dims: int) -> st.SearchStrategy[tuple[int, ...]]:
    hi = 40 if dims == 1 else 10
    return st.tuples(*[st.integers(1, hi)] * dims)


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leakyrelu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(dim=1),
}
MAYBE_ACTIVATION = st.one_of(st.none(), st.sampled_from(sorted(ACTIVATIONS)))


def with_activation(module: nn.Module, activation: str | None) -> nn.Module:
    return module if activation is None else nn.Sequential(module, ACTIVATIONS[activation]())


# --------------------------------------------------------------------------- convolution


@st.composite
def conv_cases(draw, dims: int) -> Case:
    spatial = draw(sizes(dims))
    groups = draw(st.integers(1, 3))
    c_in, n = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = draw(per_dim(dims, 1, 5))
    dilation = draw(st.one_of(st.just((1,) * dims), per_dim(dims, 1, 2)))
    pad_kind = draw(st.sampled_from(["none", "numbers", "same", "valid"]))
    stride = (1,) * dims if pad_kind == "same" else draw(per_dim(dims, 1, 3))
    bias = draw(st.booleans())
    activation = draw(MAYBE_ACTIVATION)
    args = [str(n), written("k", kernel), written("s", stride), written("d", dilation)]
    padding: object = 0
    if pad_kind == "numbers":
        padding = draw(per_dim(dims, 0, 3))
        args.append(written("p", padding))
    elif pad_kind in ("same", "valid"):
        padding = pad_kind
        args.append(pad_kind)
    if groups > 1:
        args.append(f"g{groups}")
    if not bias:
        args.append("nobias")
    if activation:
        args.append(activation)
    keyword = draw(st.sampled_from(["conv", f"conv{dims}d"]))
    cls = nn.Conv1d if dims == 1 else nn.Conv3d

    def make(s: Shape) -> nn.Module:
        conv = cls(s[1], n, kernel, stride, padding, dilation, groups, bias)
        return with_activation(conv, activation)

    return Case(
        (*spatial, c_in),
        (Leaf(" ".join([keyword, *args]), make),),
        draw(st.sampled_from(["floor", "textbook"])),
    )


@SAME_WARNING
@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=300)
@given(data=st.data())
def test_conv(dims: int, data: st.DataObject) -> None:
    assert_agree(data.draw(conv_cases(dims)))


@st.composite
def dwconv_cases(draw, dims: int) -> Case:
    spatial, c = draw(sizes(dims)), draw(st.integers(1, 4))
    multiplier = draw(st.integers(1, 3))
    kernel, stride = draw(per_dim(dims, 1, 4)), draw(per_dim(dims, 1, 2))
    padding = draw(per_dim(dims, 0, 2))
    args = [written("k", kernel), written("s", stride), written("p", padding), str(multiplier)]
    cls = nn.Conv1d if dims == 1 else nn.Conv3d

    def make(s: Shape) -> nn.Module:
        return cls(s[1], s[1] * multiplier, kernel, stride, padding, groups=s[1])

    keyword = draw(st.sampled_from(["dwconv", f"dwconv{dims}d"]))
    return Case((*spatial, c), (Leaf(" ".join([keyword, *args]), make),))


@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=100)
@given(data=st.data())
def test_dwconv(dims: int, data: st.DataObject) -> None:
    assert_agree(data.draw(dwconv_cases(dims)))


# --------------------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw, dims: int) -> Case:
    op = draw(st.sampled_from(["maxpool", "avgpool"]))
    spatial, c = draw(sizes(dims)), draw(st.integers(1, 3))
    kernel = draw(per_dim(dims, 1, 4))
    dilation = draw(per_dim(dims, 1, 2)) if op == "maxpool" else (1,) * dims
    stride = draw(st.one_of(st.none(), per_dim(dims, 1, 3)))
    k_eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    padding = tuple(draw(st.integers(0, k // 2 + 1)) for k in k_eff)
    rounding = draw(st.sampled_from(["floor", "ceil", "textbook"]))
    ceil_mode = rounding != "floor"
    args = [written("k", kernel)]
    if stride is not None:
        args.append(written("s", stride))
    args.append(written("p", padding))
    if op == "maxpool" and set(dilation) != {1}:
        args.append(written("d", dilation))
    kind = "Max" if op == "maxpool" else "Avg"
    cls = getattr(nn, f"{kind}Pool{dims}d")

    def make(s: Shape) -> nn.Module:
        if op == "maxpool":
            return cls(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        return cls(kernel, stride, padding, ceil_mode=ceil_mode)

    keyword = draw(st.sampled_from([op, f"{op}{dims}d"]))
    return Case((*spatial, c), (Leaf(" ".join([keyword, *args]), make),), rounding)


@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=300)
@given(data=st.data())
def test_pool(dims: int, data: st.DataObject) -> None:
    assert_agree(data.draw(pool_cases(dims)))


@st.composite
def adaptive_cases(draw, dims: int) -> Case:
    op = draw(st.sampled_from(["avg", "max"]))
    spatial, c = draw(sizes(dims)), draw(st.integers(1, 3))
    size = draw(per_dim(dims, 1, 8))
    word = str(size[0]) if len(set(size)) == 1 else "x".join(map(str, size))
    cls = getattr(nn, f"Adaptive{op.capitalize()}Pool{dims}d")
    keyword = draw(st.sampled_from([f"adaptive{op}pool", f"adaptive{op}pool{dims}d"]))
    return Case(
        (*spatial, c),
        (Leaf(f"{keyword} {word}", lambda s: cls(size)),),
        draw(st.sampled_from(["floor", "ceil", "textbook"])),
    )


@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=100)
@given(data=st.data())
def test_adaptive_pool(dims: int, data: st.DataObject) -> None:
    assert_agree(data.draw(adaptive_cases(dims)))


# --------------------------------------------------------------------------- transposed


@st.composite
def deconv_cases(draw, dims: int) -> Case:
    spatial = tuple(draw(st.integers(1, 8)) for _ in range(dims))
    groups = draw(st.integers(1, 2))
    c_in, n = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, stride, padding = (
        draw(per_dim(dims, 1, 4)),
        draw(per_dim(dims, 1, 3)),
        draw(per_dim(dims, 0, 2)),
    )
    dilation = draw(st.one_of(st.just((1,) * dims), per_dim(dims, 1, 2)))
    top = [max(s, d) for s, d in zip(stride, dilation, strict=True)]
    out_pad = tuple(draw(st.integers(0, t)) for t in top)
    bias = draw(st.booleans())
    args = [str(n), written("k", kernel), written("s", stride), written("p", padding)]
    args += [written("op", out_pad), written("d", dilation), f"g{groups}"]
    if not bias:
        args.append("nobias")
    cls = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose3d

    def make(s: Shape) -> nn.Module:
        return cls(s[1], n, kernel, stride, padding, out_pad, groups, bias, dilation)

    keyword = draw(st.sampled_from(["deconv", f"deconv{dims}d", f"convtranspose{dims}d"]))
    return Case((*spatial, c_in), (Leaf(" ".join([keyword, *args]), make),))


@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=200)
@given(data=st.data())
def test_deconv(dims: int, data: st.DataObject) -> None:
    assert_agree(data.draw(deconv_cases(dims)))


# --------------------------------------------------------------------------- chains


def map_leaf(draw, dims: int) -> Leaf:
    kind = draw(st.sampled_from(["bn", "gap", "gmp", "act", "dropout", "lrn", "identity", "conv"]))
    if kind == "bn":
        word = draw(st.sampled_from(["bn", f"bn{dims}d", f"batchnorm{dims}d"]))
        cls = nn.BatchNorm1d if dims == 1 else nn.BatchNorm3d
        return Leaf(word, lambda s: cls(s[1]))
    if kind in ("gap", "gmp"):
        cls = getattr(nn, f"Adaptive{'Avg' if kind == 'gap' else 'Max'}Pool{dims}d")
        return Leaf(kind, lambda s: cls(1))
    if kind == "conv":
        n, act = draw(st.integers(1, 4)), draw(MAYBE_ACTIVATION)
        cls = nn.Conv1d if dims == 1 else nn.Conv3d
        return Leaf(
            " ".join(filter(None, [f"conv {n} k1", act])),
            lambda s: with_activation(cls(s[1], n, 1), act),
        )
    if kind == "act":
        name = draw(st.sampled_from(sorted(ACTIVATIONS)))
        return Leaf(name, lambda s: ACTIVATIONS[name]())
    if kind == "dropout":
        return Leaf("dropout 0.25", lambda s: nn.Dropout(0.25))
    if kind == "lrn":
        return Leaf("lrn", lambda s: nn.LocalResponseNorm(5))
    return Leaf("identity", lambda s: nn.Identity())


def fc_leaf(draw) -> Leaf:
    n, bias = draw(st.integers(1, 8)), draw(st.booleans())

    def make(s: Shape) -> nn.Module:
        features = 1
        for v in s[1:]:
            features *= v
        return nn.Sequential(nn.Flatten(), nn.Linear(features, n, bias))

    return Leaf(f"fc {n}" + ("" if bias else " nobias"), make)


@st.composite
def chain_cases(draw, dims: int) -> Case:
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(dims))
    leaves = [map_leaf(draw, dims) for _ in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        leaves.append(
            draw(st.sampled_from([Leaf("flatten", lambda s: nn.Flatten()), fc_leaf(draw)]))
        )
        if draw(st.booleans()):
            leaves.append(Leaf("bn1d", lambda s: nn.BatchNorm1d(s[1])))
    return Case(
        (*spatial, draw(st.integers(1, 4))),
        tuple(leaves),
        draw(st.sampled_from(["floor", "textbook", "ceil"])),
    )


@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=200)
@given(data=st.data())
def test_layer_chains(dims: int, data: st.DataObject) -> None:
    assert_agree(data.draw(chain_cases(dims)))


# --------------------------------------------------------------------------- networks


class Residual(nn.Module):
    def __init__(self, body: nn.Module, shortcut: nn.Module) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.body(x), self.shortcut(x)
        if a.shape != b.shape:  # the layer language never broadcasts
            raise RuntimeError(f"shapes differ: {tuple(a.shape)} {tuple(b.shape)}")
        return a + b


class Branches(nn.Module):
    def __init__(self, branches: list[nn.Module], concat: bool) -> None:
        super().__init__()
        self.branches, self.concat = nn.ModuleList(branches), concat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        if self.concat:
            return torch.cat(outs, dim=1)
        if len({o.shape for o in outs}) != 1:
            raise RuntimeError("shapes differ")
        total = outs[0]
        for o in outs[1:]:
            total = total + o
        return total


@dataclass(frozen=True)
class Node:
    """A leaf (``text`` and ``make``) or a block (``kind`` with ``parts``)."""

    text: str = ""
    make: Callable[[Shape], nn.Module] | None = None
    kind: str = ""
    parts: tuple[tuple[Node, ...], ...] = ()
    count: int = 1


def lines(nodes: tuple[Node, ...], depth: int = 0) -> list[str]:
    pad = "  " * depth
    out: list[str] = []
    for node in nodes:
        if not node.kind:
            out.append(pad + node.text)
        elif node.kind == "repeat":
            out += [f"{pad}repeat {node.count}:", *lines(node.parts[0], depth + 1)]
        elif node.kind == "residual":
            out += [f"{pad}residual:", *lines(node.parts[0], depth + 1)]
            out += [f"{pad}  shortcut:", *lines(node.parts[1], depth + 2)]
        else:
            out.append(f"{pad}{node.kind}:")
            for part in node.parts:
                out += [f"{pad}  branch:", *lines(part, depth + 2)]
    return out


def build(nodes: tuple[Node, ...], shape: Shape) -> tuple[nn.Module, Shape]:
    modules = []
    for node in nodes:
        if not node.kind:
            assert node.make is not None
            module = node.make(shape)
        elif node.kind == "repeat":
            module, _ = build(node.parts[0] * node.count, shape)
        elif node.kind == "residual":
            module = Residual(build(node.parts[0], shape)[0], build(node.parts[1], shape)[0])
        else:
            parts = [build(part, shape)[0] for part in node.parts]
            module = Branches(parts, node.kind == "concat")
        with torch.no_grad():
            shape = tuple(module.eval()(torch.empty(shape, device="meta")).shape)
        modules.append(module)
    return nn.Sequential(*modules), shape


def map_node(draw, dims: int) -> Node:
    """A layer that keeps a map a map (sizes may shrink, channels may change)."""
    conv, pool = (nn.Conv1d, nn.MaxPool1d) if dims == 1 else (nn.Conv3d, nn.MaxPool3d)
    kind = draw(st.sampled_from(["conv", "conv3", "pool", "bn", "act", "identity"]))
    if kind == "conv":
        n = draw(st.integers(1, 4))
        return Node(f"conv {n} k1", lambda s: conv(s[1], n, 1))
    if kind == "conv3":
        n, stride = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        return Node(f"conv {n} k3 s{stride} p1", lambda s: conv(s[1], n, 3, stride, 1))
    if kind == "pool":
        return Node("maxpool k2 s1", lambda s: pool(2, 1))
    if kind == "bn":
        batchnorm = nn.BatchNorm1d if dims == 1 else nn.BatchNorm3d
        return Node("bn", lambda s: batchnorm(s[1]))
    if kind == "act":
        return Node("relu", lambda s: nn.ReLU())
    return Node("identity", lambda s: nn.Identity())


def node_sequence(draw, dims: int, depth: int) -> tuple[Node, ...]:
    nodes = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(["repeat", "residual", "concat", "add"]))
            count = draw(st.integers(1, 3))
            parts = tuple(
                node_sequence(draw, dims, depth + 1) for _ in range(1 if kind == "repeat" else 2)
            )
            nodes.append(Node(kind=kind, parts=parts, count=count))
        else:
            nodes.append(map_node(draw, dims))
    return tuple(nodes)


@st.composite
def network_cases(draw, dims: int) -> tuple[str, Shape, tuple[Node, ...], str]:
    spatial = tuple(draw(st.integers(2, 9 if dims == 1 else 5)) for _ in range(dims))
    c = draw(st.integers(1, 3))
    nodes = node_sequence(draw, dims, 0)
    text = "\n".join([f"input {c}@" + "x".join(map(str, spatial)), *lines(nodes)]) + "\n"
    return text, (1, c, *spatial), nodes, draw(st.sampled_from(["floor", "textbook"]))


@pytest.mark.parametrize("dims", DIMS)
@settings(SETTINGS, max_examples=150)
@given(data=st.data())
def test_random_networks(dims: int, data: st.DataObject) -> None:
    """Blocks nested in 1-D and 3-D, as test_against_torch.py's networks in 2-D: both
    refuse, or both give the same output shape and parameters, and ``to_torch()`` agrees
    layer by layer."""
    text, start, nodes, rounding = data.draw(network_cases(dims))
    try:
        with torch.device("meta"):
            model, out = build(nodes, start)
        weights, biases = split_params(model)
        error = None
    except RuntimeError as err:
        error = str(err)
    try:
        net = cnn_magic.evaluate(text, rounding)
    except cnn_magic.CNNError as err:
        assert error is not None, f"cnn_magic refuses what PyTorch accepts:\n{text}{err}"
        note("both refuse")
        return
    assert error is None, f"PyTorch refuses what cnn_magic accepts:\n{text}{error}"
    assert net.output_shape == ours(out), text
    assert (net.weights, net.biases) == (weights, biases), text
    with torch.device("meta"):
        exported = net.to_torch()
    assert torch_export.compare(net, exported, device="meta") == [], text
    note("both accept")


# --------------------------------------------------------------------------- fixed networks


def network(dims: int) -> str:
    """A residual network in ``dims`` dimensions, blocks and merges included."""
    head = "input 2@64" if dims == 1 else "input 2@8x16x16"
    return f"""{head}
conv 8 k3 p1 nobias
bn relu
residual:
  conv 8 k3 p1 nobias
  bn relu
  conv 8 k3 p1 nobias
  bn
relu
residual:
  conv 16 k3 s2 p1 nobias
  bn
  shortcut:
    conv 16 k1 s2 nobias
    bn
concat:
  branch:
    conv 4 k1
  branch:
    maxpool k3 s1 p1
gap
fc 10
"""


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("rounding", ["floor", "textbook"])
def test_networks(dims: int, rounding: str) -> None:
    net = cnn_magic.evaluate(network(dims), rounding)
    model = net.to_torch()
    assert len(model.layer_modules) == len(net.layers)
    assert torch_export.compare(net, model) == []
    with torch.no_grad():
        output = model(torch_export.input_tensor(net))
    assert tuple(output.shape) == (1, 10) and net.output_shape == (10,)
    assert sum(p.numel() for p in model.parameters()) == net.params


def test_the_refused_inputs_offer_both_spellings() -> None:
    with pytest.raises(cnn_magic.CNNError) as info:
        cnn_magic.evaluate("input 3x224x224\nconv 8 k3")
    message = str(info.value)
    assert "reads like PyTorch's channels-first C×H×W" in message
    assert "224x224x3" in message and "3@224x224" in message
    with pytest.raises(cnn_magic.CNNError, match="16x112x112x3 or 3@16x112x112"):
        cnn_magic.evaluate("input 3x16x112x112\nconv 8 k3")


@pytest.mark.parametrize(
    ("notation", "shape"),
    [
        ("2@128", (128, 2)),
        ("3@16x112x112", (16, 112, 112, 3)),
        ("16x112x112x3", (16, 112, 112, 3)),
        ("224x224x3", (224, 224, 3)),
        ("224@3x224", (3, 224, 224)),
        ("1x1x512", (1, 1, 512)),
        ("4x4x512", (4, 4, 512)),
        ("3x8x8", (3, 8, 8)),
    ],
)
def test_input_notations_in_every_dimension(notation: str, shape: Shape) -> None:
    assert cnn_magic.evaluate(f"input {notation}").input_shape == shape
