"""What-if sliders: --vary turns variables into sliders that redraw the view."""

from __future__ import annotations

import re

import pytest

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.sliders import WIDGET_VIEW, Range, SliderView, parse_ranges

LENET_K = """input 32x32x1
k = 5
s = 1
C1: conv 6 k{k} s{s} relu
S2: avgpool k2 s2
C3: conv 16 k5 relu
"""


def total_row(html: str) -> list[str]:
    row = re.search(r'<tr class="(?:total|T)">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_moving_a_slider_changes_the_table_and_the_pictures() -> None:
    view = SliderView(LENET_K, {"k": Range(1, 7), "s": Range(1, 3)})
    sliders, html = view.widget.children
    assert [(s.description, s.value, s.min, s.max) for s in sliders.children] == [
        ("k", 5, 1, 7),
        ("s", 1, 1, 3),
    ]
    before = html.value
    assert total_row(before)[3] == "10×10×16"  # C3, the last layer
    sliders.children[0].value = 3  # k = 3: C1 gives 30×30, S2 15×15, C3 11×11
    expected = cnn_magic.evaluate(LENET_K.replace("k = 5", "k = 3"))
    assert view.network.layers == expected.layers
    assert total_row(html.value)[3] == "11×11×16"
    assert f"{expected.params:,}" in html.value and f"{expected.flops:,}" in html.value
    # the windows of C1 (which uses k) and the network's picture, both redrawn
    assert "windows with k = 3, s = 1" in html.value
    assert "C1 (conv 6 k3 s1 relu)" in html.value
    assert 'data-layer="C3" data-op="conv" data-shape="11×11×16"' in html.value
    assert "C3 (conv 16 k5 relu)" not in html.value  # it does not use a variable
    assert "cnnm-view-pictures" not in html.value  # the sliders' pictures only, not the view's


def test_an_impossible_value_shows_the_error_in_place() -> None:
    view = SliderView("input 8x8x1\nk = 3\nconv 2 k{k}", {"k": Range(1, 12)})
    sliders, html = view.widget.children
    sliders.children[0].value = 9
    assert "no network with k = 9" in html.value
    assert "kernel 9 is larger than the padded input height 8" in html.value
    assert "conv 2 k{k}" in html.value  # the line as written, caret under {k}
    assert view.network.output_shape == (6, 6, 2)  # the last good network stays
    text = view._repr_mimebundle_()["text/plain"]
    assert text.startswith("no network with k = 9\nline 3: kernel 9")
    sliders.children[0].value = 4  # a good value brings the table back
    assert total_row(html.value)[3] == "5×5×2"


def test_set_moves_the_sliders() -> None:
    view = SliderView(LENET_K, {"s": Range(1, 3)})
    view.set(s=2)  # no widget yet
    assert view.network.layers[0].out_shape == (14, 14, 6)
    sliders = view.widget.children[0]
    assert sliders.children[0].value == 2
    view.set(s=3)
    assert sliders.children[0].value == 3 and view.network.layers[0].out_shape == (10, 10, 6)
    with pytest.raises(CNNError, match="no slider 'k'"):
        view.set(k=3)


def test_fallbacks_and_static() -> None:
    view = SliderView(LENET_K, {"k": Range(1, 7)}, static=True)
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"} and view._widget is None
    assert bundle["text/plain"].startswith("with k = 5\ninput 32×32×1 → output 10×10×16")
    assert SliderView(LENET_K, {"k": Range(1, 7)})._repr_mimebundle_()[WIDGET_VIEW]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["k=7:1"], "--vary k=7:1: the range is empty"),
        (["k=1:7:0"], "--vary k=1:7:0: the range is empty"),
        (["k=1"], "--vary 'k=1': not a range"),
        (["k=1:3", "k=2:4"], "--vary names 'k' twice"),
    ],
)
def test_bad_ranges(words, message) -> None:
    with pytest.raises(CNNError, match="^" + re.escape(message)):
        parse_ranges(words)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"kk": Range(1, 7)}, "--vary kk: the network sets no variable 'kk'"),
        ({"k": Range(6, 9)}, "--vary k=6:9: the text sets k = 5, outside the range"),
    ],
)
def test_ranges_must_fit_the_text(ranges, message) -> None:
    with pytest.raises(CNNError, match="^" + re.escape(message)):
        SliderView(LENET_K, ranges)


# ----------------------------------------------------------------------------- magic


@pytest.fixture
def ip(shell):
    shell.extension_manager.load_extension("cnn_magic")
    return shell


def test_the_magic_shows_sliders(ip) -> None:
    start = len(ip.display_pub.outputs)
    result = ip.run_cell(f"%%cnn --vary k=1:7 s=1:3 -o _net\n{LENET_K}")
    result.raise_error()
    bundle = ip.display_pub.outputs[start]["data"]
    assert "windows with k = 5, s = 1" in bundle["text/html"]
    assert ip.user_ns.pop("_net").layers == cnn_magic.evaluate(LENET_K).layers


def test_the_line_magic_takes_ranges_then_the_network(ip) -> None:
    start = len(ip.display_pub.outputs)
    result = ip.run_cell("%cnn --vary k=1:5 input 8x8x1; k = 3; conv 2 k{k}")
    result.raise_error()
    assert "windows with k = 3" in ip.display_pub.outputs[start]["data"]["text/html"]


def test_the_magic_reports_a_bad_range(ip) -> None:
    result = ip.run_cell(f"%%cnn --vary k=9:1\n{LENET_K}")
    assert "the range is empty" in str(result.error_in_exec)
