"""``from_torch`` on the language's newer layers: norms, layer scale, shuffles, padding,
cropping, resizing, as ``to_torch()`` builds them and as people write them by hand.

Every import is checked against PyTorch layer by layer while it is built (shapes,
parameters, MACs: ``graph.check``); here the round trip of every drawn case of the
modern-layer suite must give the same network, hand-written forms must give the
expected text, and layers without weights must compute what the imported text's own
``to_torch()`` computes, value for value.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.nn.functional as F
import torch_zoo_modern
from hypothesis import given, settings
from hypothesis import strategies as st
from test_against_torch import SETTINGS
from test_from_torch import assert_same_network, collapsed
from test_modern_layers_against_torch import STRATEGIES
from torch import nn

import cnn_magic
from cnn_magic import CNNError

MODERN = STRATEGIES


class Untraceable(nn.Module):
    """``inner`` behind Python control flow on a tensor value: symbolic tracing fails,
    so ``from_torch`` records it with forward hooks instead."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if float(x.abs().sum()) >= 0:
            out: torch.Tensor = self.inner(x)
            return out
        return x  # pragma: no cover - never taken


def imported(model: nn.Module, shape: Any, *, hooks: bool = False) -> cnn_magic.Network:
    return cnn_magic.from_torch(Untraceable(model) if hooks else model, shape)


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
@pytest.mark.parametrize("layer", MODERN)
@settings(SETTINGS, max_examples=25)
@given(data=st.data())
def test_round_trip_of_the_newer_layers(layer: str, hooks: bool, data: st.DataObject) -> None:
    """Each drawn case of the modern-layer suite, through ``to_torch()`` and back (traced,
    and recorded by hooks), gives the same shapes, parameters and counts."""
    case = data.draw(MODERN[layer]())
    try:
        net = cnn_magic.evaluate(case.text, case.rounding)
    except CNNError:
        return  # refused texts are the other suite's business
    model = net.to_torch()
    shape = (net.input_shape[-1], *net.input_shape[:-1])
    assert_same_network(net, imported(model, shape, hooks=hooks))


def same_values(model: nn.Module, net: cnn_magic.Network, shape: tuple[int, ...]) -> None:
    """The imported text's own PyTorch twin computes what the model computes (for
    layers without weights: a check of the meaning, not just the shapes)."""
    x = torch.randn(1, *shape)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), net.to_torch().eval()(x))


def lines(net: cnn_magic.Network) -> list[str]:
    """The statements without their labels."""
    body = [line for line in net.text.splitlines() if line and not line.startswith("#")]
    return [line.split(": ", 1)[-1] for line in body[1:]]


# ----------------------------------------------------------------- modules


def test_norm_modules() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.GroupNorm(4, 8),
        nn.InstanceNorm2d(8),
        nn.InstanceNorm2d(8, affine=True),
        nn.Hardsigmoid(),
        nn.Dropout2d(0.1),
        nn.Flatten(),
        nn.LayerNorm(8 * 36),
    )
    net = imported(model, (3, 8, 8))
    assert lines(net) == [
        "conv 8 k3",
        "groupnorm 4",
        "instancenorm",
        "instancenorm affine",
        "hardsigmoid",
        "dropout 0.1",
        "flatten",
        "layernorm",
    ]
    assert net.params == 3 * 8 * 9 + 8 + 2 * 8 + 2 * 8 + 2 * 288


@pytest.mark.parametrize("dims", [1, 3])
def test_instancenorm_in_one_and_three_dimensions(dims: int) -> None:
    cls = nn.InstanceNorm1d if dims == 1 else nn.InstanceNorm3d
    model = nn.Sequential(cls(4, affine=True), cls(4))
    net = cnn_magic.from_torch(model, "4@10" if dims == 1 else (1, 4, 3, 5, 5))
    assert lines(net) == ["instancenorm affine", "instancenorm"]
    assert net.params == 8


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block as its paper's code writes it: channels last for the norm and
    the two linear layers, the layer scale a parameter of shape (C, 1, 1) or (C,)."""

    def __init__(self, dim: int, scale_last: bool) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim, bias=False)
        self.scale_last = scale_last
        self.gamma = nn.Parameter(torch.full((dim,) if scale_last else (dim, 1, 1), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        if self.scale_last:
            y = self.gamma * y
        y = y.permute(0, 3, 1, 2)
        if not self.scale_last:
            y = y * self.gamma
        out: torch.Tensor = x + y
        return out


@pytest.mark.parametrize("scale_last", [False, True])
@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
@settings(SETTINGS, max_examples=8)
@given(dim=st.integers(2, 12), size=st.integers(1, 9))
def test_convnext_block(scale_last: bool, hooks: bool, dim: int, size: int) -> None:
    net = imported(ConvNeXtBlock(dim, scale_last), (dim, size, size), hooks=hooks)
    assert lines(net)[1:] == [
        "dwconv k7 p3",
        "layernorm",
        f"conv {4 * dim} k1",
        "gelu",
        f"conv {dim} k1 nobias",
        "layerscale",
    ]
    ours = cnn_magic.evaluate(
        f"input {size}x{size}x{dim}\nresidual:\n  dwconv k7 p3\n  layernorm\n"
        f"  conv {4 * dim} k1 gelu\n  conv {dim} k1 nobias\n  layerscale\n",
        "floor",
    )
    assert_same_network(ours, net)


class LayerNorm2d(nn.LayerNorm):
    """torchvision's convnext.LayerNorm2d: a LayerNorm subclass over the channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_layernorm_over_channels_written_by_hand(hooks: bool) -> None:
    model = nn.Sequential(nn.Conv2d(3, 6, 1), LayerNorm2d(6), nn.Conv2d(6, 6, 1))
    net = imported(model, (3, 5, 5), hooks=hooks)
    assert lines(net) == ["conv 6 k1", "layernorm", "conv 6 k1"]
    assert net.layers[1].params == 12 and net.params == sum(p.numel() for p in model.parameters())


def channel_shuffle_view(x: torch.Tensor, groups: int) -> torch.Tensor:
    """torchvision's ShuffleNetV2 form: view, torch.transpose, contiguous, view."""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


def channel_shuffle_permute(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).permute(0, 2, 1, 3, 4).flatten(1, 2)


class Shuffle(nn.Module):
    def __init__(self, form: Any, groups: int) -> None:
        super().__init__()
        self.form, self.groups = form, groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.form(x, self.groups)
        return out


@pytest.mark.parametrize(
    "form",
    [torch_zoo_modern.channel_shuffle, channel_shuffle_view, channel_shuffle_permute],
    ids=["zoo", "view", "permute"],
)
@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
@settings(SETTINGS, max_examples=10)
@given(groups=st.integers(1, 4), per_group=st.integers(1, 4), size=st.integers(1, 4))
def test_channel_shuffle_written_by_hand(
    form: Any, hooks: bool, groups: int, per_group: int, size: int
) -> None:
    channels = groups * per_group
    model = Shuffle(form, groups)
    net = imported(model, (channels, size, size), hooks=hooks)
    assert lines(net) == [f"channelshuffle {groups}"]
    same_values(model, net, (channels, size, size))


Sides = tuple[int, int, int, int]  # left, right, top, bottom

PADS: dict[str, Callable[[Sides], nn.Module]] = {
    "zeros": lambda sides: nn.ZeroPad2d(sides),
    "constant": lambda sides: nn.ConstantPad2d(sides, 0.0),
    "reflect": lambda sides: nn.ReflectionPad2d(sides),
    "replicate": lambda sides: nn.ReplicationPad2d(sides),
    "circular": lambda sides: nn.CircularPad2d(sides),
    "F.pad": lambda sides: FunctionalPad(sides, "constant"),
    "F.pad reflect": lambda sides: FunctionalPad(sides, "reflect"),
}


class FunctionalPad(nn.Module):
    def __init__(self, sides: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.sides, self.mode = sides, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.sides, mode=self.mode)


@pytest.mark.parametrize("kind", PADS)
@settings(SETTINGS, max_examples=15)
@given(sides=st.tuples(*(st.integers(0, 3) for _ in range(4))), size=st.integers(4, 7))
def test_standalone_padding(kind: str, sides: Sides, size: int) -> None:
    """Padding that no conv or pool follows is a ``pad`` statement of its own; its
    values are the model's."""
    model = nn.Sequential(PADS[kind](sides), nn.ReLU())
    net = cnn_magic.from_torch(model, (2, size, size))
    left, right, top, bottom = sides
    statement = lines(net)[0]
    assert statement.startswith("pad") or sides == (0, 0, 0, 0)
    assert net.output_shape == (size + top + bottom, size + left + right, 2)
    same_values(model, net, (2, size, size))


def test_padding_written_three_ways() -> None:
    for module, statement in (
        (nn.ZeroPad2d(2), "pad 2"),
        (nn.ReflectionPad2d((1, 1, 2, 2)), "pad 2x1 reflect"),
        (nn.ReplicationPad2d((0, 1, 0, 1)), "pad bottom=1 right=1 replicate"),
    ):
        assert lines(cnn_magic.from_torch(nn.Sequential(module, nn.ReLU()), (2, 6, 6)))[0] == (
            statement
        )
    one = nn.Sequential(nn.ReflectionPad1d((2, 1)), nn.ReLU())
    assert lines(cnn_magic.from_torch(one, "3@9"))[0] == "pad left=2 right=1 reflect"
    three = nn.Sequential(nn.ReplicationPad3d(1), nn.ReLU())
    assert lines(cnn_magic.from_torch(three, (1, 2, 3, 4, 4)))[0] == "pad 1 replicate"


def test_padding_still_folds_into_a_conv() -> None:
    model = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 4, 3, stride=2))
    assert lines(cnn_magic.from_torch(model, (3, 8, 8))) == ["conv 4 k3 s2 same"]


class PaddedPool(nn.Module):
    def __init__(self, sides: Sides) -> None:
        super().__init__()
        self.sides = sides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(F.pad(x, self.sides), 3, 2)


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_padding_folds_into_a_pooling_function(hooks: bool) -> None:
    net = imported(PaddedPool((1, 1, 1, 1)), (3, 8, 8), hooks=hooks)
    assert lines(net) == ["maxpool k3 s2 p1"]
    # more than half the kernel: PyTorch's pooling could not take it, so it stays a pad
    net = imported(PaddedPool((1, 1, 2, 2)), (3, 8, 8), hooks=hooks)
    assert lines(net) == ["pad 2x1", "maxpool k3 s2"]
    assert net.output_shape == (5, 4, 3)


class Slice(nn.Module):
    def __init__(self, index: Any) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[self.index]


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
@settings(SETTINGS, max_examples=30)
@given(
    h=st.integers(3, 9),
    w=st.integers(3, 9),
    cut=st.tuples(*(st.integers(0, 1) for _ in range(4))),
    form=st.sampled_from(["slices", "ellipsis", "negative"]),
)
def test_crop_by_slicing(hooks: bool, h: int, w: int, cut: tuple[int, ...], form: str) -> None:
    top, bottom, left, right = cut
    if form == "slices":
        index: Any = (slice(None), slice(None), slice(top, h - bottom), slice(left, w - right))
    elif form == "ellipsis":
        index = (Ellipsis, slice(top, h - bottom), slice(left, w - right))
    else:
        index = (slice(None), slice(None), slice(top, -bottom or None), slice(left, -right or None))
    model = Slice(index)
    net = imported(nn.Sequential(nn.ReLU(), model), (2, h, w), hooks=hooks)
    assert net.output_shape == (h - top - bottom, w - left - right, 2)
    if any(cut):
        assert lines(net)[-1].startswith("crop")
        same_values(nn.Sequential(nn.ReLU(), model), net, (2, h, w))


def test_crop_helper_and_centre() -> None:
    net = cnn_magic.evaluate("input 9x9x2\ncrop 5x5\ncrop top=1 right=2\n", "floor")
    again = cnn_magic.from_torch(net.to_torch(), (2, 9, 9))
    assert lines(again) == ["crop 5x5", "crop top=1 right=2"]
    assert_same_network(net, again)


class Functions(nn.Module):
    """The newer layers as functions, with weights read from parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(8))
        self.bias = nn.Parameter(torch.zeros(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.group_norm(x, 4, self.weight, self.bias)
        x = F.instance_norm(x, weight=self.weight, bias=self.bias)
        x = F.instance_norm(x)
        x = F.hardsigmoid(x)
        x = F.pixel_shuffle(x, 2)
        x = F.pixel_unshuffle(x, 2)
        x = F.channel_shuffle(x, 2)
        x = F.dropout2d(x, 0.2, training=False)
        return F.interpolate(x, size=(12, 18), mode="bilinear")


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_functions_are_understood(hooks: bool) -> None:
    net = imported(Functions(), (8, 6, 6), hooks=hooks)
    assert lines(net) == [
        "groupnorm 4",
        "instancenorm affine",
        "instancenorm",
        "hardsigmoid",
        "pixelshuffle 2",
        "pixelunshuffle 2",
        "channelshuffle 2",
        "dropout 0.2",
        "upsample 2x3 bilinear",
    ]
    # the parameters a function reads are counted where it reads them
    assert [layer.params for layer in net.layers[:2]] == [16, 16]


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_upsample_to_a_size(hooks: bool) -> None:
    model = nn.Sequential(
        nn.Upsample(size=(8, 12)), nn.Upsample(size=(16, 24), mode="bilinear", align_corners=True)
    )
    net = imported(model, (3, 4, 4), hooks=hooks)
    assert lines(net) == ["upsample 2x3", "upsample 2 bilinear"]
    assert net.output_shape == (16, 24, 3)


class DropPath(nn.Module):
    """timm's stochastic depth: a whole sample dropped in training, the identity in
    evaluation."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.drop_prob = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob  # pragma: no cover - evaluation only here
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_stochastic_depth_is_the_identity(hooks: bool) -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.drop_path = DropPath(0.1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = x + self.drop_path(self.conv(x))
            return out

    net = imported(Block(), (4, 6, 6), hooks=hooks)
    assert lines(net)[-1] == "conv 4 k3 p1"
    assert "residual:" in net.text


# ----------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("model", "why"),
    [
        (nn.LayerNorm((4, 5, 5)), "the language's layernorm is over the channels"),
        (nn.LayerNorm(5), "the language's layernorm is over the channels"),
        (nn.GroupNorm(2, 4, affine=False), "affine=False"),
        (nn.ConstantPad2d(1, 2.0), "pads with 2.0"),
        (Slice((slice(None), slice(0, 2))), "channels taken apart"),
        (Slice((slice(None), slice(None), 0)), "only slicing is known"),
        (Shuffle(lambda x, g: x.view(1, g, -1, 5, 5).sum(1), 2), "viewed as 2 groups"),
    ],
)
def test_what_has_no_word_is_named(model: nn.Module, why: str) -> None:
    with pytest.raises(CNNError, match=why):
        cnn_magic.from_torch(nn.Sequential(model, nn.ReLU()), (4, 5, 5))


class SegNet(nn.Module):
    """SegNet's pattern: a max pooling keeps its indices, a max unpooling reads them."""

    def __init__(self, dims: int, sized: bool) -> None:
        super().__init__()
        self.conv = getattr(nn, f"Conv{dims}d")(2, 4, 3, padding=1)
        self.pool = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
        self.mid = getattr(nn, f"Conv{dims}d")(4, 4, 3, padding=1)
        self.unpool = getattr(nn, f"MaxUnpool{dims}d")(2)
        self.sized = sized

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, indices = self.pool(self.conv(x))
        size = x.shape[2:] if self.sized else None
        out: torch.Tensor = self.unpool(self.mid(y), indices, output_size=size)
        return out


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("size", [6, 7])
def test_max_unpooling_names_its_pooling(hooks: bool, dims: int, size: int) -> None:
    shape: Any = f"2@{size}" if dims == 1 else (1, 2, *(size,) * dims)
    net = imported(SegNet(dims, sized=True), shape, hooks=hooks)
    prefix = "inner." if hooks else ""
    assert lines(net) == [
        "conv 4 k3 p1",
        "maxpool k2",
        "conv 4 k3 p1",
        f"maxunpool {prefix}pool",
    ]
    assert net.output_shape == (*(size,) * dims, 4)
    if size % 2:  # without output_size PyTorch unpools to 6: not the size before the pool
        # (run on zeros, PyTorch itself may find an index out of the smaller map first)
        with pytest.raises(CNNError, match=r"its pooling started from|invalid max index"):
            imported(SegNet(dims, sized=False), shape, hooks=hooks)


class IndicesElsewhere(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2, return_indices=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, indices = self.pool(x)
        out: torch.Tensor = y + indices.float()
        return out


def test_indices_read_by_another_layer_are_refused() -> None:
    with pytest.raises(CNNError, match="where a max pooling found its maxima"):
        cnn_magic.from_torch(IndicesElsewhere(), (2, 6, 6))


# ----------------------------------------------------------------- the modern zoo

# The twins whose text is one network to compare row by row (GoogLeNet's auxiliary
# heads are checked below).
TWINS = [name for name in torch_zoo_modern.BUILDERS if name != "googlenet"]


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
@pytest.mark.parametrize("name", TWINS)
def test_modern_zoo_imports_to_the_example(name: str, hooks: bool) -> None:
    """Traced, and recorded by hooks: ConvNeXt's permutes, linear layers and layer
    scale, ShuffleNet's shuffle, the SE blocks' gates, seen as the functions of their
    blocks either way."""
    model = torch_zoo_modern.BUILDERS[name]()
    net = imported(model, torch_zoo_modern.INPUTS[name], hooks=hooks)
    assert_same_network(cnn_magic.example(name), net)


def test_googlenet_imports_its_inference_path() -> None:
    """At inference GoogLeNet returns its main output only: the import is the example
    without its two auxiliary heads (side outputs of the training network)."""
    net = cnn_magic.from_torch(torch_zoo_modern.googlenet(), (3, 224, 224))
    example = cnn_magic.example("googlenet")
    main = SimpleNamespace(layers=[x for x in example.layers if not x.block.startswith("aux")])
    assert len(main.layers) < len(example.layers)
    assert collapsed(net) == collapsed(main)  # type: ignore[arg-type]


def test_unet_crops_each_skip_where_the_model_does() -> None:
    """U-Net's forward crops a skip after the up-convolution it is joined with: the
    text does too, reading the skip by its label, as the example file writes it."""
    lines = cnn_magic.from_torch(torch_zoo_modern.unet(), (1, 572, 572)).text.splitlines()
    at = lines.index("up.0: deconv 512 k2 s2")
    crop, concat = lines[at + 1 : at + 3]
    assert crop.endswith(": crop 56x56 from=down.3.3")
    assert concat == f"cat: concat {crop.split(':')[0]}, up.0"
    # the bottom's two conv + relu pairs repeat inside one module: named after it
    assert lines[at - 3 : at] == ["down.4: repeat 2:", "  conv 1024 k3", "  relu"]


class FlattenChannelsLast(nn.Module):
    """A map flattened with its channels last (as ported Keras models do)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4 * 3 * 3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc(x.permute(0, 2, 3, 1).reshape(1, -1))
        return out


def test_flattening_a_channels_last_map() -> None:
    net = cnn_magic.from_torch(FlattenChannelsLast(), (4, 3, 3))
    assert lines(net) == ["flatten", "fc 2"]


class ScaledByBuffer(nn.Module):
    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x * self.scale
        return out


def test_a_buffer_is_no_layer_scale() -> None:
    with pytest.raises(CNNError, match="no parameter"):
        cnn_magic.from_torch(ScaledByBuffer(), (4, 3, 3))
