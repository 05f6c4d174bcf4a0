"""The arithmetic of the README's conventions section: sizes, counting conventions,
all-ops costs, memory and receptive fields."""

import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnn_magic
from cnn_magic import evaluate
from cnn_magic.layers import _window_total


def layer(text, **kw):
    return evaluate(text, **kw).layers[-1]


# ------------------------------------------------------------------ sizes


def test_same_padding_puts_the_odd_pixel_after():
    axis = layer("input 5x5x1\nconv 1 k2 s2 same").axes[0]
    assert (axis.out, axis.pad_before, axis.pad_after, axis.rule) == (3, 0, 1, "same")
    axis = layer("input 6x6x1\nconv 1 k4 s1 same").axes[0]
    assert (axis.out, axis.pad_before, axis.pad_after) == (6, 1, 2)


def test_same_never_pads_negatively():
    axis = layer("input 7x7x1\nmaxpool k1 s3 same").axes[0]
    assert (axis.out, axis.pad_before, axis.pad_after) == (3, 0, 0)


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d", "op", "out"),
    [(4, 3, 2, 1, 1, 1, 8), (7, 4, 2, 1, 1, 0, 14), (5, 3, 1, 0, 2, 0, 9), (1, 1, 1, 0, 1, 0, 1)],
)
def test_deconv_size(size, k, s, p, d, op, out):
    text = f"input {size}x{size}x2\ndeconv 3 k{k} s{s} p{p} d{d} op={op}"
    assert layer(text).out_shape == (out, out, 3)
    assert out == (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def test_ceil_correction_is_recorded_only_when_it_applies():
    assert not layer("input 9x9x1\nmaxpool k2 s2").axes[0].dropped_last
    dropped = layer("input 6x6x1\nmaxpool k3 s3 p1 ceil").axes[0]
    # (6 + 2 − 3)/3 = 1.67 → ceil 2, + 1 = 3; the 3rd window would start at 6 ≥ 6 + 1? no
    assert dropped.out == 3 and not dropped.dropped_last
    dropped = layer("input 4x4x1\nmaxpool k2 s2 p1 ceil").axes[0]
    # (4 + 2 − 2)/2 = 2 → 3 windows; the 3rd starts at 4 < 4 + 1, kept
    assert dropped.out == 3 and not dropped.dropped_last
    dropped = layer("input 5x5x1\nmaxpool k2 s2 p1 ceil").axes[0]
    assert dropped.out == 3 and dropped.dropped_last


@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 5), st.integers(0, 9))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_ceil_never_gives_fewer_outputs_than_floor(size, k, s, p):
    text = f"input {size}x{size}x1\nconv 1 k{k} s{s} p{p}"
    try:
        floor = evaluate(text, rounding="floor").output_shape
    except cnn_magic.CNNError:
        return
    ceil = evaluate(text, rounding="ceil").output_shape
    assert floor[0] <= ceil[0] <= floor[0] + 1


def test_textbook_rounding_is_floor_for_conv_and_ceil_for_pooling():
    net = evaluate("input 10x10x1\nconv 1 k2 s3\nmaxpool k2 s2")
    assert [a.axes[0].rule for a in net.layers] == ["floor", "ceil"]
    assert [a.axes[0].rule for a in evaluate(net.text, rounding="ceil").layers] == ["ceil"] * 2


# ------------------------------------------------------------------ counts


def test_exact_counts_follow_the_notes():
    conv = layer("input 8x8x4\nconv 5 k3")
    outputs = 6 * 6 * 5
    assert conv.macs == 3 * 3 * 4 * outputs
    assert conv.exact == 2 * conv.macs  # (k²n_c) + (k²n_c − 1) + 1 per output
    nobias = layer("input 8x8x4\nconv 5 k3 nobias")
    assert nobias.exact == 2 * nobias.macs - outputs
    fc = layer("input 20\nfc 7 nobias")
    assert fc.exact == (20 + 19) * 7
    deconv = layer("input 4x4x2\ndeconv 3 k2 s2")
    assert deconv.macs == 2 * 2 * 2 * 3 * 4 * 4
    assert deconv.exact == 2 * deconv.macs + 8 * 8 * 3


def test_grouped_and_depthwise_counts():
    grouped = layer("input 8x8x32\nconv 64 k3 p1 g4")
    assert grouped.weights == 3 * 3 * (32 // 4) * 64
    assert grouped.macs == 3 * 3 * 8 * 8 * 8 * 64
    dw = layer("input 8x8x32\ndwconv k3 p1")
    assert (dw.out_shape, dw.weights, dw.biases) == ((8, 8, 32), 3 * 3 * 32, 32)
    assert dw.macs == 3 * 3 * 8 * 8 * 32
    multiplied = layer("input 8x8x32\ndwconv k3 p1 2")
    assert multiplied.out_shape == (8, 8, 64) and multiplied.weights == 3 * 3 * 64


def test_totals_cover_conv_deconv_and_fc_only():
    net = evaluate("input 8x8x2\nconv 4 k3 relu\nbn\nmaxpool k2\ndeconv 2 k2 s2\nfc 3 softmax")
    assert net.macs == sum(
        layer.macs for layer in net.layers if layer.op in ("conv", "deconv", "fc")
    )
    assert all(layer.macs == 0 for layer in net.layers if layer.op in ("bn", "maxpool"))
    assert net.total("flops", all_ops=True) == net.flops + net.ops


@pytest.mark.parametrize(
    ("line", "ops"),
    [
        ("maxpool k2", 2 * 2 * 3 * (4 - 1)),
        ("avgpool k2", 2 * 2 * 3 * 4),
        ("maxpool k2 s1 d2", 2 * 2 * 3 * (4 - 1)),  # effective kernel 3: 2×2 outputs
        ("gap", (16 - 0) * 3),
        ("gmp", (16 - 1) * 3),
        ("bn", 2 * 48),
        ("relu", 48),
        ("relu6", 2 * 48),
        ("sigmoid", 4 * 48),
        ("softmax", 3 * 48 - 16),
        ("lrn", 13 * 48),
        ("dropout", 0),
        ("flatten", 0),
        ("identity", 0),
    ],
)
def test_all_ops_cost_per_element(line, ops):
    assert layer(f"input 4x4x3\n{line}").ops == ops


def test_trailing_activation_adds_its_ops_and_prelu_its_weight():
    plain = layer("input 4x4x3\nconv 2 k1")
    relu = layer("input 4x4x3\nconv 2 k1 relu")
    prelu = layer("input 4x4x3\nconv 2 k1 prelu")
    assert relu.ops - plain.ops == 4 * 4 * 2
    assert prelu.weights == plain.weights + 1


def test_residual_add_costs_one_addition_per_element():
    net = evaluate("input 4x4x3\nresidual:\n  conv 3 k1")
    assert net.layers[-1].op == "add" and net.layers[-1].ops == 4 * 4 * 3


@given(st.integers(1, 300), st.integers(1, 300))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_adaptive_window_sum_matches_pytorch_rule(size, out):
    brute = sum(math.ceil((i + 1) * size / out) - (i * size) // out for i in range(out))
    assert _window_total(size, out) == brute


def test_adaptive_pool_ops():
    # 5 → 3: windows [0,2), [1,4), [3,5) = 2 + 3 + 2 = 7 per axis, 49 per channel
    assert layer("input 5x5x2\nadaptiveavgpool 3").ops == 49 * 2
    assert layer("input 5x5x2\nadaptivemaxpool 3").ops == (49 - 9) * 2


def test_huge_adaptive_pool_is_instant():
    net = evaluate("input 1000000000x1000000000x1\nadaptiveavgpool 999999999")
    assert net.output_shape == (999_999_999, 999_999_999, 1)


# ------------------------------------------------------------- memory and fields


def test_output_elements_and_bytes_per_dtype():
    net = evaluate("input 32x32x1\nconv 6 k5\nfc 10")
    assert [layer.elements for layer in net.layers] == [28 * 28 * 6, 10]
    assert list(net.to_frame()["bytes"]) == [4 * 28 * 28 * 6, 4 * 10]
    assert list(net.to_frame(dtype="float16")["bytes"]) == [2 * 28 * 28 * 6, 2 * 10]
    with pytest.raises(cnn_magic.CNNError, match="did you mean 'float64'"):
        net.to_frame(dtype="float61")


@pytest.mark.parametrize(
    ("text", "size", "jump", "start"),
    [
        ("input 32x32x1\nconv 1 k3", 3, 1, 1.0),
        ("input 32x32x1\nconv 1 k3\nconv 1 k3", 5, 1, 2.0),
        ("input 32x32x1\nconv 1 k3 s2 p1\nconv 1 k3 s2 p1", 7, 4, 0.0),
        ("input 32x32x1\nconv 1 k3 d2", 5, 1, 2.0),
        ("input 32x32x1\nmaxpool k2\nmaxpool k2", 4, 4, 1.5),
        ("input 8x8x1\ngap", 8, 8, 3.5),
    ],
)
def test_receptive_field(text, size, jump, start):
    field = evaluate(text).receptive_field
    assert field[0] == field[1] == (size, jump, start)


def test_receptive_field_of_vgg16_is_212():
    net = cnn_magic.evaluate(cnn_magic.example_text("vgg16"), rounding="floor")
    last_pool = [layer for layer in net.layers if layer.op == "maxpool"][-1]
    assert last_pool.receptive_field[0].size == 212
    assert last_pool.receptive_field[0].jump == 32


def test_receptive_field_of_a_merge_is_the_union():
    text = "input 16x16x1\nconcat:\n  branch:\n    conv 1 k5 p2\n  branch:\n    conv 1 k1"
    assert evaluate(text).receptive_field[0] == (5, 1, 0.0)


def test_receptive_field_ends_at_vectors_and_transposed_convs():
    assert layer("input 8x8x1\nflatten").receptive_field is None
    assert layer("input 8x8x1\ndeconv 1 k2 s2").receptive_field is None


# ------------------------------------------------------------------ the API


def test_api_contract():
    net = evaluate("input 32x32x1\nC1: conv 6 k5 relu\nF: fc 10")
    assert net.output_shape == (10,)
    for name in ("params", "weights", "biases", "macs", "flops"):
        assert isinstance(getattr(net, name), int)
    for lay in net.layers:
        for name in (
            "name",
            "op",
            "in_shape",
            "out_shape",
            "weights",
            "biases",
            "params",
            "macs",
            "flops",
        ):
            getattr(lay, name)
    assert issubclass(cnn_magic.CNNError, ValueError)
    frame = net.to_frame()
    assert list(frame["name"]) == ["C1", "F"]
    assert frame["params"].sum() == net.params


def test_results_are_immutable():
    net = evaluate("input 8x8x1\nconv 1 k3")
    with pytest.raises(AttributeError):
        net.layers[0].weights = 0
    with pytest.raises(AttributeError):
        net.rounding = "floor"


def test_import_is_light():
    code = (
        "import sys, cnn_magic; heavy = [m for m in ('pandas', 'IPython', 'ipywidgets', "
        "'torch', 'numpy') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
