"""``from_onnx`` in 1-D and 3-D, and the ONNX operators of the language's newer layers.

Two kinds of graphs: ``torch.onnx.export`` of the PyTorch twin (``to_torch()``) of drawn
layer-language texts, which must import back to the same network layer by layer; and
graphs written with ``onnx.helper``, for the attributes and operators the exporter does
not write (asymmetric pads, DCR order, GroupNormalization), whose shapes are checked
against the same layers computed by PyTorch.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
import torch_zoo_modern
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from test_against_torch import SETTINGS
from test_against_torch_nd import SETTINGS as ND_SETTINGS
from test_against_torch_nd import conv_cases, deconv_cases, dwconv_cases, pool_cases
from test_from_torch import assert_same_network
from test_from_torch_layers import Shuffle, channel_shuffle_permute, channel_shuffle_view
from test_modern_layers_against_torch import (
    crop_cases,
    instancenorm_cases,
    layernorm_cases,
    layerscale_cases,
    pad_cases,
    pixelshuffle_cases,
    upsample_cases,
)
from torch import nn

import cnn_magic
from cnn_magic import CNNError

FLOAT = TensorProto.FLOAT


def export(
    model: nn.Module,
    shape: tuple[int, ...],
    opset: int = 17,
    *,
    training: bool = True,
    fold: bool = True,
) -> bytes:
    """PyTorch's exporter (TorchScript: needs no network and no onnxscript). In training
    mode batch norm stays its own node (eval mode folds it into the conv, unless
    ``fold=False``). Opset 20 is the first with Gelu."""
    buffer = io.BytesIO()
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.PRESERVE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model if training else model.eval(),
            (torch.zeros(shape),),
            buffer,  # type: ignore[arg-type]
            dynamo=False,
            opset_version=opset,
            training=mode,
            do_constant_folding=fold,
        )
    return buffer.getvalue()


def torch_shape(net: cnn_magic.Network) -> tuple[int, ...]:
    shape = net.input_shape
    return (1, *shape) if len(shape) == 1 else (1, shape[-1], *shape[:-1])


def round_trip(text: str, rounding: str) -> None:
    try:
        net = cnn_magic.evaluate(text, rounding)
    except CNNError:
        return  # refused texts are the other suites' business
    imported = cnn_magic.from_onnx(export(net.to_torch(), torch_shape(net), opset=20))
    assert_same_network(net, imported)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dims", [1, 3])
@settings(ND_SETTINGS, max_examples=30)
@given(data=st.data())
def test_exported_layers_in_1d_and_3d(dims: int, data: st.DataObject) -> None:
    """Conv, depthwise conv, pooling (every padding, stride, dilation and rounding) and
    transposed conv in 1-D and 3-D, drawn by the N-D suite, exported and imported."""
    cases = data.draw(st.sampled_from([conv_cases, dwconv_cases, pool_cases, deconv_cases]))
    case = data.draw(cases(dims))
    round_trip(case.text, case.rounding)


def test_exported_chain_in_1d_and_3d() -> None:
    for text in (
        "input 2@32\nconv 4 k3 s2 p1 relu\nmaxpool k3 s2 p1 ceil\nbn\nupsample 2 linear\n"
        "deconv 2 k4 s2 p1\ngap\nflatten\nfc 3\n",
        "input 2@8x16x16\nconv 4 k3 s2 p1\nmaxpool k3 s2 ceil\nbn\navgpool k2\nupsample 2\n"
        "deconv 2 k4 s2 p1\ngap\n",
    ):
        net = cnn_magic.evaluate(text, "floor")
        imported = cnn_magic.from_onnx(export(net.to_torch(), torch_shape(net), opset=20))
        assert_same_network(net, imported)


MODERN = {
    "layernorm": layernorm_cases,
    "instancenorm": instancenorm_cases,
    "layerscale": layerscale_cases,
    "pixelshuffle": pixelshuffle_cases,
    "upsample": upsample_cases,
    "crop": crop_cases,
    "pad": pad_cases,
}


@pytest.mark.parametrize("layer", MODERN)
@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_exported_newer_layers(layer: str, data: st.DataObject) -> None:
    """The newer layers the exporter writes as single operators (LayerNormalization
    between Transposes, InstanceNormalization, Mul by a weight, DepthToSpace, Resize,
    Slice, Pad with its pads computed from constants; pixel unshuffle as Reshape,
    Transpose, Reshape), drawn by the modern-layer suite."""
    case = data.draw(MODERN[layer]())
    text = case.text
    if layer == "pad" and "circular" in text.lower():
        return  # exported as Slice and Concat: see test_standalone_pad for ONNX's "wrap"
    if layer in ("crop", "pad") and _does_nothing(text, case.rounding):
        return  # a crop or pad of nothing is no node of the exported graph
    round_trip(text, case.rounding)


def _does_nothing(text: str, rounding: str) -> bool:
    try:
        layer = cnn_magic.evaluate(text, rounding).layers[0]
    except CNNError:
        return False
    return layer.in_shape == layer.out_shape


# ----------------------------------------------------------------- hand-written graphs


def weight(name: str, *dims: int, value: float = 0.0) -> onnx.TensorProto:
    return numpy_helper.from_array(np.full(dims, value, dtype=np.float32), name)


def ints(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def graph(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
    shape: tuple[int, ...],
    opset: int = 17,
) -> onnx.ModelProto:
    made = helper.make_graph(
        nodes,
        "handmade",
        [helper.make_tensor_value_info("x", FLOAT, list(shape))],
        [helper.make_tensor_value_info(nodes[-1].output[0], FLOAT, None)],
        initializer=initializers,
    )
    return helper.make_model(made, opset_imports=[helper.make_opsetid("", opset)])


def statements(net: cnn_magic.Network) -> list[str]:
    body = [line for line in net.text.splitlines() if line and not line.startswith("#")]
    return [line.split(": ", 1)[-1] for line in body[1:]]


def ours(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[2:], shape[1]) if len(shape) > 2 else shape[1:]


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(SETTINGS, max_examples=20)
@given(
    data=st.data(),
    op=st.sampled_from(["MaxPool", "AveragePool"]),
    ceil=st.booleans(),
)
def test_pooling_with_asymmetric_pads(dims: int, data: st.DataObject, op: str, ceil: bool) -> None:
    """ONNX's begin and end pads, against PyTorch: the same map padded in front
    (``F.pad``) then pooled with ``ceil_mode``."""
    size = data.draw(st.tuples(*(st.integers(4, 9) for _ in range(dims))))
    kernel = data.draw(st.tuples(*(st.integers(2, 3) for _ in range(dims))))
    stride = data.draw(st.tuples(*(st.integers(1, 2) for _ in range(dims))))
    begin = data.draw(st.tuples(*(st.integers(0, 1) for _ in range(dims))))
    end = tuple(b + data.draw(st.integers(0, 1)) for b in begin)  # never less than before
    shape = (1, 2, *size)
    node = helper.make_node(
        op,
        ["x"],
        ["y"],
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=[*begin, *end],
        ceil_mode=int(ceil),
    )
    try:
        net = cnn_magic.from_onnx(graph([node], [], shape, opset=19))
    except CNNError:
        return  # the language's pooling cannot be padded like this (the message says)
    x = torch.zeros(shape)
    flat = [v for b, e in zip(begin[::-1], end[::-1], strict=True) for v in (b, e)]
    pool = getattr(nn, f"{op.replace('Pool', '').replace('Average', 'Avg')}Pool{dims}d")
    theirs = pool(kernel, stride, ceil_mode=ceil)(F.pad(x, flat))
    assert net.output_shape == ours(tuple(theirs.shape))


@pytest.mark.parametrize("dims", [1, 3])
def test_global_pooling_batch_norm_and_resize_to_sizes(dims: int) -> None:
    size = (12,) if dims == 1 else (4, 6, 6)
    shape = (1, 3, *size)
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["n"]),
        helper.make_node("Resize", ["n", "", "", "sizes"], ["r"], mode="linear"),
        helper.make_node("GlobalMaxPool", ["r"], ["p"]),
        helper.make_node("GlobalAveragePool", ["p"], ["y"]),
    ]
    sizes = ints("sizes", [1, 3, *(2 * s for s in size)])
    initializers = [weight(name, 3) for name in "gbmv"] + [sizes]
    net = cnn_magic.from_onnx(graph(nodes, initializers, shape))
    word = "linear" if dims == 1 else "trilinear"
    assert statements(net) == ["bn", f"upsample 2 {word}", "gmp", "gap"]
    assert net.params == 6


PAD_MODES = {"constant": "", "reflect": " reflect", "edge": " replicate", "wrap": " circular"}
TORCH_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}
TORCH_PAD_MODES["wrap"] = "circular"


@pytest.mark.parametrize("mode", PAD_MODES)
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_standalone_pad(mode: str, dims: int) -> None:
    """A Pad that no conv or pool follows: ``pad``, the same size as PyTorch's."""
    size = (6,) * dims
    begin, end = [1] * dims, [2 if dims < 3 else 1] * dims
    pads = ints("pads", [0, 0, *begin, 0, 0, *end])
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], mode=mode),
        helper.make_node("Relu", ["p"], ["y"]),
    ]
    net = cnn_magic.from_onnx(graph(nodes, [pads], (1, 2, *size), opset=19))
    flat = [v for b, e in zip(begin[::-1], end[::-1], strict=True) for v in (b, e)]
    theirs = F.pad(torch.zeros(1, 2, *size), flat, mode=TORCH_PAD_MODES[mode])
    assert net.output_shape == ours(tuple(theirs.shape))
    written = {1: "pad left=1 right=2", 2: "pad top=1 bottom=2 left=1 right=2", 3: "pad 1"}
    assert statements(net)[0] == written[dims] + PAD_MODES[mode]


def test_pad_before_a_conv_still_folds() -> None:
    pads = ints("pads", [0, 0, 0, 0, 0, 0, 1, 1])
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"]),
        helper.make_node("Conv", ["p", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2]),
    ]
    net = cnn_magic.from_onnx(graph(nodes, [pads, weight("w", 4, 3, 3, 3)], (1, 3, 8, 8)))
    assert statements(net) == ["conv 4 k3 s2 same nobias"]


def test_slice_is_a_crop() -> None:
    big = 2**63 - 1
    nodes = [
        helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["a"]),
        helper.make_node("Slice", ["a", "starts2", "ends2", "axes2"], ["y"]),
    ]
    initializers = [
        ints("starts", [2, 1]),
        ints("ends", [-2, -1]),
        ints("axes", [2, 3]),
        ints("starts2", [1]),
        ints("ends2", [big]),
        ints("axes2", [-1]),
    ]
    net = cnn_magic.from_onnx(graph(nodes, initializers, (1, 3, 10, 9)))
    assert statements(net) == ["crop top=2 bottom=2 left=2 right=1"]  # one crop
    x = torch.zeros(1, 3, 10, 9)
    assert net.output_shape == ours(tuple(x[:, :, 2:-2, 1:-1][..., 1:].shape))


def test_norms() -> None:
    """LayerNormalization over a vector's features and, between Transposes, over the
    channels; GroupNormalization (opset 21: a weight per channel); InstanceNormalization
    with weights; layer scale as a Mul by a weight."""
    nodes = [
        helper.make_node("GroupNormalization", ["x", "gs", "gb"], ["g"], num_groups=2),
        helper.make_node("InstanceNormalization", ["g", "is", "ib"], ["i"]),
        helper.make_node("Transpose", ["i"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("LayerNormalization", ["t", "ls", "lb"], ["l"], axis=-1),
        helper.make_node("MatMul", ["l", "fc1"], ["m"]),
        helper.make_node("Add", ["m", "fc1b"], ["mb"]),
        helper.make_node("Gelu", ["mb"], ["a"]),
        helper.make_node("MatMul", ["a", "fc2"], ["m2"]),
        helper.make_node("Mul", ["m2", "gamma"], ["s"]),
        helper.make_node("Transpose", ["s"], ["back"], perm=[0, 3, 1, 2]),
        helper.make_node("HardSigmoid", ["back"], ["h"], alpha=1 / 6, beta=0.5),
        helper.make_node("Flatten", ["h"], ["f"]),
        helper.make_node("LayerNormalization", ["f", "vs", "vb"], ["y"]),
    ]
    initializers = [
        *(weight(name, 4) for name in ("gs", "gb", "is", "ib", "ls", "lb", "gamma")),
        weight("fc1", 4, 8),
        weight("fc1b", 8),
        weight("fc2", 8, 4),
        weight("vs", 100),
        weight("vb", 100),
    ]
    net = cnn_magic.from_onnx(graph(nodes, initializers, (1, 4, 5, 5), opset=21))
    assert statements(net) == [
        "groupnorm 2",
        "instancenorm affine",
        "layernorm",
        "conv 8 k1",
        "gelu",
        "conv 4 k1 nobias",
        "layerscale",
        "hardsigmoid",
        "flatten",
        "layernorm",
    ]
    assert net.params == 8 + 8 + 8 + 40 + 32 + 4 + 200
    assert net.layers[3].macs == 25 * 4 * 8


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(mode: str) -> None:
    nodes = [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode=mode)]
    net = cnn_magic.from_onnx(graph(nodes, [], (1, 8, 3, 4)))
    assert statements(net) == ["pixelshuffle 2"]
    assert net.output_shape == ours(tuple(nn.PixelShuffle(2)(torch.zeros(1, 8, 3, 4)).shape))


def test_space_to_depth() -> None:
    nodes = [helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=3)]
    net = cnn_magic.from_onnx(graph(nodes, [], (1, 2, 6, 9)))
    assert statements(net) == ["pixelunshuffle 3"]
    assert net.output_shape == ours(tuple(nn.PixelUnshuffle(3)(torch.zeros(1, 2, 6, 9)).shape))


@pytest.mark.parametrize(
    ("node", "initializers", "opset", "why"),
    [
        (
            helper.make_node("HardSigmoid", ["x"], ["y"]),
            [],
            17,
            "alpha=0.2, beta=0.5: hardsigmoid is PyTorch's",
        ),
        (
            helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2),
            [weight("s", 2), weight("b", 2)],
            18,
            "a scale and bias per group",
        ),
        (
            helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"], axis=1),
            [weight("s", 4, 5, 5), weight("b", 4, 5, 5)],
            17,
            "the language's layernorm is over the channels",
        ),
        (
            helper.make_node("Pad", ["x", "pads", "value"], ["y"]),
            [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]), weight("value", value=1.0)],
            17,
            "pads with 1.0",
        ),
        (
            helper.make_node("Slice", ["x", "s", "e", "a"], ["y"]),
            [ints("s", [1, 1]), ints("e", [3, 3]), ints("a", [1, 2])],
            17,
            "slices the channels and the spatial axes at once",
        ),
        (
            helper.make_node("Transpose", ["x"], ["y"], perm=[0, 1, 3, 2]),
            [],
            17,
            "only the channels to the end and back",
        ),
    ],
)
def test_what_has_no_word_is_named(
    node: onnx.NodeProto, initializers: list[onnx.TensorProto], opset: int, why: str
) -> None:
    relu = helper.make_node("Relu", ["y"], ["out"])
    with pytest.raises(CNNError, match=why):
        cnn_magic.from_onnx(graph([node, relu], initializers, (1, 4, 5, 5), opset=opset))


def test_input_of_one_and_three_dimensions_given() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    made = graph(nodes, [], (1, 2, 8, 8, 8))
    made.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "D"
    with pytest.raises(CNNError, match="pass input="):
        cnn_magic.from_onnx(made)
    assert cnn_magic.from_onnx(made, input=(2, 4, 8, 8)).output_shape == (4, 8, 8, 2)
    assert cnn_magic.from_onnx(made, input=(1, 2, 4, 8, 8)).output_shape == (4, 8, 8, 2)
    one: Any = graph(nodes, [], (1, 2, 16))
    assert cnn_magic.from_onnx(one).output_shape == (16, 2)


@pytest.mark.parametrize(
    ("name", "opset"),
    [
        ("squeezenet1_0", 20),
        ("densenet121", 20),
        ("convnext_tiny", 20),
        ("convnext_tiny", 17),
        ("convnext_tiny", 16),
    ],
)
def test_exported_modern_zoo(name: str, opset: int) -> None:
    """The modern zoo's twins whose every part has a word, exported by PyTorch, import
    to the example files' numbers; ConvNeXt through its Transposes, LayerNormalization
    (nine nodes at opset 16), per-pixel MatMuls with their biases, GELU (one Gelu at
    opset 20, five nodes at 17 and 16) and layer scale."""
    model = torch_zoo_modern.BUILDERS[name]()
    net = cnn_magic.from_onnx(export(model, torch_zoo_modern.INPUTS[name], opset))
    assert_same_network(cnn_magic.example(name), net)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool(dims: int) -> None:
    """A MaxPool's second output, read by MaxUnpool (with ``output_shape`` back to the
    pooling's input): ``maxunpool POOL``; the sizes are PyTorch's."""
    size = (7,) * dims
    nodes = [
        helper.make_node("Conv", ["x", "enc.weight"], ["c"], kernel_shape=[1] * dims),
        helper.make_node(
            "MaxPool", ["c"], ["p", "where"], kernel_shape=[2] * dims, strides=[2] * dims
        ),
        helper.make_node("Relu", ["p"], ["r"]),
        helper.make_node("MaxUnpool", ["r", "where", "size"], ["y"], kernel_shape=[2] * dims),
    ]
    initializers = [weight("enc.weight", 4, 2, *(1,) * dims), ints("size", [1, 4, *size])]
    net = cnn_magic.from_onnx(graph(nodes, initializers, (1, 2, *size)))
    pool_label = net.layers[1].name
    assert statements(net) == ["conv 4 k1 nobias", "maxpool k2", "relu", f"maxunpool {pool_label}"]
    pool = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
    x = torch.randn(1, 4, *size)
    y, where = pool(x)
    theirs = getattr(nn, f"MaxUnpool{dims}d")(2)(y, where, output_size=x.shape[2:])
    assert net.output_shape == ours(tuple(theirs.shape))
    other = [nodes[0], nodes[1], helper.make_node("Add", ["p", "where"], ["y"])]
    with pytest.raises(CNNError, match="where a max pooling found its maxima"):
        cnn_magic.from_onnx(graph(other, initializers, (1, 2, *size)))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_written_out_before_opset_20(approximate: str) -> None:
    """Before opset 20 the exporter writes GELU as Div, Erf, Add, Mul, Mul, and its tanh
    approximation as nine nodes (Mul, Mul, Mul, Add, Mul, Tanh, Add, Mul, Mul): one
    ``gelu`` again either way, as ``from_torch`` reads ``nn.GELU`` of either kind."""
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.GELU(approximate=approximate), nn.Conv2d(3, 2, 1))
    net = cnn_magic.from_onnx(export(model, (1, 2, 4, 4), opset=17))
    assert statements(net) == ["conv 3 k1", "gelu", "conv 2 k1"]
    assert_same_network(cnn_magic.from_torch(model, (2, 4, 4)), net)


def test_a_tanh_chain_with_other_constants_is_no_gelu() -> None:
    """The tanh approximation's constants are checked: 0.05 for 0.044715 is refused."""
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.GELU(approximate="tanh"))
    made = onnx.load_from_string(export(model, (1, 2, 4, 4), opset=17))
    for node in made.graph.node:
        value = node.attribute[0].t if node.op_type == "Constant" else None
        if value is not None and abs(float(numpy_helper.to_array(value)) - 0.044715) < 1e-6:
            value.CopyFrom(numpy_helper.from_array(np.array(0.05, np.float32)))
    with pytest.raises(CNNError, match="multiplies by a constant"):
        cnn_magic.from_onnx(made)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_written_out_before_opset_17(affine: bool) -> None:
    """Before opset 17 the exporter writes LayerNorm as ReduceMean, Sub, Pow, ReduceMean,
    Add, Sqrt, Div, Mul by γ, Add of β: one ``layernorm`` again. Without γ and β there
    is nothing learned to count and the language's layernorm learns both: refused, as
    at opset 17."""
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6, elementwise_affine=affine))
    data = export(model, (1, 4), opset=16)
    if not affine:
        with pytest.raises(CNNError, match="ReduceMean"):
            cnn_magic.from_onnx(data)
        return
    net = cnn_magic.from_onnx(data)
    assert statements(net) == ["fc 6", "layernorm"]
    assert "1: layernorm" in net.text  # labelled by its γ, 1.weight
    assert_same_network(cnn_magic.from_torch(model, (4,)), net)


def test_a_lone_erf_is_refused() -> None:
    nodes = [helper.make_node("Erf", ["x"], ["y"], name="/erf/Erf")]
    with pytest.raises(CNNError, match=r"/erf/Erf \(Erf\): no layer word for this operator"):
        cnn_magic.from_onnx(graph(nodes, [], (1, 2, 4, 4)))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_channels_last_input(dims: int) -> None:
    """An input with the channels last (Keras's order, which TensorFlow's converters
    keep and move with a Transpose): the same network as the channels-first file."""
    size = (8,) * dims
    rank = dims + 2
    to_first = [0, rank - 1, *range(1, rank - 1)]
    conv = helper.make_node("Conv", ["t", "w"], ["c"], kernel_shape=[3] * dims)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=to_first),
        conv,
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    initializers = [weight("w", 4, 3, *(3,) * dims)]
    net = cnn_magic.from_onnx(graph(nodes, initializers, (1, *size, 3)))
    first = graph(
        [helper.make_node("Identity", ["x"], ["t"]), conv, nodes[2]], initializers, (1, 3, *size)
    )
    assert_same_network(cnn_magic.from_onnx(first), net)
    assert net.input_shape == (*size, 3)
    assert net.output_shape == (*(6,) * dims, 4)


def test_pad_of_chosen_axes() -> None:
    """Opset 18's ``axes``: the pads of the axes named, the others unpadded."""
    nodes = [
        helper.make_node("Pad", ["x", "pads", "", "axes"], ["p"], mode="reflect"),
        helper.make_node("Relu", ["p"], ["y"]),
    ]
    initializers = [ints("pads", [1, 2, 1, 2]), ints("axes", [-1, 2])]
    net = cnn_magic.from_onnx(graph(nodes, initializers, (1, 2, 6, 6), opset=18))
    assert statements(net)[0] == "pad 2x1 reflect"  # height 2 each side, width 1
    theirs = F.pad(torch.zeros(1, 2, 6, 6), (1, 1, 2, 2), mode="reflect")
    assert net.output_shape == ours(tuple(theirs.shape))


def _torch_twin(op: str, c: int, k: int) -> nn.Module:
    if op == "GroupNormalization":
        return nn.GroupNorm(k, c)
    if op == "InstanceNormalization":
        return nn.InstanceNorm2d(c, affine=True)
    if op == "DepthToSpace":
        return nn.PixelShuffle(k)
    return nn.PixelUnshuffle(k)


@settings(SETTINGS, max_examples=60)
@given(
    op=st.sampled_from(
        ["GroupNormalization", "InstanceNormalization", "DepthToSpace", "SpaceToDepth"]
    ),
    c=st.integers(1, 12),
    k=st.integers(1, 4),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
)
def test_drawn_operators_against_torch(op: str, c: int, k: int, h: int, w: int) -> None:
    """Drawn sizes: the import and PyTorch's module agree on the output and the
    parameters, or both refuse."""
    shape = (1, c, h, w)
    if op in ("GroupNormalization", "InstanceNormalization"):
        inputs, initializers = ["x", "s", "b"], [weight("s", c), weight("b", c)]
        extra: dict[str, Any] = {"num_groups": k} if op == "GroupNormalization" else {}
    else:
        inputs, initializers, extra = ["x"], [], {"blocksize": k}
    node = helper.make_node(op, inputs, ["y"], **extra)
    try:
        model = _torch_twin(op, c, k)
        theirs = tuple(model(torch.randn(shape)).shape)
    except (RuntimeError, ValueError):
        theirs = None
    try:
        net = cnn_magic.from_onnx(graph([node], initializers, shape, opset=21))
    except CNNError:
        assert theirs is None, (op, shape, k)
        return
    assert theirs is not None, (op, shape, k, net.text)
    assert net.output_shape == ours(theirs)
    assert net.params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("form", ["zoo", "view", "permute"])
@settings(SETTINGS, max_examples=8)
@given(groups=st.integers(1, 4), per_group=st.integers(1, 4), size=st.integers(1, 4))
def test_exported_channel_shuffle(form: str, groups: int, per_group: int, size: int) -> None:
    """ShuffleNet's shuffle as the exporter writes it (Reshape to groups, Transpose,
    Reshape back; ONNX has no ChannelShuffle): the network from_torch reads."""
    shuffle = {
        "zoo": torch_zoo_modern.channel_shuffle,
        "view": channel_shuffle_view,
        "permute": channel_shuffle_permute,
    }[form]
    channels = groups * per_group
    model = nn.Sequential(nn.Conv2d(3, channels, 1), Shuffle(shuffle, groups))
    net = cnn_magic.from_onnx(export(model, (1, 3, size, size), opset=20))
    assert statements(net)[-1] == f"channelshuffle {groups}" or groups == 1 or per_group == 1
    assert_same_network(cnn_magic.from_torch(model, (3, size, size)), net)


@pytest.mark.parametrize("opset", [17, 20])
def test_silu_written_as_sigmoid_and_mul(opset: int) -> None:
    """ONNX has no SiLU: the exporter writes x · sigmoid(x), read as one ``silu``; a
    gate that multiplies by the sigmoid of something else is no SiLU but a product
    (``scale:``), as PyTorch's importer writes it."""
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.SiLU(), nn.Conv2d(3, 2, 1))
    net = cnn_magic.from_onnx(export(model, (1, 2, 4, 4), opset))
    assert statements(net) == ["conv 3 k1", "silu", "conv 2 k1"]
    assert_same_network(cnn_magic.from_torch(model, (2, 4, 4)), net)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Sigmoid", ["r"], ["s"]),
        helper.make_node("Mul", ["x", "s"], ["y"], name="/gate/Mul"),
    ]
    gated = cnn_magic.from_onnx(graph(nodes, [], (1, 2, 4, 4)))
    assert "silu" not in gated.text and "scale:" in gated.text
    assert_same_network(cnn_magic.from_torch(Gate(), (2, 4, 4)), gated)


class Gate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(torch.relu(x))
