"""Every worked number of the course notes comes out exactly."""

import pytest
from networks import LENET5

import cnn_magic


@pytest.fixture(scope="module")
def lenet():
    return cnn_magic.evaluate(LENET5)


def test_lenet5_feature_maps(lenet):
    shapes = [(layer.name, layer.out_shape) for layer in lenet.layers]
    assert shapes == [
        ("C1", (28, 28, 6)),
        ("S2", (14, 14, 6)),
        ("C3", (10, 10, 16)),
        ("S4", (5, 5, 16)),
        ("C5", (1, 1, 120)),
        ("F6", (84,)),
        ("F7", (10,)),
    ]
    assert lenet.output_shape == (10,)


def test_lenet5_weights_as_the_notes_sum_them(lenet):
    # 5×5×1×6 + 5×5×6×16 + 5×5×16×120 + 120×84 + 84×10
    assert lenet.weights == 5 * 5 * 1 * 6 + 5 * 5 * 6 * 16 + 5 * 5 * 16 * 120 + 120 * 84 + 84 * 10
    assert lenet.weights == 61_470


def test_lenet5_parameters(lenet):
    assert lenet.biases == 6 + 16 + 120 + 84 + 10
    assert lenet.params == 61_706
    assert [layer.params for layer in lenet.layers] == [156, 0, 2416, 0, 48120, 10164, 850]


def test_lenet5_flops_both_conventions(lenet):
    assert lenet.macs == 416_520
    assert lenet.flops == 833_040
    assert lenet.total("macs") == 416_520
    assert lenet.total("flops") == 833_040


def test_pooling_has_no_parameters(lenet):
    assert all(layer.params == 0 for layer in lenet.layers if layer.op == "avgpool")


def test_conv_2x2_over_3_channels_16_filters_is_208():
    # one kernel 2×2×3 = 12; 16 kernels = 192; with biases 208
    net = cnn_magic.evaluate("input 8x8x3\nconv 16 k2")
    layer = net.layers[0]
    assert (layer.weights, layer.biases, layer.params) == (192, 16, 208)


def test_fc_16_to_133_is_2261():
    net = cnn_magic.evaluate("input 16\nfc 133")
    assert net.params == 16 * 133 + 133 == 2_261


def test_conv_flops_formula_of_the_notes():
    # FLOPs = [(k·k·n_c) + (k·k·n_c − 1) + 1]·H_out·W_out·K = 2·k²·n_c·H_out·W_out·K
    k, n_c, K = 3, 4, 5
    net = cnn_magic.evaluate(f"input 10x10x{n_c}\nconv {K} k{k}")
    h_out = w_out = 8
    derived = ((k * k * n_c) + (k * k * n_c - 1) + 1) * h_out * w_out * K
    assert net.flops == derived == 2 * k * k * n_c * h_out * w_out * K
    assert net.macs == k * k * n_c * h_out * w_out * K
    assert net.exact == derived  # with bias, exact = the notes' derivation


def test_fc_flops_formula_of_the_notes():
    # FLOPs = [N_in + (N_in − 1) + 1]·N_out = 2·N_in·N_out; parameters (N_in + 1)·N_out
    n_in, n_out = 120, 84
    net = cnn_magic.evaluate(f"input {n_in}\nfc {n_out}")
    assert net.flops == (n_in + (n_in - 1) + 1) * n_out == 2 * n_in * n_out
    assert net.macs == n_in * n_out
    assert net.params == (n_in + 1) * n_out


@pytest.mark.parametrize(
    ("text", "textbook", "floor"),
    [
        # convolution rounds down ("卷积向下取整")
        ("input 6x6x1\nconv 1 k3 s2", (2, 2, 1), (2, 2, 1)),
        # pooling rounds up ("池化向上取整")
        ("input 9x9x3\nmaxpool k2 s2", (5, 5, 3), (4, 4, 3)),
        ("input 7x7x1\navgpool k3 s2", (3, 3, 1), (3, 3, 1)),
        ("input 8x8x1\nmaxpool k3 s2", (4, 4, 1), (3, 3, 1)),
    ],
)
def test_notes_rounding_rule(text, textbook, floor):
    assert cnn_magic.evaluate(text).output_shape == textbook
    assert cnn_magic.evaluate(text, rounding="floor").output_shape == floor
