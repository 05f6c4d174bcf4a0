"""``from_onnx``: ONNX graphs into the layer language with the onnx package alone.

Graphs are built two ways: by hand with ``onnx.helper`` (each operator and attribute
the importer reads), and by ``torch.onnx.export`` of the zoo's PyTorch twins, whose
numbers must be the example files' exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch_zoo
from onnx import TensorProto, helper, numpy_helper
from test_from_onnx_layers import export
from test_from_torch import collapsed

import cnn_magic
from cnn_magic import CNNError

FLOAT = TensorProto.FLOAT


def weight(name: str, *dims: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)


def model(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
    shape: tuple[int | str, ...] = (1, 3, 16, 16),
    opset: int = 17,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "handmade",
        [helper.make_tensor_value_info("x", FLOAT, list(shape))],
        [helper.make_tensor_value_info(nodes[-1].output[0], FLOAT, None)],
        initializer=initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_every_operator() -> None:
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], name="/stem/pad/Pad"),
        helper.make_node(
            "Conv", ["p", "stem.weight", "stem.bias"], ["c"], kernel_shape=[3, 3], strides=[2, 2]
        ),
        helper.make_node(
            "BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.mean", "bn.var"], ["b"]
        ),
        helper.make_node("Clip", ["b", "zero", "six"], ["r6"], name="/act/Clip"),
        helper.make_node(
            "MaxPool", ["r6"], ["m"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]
        ),
        helper.make_node(
            "Conv", ["m", "dw.weight"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8
        ),
        helper.make_node("Relu", ["d"], ["r"], name="/relu/Relu"),
        helper.make_node("Conv", ["r", "pw.weight"], ["e"], kernel_shape=[1, 1]),
        helper.make_node("Add", ["e", "m"], ["a"], name="/block/Add"),
        helper.make_node("Conv", ["a", "side.weight"], ["s"], kernel_shape=[1, 1]),
        helper.make_node("Concat", ["a", "s"], ["k"], axis=1, name="/join/Concat"),
        helper.make_node(
            "AveragePool", ["k"], ["v"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1
        ),
        helper.make_node("LeakyRelu", ["v"], ["l"], alpha=0.2),
        helper.make_node("GlobalAveragePool", ["l"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], transB=1),
        helper.make_node("Dropout", ["y"], ["o"], name="/drop/Dropout"),
        helper.make_node("MatMul", ["o", "head.weight"], ["h"]),
        helper.make_node("Add", ["h", "head.bias"], ["hb"]),
        helper.make_node("Softmax", ["hb"], ["out"], axis=1),
    ]
    pads = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads")
    zero = numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")
    six = numpy_helper.from_array(np.array(6.0, dtype=np.float32), "six")
    initializers = [
        pads,
        zero,
        six,
        weight("stem.weight", 8, 3, 3, 3),
        weight("stem.bias", 8),
        *(weight(f"bn.{n}", 8) for n in ("weight", "bias", "mean", "var")),
        weight("dw.weight", 8, 1, 3, 3),
        weight("pw.weight", 8, 8, 1, 1),
        weight("side.weight", 4, 8, 1, 1),
        weight("fc.weight", 10, 12),
        weight("fc.bias", 10),
        weight("head.weight", 10, 5),
        weight("head.bias", 5),
    ]
    net = cnn_magic.from_onnx(model(nodes, initializers))
    expected = cnn_magic.evaluate(
        """
input 16x16x3
stem: conv 8 k3 s2 p1
bn: bn
act: relu6
maxpool k3 s2 ceil
residual:
  dw: dwconv k3 p1 nobias
  relu: relu
  pw: conv 8 k1 nobias
concat:
  branch:
    identity
  branch:
    side: conv 4 k1 nobias
avgpool k2 ceil
leakyrelu 0.2
gap
flatten
fc: fc 10
drop: dropout 0.5
head: fc 5
softmax
""",
        "floor",
    )
    assert collapsed(net) == collapsed(expected), net.text
    assert net.params == expected.params
    assert "stem: conv 8 k3 s2 p1\n" in net.text
    assert "head: fc 5\n" in net.text  # MatMul + Add of a bias: one fc


def test_resize() -> None:
    nodes = [
        helper.make_node("Resize", ["x", "", "two"], ["a"], mode="nearest"),
        helper.make_node("Resize", ["a", "", "three"], ["y"], mode="linear"),
    ]
    two = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "two")
    three = numpy_helper.from_array(np.array([1, 1, 3, 1], dtype=np.float32), "three")
    net = cnn_magic.from_onnx(model(nodes, [two, three], shape=(1, 3, 4, 5)))
    assert "upsample 2\n" in net.text and "upsample 3x1 bilinear\n" in net.text
    assert net.output_shape == (24, 10, 3)


def test_same_padding_and_deconv() -> None:
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "a.weight"],
            ["a"],
            kernel_shape=[3, 3],
            strides=[2, 2],
            auto_pad="SAME_UPPER",
        ),
        helper.make_node(
            "ConvTranspose",
            ["a", "up.weight", "up.bias"],
            ["u"],
            kernel_shape=[4, 4],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("PRelu", ["u", "slope"], ["y"]),
    ]
    initializers = [
        weight("a.weight", 6, 3, 3, 3),
        weight("up.weight", 6, 2, 4, 4),
        weight("up.bias", 2),
        weight("slope", 1),
    ]
    net = cnn_magic.from_onnx(model(nodes, initializers, shape=(1, 3, 15, 15)))
    expected = cnn_magic.evaluate(
        "input 15x15x3\nconv 6 k3 s2 same nobias\ndeconv 2 k4 s2 p1\nprelu", "floor"
    )
    assert collapsed(net) == collapsed(expected), net.text


def export_zoo(name: str) -> bytes:
    """A zoo twin exported with its batch norms as their own nodes."""
    return export(torch_zoo.BUILDERS[name](), torch_zoo.INPUTS[name], fold=False)


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "resnet50", "mobilenet_v2"])
def test_exported_zoo(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(export_zoo(name))
    net = cnn_magic.from_onnx(path)
    ours = cnn_magic.example(name)
    assert (net.params, net.macs) == (ours.params, ours.macs)
    assert collapsed(net) == collapsed(ours), net.text


def test_exported_alexnet_adaptive_pool_is_refused_or_exact() -> None:
    """The exporter writes AlexNet's 13 → 6 adaptive pooling as a fixed AveragePool
    (kernel 3, stride 2), which is what the ONNX graph then computes."""
    net = cnn_magic.from_onnx(export_zoo("alexnet"))
    assert net.params == cnn_magic.example("alexnet").params
    assert net.macs == cnn_magic.example("alexnet").macs


def test_labels_come_from_weights_and_node_names() -> None:
    text = cnn_magic.from_onnx(export_zoo("resnet18"), repeat=False).text
    assert "layer1.0.conv1: conv 64 k3 p1 nobias\n" in text
    assert "layer2.0.downsample.0: conv 128 k1 s2 nobias\n" in text


# ----------------------------------------------------------------- errors


def test_garbage_is_not_an_onnx_model(tmp_path: Path) -> None:
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"\x08\x07 this is not protobuf \xff\xff\xff")
    with pytest.raises(CNNError, match="is not an ONNX model"):
        cnn_magic.from_onnx(path)
    path.write_bytes(b"")
    with pytest.raises(CNNError, match="is not an ONNX model"):
        cnn_magic.from_onnx(path)
    with pytest.raises(CNNError, match="cannot read"):
        cnn_magic.from_onnx(tmp_path / "missing.onnx")
    with pytest.raises(CNNError, match="is not a regular file"):
        cnn_magic.from_onnx("/dev/zero")  # would be read forever
    with pytest.raises(CNNError, match=r"takes a file path, bytes or an onnx\.ModelProto"):
        cnn_magic.from_onnx(42)


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    path.write_bytes(export_zoo("lenet5"))
    with pytest.raises(CNNError, match="more than the 1,000 allowed"):
        cnn_magic.from_onnx(path, max_bytes=1000)


def test_unknown_operator_names_the_node() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1], name="/enc/Conv"),
        helper.make_node("Resize", ["c", "", "scales"], ["r"], mode="cubic", name="/up/Resize"),
        helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.float32(2))),
        helper.make_node("Mul", ["r", "two"], ["m"], name="/gate/Mul"),
    ]
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    with pytest.raises(CNNError) as info:
        cnn_magic.from_onnx(model(nodes, [weight("w", 4, 3, 1, 1), scales]))
    message = str(info.value)
    assert "2 nodes of the graph have no word in the layer language" in message
    assert "/up/Resize (Resize): mode 'cubic': upsample is nearest or (bi/tri)linear" in message
    assert "/gate/Mul (Mul): multiplies by a constant: not counted" in message


def test_open_input_shape_needs_input() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    graph = model(nodes, [], shape=("N", 3, "H", "W"))
    with pytest.raises(CNNError, match="pass input="):
        cnn_magic.from_onnx(graph)
    net = cnn_magic.from_onnx(graph, input=(3, 8, 8))
    assert net.output_shape == (8, 8, 3)


def test_opaque_stands_for_any_unknown_node() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1], name="/enc/Conv"),
        helper.make_node("Resize", ["c", "", "scales"], ["r"], mode="cubic", name="/up/Resize"),
        helper.make_node("Erf", ["r"], ["e"], name="/act/Erf"),
    ]
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    graph = model(nodes, [weight("w", 4, 3, 1, 1), scales])
    with pytest.raises(CNNError, match="writes each as an opaque layer"):
        cnn_magic.from_onnx(graph)
    net = cnn_magic.from_onnx(graph, unknown="opaque")
    assert "up: opaque 32x32x4\nact: opaque\n" in net.text
    assert "# opaque, counted as zero: up (Resize, initializers of 4 values): mode" in net.text
    assert [(layer.op, layer.out_shape, layer.params) for layer in net.layers[1:]] == [
        ("opaque", (32, 32, 4), 0),
        ("opaque", (32, 32, 4), 0),
    ]


def test_crossing_joins_from_an_exported_densenet() -> None:
    """DenseNet's concatenations read every earlier map: references, as from PyTorch."""
    from test_import_graph import DenseNet

    net = cnn_magic.from_onnx(export(DenseNet((3, 2)), (1, 3, 8, 8), fold=False))
    assert collapsed(net) == collapsed(cnn_magic.from_torch(DenseNet((3, 2)), (3, 8, 8)))
    assert ": concat " in net.text
