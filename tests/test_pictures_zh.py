"""The pictures and the sliders in Chinese: every word through the catalog.

Each picture is drawn under ``language("zh")`` for networks that bring out every note
it can write (floor's uncovered cells, ceil's overhang, the dropped last window, same
padding's odd cell, a transposed convolution's cropping, an elided long row, blocks,
the charts, the note on what is too large to draw); its visible text (SVG ``<text>``
and ``<title>``, the HTML around it, never the style sheet or the attributes) must
hold the expected Chinese words, no English word outside the layer language's own, and
no piece of an English message of the pictures' and sliders' catalog entries. The same
drawings in English hold those pieces, so the check has something to find.
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from test_i18n import english_words

import cnn_magic
from cnn_magic.i18n import language
from cnn_magic.pictures import bar_chart
from cnn_magic.pictures.panels import view_pictures
from cnn_magic.sliders import Range, SliderView, parse_ranges

REPO_MODULES = ("cnn_magic/pictures/", "cnn_magic/sliders.py", "cnn_magic/explain.py")

# one layer per note the windows picture writes
WINDOWS = {
    "floor, uncovered": ("input 13x13x1\nmaxpool k2 s2", "floor"),
    "ceil, overhang": ("input 13x13x1\nmaxpool k2 s2", "ceil"),
    "ceil, dropped": ("input 5x5x1\nmaxpool k2 s2 p1", "ceil"),
    "same": ("input 6x6x1\nconv 2 k2 same", "floor"),
    "dilated": ("input 9x9x1\nconv 2 k3 d2", "floor"),
    "deconv": ("input 7x7x2\ndeconv 2 k3 s2 p1 op1", "floor"),
    "upsample": ("input 4x4x1\nupsample 2", "floor"),
    "adaptive": ("input 7x7x1\nadaptiveavgpool 3", "floor"),
    "elided": ("input 224x224x3\nconv 8 k3 p1", "floor"),
    "3-D": ("input 3@8x16x16\nconv 4 k3 p1", "floor"),
}
BLOCKS = """input 32x32x16
C1: conv 16 k3 p1 relu
R1: residual:
    conv 16 k3 p1 relu
    conv 16 k3 p1
repeat 2:
    conv 16 k3 p1
B1: concat:
    branch:
        conv 8 k1
    branch:
        maxpool k3 s1 p1
P1: maxpool k2 s2
fc 10
"""
CALLS = " net.to_svg() net.layers[i].windows_svg() net.cost_svg()"  # code in the notes
VARY = "input 32x32x1\nk = 5\nC1: conv 6 k{k} relu\nS2: avgpool k2 s2\nfc 10\n"


def visible(markup: str) -> str:
    """The words a reader sees: the text of the elements, without the style sheets,
    the tags and their attributes."""
    markup = re.sub(r"<style>.*?</style>", " ", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def named(net: cnn_magic.Network) -> str:
    """The names the evaluator gave the layers and blocks (conv1, repeat1): words of
    the network, not English."""
    return " ".join([layer.name for layer in net.layers] + [block.name for block in net.blocks])


def drawings() -> Iterator[tuple[str, str, str]]:
    """(name, visible text, network text and names) of every picture and slider view,
    in the language in force."""
    explaining: Any = importlib.import_module("cnn_magic.explain")  # not the function

    for name, (text, rounding) in WINDOWS.items():
        layer = cnn_magic.evaluate(text, rounding).layers[0]
        svg = layer.windows_svg()
        yield f"windows {name}", visible(svg) + "\n" + svg.alt, f"{text} {layer.name}"
    net = cnn_magic.evaluate(BLOCKS)
    words = f"{BLOCKS} {named(net)}{CALLS}"
    yield "network", visible(net.to_svg()) + "\n" + net.to_svg().alt, words
    for by in ("layer", "block"):
        charts = net.cost_svg(by=by, convention="macs")
        yield f"charts by {by}", visible(charts) + "\n" + charts.alt, words
    empty = bar_chart("x", [], "")
    yield "empty chart", visible(empty) + "\n" + empty.alt, ""
    view = view_pictures([(("floor",), net)], "cm", budget=1000, rounding="floor")
    yield "view pictures, too large", visible(view.panel), words
    pool = cnn_magic.evaluate(WINDOWS["floor, uncovered"][0], "floor")
    view = view_pictures([(("floor",), pool)], "cm")
    yield "view pictures", visible(view.panel), f"{pool.text} {named(pool)}"
    lenet = cnn_magic.example("lenet5")
    budget = explaining.WINDOWS_BUDGET
    try:  # the line that says the later windows pictures are left out
        explaining.WINDOWS_BUDGET = 10_000
        notes = re.findall(r"<small>(.*?)</small>", lenet.explain().to_markdown())
        yield "explain", visible(" ".join(notes)), lenet.text + CALLS
    finally:
        explaining.WINDOWS_BUDGET = budget
    sliders = SliderView(VARY, {"k": Range(1, 40)}, static=True)
    yield "sliders", visible(sliders.to_html()) + "\n" + sliders.to_text(), VARY
    sliders.set(k=33)  # larger than the input: the error in place of the table
    yield "sliders, no network", visible(sliders.to_html()) + "\n" + sliders.to_text(), VARY


def english_pieces() -> set[str]:
    """Pieces of English (two words or more) of every message the pictures and the
    sliders own: what a Chinese drawing must not contain."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import messages

    pieces = set()
    for message in messages.template():
        if not message.id or not any(
            path.startswith(REPO_MODULES) for path, _line in message.locations
        ):
            continue
        forms = [message.id] if isinstance(message.id, str) else list(message.id)
        for form in forms:
            for piece in re.split(r"\{[^{}]*\}|[:;,.()…→×≥=·]", form):
                if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2:
                    pieces.add(piece.strip())
    return pieces


def test_the_pictures_and_sliders_own_messages() -> None:
    """The check below reads the catalog: it must find the pictures' messages there."""
    pieces = english_pieces()
    assert len(pieces) >= 40
    assert "read by no window" in pieces and "the range is empty" in pieces


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_drawing_speaks_the_language(lang: str) -> None:
    pieces = english_pieces()
    with language(lang):
        drawn = list(drawings())
    found = {name: {p for p in pieces if p in text} for name, text, _network in drawn}
    if lang == "en":  # the English drawings say what the Chinese ones must not
        seen = set().union(*found.values())
        assert len(seen) >= 30, sorted(pieces - seen)
        english = {name: english_words(text, network) for name, text, network in drawn}
        assert all(english.values()), [name for name, words in english.items() if not words]
        return
    assert not any(found.values()), {name: words for name, words in found.items() if words}
    left = {name: english_words(text, network) for name, text, network in drawn}
    assert not any(left.values()), {name: words for name, words in left.items() if words}


CHINESE = {
    "windows floor, uncovered": [
        "13 格",
        "向下取整 → 6 个输出",
        "红色：输入格 12 没有被任何窗口读到",
    ],
    "windows ceil, overhang": ["向上取整 → 7 个输出", "最后一个窗口越过边缘 1 格"],
    "windows ceil, dropped": ["舍去：它的起点会落在填充中", "最后一个窗口的规则：窗口 3"],
    "windows same": ["same 填充 → 6 个输出", "多出的一格填充放在后面"],
    "windows deconv": [
        "转置卷积 → 14 个输出",
        "散布",
        "自输入",
        "两端各裁去 1 格",
        "末尾添加 1 格",
    ],
    "windows upsample": ["上采样 ×2 → 8 个输出"],
    "windows adaptive": ["自适应池化 → 3 个输出"],
    "windows elided": ["个窗口没有画出；两端是精确的"],
    "network": ["网络：输入 32×32×16", "输入"],
    "charts by layer": ["每层的参数量：共", "每层的乘加次数：共", "每层的激活值内存（float32）"],
    "charts by block": ["每个块的参数量", "每个块的乘加次数"],
    "empty chart": ["没有可画的：每个值都是 0"],
    "view pictures, too large": ["太大，这里不画：网络 (net.to_svg())", "窗口图", "图表"],
    "view pictures": ["隐藏窗口", "网络结构图", "开销分布在哪里", "窗口", "→ 输出"],
    "explain": ["这一层及其后各层的窗口图没有画出"],
    "sliders": ["k = 5 时的窗口", "k = 5 时"],
    "sliders, no network": ["k = 33 时没有有效的网络", "第 3 行"],
}


def test_the_chinese_words_are_there() -> None:
    with language("zh"):
        drawn = {name: text for name, text, _network in drawings()}
    missing = {
        name: [word for word in words if word not in drawn[name]] for name, words in CHINESE.items()
    }
    assert not any(missing.values()), {name: drawn[name] for name, m in missing.items() if m}


def test_a_slider_moved_later_keeps_the_cell_language(monkeypatch: Any) -> None:
    """A slider moves after the cell has run, outside its ``--lang zh``: the view
    redraws in the language it was made in."""
    with language("zh"):
        view = SliderView(VARY, {"k": Range(1, 7)})
    sliders, shown = view.widget.children
    sliders.children[0].value = 3
    assert "k = 3 时的窗口" in shown.value and "网络结构图" in shown.value
    assert "windows with" not in shown.value
    with language("zh"), pytest.raises(cnn_magic.CNNError, match="没有滑块 's'"):
        SliderView(VARY, {"k": Range(1, 7)}).set(s=1)
    with language("zh"), pytest.raises(cnn_magic.CNNError, match="范围是空的"):
        parse_ranges(["k=7:1"])


def test_the_view_and_its_static_twin_draw_in_the_cell_language() -> None:
    """``%%cnn --lang zh``: the widget's HTML and the static ``text/html`` carry the same
    Chinese pictures, also when the widget redraws after the cell (a toggle)."""
    from cnn_magic.widget import CNNView

    with language("zh"):
        view = CNNView(WINDOWS["ceil, overhang"][0], rounding="ceil")
    static, live = visible(view.to_html()), visible(view.live_html())  # outside the block
    for shown in (static, live):
        for words in (
            "网络结构图",
            "开销分布在哪里",
            "向上取整 → 7 个输出",
            "隐藏窗口",
            "网络：输入",
        ):
            assert words in shown, words
    view.set(rounding="floor")  # the toggles' state: the pictures are drawn again
    assert "红色：输入格 12 没有被任何窗口读到" in visible(view.live_html())


def test_the_command_line_draws_in_chinese() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnn_magic",
            "--lang",
            "zh",
            "--example",
            "lenet5",
            "--format",
            "svg",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("<svg")
    assert "<title>网络：输入 32×32×1</title>" in done.stdout and ">输入</text>" in done.stdout
