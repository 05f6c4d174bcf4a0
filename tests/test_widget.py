"""The interactive view: toggles flipped programmatically, the redrawn HTML checked."""

from __future__ import annotations

import re

import pytest
from networks import LENET5, POOL9

import cnn_magic
from cnn_magic.widget import WIDGET_VIEW, CNNView


def parts(view: CNNView):
    header, convention, rounding, table = view.widget.children
    return header, convention, rounding, table


def rows_of(html: str) -> list[tuple[str, list[str]]]:
    """(row class, cell texts) of every table row, tags stripped."""
    out = []
    for css, body in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', html):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]
        out.append((css, cells))
    return out


def test_lenet_toggles_redraw_the_counts():
    view = CNNView(LENET5)
    header, convention, _, table = parts(view)
    assert "833,040 FLOPs" in header.value
    assert rows_of(table.value)[-1][1][7] == "833,040"
    convention.value = "macs"
    assert "416,520 MACs" in header.value
    total = rows_of(table.value)[-1]
    assert total[0] == "total" and total[1][6:8] == ["61,706", "416,520"]
    assert '<th class="n">MACs</th>' in table.value
    assert "MACs: one multiply-add is one operation" in table.value  # the formulas in words
    convention.value = "exact"
    assert "833,040 exact FLOPs" in header.value
    convention.value = "flops"
    assert rows_of(table.value)[-1][1][7] == "833,040"
    assert "FLOPs = 2 × MACs" in table.value


def test_rounding_toggle_changes_shapes_and_marks_rows():
    view = CNNView(POOL9)
    header, _, rounding, table = parts(view)
    assert rows_of(table.value)[0] == (
        "layer",
        ["pool1", "maxpool k2 s2", "9×9×1", "5×5×1", "0", "0", "0", "0", "0.0%"],
    )
    rounding.value = "floor"
    css, cells = rows_of(table.value)[0]
    assert (css, cells[3]) == ("layer changed", "4×4×1")
    assert "output 4×4×1" in header.value and "floor rounding" in header.value
    assert "1 layer with shapes that differ from textbook rounding" in table.value
    rounding.value = "ceil"
    assert rows_of(table.value)[0][0] == "layer"
    assert "no shape differs from textbook rounding" in table.value
    rounding.value = "textbook"
    assert rows_of(table.value)[0][0] == "layer" and "caption" not in table.value


def test_only_changed_rows_are_marked():
    view = CNNView("input 9x9x1\nconv 4 k3 p1\nmaxpool k2 s2\nconv 8 k1\nfc 10")
    view.set(rounding="floor")
    classes = [css for css, _ in rows_of(parts(view)[3].value)]
    assert classes == ["layer", "layer changed", "layer changed", "layer changed", "total"]
    # fc keeps its output (10), but its input (and so its weights) changed: marked too
    assert view.changed() == frozenset({1, 2, 3})


def test_set_moves_the_toggles_and_plain_use_needs_no_widget():
    view = CNNView(LENET5)
    view.set(convention="macs", rounding="floor")  # before any widget exists
    assert view._widget is None and "416,520 MACs" in view.to_text()
    _, convention, rounding, table = parts(view)
    assert (convention.value, rounding.value) == ("macs", "floor")
    view.set(convention="flops")
    assert convention.value == "flops" and "833,040" in table.value
    with pytest.raises(cnn_magic.CNNError, match="did you mean 'flops'"):
        view.set(convention="gflops")


def test_a_rounding_that_fails_shows_its_error_and_toggles_keep_working():
    text = "input 9x9x1\nmaxpool k2 s2\nconv 3 k5   # <b>not bold</b> & more"
    view = CNNView(text)
    header, _, rounding, table = parts(view)
    rounding.value = "floor"
    assert "kernel 5 is larger than the padded input height 4" in table.value
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in table.value and "<b>not" not in table.value
    assert "no network under floor rounding" in header.value
    rounding.value = "textbook"
    assert "<table>" in table.value and "output 1×1×3" in header.value


def test_layer_names_are_escaped_in_the_html(monkeypatch):

    view = CNNView(LENET5)
    net = view.network
    evil = net.layers[0]._replace(name="<script>alert(1)</script>", text="conv & <i>")
    tampered = net.replace(layers=(evil, *net.layers[1:]))
    monkeypatch.setitem(view._results, "textbook", tampered)
    html = view.to_html()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "conv &amp; &lt;i&gt;" in html


def test_block_structure_is_visible():
    text = (
        "input 56x56x64\nstage: residual:\n  conv 64 k3 p1 nobias\n  bn relu\n"
        "  conv 64 k3 p1 nobias\n  bn\nrelu\ngap\nfc 10"
    )
    rows = rows_of(CNNView(text).table_html())
    assert rows[0] == ("block", ["stage:", "residual:", "56×56×64", "56×56×64", "", "", "", "", ""])
    assert 'style="padding-left:22px"' in CNNView(text).table_html()  # indented body
    assert rows[-1][0] == "total"


def test_share_bars_and_thousands_separators():
    html = CNNView(LENET5).table_html()
    assert re.search(r'<span class="bar" style="width:\d+px"></span>28\.2%', html)
    assert "61,706" in html and "10,164" in html and "61706" not in html


def test_fallbacks_are_deterministic_and_hold_the_totals():
    first = CNNView(LENET5, convention="macs")._repr_mimebundle_()
    second = CNNView(LENET5, convention="macs")._repr_mimebundle_()
    assert first[WIDGET_VIEW] != second[WIDGET_VIEW]  # two widgets...
    del first[WIDGET_VIEW], second[WIDGET_VIEW]
    assert first == second  # ...identical fallbacks
    for data in first.values():
        assert "416,520" in data and "61,706" in data
    plain = first["text/plain"].splitlines()
    assert plain[0].startswith("input 32×32×1 → output 10 · 61,706 params · 416,520 MACs")
    assert any(line.startswith("total") for line in plain)


def test_fallback_follows_the_current_toggles():
    view = CNNView(POOL9)
    view.set(rounding="floor")
    bundle = view._repr_mimebundle_()
    assert "output 4×4×1" in bundle["text/plain"] and "4×4×1" in bundle["text/html"]


def test_widget_view_and_core_controls_only():
    view = CNNView(LENET5)
    bundle = view._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == view.widget.model_id
    import ipywidgets

    assert isinstance(view.widget, ipywidgets.VBox)
    kinds = [type(child) for child in view.widget.children]
    assert kinds == [
        ipywidgets.HTML,
        ipywidgets.ToggleButtons,
        ipywidgets.ToggleButtons,
        ipywidgets.HTML,
    ]
    for widget in (view.widget, *view.widget.children):
        assert widget._model_module == "@jupyter-widgets/controls"
    _, convention, rounding, _ = view.widget.children
    assert [label for label, _ in convention.options] == ["FLOPs", "MACs", "exact"]
    assert list(rounding.options) == ["textbook", "floor", "ceil"]
    assert view._repr_mimebundle_()[WIDGET_VIEW] == bundle[WIDGET_VIEW]  # one widget


def test_static_view_has_no_widget():
    view = CNNView(LENET5, static=True)
    assert set(view._repr_mimebundle_()) == {"text/plain", "text/html"}
    assert view._widget is None


def test_a_wrong_text_raises_cnnerror():
    with pytest.raises(cnn_magic.CNNError, match="unknown layer 'cnov'"):
        CNNView("input 4x4x1\ncnov 2 k3")


def test_toggle_reevaluates_from_the_text():
    """Rounding changes re-run evaluate() on the cell text (kept per rounding)."""
    view = CNNView(POOL9)
    parts(view)[2].value = "floor"
    assert view._results["floor"] == cnn_magic.evaluate(POOL9, "floor")
    assert view.network.output_shape == (4, 4, 1)
