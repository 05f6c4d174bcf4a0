"""The example networks against torchvision's published figures and their PyTorch twins.

Each ``cnn_magic/examples/*.cnn`` file declares the rounding mode under which it
reproduces its reference; evaluated in that mode it must give torchvision's parameter
count exactly and its "GFLOPS" (which are MACs) to the published decimals. Its twin in
``torch_zoo`` must agree with it on the total parameter count and, layer by layer, on
the output shape, parameters and MACs of every convolution, linear and pooling layer.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import torch_zoo
import torch_zoo_modern

import cnn_magic

EXAMPLES = Path(cnn_magic.__file__).parent / "examples"

# name: (parameters, MACs at the table's precision, decimals of that precision in G)
# Figures from torchvision's model docs (params, "GFLOPS" at 224×224×3) and, for
# LeNet-5, the course notes (parameters worked out term by term; MACs exact).
REFERENCE: dict[str, tuple[int, float, int | None]] = {
    "lenet5": (61_706, 416_520, None),
    "alexnet": (61_100_840, 0.714, 3),
    "vgg16": (138_357_544, 15.47, 2),
    "resnet18": (11_689_512, 1.814, 3),
    "resnet50": (25_557_032, 4.089, 3),
    "mobilenet_v2": (3_504_872, 0.301, 3),
    "squeezenet1_0": (1_248_424, 0.819, 3),
    "densenet121": (7_978_856, 2.834, 3),
    "convnext_tiny": (28_589_128, 4.456, 3),
    "efficientnet_b0": (5_288_548, 0.386, 3),
    "regnet_y_400mf": (4_344_144, 0.402, 3),
    "mobilenet_v3_large": (5_483_032, 0.217, 3),
    "shufflenet_v2_x1_0": (2_278_604, 0.145, 3),
    "googlenet": (6_624_904, 1.498, 3),  # for inference: without its auxiliary heads
    # the 2015 paper's network at 572×572×1: no published table; worked out in the file's
    # header and in tests/test_torch_zoo_modern.py, layer by layer
    "unet": (31_030_658, 150_428_424_448, None),
}
GOOGLENET_TRAINING_PARAMS = 13_004_888  # with both auxiliary heads, as it is trained
NAMES = list(REFERENCE)

# Our ops that the traced torch modules correspond to, by kind.
KIND_OF_OP = {
    "conv": "conv",
    "dwconv": "conv",
    "deconv": "deconv",
    "fc": "fc",
    "maxpool": "pool",
    "avgpool": "pool",
    "adaptiveavgpool": "pool",
    "gap": "pool",
}
KIND_OF_MODULE = {
    torch_zoo.nn.Conv2d: "conv",
    torch_zoo.nn.ConvTranspose2d: "deconv",
    torch_zoo.nn.Linear: "fc",
    torch_zoo.nn.MaxPool2d: "pool",
    torch_zoo.nn.AvgPool2d: "pool",
    torch_zoo.nn.AdaptiveAvgPool2d: "pool",
}


def kind_of(traced: torch_zoo.Traced) -> str:
    """A linear layer applied at every position of a map (ConvNeXt's) is a 1×1 conv."""
    if traced.module is torch_zoo.nn.Linear and len(traced.out_shape) == 3:
        return "conv"
    return KIND_OF_MODULE[traced.module]


HEADER = re.compile(r"# (?P<title>[^—]+) — (?P<paper>[^;]+); (?P<ref>.+)")


def source(name: str) -> str:
    return (EXAMPLES / f"{name}.cnn").read_text(encoding="utf-8")


def declared_rounding(text: str) -> str:
    match = re.fullmatch(r"rounding (textbook|floor|ceil)", text.splitlines()[1])
    assert match, f"second line should set the rounding: {text.splitlines()[1]!r}"
    return match[1]


@functools.cache
def evaluated(name: str):
    text = source(name)
    net = cnn_magic.evaluate(text)  # under the rounding its statement sets
    assert net.rounding == net.declared_rounding == declared_rounding(text)
    return net


@functools.cache
def twin(name: str) -> torch_zoo.nn.Module:
    builders = (
        torch_zoo_modern.BUILDERS if name in torch_zoo_modern.BUILDERS else torch_zoo.BUILDERS
    )
    return builders[name]()


def traced(name: str) -> list[torch_zoo.Traced]:
    if name in torch_zoo_modern.BUILDERS:
        training = name in torch_zoo_modern.TRAINING_MODE  # the auxiliary heads run
        return torch_zoo_modern.trace(twin(name), torch_zoo_modern.INPUTS[name], training)
    return torch_zoo.trace(twin(name), torch_zoo.INPUTS[name])


def hwc(torch_shape: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's (C, H, W) or (N,) in our order: (H, W, C) or (N,)."""
    return (*torch_shape[1:], torch_shape[0]) if len(torch_shape) == 3 else torch_shape


def test_every_example_file_is_covered() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.cnn")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_header(name: str) -> None:
    first, _, third = source(name).splitlines()[:3]
    assert HEADER.fullmatch(first), first
    assert declared_rounding(source(name)) == ("textbook" if name == "lenet5" else "floor")
    inputs = {"lenet5": "input 32x32x1", "unet": "input 572x572x1"}
    assert third == inputs.get(name, "input 224x224x3")


@pytest.mark.parametrize("name", NAMES)
def test_reference_figures(name: str) -> None:
    params, macs, decimals = REFERENCE[name]
    net = evaluated(name).main  # published figures are for inference: no side outputs
    assert net.params == params
    assert net.params == net.weights + net.biases
    if decimals is None:
        assert net.macs == macs
    else:
        assert round(net.macs / 1e9, decimals) == macs
    assert net.flops == 2 * net.macs
    outputs = {"lenet5": (10,), "unet": (388, 388, 2)}
    assert net.output_shape == outputs.get(name, (1000,))


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_twin(name: str) -> None:
    model = twin(name)
    modules = traced(name)
    net = evaluated(name)
    assert net.params == torch_zoo.count_params(model)
    assert net.macs == sum(m.macs for m in modules)

    ours = [
        (KIND_OF_OP[layer.op], layer.out_shape, layer.params, layer.macs)
        for layer in net.layers
        if layer.op in KIND_OF_OP
    ]
    theirs = [(kind_of(m), hwc(m.out_shape), m.params, m.macs) for m in modules]
    assert ours == theirs


@pytest.mark.parametrize("name", NAMES)
def test_residual_adds_match_torch_twin(name: str) -> None:
    adds = [layer for layer in evaluated(name).layers if layer.op == "add"]
    zoo = torch_zoo_modern if name in torch_zoo_modern.BUILDERS else torch_zoo
    assert len(adds) == zoo.residual_adds(twin(name))
    assert all(len(set(layer.branches)) == 1 for layer in adds)


def test_googlenet_side_outputs() -> None:
    """The auxiliary heads are side outputs: counted in the totals (training), left out
    of net.main (inference), the main output unchanged."""
    net = evaluated("googlenet")
    assert net.params == GOOGLENET_TRAINING_PARAMS == torch_zoo.count_params(twin("googlenet"))
    assert net.side_outputs == (("aux1", (1000,)), ("aux2", (1000,)))
    assert net.output_shape == net.main.output_shape == (1000,)
    assert net.main.params == REFERENCE["googlenet"][0]
    assert net.params - net.main.params == 3_188_968 + 3_191_016  # aux1 (512 in), aux2 (528 in)
