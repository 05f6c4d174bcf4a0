"""The windows picture, read back as XML: where its cells and brackets are."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.layers import Axis
from cnn_magic.pictures.windows import plan

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def cells(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if "cnnm-cell" in e.get("class", "")]


def kind(cell: ET.Element) -> str:
    return next(c[5:] for c in cell.get("class", "").split() if c != "cnnm-cell")


def windows(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-win"]


def span(window: ET.Element) -> tuple[float, float]:
    """The x range of a window's bracket, read from its path."""
    d = window.find(f"{SVG}path").get("d")
    xs = [float(p.split()[0]) for p in d.replace("M", "L").split("L") if p.strip()]
    return min(xs), max(xs)


def extent(cell: ET.Element) -> tuple[float, float]:
    x = float(cell.get("x"))
    return x, x + float(cell.get("width"))


def covered(window: ET.Element, cell: ET.Element) -> bool:
    (a, b), (c, d) = span(window), extent(cell)
    return a < d and c < b


def picture(text: str, rounding: str) -> ET.Element:
    return parse(cnn_magic.evaluate(text, rounding).layers[0].windows_svg())


def test_floor_leaves_the_last_of_13_pixels_uncovered() -> None:
    root = picture("input 13x13x64; maxpool k2 s2", "floor")
    row = cells(root)
    assert [c.get("data-cell") for c in row] == [str(i) for i in range(13)]
    wins = windows(root)
    assert [w.get("data-index") for w in wins] == [str(i) for i in range(6)]
    last = row[12]
    assert kind(last) == "uncovered"
    assert not any(covered(w, last) for w in wins)
    # every other pixel lies under exactly one window (k = S: no overlap)
    for c in row[:12]:
        assert kind(c) == "input"
        assert sum(covered(w, c) for w in wins) == 1


def test_ceil_adds_a_seventh_window_overhanging_by_one() -> None:
    root = picture("input 13x13x64; maxpool k2 s2", "ceil")
    row = cells(root)
    assert [kind(c) for c in row] == ["input"] * 13 + ["overhang"]
    wins = windows(root)
    assert len(wins) == 7
    seventh = wins[-1]
    assert "cnnm-beyond" in seventh.find(f"{SVG}path").get("class")
    # it covers pixel 12 and the one cell beyond the image, and nothing else
    assert [c.get("data-cell") for c in row if covered(seventh, c)] == ["12", "13"]
    right_edge = extent(row[12])[1]
    assert span(seventh)[1] > right_edge and span(wins[5])[1] < right_edge
    assert not any(kind(c) == "uncovered" for c in row)


def test_last_window_rule_draws_no_window_starting_in_the_right_padding() -> None:
    root = picture("input 5x5x1; maxpool k2 s2 p1", "ceil")
    row = cells(root)
    assert [kind(c) for c in row] == ["pad", "input", "input", "input", "input", "input", "pad"]
    right_pad = extent(row[-1])
    wins = windows(root)
    assert len(wins) == 3  # the table's 3×3
    assert all(span(w)[0] < right_pad[0] for w in wins)
    dropped = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-dropped-window"]
    assert len(dropped) == 1 and dropped[0].get("data-start") == "6"  # padded cell 6
    assert "right padding" in "".join(root.itertext())


def test_same_puts_the_odd_padding_cell_at_the_end() -> None:
    net = cnn_magic.evaluate("input 224x224x3; conv 64 k7 s2 same")
    root = parse(net.layers[0].windows_svg())
    row = cells(root)
    kinds = [kind(c) for c in row]
    assert kinds[:2] == ["pad", "pad"] and kinds[-3:] == ["pad", "pad", "extra"]
    # elided: the first and last windows exact, the gap says how many it hides
    wins = windows(root)
    assert [w.get("data-index") for w in wins] == ["0", "1", "2", "109", "110", "111"]
    assert [c.get("data-cell") for c in row][-5:] == ["222", "223", "224", "225", "226"]
    assert "106 windows in the gap" in "".join(root.itertext())
    # the last window ends on the last padding cell: nothing overhangs
    assert span(wins[-1])[1] < extent(row[-1])[1] and span(wins[-1])[1] > extent(row[-1])[0]


def test_dilation_draws_the_taps() -> None:
    root = picture("input 9x9x1; conv 1 k3 d2", "floor")
    wins = windows(root)
    assert len(wins) == 5  # 9 − 5 + 1
    taps = wins[0].findall(f"{SVG}circle")
    row = cells(root)
    centres = [float(t.get("cx")) for t in taps]
    assert centres == [sum(extent(row[i])) / 2 for i in (0, 2, 4)]


def test_transposed_conv_scatters_and_crops() -> None:
    root = picture("input 7x7x8; deconv 4 k4 s2 p1", "floor")
    row = cells(root)
    # (7 − 1)·2 + 4 = 16 uncropped cells; padding 1 crops one at each end: 14 outputs
    assert [kind(c) for c in row] == ["cropped"] + ["input"] * 14 + ["cropped"]
    wins = windows(root)
    assert [w.get("data-start") for w in wins] == [str(2 * i) for i in range(7)]
    assert all(int(w.get("data-stop")) - int(w.get("data-start")) == 4 for w in wins)


def test_output_padding_keeps_a_cropped_cell_or_adds_one_no_input_writes() -> None:
    # k3 s2 p1 op1: (7 − 1)·2 + 3 = 15 cells; 1 cropped before, the last one kept
    p = plan(Axis(7, 3, 2, 1, 1, 1, 14, "deconv", out_pad=1))
    assert p.cells == ("cropped",) + ("input",) * 14
    # p0 op1: 16 outputs, the 16th past the 15 cells any input writes
    p = plan(Axis(7, 3, 2, 0, 0, 1, 16, "deconv", out_pad=1))
    assert p.cells == ("input",) * 15 + ("extra",)
    assert max(w.stop for w in p.windows) == 15


@pytest.mark.parametrize(
    ("text", "rounding"),
    [
        ("input 13x13x64; maxpool k2 s2", "floor"),
        ("input 13x13x64; maxpool k2 s2", "ceil"),
        ("input 5x5x1; maxpool k2 s2 p1", "ceil"),
        ("input 224x224x3; conv 64 k11 s4 p2", "floor"),
        ("input 224x224x3; conv 64 k7 s2 p3", "floor"),
        ("input 112x112x64; maxpool k3 s2 p1", "floor"),
        ("input 112x112x64; maxpool k3 s2", "ceil"),
        ("input 56x56x3; conv 64 k1 s2", "floor"),
        ("input 32x32x3; conv 4 k3 d2 p2", "floor"),
        ("input 10x12x3; adaptiveavgpool 3x4", "floor"),
        ("input 7x7x8; deconv 4 k3 s2 p1 op1", "floor"),
    ],
)
def test_the_picture_counts_the_tables_outputs(text: str, rounding: str) -> None:
    """Windows drawn + windows the gap hides = the output size in the table."""
    net = cnn_magic.evaluate(text, rounding)
    layer = net.layers[0]
    root = parse(layer.windows_svg())
    axes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-axis"]
    assert len(axes) == (1 if layer.axes[0] == layer.axes[1] else 2)
    words = "".join(root.itertext())
    for group, axis in zip(axes, dict.fromkeys(layer.axes), strict=True):
        drawn = windows(group)
        gap = re.search(r"(\d+) windows in the gap", "".join(group.itertext()))
        hidden = int(gap.group(1)) if gap else 0
        indices = [int(w.get("data-index")) for w in drawn]
        expected = axis.size if axis.rule == "deconv" else axis.out
        assert len(drawn) + hidden == expected
        assert indices == sorted(indices) and indices[-1] == expected - 1
    for out in net.layers[0].out_shape[:2]:
        assert f"→ {out} outputs" in words


def test_the_picture_is_theme_aware_text() -> None:
    svg = cnn_magic.evaluate("input 13x13x1; maxpool k2 s2").layers[0].windows_svg()
    assert "var(--jp-ui-font-color1" in svg and "prefers-color-scheme:dark" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    root = parse(svg)
    assert root.find(f"{SVG}title").text.startswith("pool1 (maxpool k2 s2)")
    assert any(t.text == "12" for t in root.iter(f"{SVG}text"))  # cell numbers are text


def test_layers_without_windows_say_so() -> None:
    net = cnn_magic.evaluate("input 4x4x1; relu; fc 3")
    for layer in net.layers:
        with pytest.raises(CNNError, match="has no windows to draw"):
            layer.windows_svg()


def test_user_text_is_escaped() -> None:
    net = cnn_magic.evaluate("input 8x8x1\nconv 2 k3")
    layer = net.layers[0]._replace(name="x<y&z")
    svg = layer.windows_svg()
    assert "x&lt;y&amp;z" in svg
    assert parse(svg).find(f"{SVG}title").text.startswith("x<y&z")


def test_explain_shows_the_windows_beside_the_formulas() -> None:
    from cnn_magic.explain import Explanation, explain

    net = cnn_magic.example("lenet5")
    markdown = explain(net).to_markdown()
    pictures = re.findall(r'<div class="cnnm-windows">(<svg.*?</svg>)</div>', markdown)
    windowed = [layer for layer in net.layers if layer.axes]
    assert len(pictures) == len(windowed) == 5  # C1, S2, C3, S4, C5
    for svg, layer in zip(pictures, windowed, strict=True):
        assert svg == layer.windows_svg()
        # each picture follows its own layer's formulas
        at = markdown.index(svg)
        assert markdown.rindex("**", 0, at) > markdown.index(f"**{layer.name}**")
    assert "<svg" not in Explanation(net, windows=False).to_markdown()
    assert "<svg" not in explain(net).to_text()


def test_upsampling_writes_each_input_to_s_outputs() -> None:
    from cnn_magic.pictures.windows import axis_svg

    p = plan(Axis(4, 1, 2, 0, 0, 1, 8, "upsample"))
    assert p.cells == ("input",) * 8
    assert [(w.number, w.start, w.stop) for w in p.windows] == [
        (0, 0, 2),
        (1, 2, 4),
        (2, 4, 6),
        (3, 6, 8),
    ]
    assert "upsampled ×2 → 8 outputs" in axis_svg(Axis(4, 1, 2, 0, 0, 1, 8, "upsample"))


def test_a_rule_without_a_picture_says_so() -> None:
    with pytest.raises(CNNError, match="no windows picture for the 'spiral' rule"):
        plan(Axis(4, 1, 2, 0, 0, 1, 8, "spiral"))


def test_one_picture_per_dimension_in_1d_and_3d() -> None:
    signal = cnn_magic.evaluate("input 3@100\nconv 8 k5 s2\nfc 10").layers[0]
    root = parse(signal.windows_svg())
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-axis"]
    assert [g.get("data-dim") for g in groups] == ["L"]
    assert "100 cells, k5 s2, floor → 48 outputs" in "".join(root.itertext())
    volume = cnn_magic.evaluate("input 3@16x32x32\nconv 8 k3 p1\nconv 8 k=3x3x1").layers
    dims = [
        [
            g.get("data-dim")
            for g in parse(layer.windows_svg()).iter(f"{SVG}g")
            if g.get("class") == "cnnm-axis"
        ]
        for layer in volume
    ]
    assert dims == [["D", "H = W"], ["D", "H", "W"]]
    words = "".join(parse(volume[1].windows_svg()).itertext())
    assert "H: 32 cells, k3, floor → 30 outputs" in words
    assert "W: 32 cells, k1, floor → 32 outputs" in words
