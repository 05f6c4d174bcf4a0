"""``from_onnx`` on graphs that are no chain: products of two paths (gates), channel
splits, several outputs; and the modern zoo's twins that need them, exported by
PyTorch.

Each graph is PyTorch's export of a small module (or one written with ``onnx.helper``
for the forms the exporter does not write) and must import to what ``from_torch``
makes of the same module: the same statements' numbers layer by layer, the same totals.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
import torch_zoo_modern
from onnx import TensorProto, helper, numpy_helper
from test_from_onnx_layers import export
from test_from_torch import assert_same_network, collapsed
from torch import nn

import cnn_magic
from cnn_magic import CNNError

FLOAT = TensorProto.FLOAT


def same_as_torch(model: nn.Module, shape: tuple[int, ...], opset: int = 17) -> str:
    """The model exported and imported equals the model imported from PyTorch; the
    imported text."""
    imported = cnn_magic.from_onnx(export(model, shape, opset))
    # (C, L) would read as a vector's shape: a 1-D map in our notation, C@L
    given = f"{shape[1]}@{shape[2]}" if len(shape) == 3 else shape[1:]
    assert_same_network(cnn_magic.from_torch(model, given), imported)
    return imported.text


# ----------------------------------------------------------------- products


class SqueezeExcite(nn.Module):
    """x · gate(x), the gate from the pooled map: squeeze-and-excitation."""

    def __init__(self, gate: nn.Module, gate_first: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc1 = nn.Conv2d(8, 2, 1)
        self.fc2 = nn.Conv2d(2, 8, 1)
        self.gate = gate
        self.gate_first = gate_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        scale = self.gate(self.fc2(torch.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))
        return scale * x if self.gate_first else x * scale


@pytest.mark.parametrize("gate", [nn.Sigmoid(), nn.Hardsigmoid()], ids=["sigmoid", "hard"])
@pytest.mark.parametrize("gate_first", [False, True])
def test_squeeze_excitation_is_scale(gate: nn.Module, gate_first: bool) -> None:
    text = same_as_torch(SqueezeExcite(gate, gate_first), (1, 3, 12, 12))
    assert "scale:\n" in text


class Product(nn.Module):
    """Products that are no gate on their own input: two computed maps, and a map
    times the broadcast pooled value of another; a square; and a broadcast sum."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 6, 3, padding=1)
        self.b = nn.Conv2d(3, 6, 1)
        self.c = nn.Conv2d(6, 6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.a(x), torch.sigmoid(self.b(x))
        both = a * b
        pooled = F.adaptive_avg_pool2d(self.c(b), 1)
        return (both * pooled) * both + pooled


def test_products_of_computed_maps_are_mul() -> None:
    text = same_as_torch(Product(), (1, 3, 7, 7))
    assert ": mul " in text and ": add " in text


class Square(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y * y


class GatedInput(nn.Module):
    """A gate on the model's input itself."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.conv(x))


class GatedVector(nn.Module):
    """A gated linear unit on vectors: two linear layers of the input, one gating."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 6)
        self.b = nn.Linear(4, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) * torch.sigmoid(self.b(x))


@pytest.mark.parametrize(
    ("model", "shape", "written"),
    [
        (Square(), (1, 2, 4, 4), ": mul conv, conv\n"),
        (GatedInput(), (1, 2, 4, 4), ": scale:\n"),
        (GatedVector(), (1, 4), ": mul a, "),
    ],
    ids=["square", "gated input", "gated vector"],
)
def test_other_products(model: nn.Module, shape: tuple[int, ...], written: str) -> None:
    assert written in same_as_torch(model, shape)


def test_a_product_that_does_not_broadcast_is_named() -> None:
    """ONNX broadcasts from the right across ranks, (1, 6, 4, 4) by (1, 4); PyTorch's
    importer and the language broadcast within one rank only."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["x", "v"], ["d"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["d"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Mul", ["c", "f"], ["y"], name="/odd/Mul"),
    ]
    graph = helper.make_graph(
        nodes,
        "handmade",
        [helper.make_tensor_value_info("x", FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", FLOAT, None)],
        initializer=[
            numpy_helper.from_array(np.zeros((6, 3, 1, 1), np.float32), "w"),
            numpy_helper.from_array(np.zeros((4, 3, 1, 1), np.float32), "v"),
        ],
    )
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CNNError, match=r"/odd/Mul \(Mul\): combines shapes \(1, 6, 4, 4\) and"):
        cnn_magic.from_onnx(made)


# ----------------------------------------------------------------- splits


class Halves(nn.Module):
    """ShuffleNetV2's unit: half the channels pass, the other half is convolved."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "chunk":
            a, b = x.chunk(2, dim=1)
        elif self.how == "split":
            a, b = torch.split(x, [4, 4], dim=1)
        else:
            a, b = x[:, :4], x[:, 4:]
        return torch.cat((a, torch.relu(self.conv(b))), 1)


@pytest.mark.parametrize("how", ["chunk", "split", "index"])
@pytest.mark.parametrize("opset", [11, 13, 17, 18])
def test_exported_channel_halves_are_split(how: str, opset: int) -> None:
    text = same_as_torch(Halves(how), (1, 8, 6, 6), opset)
    assert "split 2:\n" in text


class Uneven(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(2, 3, 1)
        self.b = nn.Conv2d(5, 3, 3, padding=1)
        self.c = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b, c = torch.split(x, [2, 5, 3], dim=1)
        return torch.cat((self.a(a), self.b(b), self.c(c)), 1)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_exported_uneven_split(opset: int) -> None:
    text = same_as_torch(Uneven(), (1, 10, 5, 5), opset)
    assert "split 2 5 3:\n" in text


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_written_by_hand_in_each_form(opset: int) -> None:
    """``split`` as an attribute (before 13), as an input (13), ``num_outputs`` (18)."""
    if opset == 11:
        split = helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[2, 2])
        extra: list[onnx.TensorProto] = []
    elif opset == 13:
        split = helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1)
        extra = [numpy_helper.from_array(np.array([2, 2], np.int64), "sizes")]
    else:
        split = helper.make_node("Split", ["x"], ["a", "b"], axis=1, num_outputs=2)
        extra = []
    nodes = [
        split,
        helper.make_node("Conv", ["b", "conv.weight"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Concat", ["a", "c"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "handmade",
        [helper.make_tensor_value_info("x", FLOAT, [1, 4, 5, 5])],
        [helper.make_tensor_value_info("y", FLOAT, None)],
        initializer=[
            numpy_helper.from_array(np.zeros((2, 2, 1, 1), np.float32), "conv.weight"),
            *extra,
        ],
    )
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    net = cnn_magic.from_onnx(made)
    expected = cnn_magic.evaluate(
        "input 5x5x4\nsplit 2:\n  branch:\n    identity\n  branch:\n    conv 2 k1 nobias",
        "floor",
    )
    assert [(x.out_shape, x.params, x.macs) for x in net.layers if x.op != "identity"] == [
        (x.out_shape, x.params, x.macs) for x in expected.layers if x.op != "identity"
    ]
    assert "split 2:\n" in net.text


def test_channels_not_joined_again_are_named() -> None:
    class Half(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x[:, :2])

    with pytest.raises(CNNError, match="channels taken apart"):
        cnn_magic.from_onnx(export(Half(), (1, 4, 3, 3)))


def test_a_split_along_the_spatial_axes_is_named() -> None:
    class Rows(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a, b = torch.split(x, [2, 2], dim=2)
            return torch.cat((a, b), 1)

    data = export(Rows(), (1, 4, 4, 4))
    with pytest.raises(CNNError, match=r"\(Split\): splits along axis 2"):
        cnn_magic.from_onnx(data)
    with pytest.raises(CNNError, match=r"\(Split\): splits along axis 2"):
        cnn_magic.from_onnx(data, unknown="opaque")  # an opaque row gives one value


class SplitInsideConcat(nn.Module):
    """A split's concatenation inside another: the exporter writes one Concat."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        self.side = nn.Conv2d(4, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return torch.cat((self.side(x), torch.cat((torch.relu(a), self.conv(b)), 1)), 1)


def test_a_split_inside_a_concatenation_is_nested_again() -> None:
    data = export(SplitInsideConcat(), (1, 4, 5, 5))
    joins = [n for n in onnx.load_from_string(data).graph.node if n.op_type == "Concat"]
    assert len(joins) == 1 and len(joins[0].input) == 3  # flattened by the exporter
    text = same_as_torch(SplitInsideConcat(), (1, 4, 5, 5))
    assert "split 2:\n" in text


class CalledTwice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.relu(self.conv(x)))


class LinearTwice(nn.Module):
    """A linear layer called twice, on vectors (Gemm) or on a channels-last map (MatMul
    by the transposed weight, which the exporter writes once and again as an
    Identity of it)."""

    def __init__(self, channels_last: bool) -> None:
        super().__init__()
        self.channels_last = channels_last
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            y = self.fc(torch.relu(self.fc(x.permute(0, 2, 3, 1))))
            return y.permute(0, 3, 1, 2)
        return self.fc(torch.relu(self.fc(x)))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("model", "shape", "reused"),
    [
        (CalledTwice(), (1, 3, 6, 6), "reuse conv"),
        (LinearTwice(False), (1, 4), "reuse fc"),
        (LinearTwice(True), (1, 4, 3, 3), "reuse fc"),
    ],
    ids=["conv", "linear", "linear on a map"],
)
def test_weights_read_twice_are_counted_once(
    model: nn.Module, shape: tuple[int, ...], reused: str
) -> None:
    """A module called again reads the same initializers: ``reuse``, its parameters
    counted once, as PyTorch counts them."""
    assert reused in same_as_torch(model, shape)
    net = cnn_magic.from_onnx(export(model, shape))
    assert net.params == sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------- outputs


class Heads(nn.Module):
    """Scores, and an auxiliary head's, returned as a tuple (the first is the model's)."""

    def __init__(self, aux_last: bool) -> None:
        super().__init__()
        self.aux_last = aux_last
        self.stem = nn.Conv2d(3, 4, 3)
        self.body = nn.Conv2d(4, 8, 3)
        self.aux = nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stem = torch.relu(self.stem(x))
        if self.aux_last:
            scores = self.body(stem)
            return scores, self.aux(stem)
        aux = self.aux(stem)
        return self.body(stem), aux


@pytest.mark.parametrize("aux_last", [False, True])
def test_several_outputs_the_first_is_the_model_s(aux_last: bool) -> None:
    text = same_as_torch(Heads(aux_last), (1, 3, 9, 9))
    assert "side:\n" in text
    net = cnn_magic.from_onnx(export(Heads(aux_last), (1, 3, 9, 9)))
    assert net.output_shape == (5, 5, 8)


def test_an_output_that_is_the_input_is_named() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "handmade",
        [helper.make_tensor_value_info("x", FLOAT, [1, 3, 4, 4])],
        [
            helper.make_tensor_value_info("x", FLOAT, None),
            helper.make_tensor_value_info("y", FLOAT, None),
        ],
    )
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CNNError, match="first output is computed by no layer"):
        cnn_magic.from_onnx(made)


# ----------------------------------------------------------------- the modern zoo


@pytest.fixture(scope="module")
def exported() -> dict[tuple[str, int], bytes]:
    """Each twin exported once for the module (at most a few seconds each)."""
    return {}


@pytest.mark.parametrize(
    ("name", "opset"),
    [
        ("mobilenet_v3_large", 17),
        ("mobilenet_v3_large", 13),
        ("efficientnet_b0", 17),
        ("regnet_y_400mf", 17),
        ("shufflenet_v2_x1_0", 17),
    ],
)
def test_exported_modern_zoo(name: str, opset: int, exported: dict[tuple[str, int], bytes]) -> None:
    """Squeeze-and-excitation gates (with HardSigmoid in MobileNetV3, after SiLU in
    EfficientNet), RegNet's grouped blocks, ShuffleNetV2's channel halves: the example
    files' numbers layer by layer. Before opset 14 HardSwish is Mul(x, HardSigmoid(x))."""
    if (name, opset) not in exported:
        model = torch_zoo_modern.BUILDERS[name]()
        exported[name, opset] = export(model, torch_zoo_modern.INPUTS[name], opset)
    net = cnn_magic.from_onnx(exported[name, opset])
    ours = cnn_magic.example(name)
    assert (net.params, net.macs) == (ours.params, ours.macs)
    assert_same_network(ours, net)


def test_hardswish_before_opset_14_is_one_word() -> None:
    """``x · HardSigmoid(x)`` with PyTorch's α = 1/6: ``hardswish``; a gate by a
    HardSigmoid of another map stays a product."""
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Hardswish(), nn.Conv2d(3, 2, 1))
    text = same_as_torch(model, (1, 2, 4, 4), opset=13)
    assert ": hardswish\n" in text and "scale:" not in text


def export_for_inference(model: nn.Module, shape: tuple[int, ...]) -> bytes:
    """Exported in eval mode, batch norm kept as its own node (no constant folding)."""
    return export(model, shape, training=False, fold=False)


def test_a_parameter_equal_to_another_is_counted() -> None:
    """In eval mode the exporter writes a parameter equal to an earlier one (two fresh
    batch norms' γ of ones) as an Identity of it: still the layer's own weights."""
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)
    )
    data = export_for_inference(model, (1, 3, 8, 8))
    assert any(node.op_type == "Identity" for node in onnx.load_from_string(data).graph.node)
    imported = cnn_magic.from_onnx(data)
    assert_same_network(cnn_magic.from_torch(model, (3, 8, 8)), imported)


def test_exported_googlenet_is_its_inference_path() -> None:
    """In training mode the exporter refuses GoogLeNet's auxiliary heads' adaptive
    pooling (14 → 4); in eval mode they do not run, and the graph is the example without
    them, as ``from_torch`` imports it."""
    net = cnn_magic.from_onnx(export_for_inference(torch_zoo_modern.googlenet(), (1, 3, 224, 224)))
    example = cnn_magic.example("googlenet")
    main = [layer for layer in example.layers if not layer.block.startswith("aux")]
    assert len(main) < len(example.layers)
    assert collapsed(net) == collapsed(SimpleNamespace(layers=main))  # type: ignore[arg-type]
    assert (net.params, net.macs) == (sum(x.params for x in main), sum(x.macs for x in main))


def test_exported_unet_has_the_example_numbers() -> None:
    """U-Net's skips, cropped and then concatenated, come in as the example writes them
    (the layers in the order the model runs them), as from PyTorch."""
    model = torch_zoo_modern.unet()
    net = cnn_magic.from_onnx(export(model, torch_zoo_modern.INPUTS["unet"]))
    example = cnn_magic.example("unet")
    assert (net.params, net.macs) == (example.params, example.macs)
    assert_same_network(example, net)


# ----------------------------------------------------------------- circular padding


class Circular(nn.Module):
    def __init__(self, sides: tuple[int, ...]) -> None:
        super().__init__()
        self.sides = sides
        self.conv = nn.Conv1d(2, 3, 3) if len(sides) == 2 else nn.Conv2d(2, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.sides, mode="circular"))


@pytest.mark.parametrize(
    "sides", [(1, 1, 1, 1), (2, 0, 1, 3), (0, 0, 1, 1), (1, 2, 0, 0), (1, 2)], ids=str
)
def test_circular_padding_as_exported_is_one_pad(sides: tuple[int, ...]) -> None:
    """Before opset 19 ONNX has no circular Pad: PyTorch's exporter writes a Concat of
    two Slices and the map, per axis; one ``pad ... circular`` again."""
    shape = (1, 2, 5) if len(sides) == 2 else (1, 2, 5, 5)
    text = same_as_torch(Circular(sides), shape)
    assert text.count("circular") == 1


def test_a_conv_with_circular_padding_mode() -> None:
    """``padding_mode="circular"`` is exported as that padding and a conv without: the
    same as a ``CircularPad2d`` before the conv, for ``from_torch`` too."""
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    imported = cnn_magic.from_onnx(export(conv, (1, 2, 5, 5)))
    padded = nn.Sequential(nn.CircularPad2d(1), nn.Conv2d(2, 3, 3))
    assert_same_network(cnn_magic.from_torch(padded, (2, 5, 5)), imported)
    assert imported.output_shape == (5, 5, 3) and imported.params == 2 * 3 * 9 + 3


def test_a_concat_of_slices_that_is_no_circular_pad_is_refused() -> None:
    """Both ends taken from the same side (``x[-1:]``, x, ``x[-1:]``) is no wrap."""

    class Twice(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat((x[:, :, -1:], x, x[:, :, -1:]), 2)

    with pytest.raises(CNNError, match="joins along axis 2"):
        cnn_magic.from_onnx(export(Twice(), (1, 2, 5, 5)))


# ----------------------------------------------------------------- in Chinese


def test_refusals_read_in_chinese() -> None:
    """The list of nodes without a word, each reason and the hint, in the catalog's
    Chinese; the node names and operators stay as the file has them."""
    from cnn_magic.i18n import language

    nodes = [
        helper.make_node("Erf", ["x"], ["e"], name="/act/Erf"),
        helper.make_node("Concat", ["e", "e"], ["y"], axis=2, name="/join/Concat"),
    ]
    graph = helper.make_graph(
        nodes,
        "handmade",
        [helper.make_tensor_value_info("x", FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", FLOAT, None)],
    )
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with language("zh"), pytest.raises(CNNError) as info:
        cnn_magic.from_onnx(made)
    message = str(info.value)
    assert message.startswith("计算图中有 2 个节点在层语言中没有对应的词：\n"), message
    assert "/act/Erf (Erf): 这个算子在层语言中没有对应的词" in message
    assert "/join/Concat (Concat): 沿轴 2 拼接：concat 只拼接通道（轴 1）" in message
    assert "计为零并加以标记" in message
    with language("zh"), pytest.raises(CNNError, match="不是 ONNX 模型"):
        cnn_magic.from_onnx(b"\x08\x07 not protobuf \xff")
    del made.graph.node[1:]  # the Erf alone: an opaque row, noted at the top
    made.graph.output[0].name = "e"
    with language("zh"):
        text = cnn_magic.from_onnx(made, unknown="opaque").text
    assert "# handmade，从 ONNX 导入（opset 17）\n" in text
    assert "# 不透明层（opaque），计为零：act（Erf，初始化器共 0 个值）：" in text
