"""``Network.to_torch()``: every layer kind and block kind, run on zeros in PyTorch,
must give our output shape layer by layer and our parameter counts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import cnn_magic
from cnn_magic import torch_export
from cnn_magic.layers import RULES

ROOT = Path(__file__).parent.parent

NETWORKS = {
    "modern": """input 12x10x8
layernorm
groupnorm 4
instancenorm affine
instancenorm
layerscale
se: scale:
  gap
  conv 2 k1 relu
  conv 8 k1 hardsigmoid
unit: split 3 5:
  branch:
    identity
  branch:
    conv 5 k1 relu
aux: side:
  gap
  fc 3
channelshuffle 2
pixelshuffle 2
pad top=1 bottom=0 left=2 right=1 reflect
pad 1 replicate
crop 20x16
pixelunshuffle 2
upsample 2 bilinear
upsample 1x2
conv 8 k3 hardsigmoid
p: maxpool k3 s2 p1
conv 8 k1
maxunpool p
pad 2x1 circular
crop top=1 bottom=2 left=0 right=1
gap
flatten
layernorm
layerscale""",
    "conv": """input 33x35x4
conv 8 k3
conv 8 k3x1 s2 p1x0
conv 8 k3 d2 p2 g4 nobias
conv 6 k4 same
conv 6 k3 s2 same
conv 6 k2 s3 same
conv 6 k3 s2 ceil
conv 6 k1 p1 ceil
conv 6 k2 valid relu""",
    "dwconv": "input 16x16x6\ndwconv k3 p1 relu6\ndwconv k3 s2 same 2\n"
    "dwconv k5 d2 p4 nobias\ndepthwise k3x1 s2x1",
    "deconv": "input 7x7x8\ndeconv 8 k4 s2 p1\ndeconv 6 k3 s2 p1 op1\n"
    "deconv 4 k3 s3 op2 relu\ndeconv 4 k3 d2 g2 nobias\ntconv 4 k2x3 s2x1",
    "pooling": "input 31x29x3\nmaxpool k3 s2\navgpool k3 s2 p1\nmaxpool k2 floor\n"
    "maxpool k3 s1 p1 d2 ceil\navgpool k2 same\nmaxpool k3 s2 same\n"
    "adaptiveavgpool 3",
    "adaptive": "input 10x9x3\nadaptivemaxpool 4x3\nadaptiveavgpool 2\ngmp",
    "gap": "input 9x7x5\ngap\nfc 3",
    "vector": "input 6x6x3\nfc 20 relu\nbn\ndropout 0.3\nfc 10 nobias prelu\nflatten\nfc 5 softmax",
    "map": "input 8x8x4\nbn\nlrn\nidentity\ndropout\nflatten\nbn\nsoftmax",
    "activations": "input 4x4x3\nrelu\nrelu6\nleakyrelu 0.2\nprelu\nelu 0.5\ngelu\nsilu\n"
    "swish\nhardswish\nsigmoid\ntanh\nsoftmax\nconv 3 k1 leakyrelu\n"
    "conv 3 k1 prelu\nconv 3 k1 elu\nconv 3 k1 softmax",
    "mlp": "input 784\nfc 256 relu\nfc 10",
    "upsample": "input 5x7x3\nupsample 2\nupsample 2x3 bilinear\nconv 2 k3\nupsample 3 nearest",
    "residual": """input 16x16x8
residual:
  conv 8 k3 p1 nobias
  bn relu
  conv 8 k3 p1 nobias
  bn
relu
down: residual:
  conv 16 k3 s2 p1
  shortcut:
    conv 16 k1 s2 nobias
    bn
relu""",
    "concat": """input 12x12x4
concat:
  branch:
    conv 8 k1 relu
  branch:
    conv 4 k1 relu
    conv 6 k3 p1 relu
  branch:
    maxpool k3 s1 p1
    conv 2 k1
  branch:
    identity
conv 4 k1""",
    "add": """input 10x10x6
add:
  branch:
    conv 6 k3 p1
  branch:
    dwconv k3 p1
    conv 6 k1
  branch:
    identity""",
    "repeat": """input 8x8x4
stage: repeat 3:
  residual:
    conv 4 k3 p1 relu
    conv 4 k3 p1
  relu
repeat 2:
  conv 4 k1 relu""",
    "nested": """input 16x16x4
outer: repeat 2:
  residual:
    concat:
      branch:
        repeat 2:
          conv 2 k3 p1 relu
      branch:
        add:
          branch:
            conv 2 k1
          branch:
            conv 2 k3 p1
    shortcut:
      conv 4 k1
gap
fc 2""",
    "shortcut-label": """input 8x8x3
residual:
  shortcut: repeat 2:
    conv 3 k3 p1
  shortcut:
    identity""",
    "vector-blocks": """input 20
concat:
  branch:
    fc 8
  branch:
    identity
residual:
  fc 28 relu
  bn
fc 4""",
    # a path that opens with a block of its own: the split's sizes are the block's input
    "nested-split": """input 8x8x8
split 4 4:
  branch:
    split 1 3:
      branch:
        conv 2 k1
      branch:
        conv 2 k3 p1
  branch:
    conv 4 k1
    relu""",
    "names": """input 6x6x2
x: conv 2 k1
x: conv 2 k1
forward: relu
train: relu
a.b: relu
repeat 2:
  y: conv 2 k1""",
}


# Rounded up, the strided body gives 9×9 where the 1×1 shortcut gives 8×8.
REFUSED = {("residual", "ceil")}
EVALUATIONS = [
    pytest.param(text, rounding, id=f"{name}-{rounding}")
    for name, text in NETWORKS.items()
    for rounding in ("textbook", "floor", "ceil")
    if (name, rounding) not in REFUSED
]


def test_the_refused_evaluations_are_refused() -> None:
    for name, rounding in REFUSED:
        with pytest.raises(cnn_magic.CNNError, match="must agree in shape"):
            cnn_magic.evaluate(NETWORKS[name], rounding)


@pytest.mark.parametrize(("text", "rounding"), EVALUATIONS)
def test_every_layer_agrees_with_pytorch(text: str, rounding: str) -> None:
    net = cnn_magic.evaluate(text, rounding)
    model = net.to_torch()
    assert len(model.layer_modules) == len(net.layers)
    assert torch_export.compare(net, model) == []
    with torch.no_grad():
        output = model(torch_export.input_tensor(net))
    assert torch_export._hwc(output.shape) == net.output_shape
    assert sum(p.numel() for p in model.parameters()) == net.params
    assert not model.training


def test_every_layer_kind_is_covered() -> None:
    written = " ".join(NETWORKS.values())
    block_of = {"mul": "scale:"}  # merge rows that a block word makes
    no_twin = {"opaque"}  # stands for an unknown part: to_torch() refuses it (test_rules)
    missing = [op for op in RULES if op not in no_twin and block_of.get(op, op) not in written]
    assert missing == []


@pytest.mark.parametrize("name", cnn_magic.example_names())
def test_the_zoo_agrees_with_pytorch(name: str) -> None:
    """Shapes on the meta device (no weights allocated), parameters counted all the same."""
    net = cnn_magic.example(name)
    assert torch_export.compare(net, device="meta") == []


def test_lenet5_in_one_line() -> None:
    net = cnn_magic.example("lenet5")
    model = net.to_torch()
    assert model(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    assert sum(p.numel() for p in model.parameters()) == 61_706
    assert [type(m).__name__ for m in model] == [
        "Sequential",
        "AvgPool2d",
        "Sequential",
        "AvgPool2d",
        "Sequential",
        "Sequential",
        "Sequential",
    ]
    assert list(dict(model.named_children())) == ["C1", "S2", "C3", "S4", "C5", "F6", "F7"]
    assert isinstance(model.F6[0], nn.Flatten) and isinstance(model.F7[-1], nn.Softmax)
    assert model.S2.ceil_mode is True  # textbook rounding: pooling rounds up


def test_input_tensor_is_nchw() -> None:
    assert torch_export.input_tensor(cnn_magic.evaluate("input 32x24x3; relu")).shape == (
        1,
        3,
        32,
        24,
    )
    assert torch_export.input_tensor(cnn_magic.evaluate("input 10; relu"), 4).shape == (4, 10)


# ------------------------------------------------------------------- how layers map


def modules(text: str, rounding: str = "textbook") -> list[nn.Module]:
    return list(cnn_magic.evaluate(text, rounding).to_torch().layer_modules)


def test_strided_same_padding_is_explicit_and_uneven() -> None:
    (conv,) = modules("input 8x8x1; conv 2 k3 s2 same")
    pad, layer = conv
    assert isinstance(pad, nn.ZeroPad2d) and pad.padding == (0, 1, 0, 1)  # TF: extra after
    assert layer.padding == (0, 0) and layer.stride == (2, 2)


def test_even_padding_stays_in_the_layer() -> None:
    conv, pool = modules("input 8x8x1; conv 2 k3 same; maxpool k3 s1 same")
    assert isinstance(conv, nn.Conv2d) and conv.padding == (1, 1)
    assert isinstance(pool, nn.MaxPool2d) and pool.padding == (1, 1)


def test_max_pool_pads_with_minus_infinity() -> None:
    net = cnn_magic.evaluate("input 8x8x1; maxpool k3 s2 same")
    model = net.to_torch()
    pad = model.layer_modules[0][0]
    assert isinstance(pad, nn.ConstantPad2d) and pad.value == float("-inf")
    assert torch.equal(model(torch.full((1, 1, 8, 8), -1.0)), torch.full((1, 1, 4, 4), -1.0))


def test_same_average_pool_leaves_padding_out_as_tensorflow() -> None:
    (pool,) = modules("input 4x4x1; avgpool k3 s1 same")
    assert pool.count_include_pad is False
    model = cnn_magic.evaluate("input 4x4x1; avgpool k3 s1 same").to_torch()
    assert torch.equal(model(torch.ones(1, 1, 4, 4)), torch.ones(1, 1, 4, 4))


def test_pool_rounding_follows_the_layer() -> None:
    text = "input 9x9x1; maxpool k2; avgpool k2 floor; maxpool k2 ceil"
    first, second, third = modules(text)
    assert (first.ceil_mode, second.ceil_mode, third.ceil_mode) == (True, False, True)
    assert [m.ceil_mode for m in modules(text, "floor")] == [False, False, True]


def test_a_convolution_rounded_up_gets_padding_after() -> None:
    (conv,) = modules("input 8x8x1; conv 2 k3 s2 ceil")
    pad, layer = conv
    assert pad.padding == (0, 1, 0, 1) and layer.padding == (0, 0)


def test_unequal_same_padding_of_a_pool_is_made_explicit() -> None:
    """PyTorch pools pad both sides equally; TensorFlow's 'same' puts the odd pixel after."""
    net = cnn_magic.evaluate("input 5x5x1; maxpool k2 s2 same", "floor")
    pad, pool = net.to_torch().layer_modules[0]
    assert isinstance(pad, nn.ConstantPad2d) and pad.padding == (0, 1, 0, 1)
    assert pool.padding == 0
    assert torch_export.compare(net) == []


def test_groups_dilation_bias_and_output_padding() -> None:
    conv, dw, deconv = modules(
        "input 9x9x4; conv 8 k3 d2 g2 nobias; dwconv k3 2; deconv 4 k3 s2 op1 g4"
    )
    assert (conv.groups, conv.dilation, conv.bias) == (2, (2, 2), None)
    assert (dw.groups, dw.out_channels) == (8, 16)
    assert (deconv.groups, deconv.output_padding, deconv.stride) == (4, (1, 1), (2, 2))


def test_batch_norm_dimension_follows_the_input() -> None:
    on_map, _, on_vector = modules("input 4x4x3; bn; flatten; bn")
    assert isinstance(on_map, nn.BatchNorm2d) and on_map.num_features == 3
    assert isinstance(on_vector, nn.BatchNorm1d) and on_vector.num_features == 48


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("relu", nn.ReLU),
        ("relu6", nn.ReLU6),
        ("leakyrelu", nn.LeakyReLU),
        ("prelu", nn.PReLU),
        ("elu", nn.ELU),
        ("gelu", nn.GELU),
        ("silu", nn.SiLU),
        ("swish", nn.SiLU),
        ("hardswish", nn.Hardswish),
        ("sigmoid", nn.Sigmoid),
        ("tanh", nn.Tanh),
        ("softmax", nn.Softmax),
    ],
)
def test_activations(word: str, kind: type) -> None:
    alone, trailing = modules(f"input 3x3x2; {word}; conv 2 k1 {word}")
    assert type(alone) is kind and type(trailing[-1]) is kind


def test_activation_and_dropout_numbers() -> None:
    leaky, elu, drop, default = modules("input 4; leakyrelu 0.2; elu 0.5; dropout 0.3; dropout")
    assert (leaky.negative_slope, elu.alpha, drop.p, default.p) == (0.2, 0.5, 0.3, 0.5)


def test_blocks_become_containers() -> None:
    net = cnn_magic.evaluate(NETWORKS["residual"])
    model = net.to_torch()
    assert type(model.residual1).__name__ == "Residual"
    assert isinstance(model.residual1.shortcut, nn.Identity)
    assert [type(m).__name__ for m in model.down.shortcut] == ["Conv2d", "BatchNorm2d"]
    concat = cnn_magic.evaluate(NETWORKS["concat"]).to_torch().concat1
    assert list(concat.branches) == ["branch1", "branch2", "branch3", "branch4"]
    assert type(cnn_magic.evaluate(NETWORKS["add"]).to_torch().add1).__name__ == "Add"


def test_a_block_labelled_shortcut_stays_in_the_body() -> None:
    model = cnn_magic.evaluate(NETWORKS["shortcut-label"]).to_torch()
    assert list(dict(model.residual1.body.named_children())) == ["shortcut"]
    assert isinstance(model.residual1.shortcut[0], nn.Identity)


def test_module_names_are_safe_and_unique() -> None:
    model = cnn_magic.evaluate(NETWORKS["names"]).to_torch()
    assert list(dict(model.named_children())) == [
        "x",
        "x_2",
        "forward_2",
        "train_2",
        "a_b",
        "repeat1",
    ]
    assert list(dict(model.repeat1.named_children())) == ["y_1", "y_2"]


def test_a_saved_model_loads_again() -> None:
    net = cnn_magic.evaluate(NETWORKS["nested"])
    model = net.to_torch()
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    x = torch.randn(1, 4, 16, 16)
    assert torch.equal(loaded(x), model(x))


# --------------------------------------------------------------- random windows

WINDOW_OPS = st.sampled_from(["conv 3", "dwconv", "maxpool", "avgpool", "deconv 3"])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    op=WINDOW_OPS,
    h=st.integers(1, 20),
    w=st.integers(1, 20),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    p=st.integers(0, 3),
    padding=st.sampled_from(["p", "same", "valid", ""]),
    flag=st.sampled_from(["", "floor", "ceil"]),
    rounding=st.sampled_from(["textbook", "floor", "ceil"]),
)
def test_random_windows_agree(op, h, w, k, s, d, p, padding, flag, rounding) -> None:
    if op.startswith("deconv"):
        padding, flag = ("p" if padding == "p" else ""), ""
    pad = f"p{p}" if padding == "p" else padding
    dilation = "" if op == "avgpool" else f"d{d}"
    try:
        net = cnn_magic.evaluate(
            f"input {h}x{w}x2; {op} k{k} s{s} {pad} {dilation} {flag}", rounding
        )
    except cnn_magic.CNNError:
        return
    assert torch_export.compare(net) == []


# ------------------------------------------------------------------ without torch


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def test_the_export_module_does_not_import_torch() -> None:
    done = _python("import sys, cnn_magic.torch_export; print('torch' in sys.modules)")
    assert (done.returncode, done.stdout.strip()) == (0, "False")


def test_without_torch_the_error_says_how_to_install_it() -> None:
    done = _python(
        "import sys\n"
        "sys.modules['torch'] = None   # as if torch were not installed\n"
        "import cnn_magic\n"
        "net = cnn_magic.example('lenet5')\n"
        "for call in (net.to_torch, lambda: cnn_magic.torch_export.compare(net)):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as err:\n"
        "        print(type(err).__name__, err)\n"
    )
    assert done.returncode == 0, done.stderr
    message = (
        "to_torch() needs PyTorch, which is not installed here: pip install torch "
        "(or pip install 'cnn-magic[torch]')"
    )
    assert done.stdout.splitlines() == [f"ImportError {message}"] * 2
