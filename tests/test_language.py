"""The layer language as the README describes it: every notation, argument form, alias
and block."""

import pytest
from networks import BASIC_BLOCK

import cnn_magic
from cnn_magic import evaluate
from cnn_magic.layers import ACTIVATIONS, ALIASES, WORD_DIMS


def shapes(text, **kw):
    return [layer.out_shape for layer in evaluate(text, **kw).layers]


@pytest.mark.parametrize("notation", ["32x32x1", "1@32x32", "32 32 1", "32, 32, 1", "32X32X1"])
def test_input_notations_for_maps(notation):
    assert evaluate(f"input {notation}").input_shape == (32, 32, 1)


def test_input_vector_and_shape_printing():
    net = evaluate("input 784\nfc 100")
    assert net.input_shape == (784,)
    assert cnn_magic.format_shape((28, 28, 6)) == "28×28×6"
    assert cnn_magic.format_shape((84,)) == "84"


def test_input_option_supplies_or_replaces_the_input_line():
    assert evaluate("conv 6 k5", input="32x32x1").output_shape == (28, 28, 6)
    assert evaluate("input 8x8x1\nconv 6 k5", input="1@32x32").output_shape == (28, 28, 6)


@pytest.mark.parametrize(
    ("line", "out"),
    [
        ("conv 6 k5", (28, 28, 6)),
        ("conv 6 k=5", (28, 28, 6)),
        ("conv 6 k = 5", (28, 28, 6)),
        ("conv 6 kernel=5", (28, 28, 6)),
        ("conv 6 k3x1", (30, 32, 6)),
        ("conv 6 k=3x1", (30, 32, 6)),
        ("conv 6 k3 s2", (15, 15, 6)),
        ("conv 6 k3 s=2x1", (15, 30, 6)),
        ("conv 6 k3 p1", (32, 32, 6)),
        ("conv 6 k3 p=1x0", (32, 30, 6)),
        ("conv 6 k3 same", (32, 32, 6)),
        ("conv 6 k3 p=same s2", (16, 16, 6)),
        ("conv 6 k3 valid", (30, 30, 6)),
        ("conv 6 k3 p=valid", (30, 30, 6)),
        ("conv 6 k3 d2", (28, 28, 6)),
        ("conv 6 k3 d=2 p2", (32, 32, 6)),
        ("conv 6 k3 stride=2 padding=1 dilation=1", (16, 16, 6)),
        ("conv 6 k5, relu", (28, 28, 6)),
        ("CONV 6 K5 RELU", (28, 28, 6)),
        ("conv 6 k5 s2 ceil", (15, 15, 6)),
        ("maxpool k3 s2 floor", (15, 15, 3)),
        ("maxpool k3 s2 ceil", (16, 16, 3)),
        ("maxpool k2", (16, 16, 3)),
        ("maxpool k3 s1 p1", (32, 32, 3)),
        ("maxpool k3 s2 d2", (14, 14, 3)),
        ("avgpool k=2x4", (16, 8, 3)),
        ("gap", (1, 1, 3)),
        ("gmp", (1, 1, 3)),
        ("adaptiveavgpool 6", (6, 6, 3)),
        ("adaptivemaxpool 6x3", (6, 3, 3)),
        ("dwconv k3 p1", (32, 32, 3)),
        ("dwconv k3 2", (30, 30, 6)),
        ("deconv 8 k2 s2", (64, 64, 8)),
        ("deconv 8 k3 s2 p1 op=1", (64, 64, 8)),
        ("deconv 8 k3 s2 p1 op1", (64, 64, 8)),
        ("fc 10", (10,)),
        ("flatten", (3072,)),
        ("bn", (32, 32, 3)),
        ("dropout 0.3", (32, 32, 3)),
        ("dropout", (32, 32, 3)),
        ("lrn", (32, 32, 3)),
        ("identity", (32, 32, 3)),
    ],
)
def test_argument_forms(line, out):
    assert evaluate(f"input 32x32x3\n{line}", rounding="floor").output_shape == out


def test_groups_and_bias_forms():
    for line in ("conv 8 k3 g2 nobias", "conv 8 k3 g=2 bias=no", "conv 8 k3 groups=2 bias=false"):
        layer = evaluate(f"input 8x8x4\n{line}").layers[0]
        assert (layer.weights, layer.biases) == (3 * 3 * 2 * 8, 0)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_every_alias_means_its_layer(alias):
    target = ALIASES[alias]
    args = {
        "conv": "8 k3",
        "dwconv": "k3",
        "deconv": "8 k3",
        "maxpool": "k2",
        "avgpool": "k2",
        "adaptiveavgpool": "2",
        "adaptivemaxpool": "2",
        "fc": "8",
    }.get(target, "")
    dims = max(WORD_DIMS.get(alias, (2,)))  # conv1d needs a 1-D input, conv3d a 3-D one
    shape = "4@" + "x".join(["8"] * dims)
    a = evaluate(f"input {shape}\n{alias} {args}").layers[0]
    b = evaluate(f"input {shape}\n{target} {args}").layers[0]
    assert (a.op, a.out_shape, a.params, a.macs) == (b.op, b.out_shape, b.params, b.macs)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_alone_and_after_a_layer(name):
    alone = evaluate(f"input 4x4x2\n{name}").layers[0]
    assert alone.out_shape == (4, 4, 2)
    assert alone.params == (1 if name == "prelu" else 0)
    after = evaluate(f"input 4x4x2\nconv 2 k1 {name}").layers[0]
    assert after.activation == name
    assert after.params == 2 * 2 + 2 + (1 if name == "prelu" else 0)


def test_comments_semicolons_blank_lines_and_labels():
    text = """
    # a comment line

    input 32x32x1 ; C1: conv 6 k5 relu   # trailing comment
    S2:avgpool k2 s2
    """
    net = evaluate(text)
    assert [layer.name for layer in net.layers] == ["C1", "S2"]
    assert net.output_shape == (14, 14, 6)
    assert net.layers[0].text == "conv 6 k5 relu"


def test_generated_names_count_per_family():
    net = evaluate("input 16x16x1; conv 2 k3; maxpool k2; conv 2 k3; relu; fc 4; fc 2")
    assert [layer.name for layer in net.layers] == [
        "conv1",
        "pool1",
        "conv2",
        "relu1",
        "fc1",
        "fc2",
    ]


def test_repeat_expands_in_sequence_with_numbered_labels():
    net = evaluate("input 8x8x4\nrepeat 3:\n  c: conv 4 k3 p1\n  relu")
    assert [layer.name for layer in net.layers] == ["c.1", "relu1", "c.2", "relu2", "c.3", "relu3"]
    assert net.params == 3 * (3 * 3 * 4 * 4 + 4)
    assert net.blocks[0].kind == "repeat" and (net.blocks[0].first, net.blocks[0].stop) == (0, 6)


def test_residual_with_and_without_shortcut():
    net = evaluate(BASIC_BLOCK + "residual:\n  conv 128 k3 p1\n")
    assert net.output_shape == (28, 28, 128)
    adds = [layer for layer in net.layers if layer.op == "add"]
    assert [a.branches for a in adds] == [((28, 28, 128),) * 2, ((28, 28, 128),) * 2]
    assert adds[0].text == "add: body + shortcut" and adds[1].text == "add: body + input"
    shortcut = [layer for layer in net.layers if layer.block.endswith("/shortcut")]
    assert [layer.op for layer in shortcut] == ["conv", "bn"]


def test_concat_and_add_blocks():
    text = """input 28x28x192
concat:
  branch:
    conv 64 k1 relu
  branch:
    conv 96 k1 relu
    conv 128 k3 p1 relu
  branch:
    identity
add:
  branch:
    conv 384 k3 p1
  branch:
    identity
"""
    net = evaluate(text)
    concat = next(layer for layer in net.layers if layer.op == "concat")
    assert concat.out_shape == (28, 28, 64 + 128 + 192)
    assert net.output_shape == (28, 28, 384)
    add = net.layers[-1]
    assert add.op == "add" and add.ops == 28 * 28 * 384


def test_blocks_nest_and_tabs_indent():
    text = "input 8x8x4\nrepeat 2:\n\tresidual:\n\t\trepeat 2:\n\t\t\tconv 4 k3 p1\n\trelu"
    net = evaluate(text)
    assert [layer.op for layer in net.layers] == ["conv", "conv", "add", "relu"] * 2
    assert max(layer.depth for layer in net.layers) == 3


def test_indented_text_as_a_whole_is_fine():
    assert evaluate("    input 8x8x1\n    conv 2 k3").output_shape == (6, 6, 2)


def test_rounding_flag_wins_over_the_mode():
    assert evaluate("input 9x9x1\nmaxpool k2 floor").output_shape == (4, 4, 1)
    assert evaluate("input 9x9x1\nmaxpool k2 ceil", rounding="floor").output_shape == (5, 5, 1)
