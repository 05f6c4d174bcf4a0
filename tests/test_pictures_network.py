"""The network's picture and the cost charts, read back as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.pictures import bar_chart
from cnn_magic.table import rows

SVG = "{http://www.w3.org/2000/svg}"


def nodes(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-node"]


def front(node: ET.Element) -> ET.Element:
    return next(r for r in node.iter(f"{SVG}rect") if "cnnm-front" in r.get("class", ""))


def test_lenet5_boxes_follow_the_table_in_order() -> None:
    net = cnn_magic.example("lenet5")
    drawn = nodes(net.to_svg())
    names = [n.get("data-layer") for n in drawn]
    assert names == ["input", "C1", "S2", "C3", "S4", "C5", "F6", "F7"]
    table = {row.name: row.output for row in rows(net) if row.kind == "layer"}
    for node in drawn[1:]:
        assert node.get("data-shape") == table[node.get("data-layer")]
        # the label under the box is the table's text
        assert table[node.get("data-layer")] in "".join(node.itertext())
    xs = [float(front(n).get("x")) for n in drawn]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # left to right, in order


def test_box_sizes_follow_the_shapes() -> None:
    net = cnn_magic.example("lenet5")
    by_name = {n.get("data-layer"): n for n in nodes(net.to_svg())}

    def height(name: str) -> float:
        return float(front(by_name[name]).get("height"))

    def depth(name: str) -> float:
        return float(front(by_name[name]).get("width"))

    # 32 > 28 > 14 > 10 > 5 pixels high
    assert height("input") > height("C1") > height("S2") > height("C3") > height("S4")
    assert height("S2") == pytest.approx(height("C1") - 14)  # log scale: half is 14 px less
    # 1 < 6 = 6 < 16 = 16 channels deep
    assert depth("input") < depth("C1") == depth("S2") < depth("C3") == depth("S4")
    # vectors are bars: one width, heights by length 120 > 84 > 10
    assert depth("C5") == depth("F6") == depth("F7")
    assert height("C5") > height("F6") > height("F7")
    kinds = {name: front(node).get("class").split()[1] for name, node in by_name.items()}
    assert kinds == {
        "input": "cnnm-map",
        "C1": "cnnm-conv",
        "S2": "cnnm-pool",
        "C3": "cnnm-conv",
        "S4": "cnnm-pool",
        "C5": "cnnm-fc",
        "F6": "cnnm-fc",
        "F7": "cnnm-fc",
    }


def test_resnet50_draws_each_repeat_once_with_its_count() -> None:
    net = cnn_magic.example("resnet50")
    svg = net.to_svg()
    root = ET.fromstring(svg)
    frames = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-blockbox"]
    residuals = [f for f in frames if f.get("data-kind") == "residual"]
    # each stage: its first bottleneck (with the shortcut conv), then the rest, ×N
    assert [int(f.get("data-repeat")) for f in residuals] == [1, 2, 1, 3, 1, 5, 1, 2]
    assert sum(int(f.get("data-repeat")) for f in residuals) == 3 + 4 + 6 + 3
    words = "".join(root.itertext())
    assert "residual9 ×5" in words and "shortcut" in words and "identity" in words
    # 3 + 4 + 6 + 3 bottlenecks, each drawn once per frame: 8 frames × 3 convs + 4
    # shortcut convs, the stem (conv1, maxpool), the head (avgpool, fc), the input
    assert len(nodes(svg)) == 8 * 3 + 4 + 2 + 2 + 1
    merges = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "cnnm-merge"]
    assert len(merges) == 8
    assert len(svg) < 200_000


def test_concat_stacks_its_branches() -> None:
    net = cnn_magic.evaluate(
        "input 28x28x192\nconcat:\n  branch:\n    conv 64 k1\n  branch:\n    conv 96 k1\n"
        "    conv 128 k3 p1\n  branch:\n    maxpool k3 s1 p1\n    conv 32 k1\n"
    )
    drawn = nodes(net.to_svg())
    y = {
        n.get("data-layer"): float(front(n).get("y")) + float(front(n).get("height")) / 2
        for n in drawn
    }
    assert y["conv2"] == pytest.approx(y["conv3"])
    assert y["conv1"] < y["conv2"] < y["pool1"]
    assert "∥" in net.to_svg()


def test_pictures_display_in_a_notebook_and_as_text() -> None:
    net = cnn_magic.example("lenet5")
    bundle = net.to_svg()._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/html", "text/plain"}
    assert bundle["text/plain"] == (
        "network: 32×32×1 → 28×28×6 → 14×14×6 → 10×10×16 → 5×5×16 → 1×1×120 → 84 → 10"
    )
    assert net.to_svg() == net.to_svg()  # deterministic: nbval compares it


def test_command_line_writes_the_picture(capsys) -> None:
    from cnn_magic import cli

    assert cli.main(["--example", "lenet5", "--format", "svg"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out == str(cnn_magic.example("lenet5").to_svg()) + "\n"
    assert [n.get("data-layer") for n in nodes(out)][-1] == "F7"


# ---------------------------------------------------------------------------- charts


def bars(svg: str, measure: str) -> list[tuple[str, int]]:
    root = ET.fromstring(svg)
    panel = next(
        g
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "cnnm-panel" and g.get("data-measure") == measure
    )
    return [
        (r.get("data-name"), int(r.get("data-value")))
        for r in panel.iter(f"{SVG}rect")
        if "cnnm-bar" in r.get("class", "")
    ]


@pytest.mark.parametrize("convention", ["flops", "macs", "exact"])
def test_chart_numbers_equal_the_table(convention: str) -> None:
    net = cnn_magic.example("lenet5")
    svg = net.cost_svg(convention=convention)
    table = [r for r in rows(net, convention) if r.kind == "layer"]
    assert bars(svg, "ops") == [(r.name, r.count) for r in table if r.count]
    assert bars(svg, "params") == [(r.name, r.params) for r in table if r.params]
    assert bars(svg, "memory") == [(layer.name, 4 * layer.elements) for layer in net.layers]
    total = sum(v for _, v in bars(svg, "ops"))
    assert total == net.total(convention)


def test_cumulative_line_climbs_to_the_top() -> None:
    svg = cnn_magic.example("vgg16").cost_svg(convention="macs")
    root = ET.fromstring(svg)
    for line in (g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-cumulative-line"):
        ys = [float(c.get("cy")) for c in line.iter(f"{SVG}circle")]
        assert ys == sorted(ys, reverse=True)  # up the page: never falls
    ops = bars(svg, "ops")
    assert sum(v for _, v in ops) == 15_470_264_320  # torchvision's VGG-16 MACs


def test_per_block_sums_the_blocks_layers() -> None:
    net = cnn_magic.example("resnet50")
    svg = net.cost_svg(by="block", convention="macs")
    ops = dict(bars(svg, "ops"))
    layer1 = sum(layer.macs for layer in net.layers if layer.block.startswith("layer1"))
    assert ops["layer1"] == layer1 and sum(ops.values()) == net.macs
    assert list(ops)[:2] == ["conv1", "layer1"] and list(ops)[-1] == "fc"


def test_bad_choices_are_errors() -> None:
    net = cnn_magic.example("lenet5")
    with pytest.raises(CNNError, match="unknown grouping 'blocks'"):
        net.cost_svg(by="blocks")
    with pytest.raises(CNNError, match="unknown FLOPs convention"):
        net.cost_svg(convention="flop")


def test_bar_chart_of_your_own_groups() -> None:
    chart = bar_chart("MACs by map size", [("56×56", 300), ("28×28", 100), ("empty", 0)], "MACs")
    assert bars(chart, "ops") == [("56×56", 300), ("28×28", 100)]
    assert chart.alt.splitlines()[1].endswith("300 MACs  75.0%")


@pytest.mark.parametrize(
    "text",
    [
        "input 3@100\nconv 8 k5 s2\nmaxpool k2\nfc 10",
        "input 3@16x32x32\nconv 8 k3 p1\nmaxpool k2 s2\nconv 8 k=3x3x1\ngap\nfc 4",
    ],
)
def test_1d_and_3d_maps_are_boxes_labelled_as_the_table(text: str) -> None:
    net = cnn_magic.evaluate(text)
    drawn = nodes(net.to_svg())
    table = [row.output for row in rows(net) if row.kind == "layer"]
    shown = [n.get("data-shape") for n in drawn[1:]]
    assert shown == [
        out
        for out, layer in zip(table, net.layers, strict=True)
        if layer.macs or layer.axes or layer.in_shape != layer.out_shape
    ]
    heights = [float(front(n).get("height")) for n in drawn]
    assert heights[1] > heights[2]  # the first pooling halves the map: a lower box


def test_a_block_that_merges_nothing_is_a_framed_sequence() -> None:
    from cnn_magic.pictures.network import network_svg
    from cnn_magic.results import Block

    net = cnn_magic.evaluate("input 8x8x1\nconv 2 k3\nconv 4 k3")
    # a named group of lines, as a language may add: no merge layer at its end
    grouped = type(net)(
        net.text,
        net.rounding,
        net.input_shape,
        net.layers,
        (Block("stage", "group", 2, 0, "", (8, 8, 1), (4, 4, 4), 0, 2),),
    )
    root = ET.fromstring(network_svg(grouped))
    frames = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cnnm-blockbox"]
    assert [(f.get("data-block"), f.get("data-kind")) for f in frames] == [("stage", "group")]
    inside = [
        n.get("data-layer") for n in frames[0].iter(f"{SVG}g") if n.get("class") == "cnnm-node"
    ]
    assert inside == ["conv1", "conv2"]
