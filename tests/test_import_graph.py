"""``from_torch`` on models whose paths are no nested blocks, and on every construct the
language writes: each built in plain PyTorch and compared with PyTorch's own counts.

The importer compares every layer's output shape, parameters and MACs with the model as
it runs (``graph.check``); these tests add the totals as PyTorch's ``FlopCounterMode``
and the model's parameters give them, the text's structure, and that the text
evaluates again to the same layers.
"""

from __future__ import annotations

from contextlib import nullcontext
from unittest import mock

import pytest
import torch
import torch.nn.functional as F
import torch_zoo_modern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from real_tools import RUNNERS
from test_from_torch import collapsed
from torch import nn

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.i18n import language

Shape = tuple[int, ...]


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def imported_as_torch_counts(model: nn.Module, shape: tuple[int, ...]) -> cnn_magic.Network:
    """The import, checked against PyTorch: parameters, MACs (FlopCounterMode counts
    two FLOPs for each multiply-add of a convolution or linear layer and nothing else),
    the output shape; and its text evaluates to the same layers again."""
    net = cnn_magic.from_torch(model, shape)
    assert net.params == count_params(model)
    assert 2 * net.macs == RUNNERS["flopcountermode"](model, (1, *shape))
    with torch.no_grad():
        out = model.eval()(torch.zeros(1, *shape))
    out = out[0] if isinstance(out, tuple) else out
    ours = tuple(out.shape[1:])
    assert net.output_shape == ((*ours[1:], ours[0]) if len(ours) > 1 else ours)
    again = cnn_magic.evaluate(net.text, "floor")
    assert again.layers == net.layers
    return net


# ----------------------------------------------------------------- DenseNet


class DenseLayer(torch_zoo_modern.DenseLayer):
    """torchvision's ``_DenseLayer``: the zoo's layers, reading the list of every earlier
    map (the zoo's own concatenates its output to its input instead)."""

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        out: torch.Tensor = self.conv2(
            self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x)))))
        )
        return out


class DenseBlock(nn.ModuleDict):
    """torchvision's ``_DenseBlock``: each layer reads every map before it, the block
    gives all of them joined."""

    def __init__(self, layers: int, inp: int, growth: int, bn_size: int) -> None:
        super().__init__()
        for i in range(layers):
            self[f"denselayer{i + 1}"] = DenseLayer(inp + i * growth, growth, bn_size)

    def forward(self, init: torch.Tensor) -> torch.Tensor:
        features = [init]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class DenseNet(nn.Module):
    """torchvision's DenseNet structure (features.denseblockN, features.transitionN),
    small: the crossing concatenations are what matters."""

    def __init__(
        self, blocks: tuple[int, ...] = (3, 4, 2), growth: int = 8, bn_size: int = 2
    ) -> None:
        super().__init__()
        channels = 16
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, channels, 3, padding=1, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(channels))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        for i, layers in enumerate(blocks):
            self.features.add_module(
                f"denseblock{i + 1}", DenseBlock(layers, channels, growth, bn_size)
            )
            channels += layers * growth
            if i != len(blocks) - 1:
                transition = nn.Sequential(
                    nn.BatchNorm2d(channels),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(channels, channels // 2, 1, bias=False),
                    nn.AvgPool2d(2, 2),
                )
                self.features.add_module(f"transition{i + 1}", transition)
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = F.relu(self.features(x))
        pooled = F.adaptive_avg_pool2d(features, (1, 1))
        out: torch.Tensor = self.classifier(torch.flatten(pooled, 1))
        return out


@pytest.mark.parametrize("blocks", [(3, 4, 2), (2,), (1, 1), (4, 3, 3, 2)])
def test_densenet_imports_with_references(blocks: tuple[int, ...]) -> None:
    model = DenseNet(blocks)
    net = imported_as_torch_counts(model, (3, 16, 16))
    text = net.text
    if blocks[0] > 1:  # every dense layer after the first reads the block's input and more
        assert "features.denseblock1.denselayer2: concat features.relu0, " in text
    # the transitions are plain statements between the blocks
    assert "features.transition1.2: conv" in text or len(blocks) == 1
    # a block of one layer is a concat: block; a longer one joins by labels: one join for
    # each layer after the first, one for the block
    joined = [line for line in text.splitlines() if ": concat " in line]
    assert len(joined) == sum(layers for layers in blocks if layers > 1)
    assert text.count("concat:") == sum(2 if layers == 1 else 1 for layers in blocks)


def test_densenet_text_is_the_one_a_person_writes() -> None:
    text = cnn_magic.from_torch(DenseNet((2,)), (3, 8, 8)).text
    assert text.splitlines()[1:] == [
        "input 3@8x8",
        "features.conv0: conv 16 k3 p1 nobias",
        "features.norm0: bn",
        "features.relu0: relu",
        "features.denseblock1.denselayer1: concat:",
        "  branch:",
        "    identity",
        "features.denseblock1.denselayer1.norm1: bn",
        "features.denseblock1.denselayer1.relu1: relu",
        "features.denseblock1.denselayer1.conv1: conv 16 k1 nobias",
        "features.denseblock1.denselayer1.norm2: bn",
        "features.denseblock1.denselayer1.relu2: relu",
        "features.denseblock1.denselayer1.conv2: conv 8 k3 p1 nobias",
        "features.denseblock1.denselayer2: concat features.relu0, "
        "features.denseblock1.denselayer1.conv2",
        "features.denseblock1.denselayer2.norm1: bn",
        "features.denseblock1.denselayer2.relu1: relu",
        "features.denseblock1.denselayer2.conv1: conv 16 k1 nobias",
        "features.denseblock1.denselayer2.norm2: bn",
        "features.denseblock1.denselayer2.relu2: relu",
        "features.denseblock1.denselayer2.conv2: conv 8 k3 p1 nobias",
        "features.denseblock1: concat features.relu0, features.denseblock1.denselayer1.conv2, "
        "features.denseblock1.denselayer2.conv2",
        "features.norm5: bn",
        "relu: relu",
        "adaptive_avg_pool2d: gap",
        "flatten: flatten",
        "classifier: fc 10",
    ]


# ----------------------------------------------------------------- random graphs


class Drawn(nn.Module):
    """A graph of convolutions, ReLUs, adds, concatenations, products, gates, channel
    splits and convolutions applied again, each step reading earlier values; the output
    joins every value nothing else read. A step is (kind, values read, output width);
    ``again:S`` applies step S's convolution again."""

    def __init__(self, channels: int, steps: list[tuple[str, tuple[int, ...], int]]) -> None:
        super().__init__()
        self.channels, self.steps = channels, steps
        self.convs = nn.ModuleDict()
        widths = [channels]
        for number, (kind, sources, width) in enumerate(steps, start=1):
            c = widths[sources[0]]
            if kind == "conv":
                k = 3 if width % 2 else 1
                self.convs[str(number)] = nn.Conv2d(c, width, k, padding=k // 2)
            elif kind == "gate":
                self.convs[str(number)] = nn.Conv2d(c, c, 1)
            elif kind == "split":
                self.convs[str(number)] = nn.Conv2d(c // 2, c // 2, 1)
            widths.append(width)
        read = {s for _, sources, _ in steps for s in sources}
        self.unread = [i for i in range(len(widths)) if i not in read]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = [x]
        for number, (kind, sources, _) in enumerate(self.steps, start=1):
            inputs = [values[s] for s in sources]
            if kind == "conv":
                out = self.convs[str(number)](inputs[0])
            elif kind.startswith("again:"):  # the same weights: shared
                out = self.convs[kind[6:]](inputs[0])
            elif kind == "relu":
                out = torch.relu(inputs[0])
            elif kind == "add":
                out = inputs[0] + inputs[1]
            elif kind == "mul":
                out = inputs[0] * inputs[1]
            elif kind == "concat":
                out = torch.cat(inputs, 1)
            elif kind == "split":  # ShuffleNetV2's way
                kept, changed = inputs[0].chunk(2, dim=1)
                out = torch.cat([torch.relu(kept), self.convs[str(number)](changed)], 1)
            else:  # a gate over the map, squeeze-and-excitation's way
                gate = self.convs[str(number)](F.adaptive_avg_pool2d(inputs[0], 1))
                out = inputs[0] * torch.sigmoid(gate)
            values.append(out)
        ends = [values[i] for i in self.unread]
        return ends[0] if len(ends) == 1 else torch.cat(ends, 1)


KINDS = ["conv", "conv", "relu", "add", "mul", "concat", "gate", "split", "again"]


@st.composite
def drawn_graphs(draw: st.DrawFn) -> Drawn:
    channels = draw(st.integers(1, 4))
    widths = [channels]
    convs: dict[int, tuple[int, int]] = {}  # a conv step → its (input, output) widths
    steps: list[tuple[str, tuple[int, ...], int]] = []
    for number in range(1, draw(st.integers(1, 9)) + 1):
        kind = draw(st.sampled_from(KINDS))
        first = draw(st.integers(0, len(widths) - 1))
        width = widths[first]
        sources: tuple[int, ...] = (first,)
        if kind in ("add", "mul"):
            same = [i for i, w in enumerate(widths) if w == width]
            sources = (first, draw(st.sampled_from(same)))
        elif kind == "concat":
            count = draw(st.integers(2, 3))
            rest = draw(
                st.lists(st.integers(0, len(widths) - 1), min_size=count - 1, max_size=count - 1)
            )
            sources = (first, *rest)
            width = sum(widths[s] for s in sources)
        elif kind == "conv":
            width = draw(st.integers(1, 5))
            convs[number] = (widths[first], width)
        elif kind == "split" and width % 2:
            kind = "relu"  # an odd width does not halve
        elif kind == "again":
            fitting = [step for step, (c, _) in convs.items() if c == width]
            if fitting:
                step = draw(st.sampled_from(fitting))
                kind, width = f"again:{step}", convs[step][1]
            else:
                kind = "relu"
        steps.append((kind, sources, width))
        widths.append(width)
    return Drawn(channels, steps)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_graphs(), st.integers(1, 6))
def test_drawn_graphs_import_to_pytorchs_counts(model: Drawn, size: int) -> None:
    imported_as_torch_counts(model, (model.channels, size, size))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_graphs(), st.integers(1, 6))
def test_drawn_graphs_import_by_hooks_too(model: Drawn, size: int) -> None:
    """The same graphs when tracing is impossible: one run with hooks and a
    TorchFunctionMode must see the same layers."""

    def untraceable(*_: object, **__: object) -> None:
        raise torch.fx.proxy.TraceError("data-dependent control flow")

    with mock.patch.object(torch.fx, "symbolic_trace", untraceable):
        imported_as_torch_counts(model, (model.channels, size, size))


def convolutions_as_run(model: nn.Module, shape: tuple[int, ...]) -> list[tuple[Shape, Shape]]:
    """Each call of a convolution as PyTorch runs the model: its input and output
    shapes, ours (H, W, C), in the order of the calls."""
    calls: list[tuple[Shape, Shape]] = []

    def ours(tensor: torch.Tensor) -> Shape:
        return (*tensor.shape[2:], tensor.shape[1])

    def hook(_: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        calls.append((ours(inputs[0]), ours(out)))

    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    handles = [conv.register_forward_hook(hook) for conv in convs]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, *shape))
    finally:
        for handle in handles:
            handle.remove()
    return calls


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_graphs(), st.integers(1, 6), st.booleans())
def test_the_text_lists_the_layers_in_the_order_they_run(
    model: Drawn, size: int, hooks: bool
) -> None:
    """Blocks only where the model runs their paths whole, one after the other: the
    table lists the convolutions in the order PyTorch calls them (traced, or recorded
    by hooks)."""

    def untraceable(*_: object, **__: object) -> None:
        raise torch.fx.proxy.TraceError("data-dependent control flow")

    shape = (model.channels, size, size)
    with mock.patch.object(torch.fx, "symbolic_trace", untraceable) if hooks else nullcontext():
        net = cnn_magic.from_torch(model, shape)
    listed = [(layer.in_shape, layer.out_shape) for layer in net.layers if layer.op == "conv"]
    assert listed == convolutions_as_run(model, shape), net.text


# ----------------------------------------------------------------- products


class SqueezeExcite(nn.Module):
    """torchvision's SqueezeExcitation, written with functions."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = torch.sigmoid(self.fc2(F.relu(self.fc1(scale))))
        out: torch.Tensor = x * scale
        return out


def test_a_gate_multiplied_onto_its_input_is_a_scale_block() -> None:
    net = imported_as_torch_counts(SqueezeExcite(16, 4), (3, 8, 8))
    assert "mul: scale:\n  adaptive_avg_pool2d: gap\n  fc1: conv 4 k1\n" in net.text
    written = cnn_magic.evaluate(
        "input 8x8x3\nconv 16 k3 p1 relu\nscale:\n  gap\n  conv 4 k1 relu\n  conv 16 k1 sigmoid\n",
        "floor",
    )
    assert collapsed(net) == collapsed(written)
    assert net.layers[-1].op == "mul" and net.layers[-1].ops == 8 * 8 * 16


class Products(nn.Module):
    """Products that are no gate of their input: two computed maps (a gated
    convolution), and a broadcast sum."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 6, 3, padding=1)
        self.b = nn.Conv2d(4, 6, 1)
        self.c = nn.Conv2d(6, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x) * torch.sigmoid(self.b(x))
        out: torch.Tensor = y + self.c(y)  # 1 channel broadcast over 6
        return out


def test_other_products_and_broadcast_sums_are_one_line_merges() -> None:
    net = imported_as_torch_counts(Products(), (4, 5, 5))
    assert "mul: mul a, sigmoid" in net.text
    assert "add: add mul, c" in net.text
    assert [layer.branches for layer in net.layers if layer.op in ("mul", "add")] == [
        ((5, 5, 6), (5, 5, 6)),
        ((5, 5, 6), (5, 5, 1)),
    ]


def test_a_product_with_a_constant_is_still_unknown() -> None:
    class Halve(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 0.5

    with pytest.raises(CNNError, match=r"mul \(operator.mul\): multiplies by a constant"):
        cnn_magic.from_torch(Halve(), (3, 4, 4))


# ----------------------------------------------------------------- splits


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's unit without its shuffle: half the channels pass, half are
    convolved; ``chunk``, ``split`` or slicing."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.branch2 = nn.Sequential(nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        if how == "split":
            self.branch3 = nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "chunk":
            x1, x2 = x.chunk(2, dim=1)
            return torch.cat((x1, self.branch2(x2)), 1)
        if self.how == "split":
            a, b, c = torch.split(x, [2, 8, 4], dim=1)
            return torch.cat([torch.relu(a), self.branch2(b), self.branch3(c)], dim=1)
        if self.how == "narrow":
            return torch.cat([x.narrow(1, 0, 8), self.branch2(torch.narrow(x, 1, 8, 8))], 1)
        return torch.cat([x[:, :8], self.branch2(x[:, 8:])], 1)


@pytest.mark.parametrize(
    ("how", "channels", "block"),
    [
        ("chunk", 16, "split 2:"),
        ("split", 14, "split 2 8 4:"),
        ("slices", 16, "split 2:"),
        ("narrow", 16, "split 2:"),
    ],
)
def test_channel_splits_are_split_blocks(how: str, channels: int, block: str) -> None:
    net = imported_as_torch_counts(ShuffleUnit(how), (channels, 6, 6))
    assert f": {block}\n  branch:\n" in net.text
    assert "getitem" not in net.text


def test_a_lone_slice_of_channels_is_refused() -> None:
    class FirstHalf(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :2]

    with pytest.raises(CNNError, match=r"channels taken apart without a word.*channels 0:2"):
        cnn_magic.from_torch(FirstHalf(), (4, 3, 3))
    with language("zh"), pytest.raises(CNNError) as chinese:
        cnn_magic.from_torch(FirstHalf(), (4, 3, 3))
    assert str(chinese.value).startswith("通道被拆开，层语言中却没有对应的词：getitem")
    assert "\nsplit: 把通道切成连续的几段，每个分支一段" in str(chinese.value)


# ----------------------------------------------------------------- side outputs, sharing


class WithAux(nn.Module):
    """Returns its scores and an auxiliary head's, as GoogLeNet does when training."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.aux = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 5))
        self.body = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.relu(self.stem(x))
        aux = self.aux(x)
        scores = self.fc(torch.flatten(F.adaptive_avg_pool2d(self.body(x), 1), 1))
        return scores, aux


def test_auxiliary_outputs_are_side_blocks() -> None:
    net = imported_as_torch_counts(WithAux(), (3, 8, 8))
    assert "relu: relu\naux: side:\n  aux.0: adaptiveavgpool 2\n" in net.text
    assert net.side_outputs == (("aux", (5,)),) and net.output_shape == (5,)
    assert net.main.params == count_params(WithAux()) - 32 * 5 - 5


class Siamese(nn.Module):
    """One module applied twice: its weights are shared."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        once = torch.relu(self.conv(x))
        twice = self.conv(once)
        out: torch.Tensor = self.head(torch.cat([once, twice], 1))
        return out


def test_a_module_called_again_is_reused() -> None:
    net = imported_as_torch_counts(Siamese(), (4, 6, 6))
    assert "conv: conv 4 k3 p1\n" in net.text and "reuse conv" in net.text
    reused = [layer for layer in net.layers if layer.shared >= 0]
    assert len(reused) == 1 and reused[0].params == 0 and reused[0].macs == 6 * 6 * 4 * 4 * 9


class SegNetStep(nn.Module):
    """SegNet's decoder: max unpooling with the indices its pooling returned."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.mid = nn.Conv2d(4, 4, 3, padding=1)
        self.unpool = nn.MaxUnpool2d(2)
        self.out = nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, indices = self.pool(self.conv(x))
        out: torch.Tensor = self.out(self.unpool(self.mid(x), indices))
        return out


def test_max_unpooling_reads_its_poolings_label() -> None:
    net = imported_as_torch_counts(SegNetStep(), (3, 8, 8))
    assert "pool: maxpool k2\nmid: conv 4 k3 p1\nunpool: maxunpool pool\n" in net.text
    assert [layer.out_shape for layer in net.layers][-2:] == [(8, 8, 4), (8, 8, 2)]
    # without output_size PyTorch unpools 4×4 to 8×8, not to the 9×9 pooled
    with pytest.raises(CNNError, match=r"unpools to 8×8×4, not to the 9×9×4 its pooling"):
        cnn_magic.from_torch(SegNetStep(), (3, 9, 9))


# ----------------------------------------------------------------- opaque


class Mystery(nn.Module):
    """A module the language has no word for: it halves the map and doubles the
    channels, with weights of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(8, 4, 2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(torch.tanh(x) * 1.0, self.weight, stride=2)


def test_opaque_stands_for_any_unknown_with_its_shape_and_parameters_said() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), Mystery(), nn.Flatten(), nn.Linear(72, 3))
    with pytest.raises(CNNError, match="writes each as an opaque layer"):
        cnn_magic.from_torch(model, (3, 6, 6))
    net = cnn_magic.from_torch(model, (3, 6, 6), unknown="opaque")
    opaque = [layer for layer in net.layers if layer.op == "opaque"]
    assert [(layer.out_shape, layer.params, layer.macs, layer.ops) for layer in opaque] == [
        ((6, 6, 4), 0, 0, 0),
        ((3, 3, 8), 0, 0, 0),
    ]
    assert "opaque 3x3x8" in net.text
    assert "# opaque, counted as zero: 1 (operator.mul, 0 parameters): multiplies" in net.text
    assert "# opaque, counted as zero: 1.conv2d (torch.conv2d, 128 parameters): no" in net.text
    assert "# 128 parameters are inside opaque parts, counted as zero" in net.text
    assert "not used by its forward" not in net.text
    with pytest.raises(CNNError, match="is opaque: a part of an imported model"):
        net.to_torch()


def test_opaque_of_several_inputs_is_still_listed() -> None:
    class Maximum(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.maximum(x, torch.relu(x))

    with pytest.raises(CNNError, match=r"reads 2 tensors: opaque stands for one input"):
        cnn_magic.from_torch(Maximum(), (3, 4, 4), unknown="opaque")


def as_text(model: Drawn, size: int) -> str:
    """The drawn graph in the layer language, with a label for every value: what
    ``to_torch()`` makes of it is read back through its references (``Reads``)."""
    lines = [f"v0: input {size}x{size}x{model.channels}"]
    for number, (kind, sources, width) in enumerate(model.steps, start=1):
        first = f"v{sources[0]}"
        if kind == "conv":
            k = "k3 p1" if width % 2 else "k1"
            lines.append(f"v{number}: conv {width} {k} from={first}")
        elif kind.startswith("again:"):
            lines.append(f"v{number}: reuse v{kind[6:]} from={first}")
        elif kind == "relu":
            lines.append(f"v{number}: relu from={first}")
        elif kind in ("add", "mul", "concat"):
            lines.append(f"v{number}: {kind} " + ", ".join(f"v{s}" for s in sources))
        elif kind == "split":
            lines.append(f"identity from={first}")
            lines.append(f"v{number}: split 2:")
            lines.append("  branch:\n    relu\n  branch:")
            lines.append(f"    conv {width // 2} k1")
        else:
            lines.append(f"g{number}: group from={first}:")
            lines.append("  gap")
            lines.append(f"  conv {width} k1 sigmoid")
            lines.append(f"v{number}: mul {first}, g{number}")
    if len(model.unread) > 1:
        lines.append("concat " + ", ".join(f"v{i}" for i in model.unread))
    else:
        lines.append(f"identity from=v{model.unread[0]}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_graphs(), st.integers(1, 5))
def test_drawn_texts_with_references_round_trip(model: Drawn, size: int) -> None:
    net = cnn_magic.evaluate(as_text(model, size), "floor")
    imported = cnn_magic.from_torch(net.to_torch(), f"{size}x{size}x{model.channels}")
    assert imported.params == net.params
    assert imported.output_shape == net.output_shape
    for convention in ("flops", "macs", "exact"):
        assert imported.total(convention, all_ops=True) == net.total(convention, all_ops=True)
    assert cnn_magic.evaluate(imported.text, "floor").layers == imported.layers


class Mixed(nn.Module):
    """Residual blocks around a dense block: only the dense block needs labels."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.before = nn.Conv2d(8, 8, 3, padding=1)
        self.dense = DenseBlock(2, 8, 4, 2)
        self.squeeze = nn.Conv2d(16, 8, 1)
        self.after = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        x = x + self.before(x)
        x = self.squeeze(self.dense(x))
        out: torch.Tensor = x + self.after(x)
        return out


def test_only_the_crossing_region_is_written_with_labels() -> None:
    net = imported_as_torch_counts(Mixed(), (3, 6, 6))
    lines = net.text.splitlines()
    assert "add: residual:" in lines and "add_1: residual:" in lines
    assert "  before: conv 8 k3 p1" in lines and "  after: conv 8 k3 p1" in lines
    labelled = [line for line in lines if " from=" in line or ": concat " in line]
    assert labelled == [
        "dense.denselayer2: concat add, dense.denselayer1.conv2",
        "dense: concat add, dense.denselayer1.conv2, dense.denselayer2.conv2",
    ]


def test_no_tool_count_is_claimed_for_an_opaque_part() -> None:
    net = cnn_magic.evaluate("input 6x6x3\nconv 4 k3\nopaque 2x2x8\nflatten\nfc 2\n")
    with pytest.raises(CNNError, match="torchinfo's count of opaque1 cannot be given") as info:
        net.total("torchinfo")
    assert info.value.hint == "run the tool on the model that was imported"
