"""The pictures inside the view: one windows picture per distinct arithmetic, each
shown by CSS for exactly the (row, rounding) pairs it belongs to; a size budget."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import cnn_magic
from cnn_magic.pictures.panels import for_view, view_pictures
from cnn_magic.pictures.windows import windows_svg

POOL13 = "input 13x13x4\nC1: conv 4 k3 p1\nP1: maxpool k2 s2\nfc 10"


def variants(text: str) -> list[tuple[tuple[str, ...], cnn_magic.Network]]:
    """The roundings grouped as the view groups them: those giving the same shapes."""
    groups: dict[tuple, tuple[cnn_magic.Network, list[str]]] = {}
    for rounding in ("textbook", "floor", "ceil"):
        net = cnn_magic.evaluate(text, rounding)
        key = tuple((layer.in_shape, layer.out_shape) for layer in net.layers)
        groups.setdefault(key, (net, []))[1].append(rounding)
    return [(tuple(roundings), net) for net, roundings in groups.values()]


def selectors(css: str, cls: str) -> str:
    """The selectors of the rule that shows the elements of class ``cls``."""
    return re.search(r"([^{}]*\." + re.escape(cls) + r")\{display:block\}", css).group(1)


def shown_for(css: str, number: int) -> set[tuple[int, str]]:
    """The (layer, rounding) pairs whose selection shows windows picture ``number``."""
    rule = selectors(css, f"wp{number}")
    return {
        (int(layer), rounding)
        for rounding, layer in re.findall(r"#cm-r-(\w+):checked~#cm-w(\d+):checked", rule)
    }


def test_every_row_and_rounding_shows_its_own_windows() -> None:
    groups = variants(POOL13)
    assert [roundings for roundings, _ in groups] == [("textbook", "ceil"), ("floor",)]
    view = view_pictures(groups, "cm")
    assert view.windowed == {0, 1}  # C1 and P1; fc has no windows
    pictures = re.findall(r'<div class="cnnm-wp wp(\d+)" hidden>(<svg.*?</svg>)</div>', view.panel)
    seen: dict[tuple[int, str], str] = {}
    for number, svg in pictures:
        for pair in shown_for(view.css, int(number)):
            assert pair not in seen, pair  # one picture per row and rounding
            seen[pair] = svg
    for roundings, net in groups:
        for rounding in roundings:
            for index in (0, 1):
                assert seen[(index, rounding)] == for_view(windows_svg(net.layers[index].axes))
    # C1 is the same under every rounding: one picture serves all three
    assert len(pictures) == 3
    assert "13 cells, k2 s2, ceil → 7 outputs" in seen[(1, "textbook")]
    assert "13 cells, k2 s2, floor → 6 outputs" in seen[(1, "floor")]


def test_inputs_labels_and_the_shared_style() -> None:
    view = view_pictures(variants(POOL13), "cm")
    ids = re.findall(r'<input type="radio" name="cm-w" id="([\w-]+)"', view.inputs)
    assert ids == ["cm-w-none", "cm-w0", "cm-w1"]
    assert 'id="cm-w-none" checked' in view.inputs
    assert view.label(1, "P1") == '<label class="wl" for="cm-w1">P1</label>'
    assert view.label(2, "fc1") == "fc1"
    assert '#cm-w1:checked~.cb tr:has(label[for="cm-w1"])>td{font-weight:600}' in view.css
    # the style once, in the CSS; none in the pictures, nor their fallback colours
    assert view.css.count(".cnnm text{") == 1 and "<style>" not in view.panel
    assert 'fill-opacity=".35"' not in view.panel
    for svg in re.findall(r"<svg.*?</svg>", view.panel):
        ET.fromstring(svg)


def test_network_and_charts_follow_the_toggles() -> None:
    groups = variants(POOL13)
    view = view_pictures(groups, "cm")
    for number, (roundings, net) in enumerate(groups):
        rule = selectors(view.css, f"np{number}")
        assert set(re.findall(r"#cm-r-(\w+):checked", rule)) == set(roundings)
        assert for_view(net.to_svg()) in view.panel
        for convention in ("flops", "macs", "exact"):
            rule = selectors(view.css, f"cp{number}-{convention}")
            assert set(re.findall(r"#cm-c-(\w+):checked", rule)) == {convention}
            assert f"{net.total(convention):,}" in view.panel


def test_what_does_not_fit_is_named() -> None:
    groups = variants(cnn_magic.example_text("resnet50"))
    view = view_pictures(groups, "cm")
    assert "Too large to draw here: windows (net.layers[i].windows_svg())." in view.panel
    assert view.windowed == frozenset() and view.inputs == ""
    assert len(view.panel) < 300_000
    small = view_pictures(variants(POOL13), "cm", budget=1000)
    assert "Too large to draw here: network (net.to_svg()); windows" in small.panel


def test_the_selected_layer_is_named_above_its_windows() -> None:
    view = view_pictures(variants("input 8x8x1\nC1: conv 2 k3\nfc 2"), "cm")
    assert '<div class="cnnm-wn wn0" hidden>C1 · conv 2 k3</div>' in view.panel
    assert "#cm-w0:checked~.cb .wn0{display:block" in view.css
    net = cnn_magic.evaluate("input 8x8x1\nconv 2 k3")
    evil = net.layers[0]._replace(name="<i>x</i>")
    tampered = type(net)(net.text, net.rounding, net.input_shape, (evil,))
    assert (
        "&lt;i&gt;x&lt;/i&gt; · conv 2 k3"
        in view_pictures(
            [
                (("floor",), tampered),
            ],
            "cm",
        ).panel
    )


def test_drawn_once_given_each_outputs_prefix() -> None:
    from cnn_magic.pictures.panels import PLACEHOLDER

    groups = variants(POOL13)
    once = view_pictures(groups, PLACEHOLDER)
    assert once.with_prefix("cm") == view_pictures(groups, "cm")
    assert PLACEHOLDER not in once.with_prefix("x1").panel + once.with_prefix("x1").css


def test_without_css_only_the_cells_own_picture_shows() -> None:
    groups = variants(POOL13)  # (textbook, ceil) and (floor,)
    view = view_pictures(groups, "cm", rounding="floor", convention="macs")
    shown = re.findall(r'<div class="(cnnm-\w+ \w+(?:-\w+)?)">', view.panel)
    assert shown == ["cnnm-np np1", "cnnm-cp cp1", "cnnm-cp cp1-macs"]
    windows = re.findall(r'<div class="cnnm-w[pn] w[pn]\d+"( hidden)?>', view.panel)
    assert len(windows) == 5 and set(windows) == {" hidden"}  # 3 pictures, 2 names


def test_a_small_networks_picture_starts_open() -> None:
    small = view_pictures(variants(POOL13), "cm")
    assert '<details class="cnnm-pictures" open>' in small.panel
    large = view_pictures(variants(cnn_magic.example_text("resnet50")), "cm")
    assert '<details class="cnnm-pictures"><summary>' in large.panel
