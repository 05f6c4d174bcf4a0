"""``from_torch``: PyTorch models into the layer language, checked against PyTorch.

The round trip ``from_torch(net.to_torch())`` must give, for every example network and
the networks the other suites draw, the same output shapes, parameters and counts layer
by layer; the zoo's plain-PyTorch twins must import to the numbers of the example
files; and the imported text must evaluate to the same network again.
"""

from __future__ import annotations

import contextlib
from typing import Any
from unittest import mock

import pytest
import torch
import torch_zoo
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import BASIC_BLOCK, LENET5, POOL9
from test_against_torch import INCEPTION, SETTINGS, network_cases
from test_against_torch_nd import SETTINGS as ND_SETTINGS
from test_against_torch_nd import (
    adaptive_cases,
    conv_cases,
    deconv_cases,
    dwconv_cases,
    pool_cases,
)
from torch import nn

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.i18n import language
from cnn_magic.layers import ACTIVATIONS
from cnn_magic.torch_export import input_tensor

ZOO = list(torch_zoo.BUILDERS)
ND_CASES = [conv_cases, dwconv_cases, pool_cases, adaptive_cases, deconv_cases]


Row = tuple[tuple[int, ...], int, int, int, int]


def collapsed(net: cnn_magic.Network) -> list[Row]:
    """Rows to compare: an activation written on its own line is folded into the row
    before it, as ``conv 6 k5 relu`` is one row but two PyTorch modules; ``flatten``
    (which ``fc`` does by itself, and PyTorch by ``nn.Flatten``) ``dropout`` (which
    PyTorch may apply after flattening) and ``identity`` (``nn.Identity`` is a
    placeholder, imported as nothing) are left out."""
    rows: list[list[Any]] = []
    for layer in net.layers:
        if layer.op in ("flatten", "dropout", "identity"):  # no counts; may stand elsewhere
            continue
        row = [layer.out_shape, layer.params, layer.macs, layer.exact, layer.ops]
        if layer.op in ACTIVATIONS and rows and rows[-1][0] == layer.out_shape:
            rows[-1] = [rows[-1][0], *(a + b for a, b in zip(rows[-1][1:], row[1:], strict=True))]
        else:
            rows.append(row)
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]


def assert_same_network(ours: cnn_magic.Network, imported: cnn_magic.Network) -> None:
    assert imported.output_shape == ours.output_shape
    assert collapsed(imported) == collapsed(ours), imported.text
    for convention in ("flops", "macs", "exact"):
        assert imported.total(convention, all_ops=True) == ours.total(convention, all_ops=True)
    # the text stands on its own: evaluating it again gives the same layers
    again = cnn_magic.evaluate(imported.text, "floor")
    assert again.layers == imported.layers


def round_trip(net: cnn_magic.Network, **options: Any) -> cnn_magic.Network:
    model = net.to_torch()
    if len(net.inputs) > 1:  # one shape each, in our notation (channels @ sizes)
        shapes = [
            f"{s[-1]}@{'x'.join(map(str, s[:-1]))}" if len(s) > 1 else str(s[0])
            for _, s in net.inputs
        ]
        return cnn_magic.from_torch(model, shapes, **options)
    shape = tuple(input_tensor(net).shape)
    if len(shape) == 3:  # (1, C, L) would read as an image (C, H, W): our notation
        shape = f"{shape[1]}@{shape[2]}"  # type: ignore[assignment]
    return cnn_magic.from_torch(model, shape, **options)


@pytest.mark.parametrize("name", ZOO)
def test_round_trip_zoo(name: str) -> None:
    net = cnn_magic.example(name)
    assert_same_network(net, round_trip(net))


@pytest.mark.parametrize("name", ZOO)
def test_zoo_twin_imports_to_the_example(name: str) -> None:
    """The plain-PyTorch twins (torchvision's module structure) import to the example
    files' numbers, layer by layer, with their module paths as labels."""
    imported = cnn_magic.from_torch(torch_zoo.BUILDERS[name](), torch_zoo.INPUTS[name])
    assert_same_network(cnn_magic.example(name), imported)


NAMED = {
    "lenet5": (LENET5, "textbook"),
    "pool9 textbook": (POOL9, "textbook"),
    "pool9 floor": (POOL9, "floor"),
    "basic block": (BASIC_BLOCK, "floor"),
    "inception": (INCEPTION, "floor"),
    "same, odd padding and ceil conv": (
        "input 15x15x3\nconv 8 k3 s2 same\nconv 8 k4 s2 p1 ceil\nmaxpool k3 s2 p1 ceil\n",
        "floor",
    ),
    "deconv": ("input 7x7x8\ndeconv 4 k4 s2 p1\ndeconv 2 k3 s2 p1 op1 g2 nobias\n", "floor"),
    "vectors": ("input 100\nfc 50 relu\nbn\ndropout 0.1\nfc 10 nobias softmax\n", "floor"),
    "add block": (
        "input 8x8x4\nadd:\n  branch:\n    conv 4 k1\n  branch:\n    identity\n"
        "  branch:\n    relu\n",
        "floor",
    ),
    "upsample": ("input 5x5x3\nupsample 2\nconv 4 k3\nupsample 3x2 bilinear\n", "floor"),
    "activations": (
        "input 6x6x2\nleakyrelu 0.2\nprelu\nelu 0.5\ngelu\nsilu\nhardswish\nsigmoid\ntanh\n"
        "relu6\nlrn\ngmp\nflatten\nsoftmax\n",
        "floor",
    ),
}


@pytest.mark.parametrize("name", NAMED)
def test_round_trip_named(name: str) -> None:
    text, rounding = NAMED[name]
    net = cnn_magic.evaluate(text, rounding)
    assert_same_network(net, round_trip(net))


@settings(SETTINGS, max_examples=60)
@given(network_cases())
def test_round_trip_drawn_networks(case: Any) -> None:
    try:
        net = cnn_magic.evaluate(case.text, case.rounding)
    except CNNError:
        return  # refused texts are test_against_torch's business
    assert_same_network(net, round_trip(net))


def test_text_is_readable() -> None:
    text = cnn_magic.from_torch(torch_zoo.resnet50(), (3, 224, 224)).text
    assert "layer1.0: residual:\n  layer1.0.conv1: conv 64 k1 nobias\n" in text
    assert "  shortcut:\n    layer1.0.downsample.0: conv 256 k1 nobias\n" in text
    assert "layer3.1-5: repeat 5:\n  residual:\n    conv1: conv 256 k1 nobias\n" in text
    net = cnn_magic.from_torch(torch_zoo.resnet50(), "224x224x3")
    names = [layer.name for layer in net.layers]
    assert "layer1.0.conv1" in names and "conv1.5" in names


def test_repeat_can_be_turned_off() -> None:
    net = cnn_magic.from_torch(torch_zoo.resnet18(), (1, 3, 224, 224), repeat=False)
    assert "repeat" not in net.text
    assert "layer4.1.conv2" in [layer.name for layer in net.layers]


NESTED = """input 8x8x4
s: split 2:
  branch:
    sc: scale:
      gap
      g: conv 2 k1 sigmoid
  branch:
    r: residual:
      c: conv 2 k3 p1
      shortcut:
        d: conv 2 k1
aux: side:
  gap
  fc 3
m: maxpool k2
maxunpool m
skip: conv 4 k1 from=s
"""


def test_an_export_is_labelled_with_the_texts_names() -> None:
    """to_torch()'s containers keep their contents in attributes (a split's
    ``branches``, a residual's ``body``, a reference's ``module``, the whole model
    under ``model``); the import names each layer by the blocks and labels of the
    text instead."""
    model = cnn_magic.evaluate(NESTED, "floor").to_torch()
    assert "model.s.branches.branch1.sc.gate.g.0" in dict(model.named_modules())
    lines = cnn_magic.from_torch(model, (4, 8, 8)).text.splitlines()
    for line in (
        "s: split 2:",
        "    s.branch1.sc: scale:",
        "      s.branch1.sc.g.0: conv 2 k1",
        "    s.branch2.r: residual:",
        "      s.branch2.r.c: conv 2 k3 p1",
        "        s.branch2.r.shortcut.d: conv 2 k1",
        "aux: side:",
        "  aux.fc1.1: fc 3",
        "  maxunpool1: maxunpool m",  # a dead end, read by nothing: a side output
        "skip: conv 4 k1",
    ):
        assert line in lines


class OwnNames(nn.Module):
    """A model of one's own whose attributes happen to be the containers' words."""

    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Conv2d(3, 4, 1))
        self.branches = nn.ModuleDict({"body": nn.ReLU()})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.branches["body"](self.model(x))
        return out


def test_other_models_keep_their_module_paths() -> None:
    lines = cnn_magic.from_torch(OwnNames(), (3, 4, 4)).text.splitlines()
    assert lines[-2:] == ["model.0: conv 4 k1", "branches.body: relu"]


# ----------------------------------------------------------------- functional models


class Functional(nn.Module):
    """Functions between modules: F.relu, torch.cat, x + y, flatten, view, mean."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.left = nn.Conv2d(8, 8, 1)
        self.right = nn.Conv2d(8, 4, 3, padding=1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.relu(self.stem(x))
        y = x + self.left(x)
        z = torch.cat([y, torch.sigmoid(self.right(y))], dim=1)
        z = torch.nn.functional.max_pool2d(z, 2)
        z = torch.nn.functional.interpolate(z, scale_factor=2, mode="bilinear")
        z = z.mean((2, 3))
        out: torch.Tensor = torch.softmax(self.fc(z.view(z.size(0), -1)), dim=1)
        return out


FUNCTIONAL_TEXT = """\
input 16x16x3
stem: conv 8 k3 p1
relu: relu
add: residual:
  left: conv 8 k1
concat:
  branch:
    identity
  branch:
    right: conv 4 k3 p1
    sigmoid: sigmoid
max_pool2d: maxpool k2
interpolate: upsample 2 bilinear
mean: gap
flatten
fc: fc 5
softmax: softmax
"""


def test_functions_are_understood() -> None:
    net = cnn_magic.from_torch(Functional(), (3, 16, 16))
    ours = cnn_magic.evaluate(FUNCTIONAL_TEXT, "floor")
    assert collapsed(net) == collapsed(ours)
    assert "add: residual:\n  left: conv 8 k1\n" in net.text


class DataDependent(nn.Module):
    """Python control flow on a tensor value: symbolic tracing fails, hooks work."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)
        self.down = nn.Conv2d(6, 6, 1)
        self.fc = nn.Linear(6 * 6 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        if x.sum() >= 0:  # always true after a ReLU
            x = x + self.down(x)
        out: torch.Tensor = self.fc(torch.flatten(x, 1))
        return out


def test_untraceable_model_falls_back_to_hooks() -> None:
    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(DataDependent())
    net = cnn_magic.from_torch(DataDependent(), (3, 8, 8))
    ours = cnn_magic.evaluate(
        "input 8x8x3\nconv 6 k3\nrelu\nresidual:\n  conv 6 k1\nflatten\nfc 10\n", "floor"
    )
    assert collapsed(net) == collapsed(ours)
    assert "conv: conv 6 k3" in net.text and "down: conv 6 k1" in net.text


# ----------------------------------------------------------------- errors


class Unknowns(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=1.5)
        self.norm = nn.CELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        out: torch.Tensor = self.up(x * torch.sigmoid(x))
        return out


def test_unknown_parts_are_listed() -> None:
    with pytest.raises(CNNError) as info:
        cnn_magic.from_torch(Unknowns(), (3, 8, 8))
    message = str(info.value)
    assert "2 parts of the model have no word in the layer language" in message
    assert "norm (nn.CELU): no layer word for this module" in message
    assert "up (nn.Upsample): scales 8 to 12: upsample scales by whole factors" in message


def test_opaque_counts_unknowns_as_zero_and_says_so() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.PReLU(4), nn.ReLU(), nn.Upsample(scale_factor=1.5))
    with pytest.raises(CNNError, match="PReLU"):
        cnn_magic.from_torch(model, (3, 8, 8))
    net = cnn_magic.from_torch(model, (3, 8, 8), unknown="opaque")
    assert "_1: opaque\n" in net.text and "_3: opaque 9x9x4\n" in net.text
    assert "# opaque, counted as zero: 1 (nn.PReLU, 4 parameters)" in net.text
    assert "# opaque, counted as zero: 3 (nn.Upsample, 0 parameters)" in net.text
    assert "# 4 parameters are inside opaque parts, counted as zero" in net.text
    shapes = [(layer.op, layer.out_shape, layer.params, layer.macs) for layer in net.layers]
    assert shapes[1] == ("opaque", (6, 6, 4), 0, 0)
    assert shapes[3] == ("opaque", (9, 9, 4), 0, 0)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ((1, 1, 3, 32, 32, 2), "is not an image batch"),
        ("32x32", "has no channel count"),
        ((3, 0, 4), "is not an image batch"),
        (None, "is not a shape"),
    ],
)
def test_bad_input_shape(given: object, message: str) -> None:
    with pytest.raises(CNNError, match=message):
        cnn_magic.from_torch(torch_zoo.lenet5(), given)


def test_wrong_input_shape_names_the_failure() -> None:
    with pytest.raises(CNNError, match=r"failed on zeros of shape \(1, 3, 32, 32\)"):
        cnn_magic.from_torch(torch_zoo.lenet5(), (3, 32, 32))


def test_refusals_read_in_chinese() -> None:
    """The refusal of an unknown module and of a wrong input shape, in the notes'
    language: module paths, type names, layer words and PyTorch's own message stay."""
    with language("zh"), pytest.raises(CNNError) as unknown:
        cnn_magic.from_torch(Unknowns(), (3, 8, 8))
    assert str(unknown.value).splitlines() == [
        "模型中有 2 个部分在层语言中没有对应的词：",
        "  norm (nn.CELU): 层语言中没有这个模块对应的词",
        "  up (nn.Upsample): 把 8 缩放到 12：upsample 只按整数倍缩放",
        'from_torch(..., unknown="opaque") 会把每个这样的部分写成一个 opaque 层，'
        "按零计数并加以标记",
    ]
    with language("zh"), pytest.raises(CNNError) as shape:
        cnn_magic.from_torch(torch_zoo.lenet5(), (3, 32, 32))
    message = str(shape.value)
    assert message.startswith(
        "Sequential 在形状为 (1, 3, 32, 32) 的全零输入上运行失败：RuntimeError:"
    )
    assert message.endswith("\n请检查输入形状：按 PyTorch 的顺序写作 (C, H, W)")
    with language("zh"), pytest.raises(CNNError, match="既不是一批图像"):
        cnn_magic.from_torch(torch_zoo.lenet5(), (1, 1, 3, 32, 32, 2))


def test_the_header_notes_read_in_chinese() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.PReLU(4), nn.ReLU(), nn.Upsample(scale_factor=1.5))
    with language("zh"):
        text = cnn_magic.from_torch(model, (3, 8, 8), unknown="opaque").text
    assert text.startswith(
        "# Sequential，从 PyTorch 导入\n"
        "# opaque，按零计数：1（nn.PReLU，4 个参数）：num_parameters=4：prelu 只有一个权重\n"
        "# opaque，按零计数：3（nn.Upsample，0 个参数）：把 6 缩放到 9：upsample 只按整数倍缩放\n"
        "# 有 4 个参数在 opaque 部分里，按零计数\n"
    )
    english = cnn_magic.from_torch(model, (3, 8, 8), unknown="opaque").text
    assert english.startswith("# Sequential, imported from PyTorch\n")  # the language in force


class ReturnsADict(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"out": self.conv(x)}


@pytest.mark.parametrize("hooks", [False, True], ids=["fx", "hooks"])
def test_an_output_that_is_no_tensor_is_refused(hooks: bool) -> None:
    def untraceable(*_: object, **__: object) -> None:
        raise torch.fx.proxy.TraceError("data-dependent control flow")

    tracing = mock.patch.object(torch.fx, "symbolic_trace", untraceable) if hooks else None
    with tracing or contextlib.nullcontext(), language("zh"), pytest.raises(CNNError) as info:
        cnn_magic.from_torch(ReturnsADict(), (3, 4, 4))
    assert str(info.value) == (
        "模型的输出既不是张量，也不是张量组成的元组\n"
        "请返回得分（辅助输出放在其后，如 GoogLeNet 那样）"
    )
    with pytest.raises(CNNError, match="the model's output is not a tensor or a tuple of them"):
        cnn_magic.from_torch(ReturnsADict(), (3, 4, 4))


def test_not_a_module() -> None:
    with pytest.raises(CNNError, match=r"takes a torch\.nn\.Module, not str"):
        cnn_magic.from_torch("resnet50", (3, 224, 224))
    with pytest.raises(CNNError, match="did you mean 'opaque'"):
        cnn_magic.from_torch(torch_zoo.lenet5(), (1, 32, 32), unknown="opaq")


def test_neither_traced_nor_run_names_both_failures() -> None:
    with pytest.raises(CNNError) as info:
        cnn_magic.from_torch(DataDependent(), (3, 5, 5))
    message = str(info.value)
    assert message.startswith("DataDependent could neither be traced (TraceError:")
    assert "nor run on zeros of shape (1, 3, 5, 5) (RuntimeError:" in message


def test_one_and_three_dimensions() -> None:
    """The language's 1-D and 3-D layers, round trip through PyTorch."""
    for text in (
        "input 2@128\nconv 8 k5 s2 p2 relu\nmaxpool k2\nbn\ndwconv k3 p1\n"
        "deconv 4 k4 s2 p1\nadaptiveavgpool 5\nupsample 2 linear\ngap\nflatten\nfc 3\n",
        "input 3@8x16x16\nconv 4 k3 s=1x2x2 p1 relu\nbn\navgpool k2\n"
        "residual:\n  conv 4 k1\nupsample 2\ngmp\n",
    ):
        net = cnn_magic.evaluate(text, "floor")
        assert_same_network(net, round_trip(net))


def test_the_check_catches_a_wrong_translation() -> None:
    """Every imported layer is compared with the framework's shape, parameters and
    MACs: one number off is an error."""
    from cnn_magic.importers.graph import Node, build

    right = Node("a", "a", "conv 4 k3", ("",), (6, 6, 4), 112, 3888)
    assert build([right], (8, 8, 3)).macs == 3888
    for wrong in (
        right._replace(macs=3887),
        right._replace(params=111),
        right._replace(out_shape=(6, 6, 5)),
    ):
        with pytest.raises(CNNError, match="the translation does not reproduce the model"):
            build([wrong], (8, 8, 3))


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dims", [1, 3])
@settings(ND_SETTINGS, max_examples=40)
@given(data=st.data())
def test_round_trip_drawn_layers_in_1d_and_3d(dims: int, data: st.DataObject) -> None:
    """The 1-D and 3-D layers the other suite draws (conv, dwconv, pooling, adaptive
    pooling, deconv; every padding, stride, dilation and rounding), round trip."""
    cases = data.draw(st.sampled_from(ND_CASES))
    case = data.draw(cases(dims))
    try:
        net = cnn_magic.evaluate(case.text, case.rounding)
    except CNNError:
        return  # refused texts are the other suite's business
    assert_same_network(net, round_trip(net))


@pytest.mark.parametrize(
    ("module", "shape", "line"),
    [
        (nn.Conv2d(3, 6, 5), (3, 32, 32), "conv2d: conv 6 k5"),
        (nn.Conv2d(3, 6, 3, padding=1, padding_mode="circular"), (3, 8, 8), "conv2d: conv 6 k3 p1"),
        (nn.Linear(10, 5), (10,), "linear: fc 5"),
        (nn.BatchNorm2d(3).eval(), (3, 8, 8), "batchnorm2d: bn"),
    ],
)
def test_a_single_pytorch_layer_is_a_model(module: nn.Module, shape: tuple[int, ...], line: str):
    """``from_torch(nn.Conv2d(3, 6, 5), ...)``: the layer itself, not the functions its
    forward calls; its training mode is left as it was."""
    training = module.training
    net = cnn_magic.from_torch(module, shape)
    assert net.text.splitlines()[2] == line
    assert net.params == sum(p.numel() for p in module.parameters())
    assert module.training == training
