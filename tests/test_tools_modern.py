"""Every tool's count on the modern networks and on every newer layer kind and merge.

As ``test_tools.py``: the real tools (torchinfo, fvcore in training and eval mode,
ptflops with both backends, thop, FlopCounterMode) run on PyTorch models, and
``net.total(tool)`` must equal their figure exactly. ``net.total`` reproduces what the
tools report for ``net.to_torch()``, the network's own PyTorch form. The twins of
``torch_zoo_modern`` are written the way torchvision writes these networks; where that
changes a tool's figure, the test names the difference and asserts the twin's figure
too (docs/tools.md, "Where the way a model is written matters").
"""

from __future__ import annotations

import functools
import re

import pytest
import real_tools
import torch
import torch_zoo_modern
from hypothesis import assume, given, settings
from test_against_torch import SETTINGS, Case
from test_modern_layers_against_torch import STRATEGIES

import cnn_magic
from cnn_magic import CNNError, tools
from cnn_magic.results import Network
from cnn_magic.torch_export import input_tensor

TOOLS = list(tools.TOOLS)
MODERN = list(torch_zoo_modern.BUILDERS)
# the tools that put the model in eval mode before counting (fvcore runs it as given,
# FlopCounterMode too: a fresh model is in training mode)
EVAL_MODE = ("torchinfo", "fvcore-eval", "ptflops-pytorch", "ptflops-aten", "thop")


def figures(model: torch.nn.Module, shape: tuple[int, ...]) -> dict[str, int]:
    return real_tools.run_all(model, shape)


@functools.cache
def twin_figures(name: str) -> dict[str, int]:
    if name == "unet":  # as small_unet()
        return figures(torch_zoo_modern.unet(), (1, 1, 188, 188))
    return figures(torch_zoo_modern.BUILDERS[name](), torch_zoo_modern.INPUTS[name])


def small_unet() -> Network:
    """The U-Net example at 188×188 (every skip cropped to 8×8, the output 4×4×2): the
    same layers as at 572×572 with a 25th of the work, so the real tools run quickly
    (docs/tools.md has the figures at 572×572, which agree as well)."""
    text = cnn_magic.example("unet").text.replace("input 572x572x1", "input 188x188x1")
    return cnn_magic.evaluate(re.sub(r"crop \d+x\d+", "crop 8x8", text))


def network(name: str) -> Network:
    return small_unet() if name == "unet" else cnn_magic.example(name)


def sized(name: str, size: int) -> Network:
    """The example at its own input size (224), or at 112×112: the same layers on maps
    of a quarter of the size, so each formula is also checked on a second size. U-Net
    is small_unet()."""
    if name == "unet":
        return small_unet()
    if size == 224:
        return cnn_magic.example(name)
    return cnn_magic.evaluate(cnn_magic.example(name).text, input=f"{size}x{size}x3")


@functools.cache
def export_figures(name: str, size: int) -> dict[str, int]:
    net = sized(name, size)
    return figures(net.to_torch(), tuple(input_tensor(net).shape))


# ----------------------------------------------------------- side outputs and fvcore


def fvcore_keeps_of_side_heads(net: Network, tool: str) -> int:
    """What fvcore still counts of ``to_torch()``'s side heads.

    fvcore traces the model with ``torch.jit``, which drops every computation that
    does not reach the returned output: a ``side:`` head's output is kept in an
    attribute, not returned. In training mode a batch norm updates its running
    statistics, so the trace keeps it and what feeds it; in eval mode nothing of the
    head is left."""
    if tool == "fvcore-eval":
        return 0
    kept = 0
    for block in (b for b in net.blocks if b.kind == "side"):
        rows = net.layers[block.first : block.stop]
        norms = [i for i, layer in enumerate(rows) if layer.op == "bn"]
        if norms:
            kept += sum(tools.TOOLS[tool].per_layer(layer) for layer in rows[: norms[-1] + 1])
    return kept


def expected_for_export(net: Network, tool: str) -> int:
    if tool.startswith("fvcore") and net.side_outputs:
        return net.main.total(tool) + fvcore_keeps_of_side_heads(net, tool)
    return net.total(tool)


# ---------------------------------------------------------------- the zoo's twins


def convnext_as_torchvision_writes_it(net: Network, tool: str) -> int:
    """ConvNeXt written as torchvision writes it: each block's two 1×1 convolutions
    are ``nn.Linear`` on the NHWC map, its layer scale a bare ``nn.Parameter`` of the
    block, and the norms outside the blocks ``LayerNorm2d``, a subclass of
    ``nn.LayerNorm``. What that takes off each tool's count of ``to_torch()``:"""
    pointwise = [
        layer for layer in net.layers if layer.op == "conv" and layer.depth > 0
    ]  # the block's 1×1 convolutions
    outside = [layer for layer in net.layers if layer.op == "layernorm" and layer.depth == 0]
    if tool == "torchinfo":
        # torchinfo counts a module that is not a Conv once per sample, not per pixel;
        # a parameter outside any leaf module is not counted at all
        per_pixel = sum(layer.params * (tools._spatial(layer.out_shape) - 1) for layer in pointwise)
        scales = sum(layer.params for layer in net.layers if layer.op == "layerscale")
        return per_pixel + scales
    # ptflops and thop look a module's hook up by its exact type: LayerNorm2d has none
    if tool == "ptflops-pytorch":
        return sum(tools._elements(layer.in_shape) for layer in outside)
    if tool == "thop":
        return 4 * sum(tools._elements(layer.in_shape) for layer in outside)
    return 0


def expected_for_twin(name: str, net: Network, tool: str) -> int:
    if name == "googlenet" and tool in EVAL_MODE:
        # torchvision's GoogLeNet runs its auxiliary heads in training mode only
        return net.main.total(tool)
    if name == "convnext_tiny":
        return net.total(tool) - convnext_as_torchvision_writes_it(net, tool)
    return net.total(tool)


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("name", MODERN)
def test_modern_twin(name: str, tool: str) -> None:
    """The twins as users run them, at their published input size (U-Net smaller)."""
    net = network(name)
    assert twin_figures(name)[tool] == expected_for_twin(name, net, tool)


# every example at 224×224 and at 112×112; U-Net once, at 188×188
SIZED = [(name, size) for name in MODERN if name != "unet" for size in (224, 112)]
SIZED.append(("unet", 188))


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize(("name", "size"), SIZED)
def test_modern_export(name: str, size: int, tool: str) -> None:
    """``to_torch()`` of each example: what ``net.total`` reproduces."""
    net = sized(name, size)
    assert export_figures(name, size)[tool] == expected_for_export(net, tool)


def test_the_differences_are_real() -> None:
    """Each difference named above changes the figure: none is a zero in disguise."""
    convnext = cnn_magic.example("convnext_tiny")
    for tool in ("torchinfo", "ptflops-pytorch", "thop"):
        assert convnext_as_torchvision_writes_it(convnext, tool) > 0
    for tool in ("fvcore", "fvcore-eval", "ptflops-aten", "flopcountermode"):
        assert convnext_as_torchvision_writes_it(convnext, tool) == 0
    googlenet = cnn_magic.example("googlenet")
    for tool in TOOLS:
        assert googlenet.main.total(tool) < googlenet.total(tool)
        assert expected_for_export(googlenet, tool) <= googlenet.total(tool)
    assert fvcore_keeps_of_side_heads(googlenet, "fvcore") > 0


def test_every_modern_network_compares() -> None:
    for name in MODERN:
        net = cnn_magic.example(name)
        table = net.compare_tools()
        assert [row.figure for row in table.rows] == [net.total(tool) for tool in TOOLS]


# ------------------------------------------------------- every newer layer kind, drawn


def check_drawn(case: Case) -> None:
    """The layer's text through to_torch(): each tool's figure equals ours (the strategy
    draws shapes PyTorch may refuse too: those are the other suite's business, and
    Hypothesis draws another)."""
    try:
        net = cnn_magic.evaluate(case.text, rounding=case.rounding)
    except CNNError:
        assume(False)
        return
    found = figures(net.to_torch(), tuple(input_tensor(net).shape))
    assert {tool: net.total(tool) for tool in TOOLS} == found, case.text


LAYER_STRATEGIES = STRATEGIES


@pytest.mark.parametrize("kind", list(LAYER_STRATEGIES))
def test_every_newer_layer_drawn(kind: str) -> None:
    @settings(SETTINGS, max_examples=10)
    @given(LAYER_STRATEGIES[kind]())
    def run(case: Case) -> None:
        check_drawn(case)

    run()


# A conv in front gives each layer a map of several channels; each text is checked at
# two sizes, so each formula is seen on more than one shape.
LAYERS = {
    "norms": """
input {s}x{s}x8
conv 8 k3 p1
groupnorm 4
instancenorm
instancenorm affine
layernorm
layerscale
gap
flatten
layernorm
fc 6 hardsigmoid
layerscale
""",
    "norms in one and three dimensions": """
input 4@{s}
conv 6 k3 p1
groupnorm 3
instancenorm affine
layernorm
upsample 2 linear
lrn
""",
    "volumes": """
input 6x{s}x{s}x2
conv 4 k3 p1
instancenorm
groupnorm 2
upsample 2 trilinear
layerscale
lrn
""",
    "rearrangements": """
input {s}x{s}x4
conv 8 k3 p1 relu
channelshuffle 2
pixelshuffle 2
pixelunshuffle 2
pad 1 reflect
pad top=1 left=2
pad 1x2 replicate
pad 1 circular
crop top=1 right=1
crop 6x6
upsample 2 bilinear
hardsigmoid
dropout 0.2
""",
    # padding PyTorch's layers cannot take: a pad module in front, which ptflops and
    # autograd see (ptflops counts the padded map, backward keeps it)
    "padded in front": """
input {s}x{s}x3
conv 4 k4 same relu
conv 4 k3 s2 same
maxpool k2 s2 same
avgpool k3 s1 same
conv 4 k2 s2 ceil
""",
    "unpooling": """
input {s}x{s}x3
conv 4 k3 p1 relu
p1: maxpool k2 s2
conv 4 k3 p1
p2: maxpool k3 s2 p1
maxunpool p2
maxunpool p1
""",
}

MERGES = {
    "squeeze and excitation": """
input {s}x{s}x8
conv 16 k3 p1 hardswish
se: scale:
  gap
  conv 4 k1 relu
  conv 16 k1 hardsigmoid
se2: scale:
  adaptiveavgpool 1
  conv 4 k1 silu
  conv 16 k1 sigmoid
""",
    "labels merged": """
x: input {s}x{s}x8
a: conv 8 k3 p1 relu
g: gap from=a
b: conv 8 k1 from=g
m: mul a, b
s: add m, x
t: add s, b
c: concat t, a, x
""",
    "blocks": """
input {s}x{s}x8
add:
  branch:
    conv 8 k1
  branch:
    identity
  branch:
    maxpool k3 s1 p1
split 3 5:
  branch:
    identity
  branch:
    conv 5 k1 nobias
    bn relu
channelshuffle 2
residual:
  conv 8 k3 p1 nobias
  bn relu
  dropout 0.1
""",
    # the tower runs twice, c1 three times: ptflops and thop count a shared module's
    # hooks per place in the tree of modules (tools.total), so the counts differ
    "reuse": """
input {s}x{s}x8
tower: group:
  conv 8 k3 p1 relu
  bn
c1: conv 8 k1 prelu
reuse c1
t2: reuse tower
d: reuse c1 from=c1
add t2, d
""",
    "reads of the input": """
x: input {s}x{s}x4
c: conv 4 k3 p1
relu
d: reuse c from=x
e: conv 4 k1 from=x
m: mul c, d
add m, e
""",
    # the input needs no gradient: the product keeps only the factor the gate's gradient
    # needs; a frozen layer scale keeps nothing (memory)
    "products with one gradient": """
x: input {s}x{s}x4
g: gap
c: conv 4 k1 sigmoid
m: mul x, c
layerscale frozen
conv 4 k3 p1
n: mul m, x
layerscale
""",
    # frozen parameters: the counts are the same, autograd keeps less (memory)
    "frozen": """
input {s}x{s}x4
layerscale frozen
conv 8 k3 p1
layernorm frozen
groupnorm 2 frozen
instancenorm affine frozen
layerscale frozen
se: scale:
  gap
  conv 2 k1 relu frozen
  conv 8 k1 hardsigmoid frozen
""",
    "side heads": """
input {s}x{s}x8
conv 8 k3 p1 relu
aux: side:
  adaptiveavgpool 2
  conv 4 k1 nobias
  bn relu
  fc 3
conv 8 k3 p1
head: side:
  gmp
  fc 5 softmax
gap
fc 4
""",
}


@functools.cache
def drawn(key: str, size: int) -> tuple[Network, dict[str, int]]:
    net = cnn_magic.evaluate({**LAYERS, **MERGES}[key].format(s=size), "floor")
    return net, figures(net.to_torch(), tuple(input_tensor(net).shape))


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("size", [8, 13])
@pytest.mark.parametrize("key", [*LAYERS, *MERGES])
def test_every_layer_kind_and_merge(key: str, size: int, tool: str) -> None:
    net, found = drawn(key, size)
    assert found[tool] == expected_for_export(net, tool)


def test_every_layer_kind_is_reached() -> None:
    """The texts here and in test_tools.py reach every layer kind of the language, and
    the tools model every one but an imported opaque row, which has no PyTorch twin."""
    from test_tools import NETWORKS

    texts = list(NETWORKS.values())
    texts += [text.format(s=8) for text in {**LAYERS, **MERGES}.values()]
    reached: set[str | None] = set()
    for text in texts:
        layers = cnn_magic.evaluate(text, "floor").layers
        reached |= {layer.op for layer in layers} | {layer.activation for layer in layers}
    kinds = set(cnn_magic.layers.RULES) - {"opaque"}
    assert kinds <= reached
    assert kinds == tools.KNOWN_OPS


def test_deepcopy_of_an_export_with_references() -> None:
    """The tools are run on deep copies: a model whose layers read labelled outputs, or
    that keeps side outputs, must still work when copied, before and after a pass."""
    import copy

    for net in (small_unet(), drawn("side heads", 8)[0]):
        model = net.to_torch()
        zeros = input_tensor(net)
        first = copy.deepcopy(model)(zeros)
        model(zeros)
        assert torch.equal(copy.deepcopy(model)(zeros), first)


# ------------------------------------------------- the same layers, written otherwise


class FunctionalReLU(torch.nn.Module):
    """A conv, then ``F.relu`` rather than an ``nn.ReLU`` module."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.relu(self.conv(x))


class TorchAdd(torch.nn.Module):
    """A residual block summed by ``torch.add`` rather than ``+``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.add(self.conv(x), x)


class FunctionalGate(torch.nn.Module):
    """Squeeze-and-excitation with ``F.relu`` and ``F.hardsigmoid`` rather than modules."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.squeeze = torch.nn.Conv2d(8, 2, 1)
        self.excite = torch.nn.Conv2d(2, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        F = torch.nn.functional
        return x * F.hardsigmoid(self.excite(F.relu(self.squeeze(self.pool(x)))))


class CalledThrice(torch.nn.Module):
    """One registered conv called three times, rather than to_torch()'s reuse."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.conv(self.conv(x)))


def test_written_otherwise() -> None:
    """The cases of docs/tools.md's "Where the way a model is written matters" that
    small modules show: each tool's figure for the other form, from ours."""
    relu = cnn_magic.evaluate("input 9x9x4\nconv 4 k3 p1 relu")
    out = tools._elements(relu.output_shape)
    found = figures(FunctionalReLU(), (1, 4, 9, 9))
    # ptflops counts the nn.ReLU module and the F.relu it calls; the bare call once
    assert found == {**totals(relu), "ptflops-pytorch": relu.total("ptflops-pytorch") - out}

    added = cnn_magic.evaluate("input 9x9x4\nresidual:\n  conv 4 k3 p1")
    found = figures(TorchAdd(), (1, 4, 9, 9))
    # ptflops patches torch.add and counts one per output element; `+` costs nothing
    assert found == {**totals(added), "ptflops-pytorch": added.total("ptflops-pytorch") + out}

    gate = cnn_magic.evaluate(
        "input 9x9x8\nscale:\n  gap\n  conv 2 k1 relu\n  conv 8 k1 hardsigmoid"
    )
    squeezed = tools._elements(gate.layers[1].out_shape)
    found = figures(FunctionalGate(), (1, 8, 9, 9))
    # only F.relu in place of nn.ReLU: no tool counts a hard sigmoid either way
    expected = {**totals(gate), "ptflops-pytorch": gate.total("ptflops-pytorch") - squeezed}
    assert found == expected

    reused = cnn_magic.evaluate("input 9x9x4\nc: conv 4 k3 p1\nreuse c\nreuse c")
    found = figures(CalledThrice(), (1, 4, 9, 9))
    # to_torch() registers the conv at three places: ptflops finds it 3 times, thop
    # hooks and finds it 3 times each; one registered module is counted once per call
    assert found == {
        **totals(reused),
        "ptflops-pytorch": reused.total("ptflops-pytorch") // 3,
        "thop": reused.total("thop") // 9,
    }


def totals(net: Network) -> dict[str, int]:
    return {tool: net.total(tool) for tool in TOOLS}


@pytest.mark.parametrize("name", MODERN)
def test_tools_on_the_command_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``cnn-magic --example NAME --tools`` prints every tool's figure."""
    from cnn_magic import cli

    assert cli.main(["--example", name, "--tools"]) == 0
    out, err = capsys.readouterr()
    net = cnn_magic.example(name)
    assert err == ""
    for tool in TOOLS:
        assert re.search(rf"^{re.escape(tool)} +{net.total(tool):,} ", out, re.MULTILINE), tool


def test_keras_counts_only_batch_norm_statistics() -> None:
    """Keras's parameters add batch norm's moving mean and variance; layer, group and
    instance norm keep no running statistics, so they add nothing (ConvNeXt)."""
    for name in ("shufflenet_v2_x1_0", "convnext_tiny", "googlenet"):
        model = torch_zoo_modern.BUILDERS[name]()
        statistics = sum(
            buffer.numel()
            for key, buffer in model.named_buffers()
            if key.endswith(("running_mean", "running_var"))
        )
        params = sum(p.numel() for p in model.parameters())
        net = cnn_magic.example(name)
        assert (tools.tool_params(net, "torchinfo"), tools.tool_params(net, "keras")) == (
            params,
            params + statistics,
        )


def test_fvcore_leaves_out_what_reaches_no_output() -> None:
    """A layer whose output nothing reads (the 1×1 conv: the next one reads x; the
    concatenation: the product reads x and g) runs, and every tool counts it but
    fvcore, whose trace drops it; so does net.total("fvcore"). A batch norm in
    training mode stays, with what feeds it: it updates its running statistics."""
    texts = (
        "input 8x8x3\nx: conv 4 k3 p1\nconv 4 k1\nconv 4 k3 from=x",
        "x: input 8x8x4\ng: gap\nconv 4 k1 sigmoid\nconcat x, x\nbn\nmul x, g",
    )
    for text in texts:
        net = cnn_magic.evaluate(text)
        assert figures(net.to_torch(), tuple(input_tensor(net).shape)) == totals(net)
        every_row = sum(tools.TOOLS["fvcore-eval"].per_layer(layer) for layer in net.layers)
        assert net.total("fvcore-eval") < every_row
    unread_norm = net.layers[3]
    assert net.total("fvcore") - net.total("fvcore-eval") == 5 * tools._elements(
        unread_norm.in_shape
    )
