"""``%%cnn --quiz`` and ``--lang zh`` in a real JupyterLab and Notebook 7, in headless
Chromium: a student types a wrong answer, sees the hint, asks for the derivation, types
the right answer and sees the score; and a table in Chinese, whose characters must be
drawn with a CJK font (Debian's fonts-noto-cjk), not as empty boxes.

``CNN_MAGIC_SCREENSHOT_DIR=docs`` also saves JupyterLab's screenshots as
``docs/quiz.png``, ``docs/quiz-dark.png`` and ``docs/table-zh.png``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from networks import LENET5
from playwright.sync_api import Browser, Locator, expect

from .conftest import run_notebook
from .jupyter import JupyterServer, NotebookPage, is_png, png_size

pytestmark = pytest.mark.browser

SCREENSHOT_DIR = os.environ.get("CNN_MAGIC_SCREENSHOT_DIR")
SCALE = 1.25
MARGIN = 4

QUIZ = """%%cnn --quiz output,params
input 32x32x1
C1: conv 6 k5 relu
S2: maxpool k2 s2
C3: conv 16 k5 relu
F4: fc 10"""
CHINESE = f"%%cnn --lang zh\n{LENET5}"
CHINESE_QUIZ = "%%cnn --quiz --lang zh\ninput 13x13x64\nS1: maxpool k2 s2\nF2: fc 10"
CELLS = ("%load_ext cnn_magic", QUIZ, CHINESE, CHINESE_QUIZ)
QUIZ_CELL, CHINESE_CELL, CHINESE_QUIZ_CELL = 1, 2, 3
BLANKS = 4 * 2 + 1  # output and params of four layers, and the total params

VIEW = ".cnn-magic-quiz"


@pytest.fixture(scope="module")
def cells(
    browser: Browser, jupyter_server: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[NotebookPage]:
    with run_notebook(
        browser, jupyter_server, request.node, "cnn_quiz.ipynb", *CELLS, scale=SCALE
    ) as nb:
        yield nb


def blank(view: Locator, n: int) -> Locator:
    """The text box of the ``n``-th blank (row by row)."""
    return view.locator(".cnn-magic-blank input").nth(n)


def rounding_toggle(view: Locator, label: str) -> Locator:
    """A button of the quiz's rounding toggle (its second row of ToggleButtons)."""
    toggles = view.locator(".widget-toggle-buttons").nth(1)
    return toggles.get_by_role("button", name=label, exact=True)


def answer(blank_box: Locator, text: str) -> None:
    blank_box.fill(text)
    blank_box.press("Enter")  # the Text widget sends its value on Enter (continuous_update off)


def save(nb: NotebookPage, view: Locator, artifacts: Path, name: str) -> Path:
    shot = nb.screenshot(view, artifacts / f"{name}-{nb.server.app}.png", margin=MARGIN)
    assert is_png(shot), shot
    width, height = png_size(shot)
    assert width >= 400 and height >= 150, (width, height)
    if SCREENSHOT_DIR and nb.server.app == "lab":
        target = Path(SCREENSHOT_DIR) / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    return shot


def test_a_quiz_session(cells: NotebookPage, artifacts: Path) -> None:
    nb = cells
    view = nb.outputs(QUIZ_CELL).locator(VIEW)
    expect(view).to_have_count(1)
    score = view.locator(".cnn-magic-score")
    expect(score).to_have_text(f"Score: 0 of {BLANKS} right")
    expect(view.locator(".cnn-magic-blank input")).to_have_count(BLANKS)
    count = nb.execution_count(QUIZ_CELL)

    # C1's output, rounded the wrong way: wrong at once, with the formula as a hint
    c1_output = blank(view, 0)
    answer(c1_output, "27x27x6")
    expect(view.locator(".cnn-magic-wrong")).to_have_count(1)
    hint = view.locator(".cnn-magic-hint")
    expect(hint).to_have_count(1)
    expect(hint).to_contain_text("C1.output: 27x27x6 is not right.")
    expect(hint).to_contain_text("Hint: H_out = ⌊(H_in − k + 2P) / S⌋ + 1 (round down)")
    # on request, the derivation with C1's own numbers
    view.locator(".cnn-magic-show").click()
    expect(view.locator(".cnn-magic-derivation")).to_contain_text(
        "H_out = W_out = ⌊(32 − 5 + 2·0) / 1⌋ + 1 = 28"
    )
    # the right answer: the mark turns, the hint goes, the score counts it
    answer(c1_output, "28x28x6")
    expect(view.locator(".cnn-magic-right")).to_have_count(1)
    expect(view.locator(".cnn-magic-hint")).to_have_count(0)
    expect(score).to_have_text(f"Score: 1 of {BLANKS} right")

    # C1's params, bias forgotten; then the pooling's output, right; show one derivation
    answer(blank(view, 1), "150")
    answer(blank(view, 2), "14x14x6")
    expect(score).to_have_text(f"Score: 2 of {BLANKS} right")
    expect(hint).to_contain_text("Hint: weights + biases: k × k × (n_c / g) × K + K")
    view.locator(".cnn-magic-show").click()
    expect(view.locator(".cnn-magic-derivation")).to_contain_text("params = 5×5×1×6 + 6 = 156")

    # a toggle changes what is expected, says so, and keeps what was typed
    rounding_toggle(view, "floor").click()
    expect(view.locator(".cnn-magic-notice")).to_contain_text("Now floor rounding")
    expect(c1_output).to_have_value("28x28x6")
    rounding_toggle(view, "textbook").click()
    expect(score).to_have_text(f"Score: 2 of {BLANKS} right")
    assert nb.execution_count(QUIZ_CELL) == count, "typing re-ran the cell"

    save(nb, view, artifacts, "quiz")
    if nb.server.app == "lab":  # the same view in JupyterLab's dark theme
        nb.set_theme(dark=True)
        expect(nb.page.locator("#jupyterlab-splash")).to_have_count(0)  # the theme's fade
        try:
            save(nb, view, artifacts, "quiz-dark")
        finally:
            nb.set_theme(dark=False)


def cjk_font_draws(nb: NotebookPage, text: str) -> bool:
    """Whether the page draws ``text`` with real glyphs: without a CJK font Chromium
    draws every character as the same empty box, so all have one width."""
    return bool(
        nb.page.evaluate(
            """(text) => {
                const c = document.createElement('canvas').getContext('2d');
                c.font = '16px sans-serif';
                const widths = new Set([...text].map(ch => c.measureText(ch).width));
                const box = c.measureText('\\u{10FFFF}').width;
                return widths.size > 1 || ![...widths].every(w => w === box);
            }""",
            text,
        )
    )


def test_a_table_in_chinese(cells: NotebookPage, artifacts: Path) -> None:
    nb = cells
    output = nb.view(CHINESE_CELL)
    table = nb.table(CHINESE_CELL)
    expect(table.locator("th").first).to_have_text("名称")
    expect(table).to_contain_text("参数量")
    expect(table).to_contain_text("合计")
    expect(output).to_contain_text("61,706")
    expect(output).to_contain_text("向下取整")
    assert cjk_font_draws(nb, "特征图卷积核步幅填充参数量偏置")
    save(nb, output, artifacts, "table-zh")


def test_a_quiz_in_chinese(cells: NotebookPage) -> None:
    nb = cells
    view = nb.outputs(CHINESE_QUIZ_CELL).locator(VIEW)
    expect(view.locator(".cnn-magic-score")).to_have_text("得分：11 题答对 0 题")
    answer(blank(view, 0), "6x6x64")
    expect(view.locator(".cnn-magic-hint")).to_contain_text("向上取整")
    expect(view.locator(".cnn-magic-show")).to_have_text("显示推导过程")
