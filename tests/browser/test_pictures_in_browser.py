"""The pictures in a real JupyterLab and Notebook 7: drawn inline as SVG, their words
real text, their colours following the light and the dark theme.

``CNN_MAGIC_SCREENSHOT_DIR=docs`` also saves JupyterLab's screenshots as
``docs/pictures/NAME-light.png`` and ``NAME-dark.png``, the README's pictures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect

from .conftest import run_notebook
from .jupyter import WAIT_MS, JupyterServer, NotebookPage, is_png

pytestmark = pytest.mark.browser

SCREENSHOT_DIR = os.environ.get("CNN_MAGIC_SCREENSHOT_DIR")
SCALE = 1.25
PICTURES = {  # name → the cell that draws it
    "lenet5": 'cnn_magic.example("lenet5").to_svg()',
    "resnet50": 'cnn_magic.example("resnet50").to_svg()',
    "windows": 'cnn_magic.evaluate("input 13x13x64; maxpool k2 s2", "ceil").layers[0]'
    ".windows_svg()",
    "charts": 'cnn_magic.example("resnet50").cost_svg(by="block", convention="macs")',
}
EXPLAIN = "%%cnn --explain --static\ninput 5x5x1\nmaxpool k2 s2 p1"
CELLS = ("import cnn_magic", *PICTURES.values(), "%load_ext cnn_magic", EXPLAIN)
EXPLAIN_CELL = len(CELLS) - 1
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


# the relative luminance of a computed CSS colour, 0 (black) to 1 (white)
LUMINANCE = """el => {
    const c = getComputedStyle(el).fill.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
                                            : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


@pytest.fixture(scope="module")
def pictures(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookPage]:
    with run_notebook(
        browser, jupyter_server, request.node, "cnn_pictures.ipynb", *CELLS, scale=SCALE
    ) as nb:
        yield nb


def svg(nb: NotebookPage, picture: str) -> Locator:
    return nb.outputs(1 + list(PICTURES).index(picture)).locator("svg.cnnm")


def set_theme(nb: NotebookPage, theme: str) -> None:
    nb.page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})",
        THEMES[theme],
    )
    light = "true" if theme == "light" else "false"
    nb.page.wait_for_function(
        "light => document.body.dataset.jpThemeLight === light", arg=light, timeout=WAIT_MS
    )
    # JupyterLab covers the page with its splash while the theme loads, then fades it
    expect(nb.page.locator("#jupyterlab-splash")).to_have_count(0, timeout=WAIT_MS)
    nb.page.wait_for_timeout(400)


def test_every_picture_is_drawn_inline_once(pictures: NotebookPage) -> None:
    for name in PICTURES:
        expect(svg(pictures, name), name).to_have_count(1)
        box = svg(pictures, name).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, (name, box)


def test_words_are_text_the_page_can_find(pictures: NotebookPage) -> None:
    lenet = svg(pictures, "lenet5")
    for word in ("C1", "28×28×6", "5×5×16", "F7"):
        expect(lenet.locator("text", has_text=word).first).to_be_visible()
    expect(svg(pictures, "resnet50").locator("text", has_text="residual9 ×5")).to_have_count(1)
    windows = svg(pictures, "windows")
    expect(windows.locator("g.cnnm-win")).to_have_count(7)
    expect(windows).to_contain_text("hangs 1 cell over the edge")


def test_explain_draws_the_windows_under_the_formulas(pictures: NotebookPage) -> None:
    outputs = pictures.outputs(EXPLAIN_CELL)
    expect(outputs).to_have_count(2)  # the table, then the worked formulas
    formulas = outputs.nth(1)
    expect(formulas.locator(".MathJax, mjx-container, .katex").first).to_be_attached()
    windows = formulas.locator("svg.cnnm")
    expect(windows).to_have_count(1)
    expect(windows.locator("g.cnnm-win")).to_have_count(3)
    expect(windows.locator("g.cnnm-dropped-window")).to_have_count(1)
    expect(windows).to_contain_text("in the right padding")


def test_colours_follow_the_theme(pictures: NotebookPage, artifacts: Path) -> None:
    nb = pictures
    try:
        for theme in THEMES:
            set_theme(nb, theme)
            name = svg(nb, "lenet5").locator("text", has_text="C1").first
            ink = name.evaluate(LUMINANCE)
            # dark words on the light theme, light words on the dark one
            assert (ink < 0.2) if theme == "light" else (ink > 0.6), (theme, ink)
            conv = svg(nb, "lenet5").locator("rect.cnnm-conv").first
            assert "59, 130, 246" in conv.evaluate("el => getComputedStyle(el).fill")
            for picture in PICTURES:
                shot = nb.screenshot(
                    svg(nb, picture), artifacts / f"{picture}-{theme}-{nb.server.app}.png", 6
                )
                assert is_png(shot)
                if SCREENSHOT_DIR and nb.server.app == "lab":
                    target = Path(SCREENSHOT_DIR) / "pictures" / f"{picture}-{theme}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(shot, target)
    finally:
        set_theme(nb, "light")


# --------------------------------------------------- the view's pictures, CSS alone

POOL13 = "input 13x13x4\nC1: conv 4 k3 p1\nP1: maxpool k2 s2\nfc 10"


def view_page(tmp: Path) -> Path:
    """A page laid out as the view lays out its fragment: the convention and rounding
    radios, the pictures' inputs, labels, then the tables' container with the panel."""
    import cnn_magic
    from cnn_magic.pictures.panels import view_pictures

    groups: dict[tuple, tuple[cnn_magic.Network, list[str]]] = {}
    for rounding in ("textbook", "floor", "ceil"):
        net = cnn_magic.evaluate(POOL13, rounding)
        groups.setdefault(tuple(x.out_shape for x in net.layers), (net, []))[1].append(rounding)
    pictures = view_pictures([(tuple(r), net) for net, r in groups.values()], "cm")
    radios = "".join(
        f'<input type="radio" name="cm-{kind}" id="cm-{kind}-{value}"{" checked" * first}>'
        for kind, values in (
            ("c", ("flops", "macs", "exact")),
            ("r", ("textbook", "floor", "ceil")),
        )
        for first, value in zip((True, False, False), values, strict=True)
    )
    labels = "".join(
        f'<label for="cm-{k}-{v}" class="pick">{v}</label> '
        for k, v in (("c", "macs"), ("r", "floor"), ("r", "textbook"))
    )
    rows = "".join(
        f"<tr><td>{pictures.label(i, name)}</td></tr>" for i, name in enumerate(("C1", "P1", "fc1"))
    )
    page = (
        f'<html><body><div class="cnn-magic">{radios}{pictures.inputs}{labels}'
        f'<div class="cb"><table>{rows}</table>{pictures.panel}</div></div>'
        f"<style>{pictures.css}</style></body></html>"
    )
    path = tmp / "view.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_a_click_on_a_row_shows_its_windows_and_the_rounding_redraws_them(
    browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page()
    try:
        page.goto(view_page(tmp_path).as_uri())
        shown = page.locator(".cnnm-wp:visible")
        expect(shown).to_have_count(0)  # nothing selected yet
        page.locator("label.wl", has_text="P1").click()
        expect(shown).to_have_count(1)
        expect(shown).to_contain_text("13 cells, k2 s2, ceil → 7 outputs")  # textbook
        expect(page.locator(".cnnm-wn:visible")).to_have_text("P1 · maxpool k2 s2")
        selected = page.locator("tr", has=page.locator('label[for="cm-w1"]')).locator("td")
        expect(selected).to_have_css("font-weight", "600")  # the row marked
        expect(shown.locator("g.cnnm-win")).to_have_count(7)
        page.locator("label.pick", has_text="floor").click()
        expect(shown).to_contain_text("13 cells, k2 s2, floor → 6 outputs")
        expect(shown.locator("g.cnnm-win")).to_have_count(6)
        page.locator("label.wl", has_text="C1").click()
        expect(shown).to_have_count(1)
        expect(shown).to_contain_text("13 cells, k3 p1, floor → 13 outputs")
        page.locator(".cnnm-wclose").click()
        expect(shown).to_have_count(0)
        # the network's picture follows the rounding: P1 gives 6×6 under floor
        network = page.locator(".cnnm-np:visible")
        expect(network).to_have_count(1)
        expect(network.locator('g[data-layer="P1"]')).to_have_attribute("data-shape", "6×6×4")
        page.locator("label.pick", has_text="textbook").click()
        expect(network.locator('g[data-layer="P1"]')).to_have_attribute("data-shape", "7×7×4")
        # the charts follow the convention
        page.locator(".cnnm-costs summary").click()
        expect(page.locator(".cnnm-cp:visible")).to_have_count(2)  # params+memory, FLOPs
        expect(page.locator(".cnnm-cp:visible").nth(1)).to_contain_text("FLOPs per layer")
        page.locator("label.pick", has_text="macs").click()
        expect(page.locator(".cnnm-cp:visible").nth(1)).to_contain_text("MACs per layer")
    finally:
        page.close()
