"""``scale:``, ``split:`` and ``side:``: what they compute and how they refuse mistakes.

The numbers are worked by hand here (an SE block, a ShuffleNetV2 unit, an auxiliary
head) and checked against PyTorch through ``to_torch()``; each mistake names its line,
points at the token and says what would be valid.
"""

from __future__ import annotations

import pytest
import torch

import cnn_magic
from cnn_magic import CNNError, torch_export

SE = """input 28x28x64
se: scale:
  gap
  conv 16 k1 relu
  conv 64 k1 sigmoid
"""

UNIT = """input 28x28x116
unit: split 2:
  branch:
    identity
  branch:
    conv 58 k1 nobias
    bn relu
    dwconv k3 p1 nobias
    bn
    conv 58 k1 nobias
    bn relu
channelshuffle 2
"""

HEAD = """input 14x14x512
aux: side:
  adaptiveavgpool 4
  conv 128 k1 nobias
  bn relu
  fc 1024 relu
  fc 1000
conv 64 k1
"""


def test_an_se_block() -> None:
    net = cnn_magic.evaluate(SE)
    mul = net.layers[-1]
    assert (mul.name, mul.op, mul.branches) == ("se.mul", "mul", ((28, 28, 64), (1, 1, 64)))
    assert net.output_shape == (28, 28, 64)
    assert net.params == (64 * 16 + 16) + (16 * 64 + 64) == 2_128
    assert mul.ops == 28 * 28 * 64  # one multiplication per output element, all ops only
    assert (mul.macs, net.macs) == (0, 64 * 16 + 16 * 64)
    assert torch_export.compare(net) == []


def test_a_shufflenet_unit() -> None:
    net = cnn_magic.evaluate(UNIT)
    first_half, second_half = net.layers[0].in_shape, net.layers[1].in_shape
    assert first_half == second_half == (28, 28, 58)
    assert net.output_shape == (28, 28, 116)
    # 1×1 58→58, BN, depthwise 3×3, BN, 1×1, BN: 3,364 + 116 + 522 + 116 + 3,364 + 116
    assert net.params == 7_598
    assert torch_export.compare(net) == []


def test_split_sizes_need_not_be_equal() -> None:
    net = cnn_magic.evaluate(
        "input 8x8x64\nsplit 24 40:\n  branch:\n    conv 8 k1\n  branch:\n    identity"
    )
    assert [layer.in_shape[-1] for layer in net.layers[:2]] == [24, 40]
    assert net.output_shape == (8, 8, 48)
    model = net.to_torch()
    assert torch_export.compare(net, model) == []


def test_a_side_output() -> None:
    net = cnn_magic.evaluate(HEAD)
    assert net.side_outputs == (("aux", (1000,)),)
    assert net.output_shape == (14, 14, 64)  # the main path read the side's input
    head = 512 * 128 + 2 * 128 + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert net.params == head + 512 * 64 + 64
    assert net.main.params == 512 * 64 + 64
    assert net.main.output_shape == net.output_shape
    assert "side outputs aux (1000) are counted in the totals" in net.to_text()
    model = net.to_torch()
    assert torch_export.compare(net, model) == []
    with torch.no_grad():
        out = model(torch_export.input_tensor(net))
    assert tuple(out.shape) == (1, 64, 14, 14)
    assert tuple(model.aux.output.shape) == (1, 1000)  # the side output, kept


@pytest.mark.parametrize(
    ("text", "message", "line", "column", "hint"),
    [
        (
            "input 8x8x64\nsplit 24 30:\n  branch:\n    identity\n  branch:\n    identity",
            "split sizes 24 + 30 = 54, but the input has 64 channels",
            2,
            7,
            "add up",
        ),
        (
            "input 8x8x7\nsplit 2:\n  branch:\n    identity\n  branch:\n    identity",
            "do not split into 2 equal parts",
            2,
            7,
            "split 3 4:",
        ),
        (
            "input 8x8x8\nsplit 2:\n  branch:\n    identity",
            "split makes 2 parts but has 1 branch",
            2,
            7,
            "one branch",
        ),
        (
            "input 8x8x8\nsplit x:\n  branch:\n    identity",
            "split needs the number of equal parts",
            2,
            7,
            "split 2:",
        ),
        (
            "input 8x8x8\nscale:\n  gap\n  conv 4 k1 sigmoid",
            "the input is 8×8×8 but the gate (the body's output) is 1×1×4",
            2,
            1,
            "1×1×8",
        ),
        (
            "input 8x8x8\nrepeat 2:\n  aux: side:\n    gap\n  conv 8 k1",
            "a side output cannot be inside repeat",
            3,
            8,
            "after the repeat",
        ),
        ("input 8x8x8\nscale 2:\n  gap", "scale: takes no arguments", 2, 7, None),
        ("input 8x8x8\nside x:\n  gap", "side: takes no arguments", 2, 6, None),
        ("input 8x8x8\nsplit 2:\n  conv 4 k1", "only branch: blocks go directly", 3, 3, "branch"),
    ],
)
def test_mistakes(text: str, message: str, line: int, column: int, hint: str | None) -> None:
    error = assert_refused(text, message, line, column, hint)
    assert "^" in str(error)  # the caret under the token


def assert_refused(text: str, message: str, line: int, column: int, hint: str | None) -> CNNError:
    """``text`` is refused with ``message`` at (line, column), and ``hint`` if given."""
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate(text)
    error = caught.value
    assert message in error.message
    assert (error.line, error.column) == (line, column)
    if hint is not None:
        assert hint in (error.hint or "")
    return error


# --------------------------------------------------------------------------- references

UNET_STEP = """x: input 64x64x8
enc: conv 16 k3 relu              # 62×62×16
maxpool k2                        # 31×31×16
conv 32 k3 relu                   # 29×29×32
up: deconv 16 k2 s2               # 58×58×16
skip: crop 58x58 from=enc         # 62×62×16 → 58×58×16
concat skip, up                   # 58×58×32
"""


def test_a_unet_step_reads_an_earlier_output() -> None:
    net = cnn_magic.evaluate(UNET_STEP)
    skip, cat = net.layers[-2], net.layers[-1]
    assert (skip.in_shape, skip.out_shape, skip.reads) == ((62, 62, 16), (58, 58, 16), (0,))
    assert (cat.op, cat.text, cat.reads) == ("concat", "concat: skip + up", (4, 3))
    assert cat.branches == ((58, 58, 16), (58, 58, 16)) and net.output_shape == (58, 58, 32)
    assert torch_export.compare(net) == []


def test_references_to_the_input_and_broadcasting_merges() -> None:
    net = cnn_magic.evaluate(
        "x: input 8x8x4\na: conv 4 k1\nb: conv 4 k1 from=x\ns: add a, b\ng: gap from=s\nmul s, g"
    )
    assert net.layers[1].reads == (-1,)
    assert net.layers[-1].branches == ((8, 8, 4), (1, 1, 4)) and net.output_shape == (8, 8, 4)
    assert net.layers[-1].ops == 8 * 8 * 4
    assert torch_export.compare(net) == []


def test_a_label_in_a_repeat_means_the_latest_pass() -> None:
    net = cnn_magic.evaluate("input 8x8x4\nrepeat 2:\n  c: conv 4 k3 p1\n  add c, c\nconcat c, c.1")
    assert net.layers[-1].reads == (2, 0)  # c: the second pass's conv; c.1 the first's


@pytest.mark.parametrize(
    ("text", "message", "line", "column", "hint"),
    [
        (UNET_STEP + "concat sikp, up", "unknown label 'sikp'", 8, 8, "did you mean 'skip'?"),
        (
            "input 8x8x4\nconv 4 k1 from=later\nlater: conv 4 k1",
            "label 'later' is defined later, on line 3",
            2,
            11,
            "written before",
        ),
        (
            UNET_STEP + "concat enc, up",
            "concat: enc gives 62×62×16 but up gives 58×58×16",
            8,
            13,
            "crop 58x58 from=enc",
        ),
        (
            "input 8x8x4\na: conv 4 k1\nb: conv 3 k1\nadd a, b",
            "add: a gives 8×8×4 but b gives 8×8×3; they do not broadcast",
            4,
            8,
            "equal, or 1",
        ),
        (
            "input 8x8x4\nh: side:\n  gap\nconcat h, h",
            "'h' is a side output, not a map to read",
            4,
            8,
            "inside the side",
        ),
        ("input 8x8x4\na: conv 4 k1\nconcat a", "concat of labels needs at least two", 3, 8, None),
    ],
)
def test_reference_mistakes(
    text: str, message: str, line: int, column: int, hint: str | None
) -> None:
    assert_refused(text, message, line, column, hint)


# --------------------------------------------------------------------------- inputs, reuse

SIAMESE = """left: input 32x32x1
right: input 32x32x1
tower: group from=left:
  conv 16 k3 relu
  maxpool k2
  conv 32 k3 relu
  gap
b: reuse tower from=right
concat tower, b
fc 1 sigmoid
"""


def test_a_siamese_network_shares_its_tower() -> None:
    net = cnn_magic.evaluate(SIAMESE)
    assert net.inputs == (("left", (32, 32, 1)), ("right", (32, 32, 1)))  # their labels
    tower = (9 * 16 + 16) + (9 * 16 * 32 + 32)  # counted once
    assert net.params == tower + 64 + 1 == 4_865
    once = 30 * 30 * 16 * 9 + 13 * 13 * 32 * 9 * 16
    assert net.macs == 2 * once + 64  # operations every time
    shared = [layer for layer in net.layers if layer.shared >= 0]
    assert [layer.name for layer in shared] == ["conv3", "pool3", "conv4", "pool4"]
    assert shared[0].text == "conv 16 k3 relu (shared with conv1)" and shared[0].reads == (-2,)
    model = net.to_torch()
    assert torch_export.compare(net, model) == []
    assert sum(p.numel() for p in model.parameters()) == net.params
    left = torch.ones(1, 1, 32, 32)
    with torch.no_grad():  # the same weights: equal inputs give equal towers
        assert model(left, left).shape == (1, 1)


def test_a_recursive_block() -> None:
    net = cnn_magic.evaluate(
        "input 8x8x4\nr: group:\n  conv 4 k3 p1 relu\n  bn\nrepeat 3:\n  reuse r"
    )
    assert net.params == (9 * 4 * 4 + 4) + 8
    assert net.macs == 4 * 8 * 8 * 4 * 9 * 4
    assert torch_export.compare(net) == []


@pytest.mark.parametrize(
    ("text", "message", "line", "column", "hint"),
    [
        (
            "input 8x8x1\nright: input 8x8x3\nconv 4 k3",
            "names each: a label before every input line",
            2,
            1,
            "left: input",
        ),
        (
            "a: input 8x8x1\nb: input 8x8x3\nt: conv 4 k3 from=a\nreuse t from=b",
            "reuse 't': conv 4 k3 was built for 8×8×1, here it gets 8×8×3",
            4,
            7,
            "same input channels",
        ),
        (
            "input 8x8x4\nf: fc 10\nreuse f from=nowhere",
            "unknown label 'nowhere'",
            3,
            9,
            None,
        ),
        ("input 8x8x4\nreuse towr\nt: conv 4 k1", "unknown label 'towr'", 2, 7, None),
        ("input 8x8x4\nreuse t\nt: conv 4 k1", "label 't' is defined later, on line 3", 2, 7, None),
        (
            "input 8x8x4\na: conv 4 k1\nm: add a, a\nreuse m",
            "merges labelled outputs: it has no weights to reuse",
            4,
            7,
            None,
        ),
        (
            "input 8x8x4\nrepeat 2:\n  x: input 4x4x1\n  conv 1 k1",
            "an input belongs at the top level",
            3,
            6,
            None,
        ),
    ],
)
def test_input_and_reuse_mistakes(
    text: str, message: str, line: int, column: int, hint: str | None
) -> None:
    assert_refused(text, message, line, column, hint)


def test_the_input_option_refuses_several_inputs() -> None:
    with pytest.raises(CNNError, match="several inputs"):
        cnn_magic.evaluate(SIAMESE, input="16x16x1")


def test_maxunpool_restores_the_size_its_pooling_started_from() -> None:
    net = cnn_magic.evaluate("input 9x9x2\np: maxpool k2 s2 ceil\nconv 2 k3 p1\nmaxunpool p")
    assert net.layers[-1].out_shape == (9, 9, 2) and net.layers[-1].args.pool_row == 0
    assert torch_export.compare(net) == []


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("input 8x8x2\nc: conv 2 k1\nmaxunpool c", "'c' is a conv, not a max pooling", 11),
        ("input 8x8x2\np: maxpool k2\nconv 3 k1\nmaxunpool p", "its input is 4×4×3", 11),
        ("input 8x8x2\nmaxunpool q", "unknown label 'q'", 11),
    ],
)
def test_maxunpool_mistakes(text: str, message: str, column: int) -> None:
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate(text)
    assert message in caught.value.message
    assert caught.value.column == column
