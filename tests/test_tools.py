"""Every tool's count reproduced from our layers: the real tools (torchinfo, fvcore,
ptflops with both backends, thop, FlopCounterMode) run on PyTorch models, and
``net.total(tool)`` must equal their figure exactly."""

from __future__ import annotations

import functools

import pytest
import real_tools
import torch_zoo

import cnn_magic
from cnn_magic import CNNError, tools

ZOO = list(torch_zoo.BUILDERS)


@functools.cache
def zoo_figures(name: str) -> dict[str, int]:
    return real_tools.run_all(torch_zoo.BUILDERS[name](), torch_zoo.INPUTS[name])


def test_every_tool_has_a_runner() -> None:
    assert list(tools.TOOLS) == list(real_tools.RUNNERS)


@pytest.mark.parametrize("tool", list(tools.TOOLS))
@pytest.mark.parametrize("name", ZOO)
def test_zoo_twin(name: str, tool: str) -> None:
    net = cnn_magic.example(name)
    assert net.total(tool) == zoo_figures(name)[tool]


def test_resnet50_figures_people_quote() -> None:
    """The five ResNet-50 figures that circulate, each attributed to its tool."""
    net = cnn_magic.example("resnet50")
    assert {name: net.total(name) for name in tools.TOOLS} == {
        "torchinfo": 4_089_238_376,
        "fvcore": 4_144_854_528,
        "fvcore-eval": 4_111_512_576,
        "ptflops-pytorch": 4_132_436_968,
        "ptflops-aten": 4_089_185_256,
        "thop": 4_133_742_592,
        "flopcountermode": 8_178_368_512,
    }


# Networks that reach every layer kind and activation the tools treat differently;
# each is checked through its to_torch() twin.
NETWORKS = {
    "activations": """
input 12x12x3
conv 8 k3 relu
conv 8 k3 relu6
conv 8 k3 leakyrelu
conv 8 k1 prelu
conv 8 k1 elu
conv 8 k1 gelu
conv 8 k1 silu
conv 8 k1 hardswish
conv 8 k1 sigmoid
conv 8 k1 tanh
bn prelu
fc 10 softmax
""",
    "standalone activations": """
input 8x8x4
relu; relu6; leakyrelu 0.2; prelu; elu; gelu; silu; hardswish; sigmoid; tanh; softmax
""",
    "pooling": """
input 33x33x4
maxpool k3 s2 p1
avgpool k2 s2 ceil
adaptiveavgpool 3
adaptivemaxpool 2
gap
""",
    "uneven adaptive": """
input 13x11x5
adaptiveavgpool 6x4
bn
gmp
flatten
fc 7 nobias prelu
""",
    "deconv and groups": """
input 14x14x8
conv 16 k3 p1 g4 nobias
dwconv k3 s2 p1 2
deconv 8 k4 s2 p1
deconv 6 k3 s2 p1 op1 g2 nobias relu
conv 4 k1 d2
lrn
dropout 0.3
identity
""",
    "upsampling": """
input 6x6x4
upsample 2
conv 4 k3 p1 relu
upsample 2 bilinear
conv 2 k1
""",
    "one and three dimensions": """
input 4@32
conv 8 k3 s2 relu
maxpool k2
bn
upsample 2
adaptiveavgpool 3
flatten
fc 5
""",
    "volumes": """
input 8x8x8x2
conv 4 k3 p1 relu
avgpool k2
upsample 2
bn
gap
""",
    "blocks": """
input 16x16x8
residual:
  conv 8 k3 p1 nobias
  bn relu
  shortcut:
    conv 8 k1 nobias
    bn
concat:
  branch:
    conv 4 k1
  branch:
    maxpool k3 s1 p1
relu
""",
}


@functools.cache
def network_figures(key: str) -> tuple[cnn_magic.Network, dict[str, int]]:
    from cnn_magic.torch_export import input_tensor

    net = cnn_magic.evaluate(NETWORKS[key], "floor")
    return net, real_tools.run_all(net.to_torch(), tuple(input_tensor(net).shape))


@pytest.mark.parametrize("tool", list(tools.TOOLS))
@pytest.mark.parametrize("key", list(NETWORKS))
def test_every_layer_kind(key: str, tool: str) -> None:
    net, figures = network_figures(key)
    assert net.total(tool) == figures[tool]


def test_keras_counts_batch_norm_statistics() -> None:
    """Keras's count = PyTorch's parameters + the running mean and variance buffers."""
    for name in ("resnet50", "mobilenet_v2", "vgg16"):
        model = torch_zoo.BUILDERS[name]()
        statistics = sum(
            buffer.numel()
            for key, buffer in model.named_buffers()
            if key.endswith(("running_mean", "running_var"))
        )
        net = cnn_magic.example(name)
        assert tools.tool_params(net, "keras") == torch_zoo.count_params(model) + statistics
        assert tools.tool_params(net, "torchinfo") == torch_zoo.count_params(model)


def test_compare_tools_table() -> None:
    table = cnn_magic.example("resnet50").compare_tools()
    text = str(table)
    assert "4,133,742,592" in text and "thop" in text
    assert [row.tool for row in table.rows] == list(tools.TOOLS)
    assert "25,610,152 (Keras" in text
    assert "<table>" in table._repr_html_()


def test_what_is_not_modelled_is_an_error() -> None:
    """A layer kind the tools' rules were not checked on is an error, never a zero."""
    net = cnn_magic.evaluate("input 9x9x2\nmaxpool k2 s2 same", "floor")
    layer = net.layers[0]._replace(op="attention")
    with pytest.raises(CNNError, match=r"thop's count of pool1 \(attention, 2-D\) is not modelled"):
        tools.total(net.replace(layers=(layer,)), "thop")


def test_pooling_padded_in_front() -> None:
    """Padding PyTorch's pooling cannot take (unequal, or over half the kernel) is a pad
    module in front in to_torch(); ptflops counts the padded map the pooling receives."""
    from cnn_magic.torch_export import input_tensor

    for text in (
        "input 9x9x2\nmaxpool k2 s2 same",
        "input 10x7x3\navgpool k4 s3 same\nmaxpool k3 s2 p1 ceil\nmaxpool k2 s2 same",
    ):
        net = cnn_magic.evaluate(text, "floor")
        figures = real_tools.run_all(net.to_torch(), tuple(input_tensor(net).shape))
        assert {name: net.total(name) for name in tools.TOOLS} == figures, text


def test_unknown_tool() -> None:
    net = cnn_magic.example("lenet5")
    with pytest.raises(CNNError, match="unknown FLOPs convention 'thopp'"):
        net.total("thopp")
    with pytest.raises(CNNError, match="did you mean 'thop'"):
        tools.total(net, "thopp")
    with pytest.raises(CNNError, match="unknown parameter convention"):
        tools.tool_params(net, "tf")
