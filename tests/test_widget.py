"""The view: one HTML fragment with every table, read here as the browser's CSS shows it.

``shown`` applies what the fragment's CSS does for a choice of convention and rounding
(the panel of that rounding, the spans of that convention); the browser tests check
that the CSS really does it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from networks import LENET5, POOL9

import cnn_magic
from cnn_magic import view_html
from cnn_magic.widget import WIDGET_VIEW, CNNView

RESIDUAL = (
    "input 56x56x64\nstage: residual:\n  conv 64 k3 p1 nobias\n  bn relu\n"
    "  conv 64 k3 p1 nobias\n  bn\nrelu\ngap\nfc 10"
)


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag, self.attrs, self.children = tag, attrs, []  # type: ignore[var-annotated]

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def find(self, test) -> list[Node]:
        out = [self] if test(self) else []
        for child in self.children:
            if isinstance(child, Node):
                out += child.find(test)
        return out


VOID = {"input", "br", "img", "meta", "link"}


class Tree(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        if tag not in VOID:
            assert self.stack[-1].tag == tag, (self.stack[-1].tag, tag)
            self.stack.pop()

    def handle_data(self, data):
        if self.stack[-1].tag != "style":
            self.stack[-1].children.append(data)


def text(node: Node | str, convention: str) -> str:
    """What a node shows under ``convention``: the other conventions' spans are hidden."""
    if isinstance(node, str):
        return node
    if "cv" in node.classes and f"cv-{convention}" not in node.classes:
        return ""
    return "".join(text(child, convention) for child in node.children)


def shown(html: str, convention: str, rounding: str) -> list[tuple[list[str], list[str]]]:
    """(row classes, cell texts) of the table shown for ``convention`` and ``rounding``."""
    root = Tree(html).root
    panels = root.find(lambda n: n.tag == "div" and f"rd-{rounding}" in n.classes)
    tables = [p for p in panels if p.find(lambda n: n.tag in ("table", "pre"))]
    assert len(tables) == 1, f"{len(tables)} panels for {rounding}"
    rows = tables[0].find(lambda n: n.tag == "tr")[1:]  # the header row left out
    return [
        (row.classes, [text(td, convention) for td in row.find(lambda n: n.tag == "td")])
        for row in rows
    ]


def tables_of(html: str) -> str:
    """The fragment without its pictures (whose SVG carries numbers of its own)."""
    return html.split('<div class="cnnm-view-pictures">')[0]


def checked(html: str) -> set[str]:
    root = Tree(html).root
    return {n.attrs["id"] for n in root.find(lambda n: n.tag == "input") if "checked" in n.attrs}


def test_every_convention_is_in_the_one_fragment():
    html = CNNView(LENET5).to_html()
    for convention, total in (("flops", "833,040"), ("macs", "416,520"), ("exact", "833,040")):
        rows = shown(html, convention, "textbook")
        assert rows[-1][0] == ["T"] and rows[-1][1][6:8] == ["61,706", total], convention
        assert [cells[0] for _, cells in rows[:-1]] == ["C1", "S2", "C3", "S4", "C5", "F6", "F7"]
    # without CSS the hidden attribute leaves the cell's own convention
    assert '<span class="cv cv-flops cv-exact">833,040</span>' in html  # they agree here
    assert '<span class="cv cv-macs" hidden>416,520</span>' in html
    assert "FLOPs = 2 × MACs" in html and "MACs: one multiply-add is one operation" in html


def test_roundings_that_agree_share_one_table():
    view = CNNView(LENET5)
    assert [v.roundings for v in view.variants()] == [("textbook", "floor", "ceil")]
    assert view.to_html().count("<table>") == 1


def test_rounding_panels_mark_the_changed_rows():
    view = CNNView(POOL9)
    html = view.to_html()
    assert [v.roundings for v in view.variants()] == [("textbook", "ceil"), ("floor",)]
    assert shown(html, "flops", "textbook")[0] == (
        ["L"],
        ["pool1", "maxpool k2 s2", "9×9×1", "5×5×1", "0", "0", "0", "0", ""],
    )
    classes, cells = shown(html, "flops", "floor")[0]
    assert "changed" in classes and cells[3] == "4×4×1"
    assert "1 layer with shapes that differ from textbook rounding" in html
    assert "no shape differs from textbook rounding" in html  # ceil: the same table
    assert "output 4×4×1" in html and "floor rounding: everything rounds down" in html


def test_only_changed_rows_are_marked():
    view = CNNView("input 9x9x1\nconv 4 k3 p1\nmaxpool k2 s2\nconv 8 k1\nfc 10")
    rows = shown(view.to_html(), "flops", "floor")
    assert ["changed" in classes for classes, _ in rows] == [False, True, True, True, False]
    # fc keeps its output (10), but its input (and so its weights) changed: marked too
    assert view.changed("floor") == frozenset({1, 2, 3})


def test_set_moves_the_starting_toggles_and_redraws_the_widget():
    view = CNNView(LENET5)
    view.set(convention="macs", rounding="floor")  # before any widget exists
    assert view._widget is None and "416,520 MACs" in view.to_text()
    prefix = f"cm{view.key}s"
    # and no layer's windows selected yet
    expected = {f"{prefix}-c-macs", f"{prefix}-r-floor", f"{prefix}-w-none"}
    assert checked(view.to_html()) == expected
    html = view.widget.children[0]
    view.set(convention="exact")
    assert f"cm{view.key}w-c-exact" in checked(html.value)
    with pytest.raises(cnn_magic.CNNError, match="did you mean 'flops'"):
        view.set(convention="gflops")


def test_a_rounding_that_fails_shows_its_error_escaped():
    text = "input 9x9x1\nmaxpool k2 s2\nconv 3 k5   # <b>not bold</b> & more"
    html = CNNView(text).to_html()
    [error] = Tree(html).root.find(lambda n: n.tag == "pre")
    panel = html[: html.index('<pre class="err">')].rsplit("<div", 1)[1]
    assert "rd-floor" in panel
    assert "kernel 5 is larger than the padded input height 4" in text_of(error)
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in html and "<b>not" not in html
    assert "no network under floor rounding" in html
    assert shown(html, "flops", "textbook")[-1][1][3] == "1×1×3"


def text_of(node: Node | str) -> str:
    return node if isinstance(node, str) else "".join(text_of(c) for c in node.children)


def test_layer_names_are_escaped_in_the_html(monkeypatch):

    view = CNNView(LENET5)
    net = view.network
    evil = net.layers[0]._replace(name="<script>alert(1)</script>", text="conv & <i>")
    tampered = net.replace(layers=(evil, *net.layers[1:]))
    for rounding in ("textbook", "floor", "ceil"):
        monkeypatch.setitem(view._results, rounding, tampered)
    monkeypatch.setattr(view, "network", tampered)
    html = view.to_html()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "conv &amp; &lt;i&gt;" in html


def test_block_rows_carry_subtotals_and_collapse():
    view = CNNView(RESIDUAL)
    html = view.to_html()
    rows = shown(html, "flops", "textbook")
    classes, cells = rows[0]
    assert "B" in classes and cells[:2] == ["stage:", "residual:"]
    inside = view.network.layers[:5]  # conv, bn, conv, bn, the add
    assert cells[6] == f"{sum(x.params for x in inside):,}"
    assert cells[7] == f"{sum(x.flops for x in inside):,}"
    # the rows inside the block belong to it (its checkbox hides them)
    assert all("in-b0" in c for c, _ in rows[1:6]) and "in-b0" not in rows[6][0]
    assert 'style="padding-left:22px"' in html  # indented body
    p = f"cm{view.key}s"
    # depth radios 1 and 2 ("all"); a block at depth 0 is collapsed at depth 1 only
    assert f"{p}-d2" in checked(html)
    assert f":is(#{p}-d1):checked~#{p}-b0:not(:checked)~.cb .in-b0" in html
    assert f":is(#{p}-d2):checked~#{p}-b0:checked~.cb .in-b0" in html
    shallow = CNNView(RESIDUAL, depth=1)
    assert f"cm{shallow.key}s-d1" in checked(shallow.to_html())


def test_resnet50_starts_collapsed_below_the_stages():
    from cnn_magic import examples

    view = CNNView(examples.text("resnet50"), rounding="floor")
    html = view.to_html()
    p = f"cm{view.key}s"
    assert f"{p}-d2" in checked(html)
    blocks = [cells[0] for classes, cells in shown(html, "flops", "floor") if "B" in classes]
    assert blocks[0] == "layer1:"


def test_no_share_when_nothing_is_counted():
    view = CNNView("input 8x8x1\nmaxpool k2 s2")
    total = shown(view.to_html(), "flops", "textbook")[-1][1]
    assert total[7:] == ["0", ""]
    assert "0.0%" not in view.to_text()
    assert "%" not in tables_of(view.to_html()).split("<table>")[1]


def test_one_line_of_conventions_with_details_a_click_away():
    view = CNNView("input 8; fc 2")
    plain = view.to_text().splitlines()
    assert plain[1].startswith("FLOPs = 2 × MACs") and plain[2] == ""
    assert not any("(the bias add fills" in line for line in plain)  # no long footnotes
    root = Tree(view.to_html()).root
    [details] = root.find(lambda n: n.tag == "details" and "nt" in n.classes)
    [summary] = details.find(lambda n: n.tag == "summary")
    assert text(summary, "flops").startswith("FLOPs = 2 × MACs · totals count")
    assert "the bias add fills the one addition short" in text(details, "flops")


def test_fallbacks_are_deterministic_apart_from_their_key():
    first, second = CNNView(LENET5, convention="macs"), CNNView(LENET5, convention="macs")
    assert first.key != second.key  # two views on one page: their inputs must not collide
    a, b = first._repr_mimebundle_(), second._repr_mimebundle_()
    assert a["text/html"].replace(first.key, "K") == b["text/html"].replace(second.key, "K")
    assert a["text/plain"] == b["text/plain"]
    plain = a["text/plain"].splitlines()
    assert plain[0].startswith("input 32×32×1 → output 10 · 61,706 params · 416,520 MACs")
    assert any(line.startswith("total") for line in plain)


def test_ids_are_unique_across_views_and_outputs():
    views = [CNNView(POOL9), CNNView(POOL9), CNNView(RESIDUAL)]
    ids = [
        node.attrs["id"]
        for view in views
        for html in (view.to_html(), view.live_html())
        for node in Tree(html).root.find(lambda n: "id" in n.attrs)
    ]
    assert len(ids) == len(set(ids)) > 20


def test_the_two_outputs_hide_each_other():
    view = CNNView(LENET5)
    static, live = view.to_html(), view.live_html()
    assert f'class="cnn-magic cnn-magic-static" data-key="{view.key}"' in static
    # the static output hides the widget output after it unless a live view is in it
    assert f':has(.cnn-magic-static[data-key="{view.key}"])+.jp-OutputArea-child' in static
    assert ":not(:has(.cnn-magic-view))" in static
    # the live view hides its static twin
    assert f'.cnn-magic-static[data-key="{view.key}"],' in live
    # with no widget after it, nothing is hidden (--explain's output may come next)
    assert ":not(:has(.cnn-magic-view))" not in CNNView(LENET5, static=True).to_html()


def test_widget_view_and_core_controls_only():
    import ipywidgets

    view = CNNView(LENET5)
    bundle = view.live_bundle()
    assert bundle[WIDGET_VIEW]["model_id"] == view.widget.model_id
    assert bundle["text/html"] == ""
    assert isinstance(view.widget, ipywidgets.VBox)
    assert [type(child) for child in view.widget.children] == [ipywidgets.HTML]
    for widget in (view.widget, *view.widget.children):
        assert widget._model_module == "@jupyter-widgets/controls"
    assert "cnn-magic-view" in view.widget._dom_classes
    assert view.live_bundle()[WIDGET_VIEW] == bundle[WIDGET_VIEW]  # one widget
    assert set(view._repr_mimebundle_()) == {"text/plain", "text/html"}


def test_displaying_gives_the_static_output_then_the_live_one(monkeypatch):
    shown_bundles = []
    monkeypatch.setattr(
        "IPython.display.display", lambda data, raw=False: shown_bundles.append(data)
    )
    CNNView(LENET5)._ipython_display_()
    CNNView(LENET5, static=True)._ipython_display_()
    assert [set(b) for b in shown_bundles] == [
        {"text/plain", "text/html"},
        {WIDGET_VIEW, "text/html"},
        {"text/plain", "text/html"},
    ]


def test_where_outputs_are_framed_the_static_output_comes_alone(monkeypatch):
    import sys
    import types

    shown_bundles = []
    monkeypatch.setattr(
        "IPython.display.display", lambda data, raw=False: shown_bundles.append(data)
    )
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    CNNView(LENET5)._ipython_display_()
    assert [set(b) for b in shown_bundles] == [{"text/plain", "text/html"}]


def test_a_wrong_text_raises_cnnerror():
    with pytest.raises(cnn_magic.CNNError, match="unknown layer 'cnov'"):
        CNNView("input 4x4x1\ncnov 2 k3")
    with pytest.raises(cnn_magic.CNNError, match="depth 0 shows nothing"):
        CNNView("input 4x4x1\nconv 2 k3", depth=0)


def test_a_huge_network_shows_its_ends_and_says_what_is_left_out():
    text = "input 8x8x1\nrepeat 20000:\n  bn\n"
    view = CNNView(text)
    html, plain = view.to_html(), view.to_text()
    rows = shown(html, "flops", "textbook")
    assert len(rows) <= view_html.MAX_ROWS + 2
    assert any("rows not shown here" in cells[0] for _, cells in rows)
    assert rows[-1][0] == ["T"] and rows[-1][1][6] == "40,000"  # exact totals still
    assert len(plain.splitlines()) < 2100 and "rows not shown" in plain
    assert len(html) < 3_000_000


def test_share_bars_and_thousands_separators():
    html = tables_of(CNNView(LENET5).to_html())
    assert re.search(r'<i class="bar" style="width:\d+px"></i>28\.2%', html)
    assert "61,706" in html and "10,164" in html and "61706" not in html


def test_view_size_does_not_grow_past_the_rows_it_shows():
    def size(layers: int) -> int:
        view = CNNView("input 8x8x4\n" + "conv 4 k3 p1\n" * layers)
        bundle = view._repr_mimebundle_()
        return sum(map(len, bundle.values())) + len(view.live_html())

    small, large = size(4_000), size(12_000)
    assert large < 1.05 * small, (small, large)


ROUNDING_CASES = [
    LENET5,
    POOL9,
    RESIDUAL,
    "input 8x8x1\nconv 2 k3 p1\nmaxpool k2 s2",
    "input 7x7x3\nconv 4 k3 s2 p1\nconv 4 k3 s2",
    "input 8x8x2\ndeconv 2 k3 s2 p1\nadaptiveavgpool 3",
    "input 9x9x1\nconv 1 k3 s2 d2",
    "input 12x12x1\navgpool k3 s3\nconv 1 k2 s2",
    "input 16x16x3\nconv 8 k3 s2 same",
]


def shown_fields(net: cnn_magic.Network) -> list[tuple]:
    """What a table shows of each layer: shapes and counts (not the rounding's name)."""
    return [(x.name, x.in_shape, x.out_shape, x.params, x.macs, x.exact, x.ops) for x in net.layers]


@pytest.mark.parametrize("text", ROUNDING_CASES)
def test_a_rounding_free_network_is_the_same_under_every_rounding(text):
    """The shortcut that spares two evaluations is right: where it applies, evaluating
    under each rounding gives the same layers."""
    from cnn_magic.widget import rounding_free

    base = cnn_magic.evaluate(text)
    same = all(
        shown_fields(cnn_magic.evaluate(text, rounding)) == shown_fields(base)
        for rounding in ("floor", "ceil")
    )
    assert same or not rounding_free(base)
    assert len(CNNView(text).variants()) == (
        1
        if rounding_free(base)
        else len(
            {
                tuple(shown_fields(cnn_magic.evaluate(text, r)))
                for r in ("textbook", "floor", "ceil")
            }
        )
    )


def test_every_example_checked_for_the_shortcut():
    from cnn_magic import examples
    from cnn_magic.widget import rounding_free

    for name in ("lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2"):
        base = cnn_magic.evaluate(examples.text(name))
        same = all(
            shown_fields(cnn_magic.evaluate(examples.text(name), r)) == shown_fields(base)
            for r in ("floor", "ceil")
        )
        assert not rounding_free(base) or same, name


def test_a_network_shown_on_its_own_uses_the_same_view():
    net = cnn_magic.evaluate(RESIDUAL, "floor")
    html = net._repr_html_()
    assert 'class="cnn-magic"' in html and "<table>" in html
    rows = shown(html, "macs", "floor")
    assert rows[-1][1][7] == f"{net.macs:,}"
    assert 'for="' in html and '-r-textbook"' not in html  # its own rounding only


# ------------------------------------------------- the pictures, in both outputs

POOL13 = "input 13x13x4\nC1: conv 4 k3 p1\nP1: maxpool k2 s2\nfc 10"


def pictures_of(html: str, prefix: str) -> tuple[list[str], str]:
    """A fragment's windows radios and its pictures' panel, its prefix written P."""
    inputs = re.findall(rf'<input type="radio" name="{prefix}-w"[^>]*>', html)
    panel = html[html.index('<div class="cnnm-view-pictures">') :]
    return [i.replace(prefix, "P") for i in inputs], panel.replace(prefix, "P")


def test_the_static_twin_carries_the_live_views_pictures():
    view = CNNView(POOL13)
    static, live = view.to_html(), view.live_html()
    s, w = f"cm{view.key}s", f"cm{view.key}w"
    assert pictures_of(static, s) == pictures_of(live, w)
    assert view._pictures().with_prefix(s).css in static
    assert view._pictures().with_prefix(w).css in live
    # a saved notebook keeps the windows under both roundings, the network and the charts
    assert "13 cells, k2 s2, ceil → 7 outputs" in static
    assert "13 cells, k2 s2, floor → 6 outputs" in static
    assert f'<label class="wl" for="{s}-w1">P1</label>' in static
    assert static.count('<div class="cnnm-np np') == 2 and "where the cost goes" in static
    # --static shows the same; the sliders, which draw their own, leave them out
    alone = CNNView(POOL13, static=True)
    assert pictures_of(alone.to_html(), f"cm{alone.key}s") == pictures_of(static, s)
    assert "cnnm-view-pictures" not in CNNView(POOL13, pictures=False).to_html()
    assert "cnnm-view-pictures" not in CNNView(POOL13, pictures=False).live_html()


def test_the_static_twins_css_switches_its_own_pictures():
    """Each windows picture's rule names radios of the static fragment that come before
    its tables' container (``~`` needs earlier siblings), and shows, for every (row,
    rounding), the windows of that row under that rounding."""
    from cnn_magic.pictures.panels import for_view
    from cnn_magic.pictures.windows import windows_svg

    view = CNNView(POOL13)
    html, p = view.to_html(), f"cm{view.key}s"
    [root] = Tree(html).root.find(lambda n: "cnn-magic-static" in n.classes)
    children = [c for c in root.children if isinstance(c, Node)]
    [container] = [n for n, c in enumerate(children) if "cb" in c.classes]
    before = {c.attrs["id"] for c in children[:container] if c.tag == "input"}
    css = html[html.index("<style>") + 7 : html.index("</style>")]
    assert set(re.findall(rf"#({p}-[\w-]+)", css)) <= before
    pictures = dict(re.findall(r'<div class="cnnm-wp wp(\d+)" hidden>(<svg.*?</svg>)</div>', html))
    assert len(pictures) == 3  # C1 alike under every rounding; P1 under ceil, floor
    assert all(f'class="cnnm-wp wp{n}"' in html.split(f'id="{p}-w-none"')[1] for n in pictures)
    shows: dict[tuple[str, str], str] = {}
    for number, svg in pictures.items():
        rule = re.search(rf"([^{{}}]*\.wp{number})\{{display:block\}}", css).group(1)
        for rounding, layer in re.findall(rf"#{p}-r-(\w+):checked~#{p}-w(\d+):checked", rule):
            assert (layer, rounding) not in shows
            shows[(layer, rounding)] = svg
    assert [v.roundings for v in view.variants()] == [("textbook", "ceil"), ("floor",)]
    for variant in view.variants():  # roundings giving the same shapes share a table
        assert isinstance(variant.result, cnn_magic.Network)
        for rounding in variant.roundings:
            for layer in (0, 1):
                drawn = for_view(windows_svg(variant.result.layers[layer].axes))
                assert shows.pop((str(layer), rounding)) == drawn
    assert not shows


def test_a_large_networks_static_twin_names_what_it_leaves_out():
    view = CNNView(cnn_magic.example_text("resnet50"))
    static = view.to_html()
    assert "Too large to draw here: windows (net.layers[i].windows_svg())." in static
    assert static.count('<div class="cnnm-np np') >= 1 and "where the cost goes" in static
    assert len(pictures_of(static, f"cm{view.key}s")[1]) < 300_000
